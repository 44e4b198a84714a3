"""The reliability suite's fixture: the daemon of each DAEMONS entry a test runs against
(its start() asks pytest for make_focuser, make_chiller, camvirt: tests/conftest.py)."""
import pytest


@pytest.fixture
def device(request, spec):
    """The daemon of the test's `spec` parameter, started and online."""
    return spec.start(request)

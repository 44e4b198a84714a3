"""The chiller tests' fixtures; make_chiller (chiller_harness.py) is shared with the
reliability suite."""
import pytest

from chiller_harness import ServedStatus


@pytest.fixture
def chiller(make_chiller):
    return make_chiller()


@pytest.fixture
def status_daemon(test_registry):
    """serve(name, status): a status daemon registered under name, stopped after the test."""
    served = []

    def serve(name, status):
        source = ServedStatus(test_registry.add(name), status)
        served.append(source)
        return source

    yield serve
    for source in served:
        source.stop()

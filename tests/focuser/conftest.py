"""The focuser tests' fixtures; make_focuser (focuser_harness.py) is shared with the
reliability suite."""
import pytest


@pytest.fixture
def focuser(make_focuser):
    return make_focuser()

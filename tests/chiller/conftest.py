"""The chiller tests' fixtures; make_chiller (chiller_harness.py) is shared with the
reliability suite."""
import pytest

from chiller_harness import Served


@pytest.fixture
def chiller(make_chiller):
    return make_chiller()


@pytest.fixture
def stand_in(test_registry):
    """serve(name, stand_in): a stand-in daemon registered under name, stopped after the test."""
    served = []

    def serve(name, stand_in):
        source = Served(test_registry.add(name), stand_in)
        served.append(source)
        return source

    yield serve
    for source in served:
        source.stop()

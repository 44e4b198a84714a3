"""The camvirt tests' fixtures; camvirt (camvirt_harness.py) is shared with the reliability
suite."""
import pytest

from camvirt_harness import TinyCameraDaemon
from rockit.common import pyro


@pytest.fixture
def camera_servers():
    """serve(address): run a TinyCameraDaemon at a registry address until the test ends."""
    running = []

    def serve(address):
        running.append(pyro.BackgroundServer(TinyCameraDaemon(address.name), address))

    yield serve
    for server in running:
        server.close()

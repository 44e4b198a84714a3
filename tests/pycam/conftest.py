"""The pycam tests' fixtures: pycamd processes on simulated devices (pycam_harness.py)."""
import pytest

from pycam_harness import Pycam, config_for


@pytest.fixture
def make_pycam(test_registry, daemons, tmp_path):
    made = []

    def make(data_root=None, cameras=True, spectrometer=True, wait_online=True, **overrides):
        name = f'pycam_test{len(made)}'
        address = test_registry.add(name, timeout=30)
        root = data_root or tmp_path / f'data{len(made)}'
        config = config_for(name, root, cameras, spectrometer, **overrides)
        pycam = Pycam(daemons('pycamd', config, address), config)
        made.append(pycam)
        if wait_online:
            pycam.wait(lambda s: s['status'] == 1, message='pycamd online')
        return pycam

    return make


@pytest.fixture
def pycam(make_pycam):
    return make_pycam()

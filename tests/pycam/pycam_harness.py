"""A pycamd under test: the real daemon process on its simulated cameras and spectrometer,
writing into a folder of the test's own, with a short shutter-speed list and a 1 Hz grid."""
import contextlib
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from support import DaemonUnderTest, run_cli, wait_until

SHUTTERS = [500, 700, 1000, 1400, 2000, 2800, 4000, 5600, 8000, 11000, 16000, 22000, 32000, 45000, 64000,
            90000, 128000, 180000, 256000]
INTEGRATIONS = [10, 15, 20, 30, 40, 50, 70, 100, 150, 200, 300, 400]


def config_for(name, data_root, cameras=True, spectrometer=True, **overrides):
    """A config on simulated devices; spectrometer may also be the spectrometer's own config."""
    config = {
        'daemon': name, 'log_name': f'pycamd@{name}', 'control_machines': ['LocalHost'],
        'data_root': str(data_root), 'free_space_floor_mb': 0, 'frame_rate': 1.0,
        'simulation': {'sky_brightness': 1.0, 'wind_speed': 15, 'seed': 7},
    }
    if cameras:
        config.update({
            'cameras': {'fltrA': {'backend': 'simulated', 'camera_num': 0, 'shutter_speed': 32000},
                        'fltrB': {'backend': 'simulated', 'camera_num': 1, 'shutter_speed': 4000}},
            'shutter_speeds': SHUTTERS,
            'saturation': {'min': 0.6, 'max': 0.9, 'pixels': 1000, 'rows': [0, 400]},
        })
    if isinstance(spectrometer, dict):
        config['spectrometer'] = spectrometer
    elif spectrometer:
        config['spectrometer'] = {'backend': 'simulated', 'integration_time': 50, 'integration_times': INTEGRATIONS,
                                  'saturation': {'min': 0.6, 'max': 0.9, 'pixels': 10, 'wavelengths': [300, 335]}}
    config.update(overrides)
    return config


class Pycam(DaemonUnderTest):
    """One pycamd; proxy() opens a fresh Pyro proxy."""
    PROXY_TIMEOUT = 60

    def __init__(self, daemon, config):
        self.daemon, self.config = daemon, config
        self.data_root = Path(config['data_root'])

    def cli(self, *args, **kwargs):
        return run_cli('pycam', *args, config_env='PYCAMD_CONFIG_PATH', config_path=self.daemon.config_path, **kwargs)

    def files(self, pattern='*'):
        """Every file in the date folders, hidden ones included, by name."""
        found = [p for folder in self.data_root.glob('????-??-??') for p in folder.glob(pattern)]
        found += [p for folder in self.data_root.glob('????-??-??') for p in folder.glob('.' + pattern)]
        return sorted(set(found), key=lambda p: p.name)

    def wait(self, predicate, timeout=60, message='condition'):
        """Wait until predicate(status) is true; that status."""
        def check():
            status = self.status()
            return status if predicate(status) else None
        return wait_until(check, timeout, 0.1, message)


def read_png(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f'{path} is not a readable image'
    return image


def read_spectrum(path):
    return np.load(path)


def served_in_process(test_registry, tmp_path, name, processor=None, **overrides):
    """A PycamDaemon object in this process, served over Pyro on a free port: for what a
    test must reach inside (the live-processing hook, a simulated camera to unplug).
    Returns (daemon, server, address); close the server and stop the daemon after."""
    import logging

    from rockit.common import pyro
    from rockit.pycam.config import PycamConfig
    from rockit.pycam.daemon import PycamDaemon
    address = test_registry.add(name, timeout=30)
    path = tmp_path / f'{name}.json'
    path.write_text(json.dumps(config_for(name, tmp_path / name, **overrides)))
    daemon = PycamDaemon(PycamConfig.load(path), logging.getLogger(name), processor=processor)
    daemon.start()
    return daemon, pyro.BackgroundServer(daemon, address), address


@contextlib.contextmanager
def small_disk(path, options):
    """A tmpfs with options (its size) at path: a disk of our own to fill (mounting needs root)."""
    path.mkdir()
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f'cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}')
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', str(path)], capture_output=True)

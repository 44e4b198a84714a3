"""Soak pycamd on its simulators: a camera or the spectrometer unplugged and back, frames
that stop arriving, and the data disk (a tmpfs of its own when root) filled to the last byte
and emptied, while a client starts and stops acquisition, captures and changes the frame
rate. At the end acquisition must still save captures, and every file in the data folder is
whole (no temporary file left, every sidecar parses).

    python -m bench.soak.pycamd DURATION SEED OUT.json
"""
import json
import sys
import time
from pathlib import Path

from bench import harness

from . import disk
from .soak import Fault, soak
from .whole import check_data

FAULTY = Path(__file__).resolve().parent / 'pycamd_faulty.py'
DISK_MB = 512


def config(name, data_root):
    shutters = [500, 700, 1000, 1400, 2000, 2800, 4000, 5600, 8000, 11000, 16000, 22000, 32000, 45000, 64000]
    return {
        'daemon': name, 'log_name': f'pycamd@{name}', 'control_machines': ['LocalHost'],
        'data_root': str(data_root), 'free_space_floor_mb': 0, 'frame_rate': 0.5,
        'cameras': {'fltrA': {'backend': 'simulated', 'camera_num': 0, 'shutter_speed': 32000, 'auto_exposure': True},
                    'fltrB': {'backend': 'simulated', 'camera_num': 1, 'shutter_speed': 4000, 'auto_exposure': True}},
        'shutter_speeds': shutters, 'saturation': {'min': 0.6, 'max': 0.9, 'pixels': 1000, 'rows': [0, 400]},
        'spectrometer': {'backend': 'simulated', 'integration_time': 50, 'auto_integration': True,
                         'integration_times': [10, 15, 20, 30, 40, 50, 70, 100, 150, 200, 300, 400],
                         'saturation': {'min': 0.6, 'max': 0.9, 'pixels': 10, 'wavelengths': [300, 335]}},
        'simulation': {'sky_brightness': 1.0, 'wind_speed': 5, 'seed': 1},
    }


def pycamd(duration, seed):
    mount = harness.WORK / 'soak_pycam_disk'
    on_tmpfs = disk.mount_tmpfs(mount, DISK_MB)
    data_root = mount / 'data'
    data_root.mkdir()
    address = harness.register('soak_pycam')
    config_path = harness.WORK / 'soak_pycam.json'
    config_path.write_text(json.dumps(config('soak_pycam', data_root)))
    faults_path = Path(str(config_path) + '.faults')

    def set_faults(**faults):
        faults_path.write_text(json.dumps(faults))

    faults = [
        Fault('camera unplugged', lambda rng: set_faults(unplugged=[rng.choice(['fltrA', 'fltrB'])]), set_faults),
        Fault('frames stalled', lambda rng: set_faults(frames_stalled=True), set_faults),
        Fault('spectrometer unplugged', lambda rng: set_faults(spectrometer_unplugged=True), set_faults),
    ]
    if on_tmpfs:
        faults.append(Fault('disk full', lambda rng: disk.fill(mount), lambda: disk.empty(mount), length=(5.0, 30.0)))
    commands = [('start_acquisition', ()), ('start_acquisition', ()), ('stop_acquisition', ()),
                ('capture', lambda rng: ('Test', rng.choice(['all', 'cameras', 'spectrometer']))),
                ('set_settings', lambda rng: ({'frame_rate': rng.choice([0.2, 0.5, 1.0])},)),
                ('restart_device', lambda rng: (rng.choice(['cameras', 'spectrometer']),))]
    process = harness.start([FAULTY, config_path], address, 'soak_pycam')
    try:
        result = soak('pycamd', process.pid, address, faults, commands, duration, seed)
        result['acquisition_resumed'] = acquisition_saves(address, pairs=2, timeout=60)
    finally:
        harness.stop(process)
    found = check_data(data_root)
    result.update(found, damaged=found['damaged'][:5])
    result['disk'] = f'tmpfs of {DISK_MB} MB' if on_tmpfs else 'no disk-full faults (not root)'
    if on_tmpfs:
        disk.unmount(mount)
    return result


def acquisition_saves(address, pairs=1, timeout=30):
    """start_acquisition, then wait for `pairs` new camera pairs saved; False if they did
    not come within timeout. Acquisition is left running."""
    from rockit.common import pyro
    deadline = time.monotonic() + timeout
    with pyro.connect(address, 60) as proxy:
        saved = proxy.report_status()['cameras']['captures_saved']
        if proxy.start_acquisition() != 0:
            return False
        while time.monotonic() < deadline:
            if proxy.report_status()['cameras']['captures_saved'] >= saved + pairs:
                return True
            time.sleep(0.05)
    return False


if __name__ == '__main__':
    duration, seed, out = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    result = pycamd(duration, seed)
    with open(out, 'w') as f:
        json.dump(result, f)

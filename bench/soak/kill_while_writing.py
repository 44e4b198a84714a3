"""pycamd killed with SIGKILL at random moments while it acquires and writes (images,
spectra, sidecars, live processing's AA images and emission-rate CSV), on a tmpfs of its
own when root. After each restart: no temporary or partial file is left, every CSV and
sidecar parses, and acquisition started again saves new captures.

    python -m bench.soak.kill_while_writing TRIALS SEED OUT.json
"""
import json
import os
import random
import signal
import statistics
import sys
import time

from bench import harness
from rockit.common import pyro

from . import disk
from .pycamd import acquisition_saves, config as pycamd_config
from .whole import check_data

DISK_MB = 1024
KILL_WITHIN = (0.0, 1.0)   # s after the first new capture: the daemon is then mid-acquisition


def kill_while_writing(trials, seed):
    rng = random.Random(seed)
    mount = harness.WORK / 'kill_disk'
    on_tmpfs = disk.mount_tmpfs(mount, DISK_MB)
    data_root = mount / 'data'
    address = harness.register('kill_pycam')
    demo = json.loads((harness.ROOT / 'config' / 'pycamd' / 'test.json').read_text())
    config = {**pycamd_config('kill_pycam', data_root), 'frame_rate': 1.0, 'processing': demo['processing']}
    config_path = harness.WORK / 'kill_pycam.json'
    config_path.write_text(json.dumps(config))
    argv = [harness.ROOT / 'pycamd', config_path]
    totals = {'trials': trials, 'killed_while_writing': 0, 'resumed': 0, 'temporary_left': 0, 'unparsable': 0,
              'without_sidecar': 0, 'damaged_examples': []}
    resume_times, whole, damaged = [], set(), set()
    process = harness.start(argv, address, 'kill_pycam')
    restarted = None
    try:
        _references(address)
        for trial in range(trials):
            if acquisition_saves(address):
                totals['resumed'] += 1
                if restarted is not None:
                    resume_times.append(time.monotonic() - restarted)
            # Half the trials kill at a random moment; a quarter the moment any file is being
            # written; a quarter the moment live processing writes (its CSV comes with the
            # second pair after a start, as a plume speed needs two).
            if trial % 4 == 1:
                _wait_for_a_write(data_root, rng.uniform(*KILL_WITHIN) + 2)
            elif trial % 4 == 3:
                _wait_for_a_write(data_root / 'processing', rng.uniform(*KILL_WITHIN) + 5)
            else:
                time.sleep(rng.uniform(*KILL_WITHIN))
            process.send_signal(signal.SIGKILL)
            process.wait()
            totals['killed_while_writing'] += any(p.name.startswith('.') for p in data_root.rglob('*'))
            restarted = time.monotonic()
            process = harness.start(argv, address, 'kill_pycam')
            damaged.update(check_data(data_root, whole)['damaged'])
    finally:
        harness.stop(process)
    final = check_data(data_root)
    for key in ('temporary_left', 'unparsable', 'without_sidecar'):   # distinct files, over every restart
        totals[key] = sum(line.startswith(key + ':') for line in damaged)
    totals['damaged_examples'] = sorted(damaged)[:5]
    totals.update(files=final['files'], csv_rows=final['csv_rows'],
                  resume_median_s=round(statistics.median(resume_times), 2) if resume_times else None,
                  resume_max_s=round(max(resume_times), 2) if resume_times else None,
                  disk=f'tmpfs of {DISK_MB} MB' if on_tmpfs else 'the temporary folder (not root: no tmpfs)')
    if on_tmpfs:
        disk.unmount(mount)
    return totals


def _wait_for_a_write(root, timeout):
    """Return as soon as a temporary file shows in a folder of root (or after timeout)."""
    deadline = time.monotonic() + timeout
    while not root.is_dir() and time.monotonic() < deadline:
        time.sleep(0.01)
    folders = [root] + [p for p in root.rglob('*') if p.is_dir()]
    while time.monotonic() < deadline:
        for folder in folders:
            try:
                if any(name.startswith('.') for name in os.listdir(folder)):
                    return
            except OSError:
                pass
        if not folders[1:]:   # processing makes its folders with its first pair
            folders = [root] + [p for p in root.rglob('*') if p.is_dir()]


def _references(address):
    """Darks and clear sky once, so that live processing writes AA images and CSV rows."""
    with pyro.connect(address, 120) as proxy:
        proxy.capture_darks('cameras')
        deadline = time.monotonic() + 120
        while not (proxy.report_status()['cameras']['last_darks'] or {}).get('completed'):
            if time.monotonic() > deadline:
                raise RuntimeError('darks did not complete')
            time.sleep(0.5)
        proxy.capture('Clear', 'cameras')


if __name__ == '__main__':
    trials, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    result = kill_while_writing(trials, seed)
    with open(out, 'w') as f:
        json.dump(result, f)

"""`pycam process --follow`: a folder fed pair by pair, one frame at first half-written,
gives the rows of a batch run of the same pairs, and stops cleanly on SIGINT."""
import csv
import os
import shutil
import signal
import subprocess
import sys

import pytest

from processing_harness import ROOT, write_line, write_synthetic_day
from support import wait_until
from rockit.pycam.storage.names import images_in, plume_pairs

SCENE = ['--sky', '5,0,155,6', '--registration', 'identity', '--distance', 4000, '--focal-length', 9]


def _rows(path):
    if not path.exists():
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_a_folder_fed_pair_by_pair_gives_the_rows_of_a_batch_run(tmp_path):
    day = tmp_path / 'day'
    write_synthetic_day(day, pairs=6)
    line = write_line(tmp_path / 'line.txt')
    batch = subprocess.run([sys.executable, '-m', 'rockit.pycam.processing.batch.cli', 'process', str(day), '--out',
                            str(tmp_path / 'batch'), '--line', str(line), *map(str, SCENE)],
                           capture_output=True, text=True, cwd=ROOT, timeout=300,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert batch.returncode == 0, batch.stderr
    wanted = _rows(tmp_path / 'batch' / 'emission_rates.csv')

    arriving = tmp_path / 'arriving'
    arriving.mkdir()
    for name in images_in(day):
        if name.kind != 'Plume':
            shutil.copy(name.path, arriving / name.path.name)
    out, log = tmp_path / 'follow', tmp_path / 'follow.log'
    with open(log, 'w') as output:
        follower = subprocess.Popen([sys.executable, '-m', 'rockit.pycam.processing.batch.cli', 'process',
                                     str(arriving), '--out', str(out), '--follow', '--poll', '0.1', '--line',
                                     str(line), *map(str, SCENE)], stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
                                    env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        wait_until(lambda: 'waiting for pairs' in log.read_text(), timeout=120, message='the follower started')
        for index, (on, off) in enumerate(plume_pairs(images_in(day))):
            shutil.copy(off.path, arriving / off.path.name)
            if index == 2:           # the on-band frame still being copied in
                data = on.path.read_bytes()
                (arriving / on.path.name).write_bytes(data[:len(data) // 2])
                wait_until(lambda: f'waiting for {on.path.name}' in log.read_text(), timeout=120,
                           message='the half-written frame waited for')
                assert len(_rows(out / 'emission_rates.csv')) == 2, 'nothing of the half-written pair'
            shutil.copy(on.path, arriving / on.path.name)
            wait_until(lambda: len(_rows(out / 'emission_rates.csv')) == index + 1, timeout=120,
                       message=f'pair {index + 1} processed')
        follower.send_signal(signal.SIGINT)
        assert follower.wait(120) == 0, log.read_text()
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert _rows(out / 'emission_rates.csv') == wanted
    assert all(float(r['emission_rate_kg_s']) > 0 for r in wanted[1:])


@pytest.mark.parametrize('extra', [['--jobs', '2'], ['--calibration', 'doas'], ['--poll', '0']])
def test_follow_refuses_what_it_cannot_do(tmp_path, extra):
    done = subprocess.run([sys.executable, '-m', 'rockit.pycam.processing.batch.cli', 'process', str(tmp_path),
                           '--out', str(tmp_path / 'out'), '--follow', *extra], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2 and '--follow' in done.stderr

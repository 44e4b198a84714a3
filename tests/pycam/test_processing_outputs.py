"""Outputs: the arrays, the preview, and a killed batch leaving only complete files."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from processing_harness import ROOT, write_line, write_synthetic_day
from support import wait_until
from rockit.common.csvlog import CsvLog
from rockit.common.files import atomic_write
from rockit.pycam.processing import outputs
from rockit.pycam.processing.outputs import npy, preview


def test_aa_array_and_preview(tmp_path):
    aa = np.linspace(-0.1, 0.6, 48 * 64, dtype=np.float32).reshape(48, 64)
    aa[0, 0] = np.nan
    atomic_write(tmp_path / 'x_aa.npy', npy(aa))
    assert np.array_equal(np.load(tmp_path / 'x_aa.npy'), aa, equal_nan=True)
    picture = preview(aa, -0.05, 0.5)
    assert picture.dtype == np.uint8 and picture.shape[0] == 48 and picture.shape[1] > 64
    assert picture[0, 0].tolist() == [0, 0, 0], 'no data shows black'
    assert picture[:, 64:].std() > 0, 'a colour bar with labels beside the image'
    png = np.frombuffer(outputs.preview_png(aa, -0.05, 0.5), np.uint8)
    assert cv2.imdecode(png, cv2.IMREAD_COLOR).shape == picture.shape


def test_killed_batch_leaves_only_complete_outputs(tmp_path):
    """`pycam process` killed mid-run: every CSV row names an AA file that loads whole."""
    write_synthetic_day(tmp_path / 'day', pairs=80)
    write_line(tmp_path / 'day' / 'synthetic_pcs_line.txt')
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, '-m', 'rockit.pycam.processing.batch.cli', 'process',
                                str(tmp_path / 'day'),
                                '--out', str(out), '--sky', '5,0,155,6', '--registration', 'identity', '--jobs', '1'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        csv_path = out / 'emission_rates.csv'
        if csv_path.exists() and csv_path.read_text().count('\n') >= 6:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, 'killed mid-run, not finished or failed'
    rows = CsvLog(out / 'emission_rates.csv', ()).rows()
    assert 5 <= len(rows) < 80
    for row in rows:
        assert np.load(out / row['aa_file']).shape == (120, 160)


def _children(pid):
    """The live (not zombie) processes whose parent is pid."""
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(stat.parent.name))
    return found


def _alive(pid):
    try:
        return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_the_processes_of_a_killed_parallel_batch_end_with_it(tmp_path):
    """`pycam process --jobs 2` killed (SIGKILL: no time to stop its pool): its worker
    processes end too instead of waiting for work for ever. They are held (SIGSTOP) while
    the parent is killed, so they cannot simply have finished their share first."""
    write_synthetic_day(tmp_path / 'day', pairs=150, drift_px=1)
    write_line(tmp_path / 'day' / 'synthetic_pcs_line.txt')
    process = subprocess.Popen([sys.executable, '-m', 'rockit.pycam.processing.batch.cli', 'process',
                                str(tmp_path / 'day'),
                                '--out', str(tmp_path / 'out'), '--sky', '5,0,155,6', '--registration', 'identity',
                                '--jobs', '2'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    workers = wait_until(lambda: len(_children(process.pid)) == 2 and _children(process.pid), timeout=60,
                         interval=0.005, message='the two worker processes')
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        assert process.poll() is None, 'still waiting for its workers when killed'
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    try:
        wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=60, message='the workers to end')
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

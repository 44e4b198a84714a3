"""Outputs: the arrays, the preview, and a killed batch leaving only complete files."""
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np

from processing_harness import ROOT, write_line, write_synthetic_day
from rockit.common.csvlog import CsvLog
from rockit.pycam.processing import outputs
from rockit.pycam.processing.outputs import preview, save_array


def test_aa_array_and_preview(tmp_path):
    aa = np.linspace(-0.1, 0.6, 48 * 64, dtype=np.float32).reshape(48, 64)
    aa[0, 0] = np.nan
    save_array(tmp_path / 'x_aa.npy', aa)
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
    process = subprocess.Popen([sys.executable, '-m', 'rockit.pycam.processing.cli', 'process', str(tmp_path / 'day'),
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

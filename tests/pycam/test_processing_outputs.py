"""Outputs: written whole or not at all, whatever moment a crash comes."""
import csv
import os
import signal
import subprocess
import sys
import textwrap
import time

import cv2
import numpy as np
import pytest

from processing_harness import ROOT, write_line, write_synthetic_day
from rockit.common import files
from rockit.pycam.processing import outputs
from rockit.pycam.processing.outputs import CSV_COLUMNS, EmissionRateLog, preview, save_array


def _check_complete(path):
    """The CSV parses, every row is complete, and returns the rows' numbers."""
    text = path.read_text()
    assert text.endswith('\n'), 'no torn last row'
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == CSV_COLUMNS
    assert all(len(row) == len(CSV_COLUMNS) for row in rows[1:])
    return [int(float(row[CSV_COLUMNS.index('emission_rate_kg_s')])) for row in rows[1:]]


def test_appends_survive_being_killed_at_any_moment(tmp_path):
    """A writer appending as fast as it can is killed (SIGKILL) at random moments; the CSV
    under its final name is always complete, and holds every row written before the kill."""
    writer = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from rockit.pycam.processing.outputs import EmissionRateLog
        log = EmissionRateLog(sys.argv[1])
        start = len(log.rows())
        for i in range(start, start + 100000):
            log.append({{'time': 't', 'emission_rate_kg_s': float(i), 'line_mean_aa': 0.1 * i}})
            print(i, flush=True)
    ''')
    rng = np.random.default_rng(7)
    confirmed = -1
    for _ in range(6):
        process = subprocess.Popen([sys.executable, '-c', writer, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while (tmp_path / 'emission_rates.csv').exists() is False and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.3))
        process.send_signal(signal.SIGKILL)
        printed = process.communicate()[0].split()
        numbers = _check_complete(tmp_path / 'emission_rates.csv')
        assert numbers == list(range(len(numbers))), 'rows in order, none lost or doubled'
        if printed:
            assert numbers[-1] >= int(printed[-1]), 'a row reported written is on disk'
        assert len(numbers) - 1 >= confirmed
        confirmed = len(numbers) - 1
    leftovers = list(tmp_path.glob(f'.*{files.TEMP_SUFFIX}'))
    files.remove_leftovers(tmp_path)
    assert not list(tmp_path.glob(f'.*{files.TEMP_SUFFIX}')) and all(not p.exists() for p in leftovers)
    assert confirmed > 0


def test_a_failed_rename_leaves_the_old_file(tmp_path, monkeypatch):
    log = EmissionRateLog(tmp_path)
    log.append({'time': 'a', 'emission_rate_kg_s': 1.0})
    before = (tmp_path / 'emission_rates.csv').read_bytes()

    def crash(*args):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(OSError):
        log.append({'time': 'b', 'emission_rate_kg_s': 2.0})
    assert (tmp_path / 'emission_rates.csv').read_bytes() == before
    assert not list(tmp_path.glob(f'.*{files.TEMP_SUFFIX}')), 'the temporary file is removed too'


def test_a_torn_file_is_not_appended_to(tmp_path):
    (tmp_path / 'emission_rates.csv').write_text(','.join(CSV_COLUMNS) + '\nhalf,a,row')
    with pytest.raises(OSError, match='incomplete'):
        EmissionRateLog(tmp_path).append({'time': 'x'})


def test_non_finite_values_are_empty_cells(tmp_path):
    log = EmissionRateLog(tmp_path)
    log.append({'time': 't', 'emission_rate_kg_s': float('nan'), 'plume_speed_m_s': 2.5})
    row = log.rows()[0]
    assert row['emission_rate_kg_s'] == '' and row['plume_speed_m_s'] == '2.5'


def test_aa_array_and_preview(tmp_path):
    aa = np.linspace(-0.1, 0.6, 48 * 64, dtype=np.float32).reshape(48, 64)
    aa[0, 0] = np.nan
    save_array(tmp_path / 'x_aa.npy', aa)
    assert np.array_equal(np.load(tmp_path / 'x_aa.npy'), aa, equal_nan=True)
    picture = preview(aa, -0.05, 0.5)
    assert picture.dtype == np.uint8 and picture.shape[0] == 48 and picture.shape[1] > 64
    assert picture[0, 0].tolist() == [0, 0, 0], 'no data shows black'
    assert picture[:, 64:].std() > 0, 'a colour bar with labels beside the image'
    outputs.save_preview(tmp_path / 'x_aa.png', aa, -0.05, 0.5)
    assert cv2.imread(str(tmp_path / 'x_aa.png')).shape == picture.shape


def test_killed_batch_leaves_only_complete_outputs(tmp_path):
    """`pycam process` killed mid-run: every CSV row names an AA file that loads whole."""
    write_synthetic_day(tmp_path / 'day', pairs=80)
    write_line(tmp_path / 'day' / 'synthetic_pcs_line.txt')
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, '-m', 'rockit.pycam.processing.cli', 'process', str(tmp_path / 'day'),
                                '--out', str(out), '--sky', '5,0,155,6', '--registration', 'identity'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        csv_path = out / 'emission_rates.csv'
        if csv_path.exists() and csv_path.read_text().count('\n') >= 6:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, 'killed mid-run, not finished or failed'
    rows = list(csv.DictReader((out / 'emission_rates.csv').read_text().splitlines()))
    assert 5 <= len(rows) < 80
    for row in rows:
        assert np.load(out / row['aa_file']).shape == (120, 160)

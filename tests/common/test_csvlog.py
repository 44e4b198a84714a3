"""The append-only CSV log: killed at any moment or refused by a full disk, it loses no row
it had appended, and the next append carries on after the last whole row."""
import resource
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from support import ROOT
from rockit.common.csvlog import CsvLog

COLUMNS = ['time', 'value', 'note']


def test_rows_come_back_as_written_with_blanks_for_missing_and_non_finite(tmp_path):
    log = CsvLog(tmp_path / 'day' / 'log.csv', COLUMNS)
    log.append({'time': 't1', 'value': 2.5, 'note': 'a, "quoted" note'})
    log.append({'time': 't2', 'value': float('nan')}, {'time': 't3', 'value': None, 'note': 7})
    assert (tmp_path / 'day' / 'log.csv').read_text().splitlines()[0] == 'time,value,note'
    assert log.rows() == [{'time': 't1', 'value': '2.5', 'note': 'a, "quoted" note'},
                          {'time': 't2', 'value': '', 'note': ''}, {'time': 't3', 'value': '', 'note': '7'}]
    assert CsvLog(tmp_path / 'day' / 'log.csv', COLUMNS).rows() == log.rows(), 'another reader sees the same'


def test_an_unfinished_last_row_is_not_read_and_is_cut_by_the_next_append(tmp_path):
    path = tmp_path / 'log.csv'
    path.write_text('time,value,note\nt1,1,\nt2,2')          # a crash in the middle of t2's row
    assert [row['time'] for row in CsvLog(path, COLUMNS).rows()] == ['t1']
    CsvLog(path, COLUMNS).append({'time': 't3', 'value': 3})
    assert path.read_text() == 'time,value,note\nt1,1,\nt3,3,\n'


def test_a_torn_header_is_written_again(tmp_path):
    path = tmp_path / 'log.csv'
    path.write_text('time,va')
    CsvLog(path, COLUMNS).append({'time': 't1'})
    assert path.read_text() == 'time,value,note\nt1,,\n'


def test_a_file_with_other_columns_is_kept_aside_not_appended_to(tmp_path):
    path = tmp_path / 'log.csv'
    path.write_text('time,value\nt0,0\n')
    (tmp_path / 'log.1.csv').write_text('older\n')
    CsvLog(path, COLUMNS).append({'time': 't1', 'value': 1})
    assert path.read_text() == 'time,value,note\nt1,1,\n'
    assert (tmp_path / 'log.2.csv').read_text() == 'time,value\nt0,0\n'
    assert (tmp_path / 'log.1.csv').read_text() == 'older\n'


def test_a_log_removed_under_it_starts_again_with_its_header(tmp_path):
    log = CsvLog(tmp_path / 'log.csv', COLUMNS)
    log.append({'time': 't1'})
    (tmp_path / 'log.csv').unlink()
    log.append({'time': 't2'})
    assert [row['time'] for row in log.rows()] == ['t2']
    assert CsvLog(tmp_path / 'never.csv', COLUMNS).rows() == []


def test_a_full_disk_refuses_the_append_and_leaves_the_file_as_it_was(tmp_path):
    """The file-size limit makes the kernel write part of the row and then refuse (EFBIG),
    as a full disk does with ENOSPC."""
    path = tmp_path / 'log.csv'
    CsvLog(path, COLUMNS).append({'time': 't1', 'value': 1})
    before = path.read_bytes()
    writer = textwrap.dedent(f'''
        import resource, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from rockit.common.csvlog import CsvLog
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 10}, resource.RLIM_INFINITY))
        try:
            CsvLog({str(path)!r}, {COLUMNS!r}).append({{'time': 't2', 'note': 'x' * 200}})
        except OSError as e:
            print('refused:', e.strerror)
    ''')
    done = subprocess.run([sys.executable, '-c', writer], capture_output=True, text=True, timeout=60)
    assert 'refused: File too large' in done.stdout, done.stderr
    assert path.read_bytes() == before
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY, 'the limit stayed in the child'


def test_appends_killed_at_random_moments_lose_no_row_they_reported(tmp_path):
    """A writer appending as fast as it can is killed (SIGKILL) at random moments, then
    started again: the rows read back are every number in order, none lost or doubled,
    including every one it printed as written."""
    path = tmp_path / 'log.csv'
    writer = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from rockit.common.csvlog import CsvLog
        log = CsvLog({str(path)!r}, {COLUMNS!r})
        start = len(log.rows())
        for i in range(start, start + 1000000):
            log.append({{'time': 't', 'value': i, 'note': 'n' * (i % 40)}})
            print(i, flush=True)
    ''')
    rng = np.random.default_rng(7)
    kept = 0
    for _ in range(8):
        process = subprocess.Popen([sys.executable, '-c', writer], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.3))
        process.send_signal(signal.SIGKILL)
        printed = process.communicate()[0].split()
        numbers = [int(row['value']) for row in CsvLog(path, COLUMNS).rows()]
        assert numbers == list(range(len(numbers)))
        if printed:
            assert numbers[-1] >= int(printed[-1]), 'a row reported written is on disk'
        assert len(numbers) >= kept
        kept = len(numbers)
    assert kept > 8

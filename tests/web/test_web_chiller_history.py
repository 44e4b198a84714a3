"""The chiller's plotted temperatures survive a rockit-web restart: written to history_dir,
read back at start and plotted even while the chiller does not answer."""
import csv
import json

import pytest

from web_support import WebProcess, http
from stand_in import StandChiller, StandIn
from support import free_port, wait_until


@pytest.fixture
def chiller(test_registry):
    served = StandIn(test_registry.add('web_chiller', timeout=2), StandChiller()).start()
    yield served
    served.stop()


def site(tmp_path, label, **extra):
    path = tmp_path / f'web-{label}.json'
    path.write_text(json.dumps({'port': free_port(), 'host': '127.0.0.1', 'daemons': ['web_chiller'], **extra}))
    return WebProcess(path, tmp_path / f'web-{label}.log').start()


def plotted(process):
    return 'chiller' in http(process.url + 'api/web_chiller/status').json()['plots']


def test_the_chiller_history_is_kept_across_a_restart(chiller, tmp_path):
    history = tmp_path / 'history'
    first = site(tmp_path, 'first', history_dir=str(history))
    try:
        wait_until(lambda: plotted(first), timeout=60, message='the first plot')
        chiller.served.water = 14.25
        # (the plot is drawn while the poll that read it is still under way: its status may come after)
        wait_until(lambda: (http(first.url + 'api/web_chiller/status').json()['status'] or {}).get('water_temp')
                   == 14.25, timeout=30, message='the new reading')
    finally:
        first.stop()
    files = sorted((history / 'web_chiller').glob('*.csv'))
    assert files, 'the readings were written when rockit-web stopped'
    rows = [row for path in files for row in csv.DictReader(path.open())]
    assert {'15', '14.25'} <= {row['water_temp'] for row in rows}
    chiller.stop()
    second = site(tmp_path, 'second', history_dir=str(history))
    try:
        view = http(second.url + 'api/web_chiller/status').json()
        assert view['state'] == 'OFFLINE' or view['answered_at'] is None
        assert 'chiller' in view['plots'], 'plotted from disk before the chiller answered'
        png = http(second.url + 'api/web_chiller/plot/chiller.png')
        assert png.status == 200 and png.body[:8] == b'\x89PNG\r\n\x1a\n'
    finally:
        second.stop()


def test_a_history_dir_it_cannot_write_is_logged_and_the_page_goes_on(chiller, tmp_path):
    blocked = tmp_path / 'a-file'
    blocked.write_text('not a folder')
    process = site(tmp_path, 'blocked', history_dir=str(blocked))
    try:
        wait_until(lambda: plotted(process), timeout=60, message='the plot, in memory')
    finally:
        process.stop()
    log = process.log_path.read_text()
    assert log.count('cannot keep the chiller history') == 1 and 'a-file' in log

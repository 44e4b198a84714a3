"""A day's history on rockit-web over a pycamd stand-in that counts what it is asked: the
whole day or a time range of it, mistyped ranges said, and pages opened at once sharing
the daemon's answers rather than each asking it."""
import threading
import time

import pytest

from rockit.common.pyro import query
from rockit.web import history
from stand_in import StandIn
from web_support import http
from support import wait_until

DAY = '2024-05-01'
RATES = ('time,emission_rate_kg_s,emission_rate_err_kg_s,emission_rate_kg_s_north,emission_rate_kg_s_south\n' +
         ''.join(f'{DAY}T12:{m:02d}:00Z,3.0,0.3,1.0,2.0\n' for m in range(10))).encode()
COLUMNS = ('time,so2_molecules_cm2\n' + ''.join(f'{DAY}T12:{m:02d}:30Z,1e18\n' for m in range(10))).encode()


class CountingPycam:
    """What rockit-web asks a pycamd for a day's history, counted by query."""
    def __init__(self):
        self.asked = {'product_days': 0, 'day_csv': 0}
        self._lock = threading.Lock()

    def _count(self, name):
        with self._lock:
            self.asked[name] += 1

    @query()
    def report_status(self):
        return {'date': '2026-01-01T00:00:00Z', 'status': 1, 'settings': {}}

    @query()
    def start_acquisition(self):      # the marker of a pycamd
        return 0

    @query()
    def product_days(self):
        self._count('product_days')
        return [DAY]

    @query()
    def day_csv(self, day, name, offset=0):
        self._count('day_csv')
        if day != DAY:
            return 17
        data = (RATES if name == 'emission_rates' else COLUMNS)[offset:offset + 100]
        end = offset + len(data)
        size = len(RATES if name == 'emission_rates' else COLUMNS)
        return {'day': day, 'name': name, 'bytes': data, 'next': end if end < size else None, 'size': size}


@pytest.fixture
def pycam_site(test_registry, web):
    served = StandIn(test_registry.add('web_pycam', timeout=5), CountingPycam()).start()
    site = web(['web_pycam'])
    wait_until(lambda: http(site.url + 'api/web_pycam/status').json()['kind'] == 'pycam', timeout=60,
               message='rockit-web knows the pycamd')
    yield site, served.served
    served.stop()


def test_pages_opened_at_once_share_the_daemons_answers(pycam_site):
    site, pycam = pycam_site
    paths = ['api/web_pycam/days', f'api/web_pycam/day/{DAY}.png', f'api/web_pycam/day/{DAY}/emission_rates.csv',
             f'api/web_pycam/day/{DAY}/doas_columns.csv']
    answers = []
    started = time.monotonic()

    def browse():
        answers.extend(http(site.url + path) for path in paths)
    # Eight pages: one address may hold 32 connections, and rockit-web still counts those the
    # pages have just closed until it reads their end (twenty pages, answered at once, once
    # reconnected faster than that and were refused).
    threads = [threading.Thread(target=browse) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    windows = 1 + int((time.monotonic() - started) // history.RECENT_S)   # an answer is kept this long
    assert len(answers) == 32 and all(answer.status == 200 for answer in answers)
    assert {a.body for a in answers if a.headers['content-type'].startswith('text/csv')} == {RATES, COLUMNS}
    assert pycam.asked['product_days'] <= windows
    parts = -(-len(RATES) // 100) + -(-len(COLUMNS) // 100)      # each file read in parts of 100 bytes
    assert pycam.asked['day_csv'] <= windows * parts


def test_a_time_range_of_the_day_is_drawn_and_a_range_without_results_is_a_404(pycam_site):
    site, _ = pycam_site
    base = site.url + f'api/web_pycam/day/{DAY}.png'
    whole, zoomed = http(base), http(base + '?from=12:02&to=12:04:30')
    assert whole.status == zoomed.status == 200 and zoomed.body[:8] == b'\x89PNG\r\n\x1a\n'
    assert zoomed.body != whole.body
    assert http(base + '?from=12:02').status == http(base + '?to=12:02').status == 200
    empty = http(base + '?from=13:00&to=14:00')
    assert empty.status == 404 and empty.json()['error'] == f'no results for {DAY} from 13:00:00 to 14:00:00'


@pytest.mark.parametrize('query, says', [('from=25:00', "'25:00' is not a time of day (from=HH:MM or HH:MM:SS, UTC)"),
                                         ('to=noon', "'noon' is not a time of day (to=HH:MM or HH:MM:SS, UTC)"),
                                         ('from=12:05&to=12:01', 'from 12:05 is not before to 12:01')])
def test_a_range_that_is_not_one_is_a_400_saying_why(pycam_site, query, says):
    site, pycam = pycam_site
    asked = dict(pycam.asked)
    answer = http(site.url + f'api/web_pycam/day/{DAY}.png?{query}')
    assert answer.status == 400 and answer.json()['error'] == says
    assert pycam.asked == asked, 'the daemon is not asked'

"""Any day's results of a pycamd, asked for when a person asks (not polled): the days it
has, a day's CSV files passed through, and a day's emission rates (total and per line) and
DOAS columns drawn, the whole day or a time range of it.

What a pycamd answered is kept for RECENT_S and shared by every browser, so fifty pages
opened at once cost the daemon the calls of one; the last few days' files and pictures
are kept, no more.
"""
import collections
import csv
import io
import re
import threading
import time

from rockit.common import pyro

from . import plots
from .poller import _bytes

DAY = re.compile(r'^\d{4}-\d{2}-\d{2}$')
TIME_OF_DAY = re.compile(r'^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$')
CSV_NAMES = ('emission_rates', 'doas_columns')
RECENT_S = 5.0        # a day's files are asked again at most this often (they grow while it lasts)
KEPT_FILES = 4        # the newest two days' two files
KEPT_PICTURES = 8


class NoSuchDay(Exception):
    """The daemon has no results for that day (or does not keep any)."""


class BadRange(ValueError):
    """A time range that is not one: said to the person who typed it."""


def time_range(start, end):
    """('HH:MM[:SS]' or '', the same) as comparable 'HH:MM:SS' strings (None: open);
    BadRange for anything else."""
    found = []
    for label, text in (('from', start), ('to', end)):
        if not text:
            found.append(None)
        elif not TIME_OF_DAY.match(text):
            raise BadRange(f"'{text}' is not a time of day ({label}=HH:MM or HH:MM:SS, UTC)")
        else:
            found.append(text if len(text) == 8 else text + ':00')
    if found[0] and found[1] and found[0] >= found[1]:
        raise BadRange(f'from {start} is not before to {end}')
    return tuple(found)


def _within(rows, start, end):
    return [row for row in rows if (start is None or row['time'][11:19] >= start)
            and (end is None or row['time'][11:19] <= end)]


class DayResults:
    """One pycamd's days and day files, as recent as RECENT_S, for every browser at once."""

    def __init__(self, address):
        self.address = address
        self._lock = threading.Lock()
        self._days = (float('-inf'), [])
        self._files = collections.OrderedDict()     # (day, name) -> (asked at, bytes)
        self._pictures = collections.OrderedDict()  # (day, start, end, file versions) -> PNG

    def days(self, timeout):
        with self._lock:
            asked, found = self._days
            if time.monotonic() - asked >= RECENT_S:
                with pyro.connect(self.address, timeout) as proxy:
                    found = proxy.product_days()
                self._days = (time.monotonic(), found if isinstance(found, list) else [])
            return self._days[1]

    def csv(self, name, day, timeout):
        """The day's CSV file as bytes, asked for part by part (a day outgrows one message)."""
        with self._lock:
            return self._file(name, day, timeout)[1]

    def _file(self, name, day, timeout):
        key = (day, name)
        kept = self._files.get(key)
        if kept is None or time.monotonic() - kept[0] >= RECENT_S:
            kept = (time.monotonic(), self._ask_file(name, day, timeout))
            self._files[key] = kept
        self._files.move_to_end(key)
        while len(self._files) > KEPT_FILES:
            self._files.popitem(last=False)
        return kept

    def _ask_file(self, name, day, timeout):
        parts, offset = [], 0
        with pyro.connect(self.address, timeout) as proxy:
            while offset is not None:
                answer = proxy.day_csv(day, name, offset)
                if not isinstance(answer, dict):
                    raise NoSuchDay(f'no {name} for {day}')
                parts.append(_bytes(answer['bytes']))
                offset = answer['next']
        return b''.join(parts)

    def plot(self, day, start, end, timeout):
        """PNG of the day's emission rates and DOAS columns between start and end."""
        with self._lock:
            rates_at, rates = self._file('emission_rates', day, timeout)
            columns_at, columns = self._file('doas_columns', day, timeout)
            key = (day, start, end, rates_at, columns_at)
            png = self._pictures.get(key)
            if png is None:
                rate_rows, column_rows = _within(_rows(rates), start, end), _within(_rows(columns), start, end)
                if not rate_rows and not column_rows:
                    raise NoSuchDay(f'no results for {day}' + (f' from {start or "00:00"} to {end or "24:00"}'
                                                               if start or end else ''))
                png = plots.day_history(day, rate_rows, column_rows)
                self._pictures[key] = png
                while len(self._pictures) > KEPT_PICTURES:
                    self._pictures.popitem(last=False)
            return png


def _rows(data):
    return list(csv.DictReader(io.StringIO(data.decode('utf-8', 'replace'))))

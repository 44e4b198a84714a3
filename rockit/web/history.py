"""Any day's results of a pycamd, asked for when a person asks (not polled): the days it
has, a day's CSV files passed through in parts, and a day's emission rates and DOAS
columns drawn."""
import csv
import io
import re

from rockit.common import pyro

from . import plots
from .poller import _bytes

DAY = re.compile(r'^\d{4}-\d{2}-\d{2}$')
CSV_NAMES = ('emission_rates', 'doas_columns')


class NoSuchDay(Exception):
    """The daemon has no results for that day (or does not keep any)."""


def days(address, timeout):
    with pyro.connect(address, timeout) as proxy:
        found = proxy.product_days()
    return found if isinstance(found, list) else []


def csv_parts(address, name, day, timeout):
    """The day's CSV file as a list of byte strings, asked for part by part."""
    parts, offset = [], 0
    with pyro.connect(address, timeout) as proxy:
        while offset is not None:
            answer = proxy.day_csv(day, name, offset)
            if not isinstance(answer, dict):
                raise NoSuchDay(f'no {name} for {day}')
            parts.append(_bytes(answer['bytes']))
            offset = answer['next']
    return parts


def day_plot(address, day, timeout):
    """PNG of the day's emission rates and DOAS columns."""
    rates = _rows(csv_parts(address, 'emission_rates', day, timeout))
    columns = _rows(csv_parts(address, 'doas_columns', day, timeout))
    if not rates and not columns:
        raise NoSuchDay(f'no results for {day}')
    return plots.day_history(day, rates, columns)


def _rows(parts):
    return list(csv.DictReader(io.StringIO(b''.join(parts).decode('utf-8', 'replace'))))

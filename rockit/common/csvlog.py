"""A CSV time series that only grows, for logs kept a day or a season on an SD card.

Rows are appended in one write to the end of the file and synced, so a day's log costs its
own size in writes, not the square of it. A crash in the middle of an append can leave a
last line without its newline: the next append cuts it off (only that unfinished row is
lost, never one appended before) and rows() never returns it. An append that fails (a full
disk) takes back what it wrote, so the file stays as it was.
"""
import csv
import io
import logging
import math
import os
from pathlib import Path

from .files import atomic_write

log = logging.getLogger(__name__)


def cell(value):
    """A value as CSV text: None and non-finite numbers empty, floats to 6 significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ''
    if isinstance(value, float):
        return f'{value:.6g}'
    return str(value)


def _lines(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator='\n').writerows(rows)
    return out.getvalue().encode()


class CsvLog:
    """path: the CSV file; columns: its header. A file that exists with another header is
    renamed aside (<stem>.1.csv, .2, ...) before the first append, so no row ever sits under
    the wrong header."""

    def __init__(self, path, columns):
        self.path = Path(path)
        self.columns = list(columns)
        self._checked = False

    def append(self, *rows):
        """rows: {column: value} each; missing columns and non-finite values written empty."""
        data = _lines([[cell(row.get(c)) for c in self.columns] for row in rows])
        if not self._checked:
            self._prepare()
            self._checked = True
        if not self.path.exists():     # new, or removed since (a day's folder cleared)
            atomic_write(self.path, _lines([self.columns]) + data)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)  # novm: flags, not a union type
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)

    def rows(self):
        """The rows appended so far, as {column: text}; an unfinished last line is left out."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        whole = data[:data.rfind(b'\n') + 1].decode('utf-8', errors='replace')
        return list(csv.DictReader(io.StringIO(whole, newline=''), restkey='more'))

    def _prepare(self):
        """Cut off an unfinished last row; move aside a file with another header."""
        try:
            with open(self.path, 'rb') as f:
                header = f.readline()
        except FileNotFoundError:
            return
        if header.endswith(b'\n') and header != _lines([self.columns]):
            aside = self._free_name()
            os.replace(self.path, aside)
            log.warning('%s had other columns; kept as %s', self.path, aside.name)
            return
        with open(self.path, 'r+b') as f:
            text = f.read()
            end = text.rfind(b'\n') + 1
            if end < len(text):
                f.truncate(end)
                os.fsync(f.fileno())
        if end == 0:                   # not even the header was finished
            self.path.unlink()

    def _free_name(self):
        number = 1
        while (aside := self.path.with_name(f'{self.path.stem}.{number}{self.path.suffix}')).exists():
            number += 1
        return aside

"""The chiller temperatures rockit-web plots, kept on disk so that a restart does not
empty the plot: a CSV a UTC day under <history_dir>/<daemon>/, appended in batches (an SD
card need not be written every second), read back at start, and days older than the
plotted hours deleted."""
import datetime
from pathlib import Path

from rockit.common.csvlog import CsvLog

KEYS = ('water_temp', 'return_temp', 'ambient_temp', 'setpoint_temp')
COLUMNS = ('time',) + KEYS


def _day(moment):
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime('%Y-%m-%d')


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class ChillerLog:
    def __init__(self, folder, keep_s, log):
        self.folder, self.keep_s, self.log = Path(folder), keep_s, log
        self._failing = False

    def _files(self):
        try:
            return sorted(self.folder.glob('20??-??-??.csv'))
        except OSError:
            return []

    def load(self, now):
        """The readings of the last keep_s seconds, oldest first: [(time, {key: °C})]."""
        since = now - self.keep_s
        readings = []
        for path in self._files():
            if path.stem < _day(since):
                continue
            for row in CsvLog(path, COLUMNS).rows():
                moment = _float(row.get('time'))
                if moment is not None and since <= moment <= now:
                    readings.append((moment, {key: _float(row.get(key)) for key in KEYS}))
        return sorted(readings, key=lambda reading: reading[0])

    def append(self, readings, now):
        """Write readings [(time, {key: °C})] to their days' files and delete days past
        the window; a full or read-only disk is logged once and the plot goes on in memory."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for day in sorted({_day(moment) for moment, _ in readings}):
                CsvLog(self.folder / f'{day}.csv', COLUMNS).append(
                    *({'time': int(moment), **values} for moment, values in readings if _day(moment) == day))
            for path in self._files():
                if path.stem < _day(now - self.keep_s):
                    path.unlink()
        except OSError as e:
            if not self._failing:
                self.log.warning('cannot keep the chiller history in %s: %s', self.folder, e)
            self._failing = True
            return
        if self._failing:
            self.log.info('the chiller history is kept in %s again', self.folder)
        self._failing = False

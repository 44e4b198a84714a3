"""The field station beside acquisition: one thread ticks the schedule, disk housekeeping,
the data-flow watchdog and health every TICK; transfer runs on its own thread
(transfer.py). Status reads only what these threads published."""
import datetime
import logging
import threading

from rockit.common.log import ChangeLog

from ..processing import products_folder
from . import health
from .housekeeping import Housekeeping
from .scheduler import Scheduler
from .transfer import Transfer

TICK = 1.0
HEALTH_REFRESH = datetime.timedelta(seconds=10)
DEFAULT_HEALTH_LOG_S = 300


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


class FieldStation:
    def __init__(self, config, store, acquisition, log, watchdog=None):
        self.log = log
        self.watchdog = watchdog
        self.root = store.root
        self._free_bytes = store.free_bytes
        self._changes = ChangeLog(log)
        self.transfer = Transfer(config.transfer, store.root, log, config.folder) if config.transfer else None
        self.scheduler = Scheduler(config.schedule, acquisition, log, self._changes)
        self.housekeeping = None
        if config.housekeeping:
            self.housekeeping = Housekeeping(config.housekeeping, store, log,
                                             *((self.transfer.sent, self.transfer.forget) if self.transfer else ()),
                                             products=products_folder(config))
        # The CSV is written where the config has a `health` object; status always has health.
        self.health_log_s = None if config.health is None else float(
            config.health.get('log_interval_s', DEFAULT_HEALTH_LOG_S))
        self._health = None
        self._health_read = self._health_logged = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='field', daemon=True)

    def start(self):
        self._thread.start()
        if self.transfer:
            self.transfer.start()

    def stop(self):
        self._stop.set()
        if self.transfer:
            self.transfer.stop()
        self._thread.join(timeout=5)

    # Acquisition commands from the operator (Pyro threads).
    def operator_started(self):
        self.scheduler.operator_started(utc_now())

    def operator_stopped(self):
        self.scheduler.operator_stopped(utc_now())

    def _run(self):
        while not self._stop.is_set():
            now = utc_now()
            for name, part in (('schedule', self.scheduler), ('housekeeping', self.housekeeping),
                               ('watchdog', self.watchdog)):
                try:
                    if part is not None:
                        part.tick(now)
                except Exception as e:   # a fault here must never end the station's thread
                    self._changes(f'{name} fault', logging.ERROR, f'{name} failed: {type(e).__name__}: {e}')
            self._health_tick(now)
            self._stop.wait(TICK)

    def _health_tick(self, now):
        log_due = self.health_log_s is not None and (
            self._health_logged is None or (now - self._health_logged).total_seconds() >= self.health_log_s)
        if log_due or self._health_read is None or now - self._health_read >= HEALTH_REFRESH:
            self._health = health.reading(self._free_bytes, now)
            self._health_read = now
        if log_due:
            self._health_logged = now
            try:
                health.append_to_log(self.root, now, self._health)
                self._changes('health log', logging.INFO, 'health log written', state='ok')
            except OSError as e:
                self._changes('health log', logging.ERROR, f'cannot write the health log: {e}', state='failed')

    def status(self):
        """The field station's keys of report_status(); storage's are merged into storage."""
        reading = dict(self._health) if self._health else None
        if reading:
            reading.pop('time')
        data = {'schedule': self.scheduler.status(), 'health': reading}
        if self.watchdog:
            data['watchdog'] = self.watchdog.status()
        if self.transfer:
            data['transfer'] = self.transfer.status()
        return data

    def storage_status(self):
        return self.housekeeping.status() if self.housekeeping else {'delete_oldest': False}

"""The acquisition loop of one device group, run by its one owner thread: continuous
capture on a wall-clock grid, dark sequences, single captures, and what each one saved.

Continuous capture takes a frame at every multiple of the period since the epoch (UTC), so
instruments whose clocks agree capture together, and the cameras of a pair share each
slot's time in their file names. A slot is taken if the loop reaches it within a
tolerance; otherwise it is missed, logged and counted in status, never silently skipped
(a long exposure that outlasts the period misses slots, as the instrument always has).

A dark sequence captures once at every exposure of the device's list, one step per pass
of the loop, so that commands (stop) are served between steps. Single captures run as
commands on the same thread. A disk that cannot take a capture stops acquisition of every
device (StorageError, storage/store.py), with the reason in status.

Subclasses (cameras.py, spectrometer.py) know their devices: opening them (the
DeviceLoop's hooks), capture_and_save() and their part of status.
"""
import contextlib
import datetime
import logging
import math
import threading
import time
from typing import Callable, NamedTuple

from rockit.common.device import DeviceLoop
from rockit.common.errors import DeviceError, Refused
from rockit.common.status import iso, link

from ..storage import names
from ..codes import CommandStatus, DeviceStatus
from ..settings import AcquisitionSettings
from ..errors import NameTaken, StorageError
from ..storage.store import DataStore

IDLE_INTERVAL = 1.0      # s between passes while idle (refreshing the free-space reading)
MAX_LATE = 0.5           # s: a slot started later than this (or a quarter period) is missed
LAST_FILES = 4           # file names kept in status


def slot_tolerance(period):
    return min(0.25 * period, MAX_LATE)


def slot_time(seconds):
    """The UTC datetime of an epoch time on the grid (rounded to ms against float error)."""
    return datetime.datetime.fromtimestamp(round(seconds, 3), datetime.timezone.utc)


class DeviceLog(logging.LoggerAdapter):
    """The daemon's log with the device group's name in front of each message."""

    def __init__(self, logger, device):
        super().__init__(logger, {'device': device})

    def process(self, msg, kwargs):
        return f'{self.extra["device"]}: {msg}', kwargs


class StorageState:
    """What status tells about the disk; written by the device threads, read by status."""

    def __init__(self, store):
        self._store = store
        self._lock = threading.Lock()
        self.error = None
        self.free_bytes = None
        self.files_written = 0

    def refresh(self, files=0):
        try:
            free = self._store.free_bytes()
        except OSError:
            free = None
        with self._lock:
            self.free_bytes = free
            self.files_written += files

    def fail(self, reason):
        with self._lock:
            self.error = reason

    def clear(self):
        with self._lock:
            self.error = None

    def snapshot(self):
        with self._lock:
            return {'root': str(self._store.root), 'error': self.error,
                    'free_mb': None if self.free_bytes is None else round(self.free_bytes / 1e6, 1),
                    'floor_mb': round(self._store.floor_bytes / 1e6, 1), 'files_written': self.files_written}


class AcquisitionContext(NamedTuple):
    """What the device loops share: the settings, the disk, and the daemon's callbacks."""
    settings: AcquisitionSettings
    store: DataStore
    storage: StorageState
    deliver: Callable      # deliver(saved): hand a saved capture to live processing
    halt_all: Callable     # halt_all(reason): stop every device's acquisition (disk trouble)


class DarkSequence:
    def __init__(self, exposures):
        self.exposures = list(exposures)
        self.done = 0
        self.failed = 0

    @property
    def total(self):
        return len(self.exposures)


class Acquisition:
    """One device group's story, told on its DeviceLoop's thread (self.loop)."""
    device_name = None
    capture_bytes = 0      # about what one capture writes: starting needs room for it

    def __init__(self, context, log):
        self.log = DeviceLog(log, self.device_name)
        self.loop = DeviceLoop(self, self.log, self.device_name)
        self.context = context
        self._lock = threading.Lock()      # guards what status reads below
        self.continuous = False
        self._darks = None
        self._last_darks = None
        self._next_slot = None
        self._period = None
        self._last_stamp = None
        self._saved = self._missed = self._failed = 0
        self._last_files = []
        self._last_capture = None

    # For subclasses.
    def exposure_choices(self):
        """The exposures a dark sequence covers."""
        raise NotImplementedError

    def capture_and_save(self, capture_type, moment, dark_exposure=None):
        """Capture, save and deliver; the saved paths. Raises DeviceError, StorageError."""
        raise NotImplementedError

    def device_status(self):
        """The device's own part of status, from what the loop published (no device I/O)."""
        return {}

    # DeviceLoop hooks.
    def poll_interval(self):
        if self._darks is not None:
            return 0.0
        if self.continuous:
            if self._next_slot is None:
                self._schedule(time.time())
            return max(0.0, self._next_slot * self._period - time.time())
        return IDLE_INTERVAL

    def poll(self):
        if self._darks is not None:
            self._dark_step()
        elif self.continuous:
            self._continuous_step()
        else:
            self.context.storage.refresh()

    # Continuous acquisition.
    def _current_period(self):
        values, _ = self.context.settings.snapshot()
        return 1.0 / values['frame_rate']

    def _schedule(self, now):
        """Aim at the first slot after now. The slot and period change on the loop thread
        only; other threads stop acquisition through halt(), which leaves them alone."""
        period = self._current_period()
        with self._lock:
            self._period, self._next_slot = period, math.floor(now / period) + 1

    def _continuous_step(self):
        now = time.time()
        period = self._current_period()
        if self._next_slot is None or period != self._period:
            self._schedule(now)
            return
        due = math.floor(now / period)
        if due < self._next_slot:
            return
        on_time = now - due * period <= slot_tolerance(period)
        missed = due - self._next_slot + (0 if on_time else 1)
        with self._lock:
            self._next_slot = due + 1
            self._missed += missed
        if missed:
            self.log.warning('missed %d slot(s) before %s (the last capture outlasted the period)',
                             missed, iso(slot_time(self._next_slot * period)))
        if on_time:
            with contextlib.suppress(Refused):   # logged and counted; the next slot is taken as usual
                self._capture(names.CONTINUOUS_TYPE, slot_time(due * period))

    def start_continuous(self):
        """Loop thread: start continuous acquisition from the next slot."""
        if self._darks is not None:
            raise Refused(CommandStatus.AcquisitionRunning)
        self._check_space(self.capture_bytes)
        if not self.continuous:
            with self._lock:
                self.continuous, self._next_slot = True, None
            self.log.info('continuous acquisition started')

    def halt(self):
        """Any thread: stop continuous acquisition and any dark sequence; True if one ran."""
        with self._lock:
            running = self.continuous or self._darks is not None
            self.continuous = False
            if self._darks is not None:
                self._last_darks = {'done': self._darks.done, 'total': self._darks.total, 'completed': False}
            self._darks = None
        if running:
            self.loop.wake()
        return running

    # Dark sequences.
    def start_darks(self):
        """Loop thread: start a dark sequence over every exposure of the list."""
        self._refuse_while_running()
        self._check_space(self.capture_bytes)
        with self._lock:
            self._darks = DarkSequence(self.exposure_choices())
        self.log.info('dark sequence of %d exposures started', self._darks.total)

    def _dark_step(self):
        sequence = self._darks
        if sequence is None:            # stopped from another thread meanwhile
            return
        exposure = sequence.exposures[sequence.done]
        try:
            self._capture('Dark', datetime.datetime.now(datetime.timezone.utc), dark_exposure=exposure)
            failed = False
        except Refused as e:
            if e.code == CommandStatus.StorageUnavailable:
                return
            failed = True
        if self._darks is not sequence:
            return
        with self._lock:
            sequence.done += 1
            sequence.failed += failed
            if sequence.done == sequence.total:
                finished = iso(datetime.datetime.now(datetime.timezone.utc))
                self._last_darks = {'done': sequence.done, 'total': sequence.total, 'completed': True,
                                    'failed': sequence.failed, 'finished': finished}
                self._darks = None
        if self._darks is None:
            self.log.info('dark sequence complete')

    # Single captures.
    def capture_single(self, capture_type):
        """Loop thread: one capture of capture_type now."""
        self._refuse_while_running()
        self._check_space(self.capture_bytes)
        self._capture(capture_type, self._unique_now())

    def _refuse_while_running(self):
        if self.continuous or self._darks is not None:
            raise Refused(CommandStatus.AcquisitionRunning)

    def _unique_now(self):
        """Now, or the next second if a capture already has this second in its names."""
        now = datetime.datetime.now(datetime.timezone.utc)
        if names.stamp(now) == self._last_stamp:
            time.sleep(1.0 - now.microsecond / 1e6)
            now = datetime.datetime.now(datetime.timezone.utc)
        return now

    # Capturing and accounting.
    def _check_space(self, needed):
        try:
            self.context.store.check_space(needed)
        except StorageError as e:
            self.context.storage.fail(str(e))
            raise Refused(CommandStatus.StorageUnavailable) from None

    def _capture(self, capture_type, moment, dark_exposure=None):
        """Capture and save. Refused with the code for a capture that was not saved;
        DeviceError goes on to DeviceLoop (offline)."""
        try:
            paths = self.capture_and_save(capture_type, moment, dark_exposure)
        except StorageError as e:
            self.log.error('storage failed, acquisition stopped: %s', e)
            self.context.halt_all(str(e))
            raise Refused(CommandStatus.StorageUnavailable) from None
        except NameTaken as e:
            self.log.error('not saved: %s', e)
            self._count_failure()
        except DeviceError:
            raise
        except Exception:   # a fault of ours must not end the device's thread
            self.log.exception('%s capture failed', capture_type)
            self._count_failure()
        self._last_stamp = names.stamp(moment)
        saved_names = [path.name for path in paths if not path.name.endswith('.json')]
        with self._lock:
            self._saved += 1
            self._last_capture = moment
            self._last_files = (self._last_files + saved_names)[-LAST_FILES:]
        self.context.storage.refresh(len(paths))
        self.context.storage.clear()       # the disk takes captures again

    def _count_failure(self):
        with self._lock:
            self._failed += 1
        raise Refused(CommandStatus.Failed)

    def deliver(self, saved):
        if saved.capture_type != names.TEST_TYPE:
            self.context.deliver(saved)

    # Status, from any thread.
    def status(self):
        with self._lock:
            darks, slot, period = self._darks, self._next_slot, self._period
            data = link(self.loop)
            data.update({
                'status_label': DeviceStatus.label(data['status']),
                'mode': 'darks' if darks is not None else 'continuous' if self.continuous else 'idle',
                'continuous': self.continuous,
                'next_slot': iso(slot_time(slot * period)) if self.continuous and slot is not None else None,
                'captures_saved': self._saved,
                'slots_missed': self._missed,
                'captures_failed': self._failed,
                'last_capture': iso(self._last_capture),
                'last_files': list(self._last_files),
                'darks': {'done': darks.done, 'total': darks.total} if darks is not None else None,
                'last_darks': dict(self._last_darks) if self._last_darks else None,
            })
        data.update(self.device_status())
        return data

"""Applies the schedule to acquisition, one tick at a time on the station's thread.

Inside the window continuous acquisition is kept running; at the scheduled stop it is
stopped and, when asked for, a dark sequence follows. An operator's `pycam stop` inside the
window holds until the next scheduled start, and an operator's `pycam start` outside it
holds until then too (state `manual` meanwhile). A start that the daemon refuses (a full
disk, a device offline) is tried again every RETRY (logged once while it lasts).
"""
import datetime
import logging
import threading
from typing import Callable, NamedTuple

from rockit.common.status import iso

from . import schedule

RECOMPUTE = datetime.timedelta(minutes=10)   # the sun's events are found again this often
RETRY = datetime.timedelta(seconds=5)


class Acquisition(NamedTuple):
    """What the scheduler may do to the daemon; start/stop/darks raise on failure."""
    start: Callable
    stop: Callable
    darks: Callable
    acquiring: Callable        # () -> any device acquiring continuously
    taking_darks: Callable     # () -> any device in a dark sequence


class Scheduler:
    def __init__(self, settings, acquisition, log, changes):
        self.schedule = schedule.make(settings) if settings else None
        self.darks_after_stop = bool(settings.get('darks_after_stop', True)) if settings else False
        self.acquisition, self.log, self._changes = acquisition, log, changes
        self._lock = threading.Lock()
        self._window = None
        self._computed = None
        self._in_window = None
        self._hold_until = None
        self._next_try = None
        self._state = 'manual'
        self._checked = None      # the last tick: status shows that the schedule is being applied

    def _current(self, now):
        window = self._window
        if window is None or now - self._computed >= RECOMPUTE or any(
                t is not None and now >= t for t in (window.next_start, window.next_stop)):
            window = self.schedule.window(now)
            with self._lock:
                self._window, self._computed = window, now
        return window

    def tick(self, now):
        if self.schedule is None:
            return
        window = self._current(now)
        if self._hold_until is not None and (window.next_start is None or now >= self._hold_until):
            self._hold_until = None
            self.log.info('schedule: the operator\'s hold ends, the schedule runs acquisition again')
        left_window = self._in_window and not window.acquiring
        self._in_window = window.acquiring
        if self._hold_until is not None:
            state = 'manual'
        elif window.acquiring:
            self._keep_acquiring(now)
            state = 'acquiring'
        else:
            if left_window:
                self._end_of_window()
            state = 'darks' if self.acquisition.taking_darks() else 'waiting'
        with self._lock:
            self._state, self._checked = state, now

    def _keep_acquiring(self, now):
        if self.acquisition.acquiring() or (self._next_try is not None and now < self._next_try):
            return
        try:
            self.acquisition.start()
            self._next_try = None
            self._changes('schedule', logging.INFO, 'schedule: continuous acquisition started')
        except Exception as e:
            self._next_try = now + RETRY
            self._changes('schedule', logging.ERROR, f'schedule: cannot start acquisition: {e}')

    def _end_of_window(self):
        self._changes.forget('schedule')
        try:
            self.acquisition.stop()
            self.log.info('schedule: continuous acquisition stopped for the night')
            if self.darks_after_stop:
                self.acquisition.darks()
                self.log.info('schedule: dark sequence started')
        except Exception as e:
            self.log.error('schedule: stopping for the night failed: %s', e)

    # The operator's commands (Pyro threads).
    def operator_stopped(self, now):
        self._operator(now, inside=True, verb='stop')

    def operator_started(self, now):
        self._operator(now, inside=False, verb='start')

    def _operator(self, now, inside, verb):
        if self.schedule is None:
            return
        window = self._current(now)
        if window.acquiring == inside and window.next_start is not None:
            self._hold_until = window.next_start
            with self._lock:
                self._state = 'manual'
            self.log.info('schedule: the operator\'s %s holds until the next scheduled start at %s',
                          verb, iso(window.next_start))

    def status(self):
        with self._lock:
            window = self._window
            return {'state': self._state,
                    'next_start': iso(window.next_start) if window else None,
                    'next_stop': iso(window.next_stop) if window else None,
                    'checked': iso(self._checked)}

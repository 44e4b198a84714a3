"""Watching another daemon: one thread asks it the same question on an interval and keeps
the last usable answer, when it came, and why the latest question gave nothing usable.

Each question has a bounded Pyro timeout and runs on the watcher's own thread, so a dead or
slow daemon delays nobody: not a device's serial thread, not a Pyro client reading a
snapshot. A failure is logged once per outage, and its end once.
"""
import logging
import threading
import time
from typing import Any, NamedTuple, Optional

from . import pyro


class Unusable(Exception):
    """The daemon answered, but with nothing usable; the message says why."""


class Observation(NamedTuple):
    value: Any = None            # the last usable answer, kept through an outage
    at: Optional[float] = None   # time.time() of that answer; None before the first
    error: Optional[str] = 'not asked yet'   # why the latest question failed; None if it did not

    @property
    def current(self):
        """The value if the latest question gave it, else None."""
        return self.value if self.error is None else None


class Watcher:
    """Asks ask(proxy) of the daemon at address every interval seconds on its own thread.

    ask returns the value to keep, or raises Unusable; any other exception means the
    daemon did not answer. idle(), when given, returns a reason while the daemon is not
    expected to answer (its machine is off): it is then not asked, and that silence is no
    outage. on_update(observation) is called after every question, on the watcher's thread.
    """

    def __init__(self, address, ask, *, label, interval, timeout, log, idle=None, on_update=None):
        self.address, self.label = address, label
        self._ask, self._idle, self._on_update = ask, idle, on_update
        self.interval, self.timeout, self._log = interval, timeout, log
        self.latest = Observation()   # replaced whole, so a reader never sees half of one
        self._failing = None          # None before the first answer, then True/False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f'watch-{address.name}', daemon=True)

    def start(self):
        self._thread.start()

    def poke(self):
        """Ask now rather than at the next tick."""
        self._wake.set()

    def stop(self):
        """Ask the thread to end; join() waits for it (at most one question's timeout)."""
        self._stopping.set()
        self._wake.set()

    def join(self):
        if self._thread.is_alive():
            self._thread.join(self.timeout + 1)

    def _run(self):
        while not self._stopping.is_set():
            self._wake.clear()
            self.observe()
            self._wake.wait(self.interval)

    def observe(self):
        """Ask once (on the calling thread) and keep the result; returns the Observation."""
        reason = self._idle() if self._idle else None
        if reason:
            if self.latest.error != reason:
                self._log.debug('%s: %s', self.label, reason)
            self._failing = None          # the next answer, or silence, is news again
            observation = self.latest._replace(error=reason)
        else:
            observation = self._question()
        self.latest = observation
        if self._on_update:
            self._on_update(observation)
        return observation

    def _question(self):
        try:
            with pyro.connect(self.address, self.timeout) as proxy:
                value = self._ask(proxy)
        except Unusable as e:
            return self._failed(str(e))
        except Exception as e:  # anything another daemon can raise means it did not answer
            return self._failed(f'{self.address.name} did not answer: {e or type(e).__name__}')
        if self._failing is not False:
            self._log.info('%s usable%s', self.label, ' again' if self._failing else '')
            self._failing = False
        return Observation(value, time.time(), None)

    def _failed(self, reason):
        if not self._failing:
            self._log.warning('%s unusable: %s', self.label, reason)
            self._failing = True
        return self.latest._replace(error=reason)


def start_all(watchers):
    for watcher in watchers:
        watcher.start()


def stop_all(watchers):
    """Stop every watcher, then wait for them together (at most one question's timeout)."""
    for watcher in watchers:
        watcher.stop()
    for watcher in watchers:
        watcher.join()

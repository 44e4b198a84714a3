"""The one thread that owns a device.

It connects, polls at the device's own pace, runs the commands queued by Pyro worker
threads, and reconnects as ReconnectPolicy says when the device is lost, until an operator
disconnects it on purpose. Pyro threads never touch the device: they read
the snapshot the device publishes, or submit a command and wait on its future.

The loop is the mechanism, the device is the story: a daemon has one DeviceLoop per
device thread and hands it an object with the hooks below (open_device, close_device,
poll, poll_interval, make_safe, went_offline). Failures travel as exceptions (errors.py)
from the device thread to the @command boundary, which answers them with status codes.
"""
import logging
import queue
import threading
import time
from concurrent import futures
from concurrent.futures import Future

from .errors import DeviceError, NotConnected, NotDisconnected
from .log import ChangeLog
from .reconnect import ReconnectPolicy


class DeviceLoop:
    """Runs a device's hooks on one thread:
    open_device(): open the link and read the first state; raise DeviceError on failure.
    close_device(): close the link; must not raise.
    poll(): refresh the published state from the device; raise DeviceError on failure.
    poll_interval(): seconds until the next poll (shorter while something moves).
    make_safe(): optional, called before a connected device is released (e.g. stop a move).
    went_offline(): optional, clear the published state that is no longer true."""
    BACKOFF_MIN = 1.0   # s between reconnection attempts: the first after a failure...
    BACKOFF_MAX = 5.0   # ...and the longest, which bounds how long a device that is back waits
    command_timeout = 30.0   # s a Pyro command waits for the device thread

    def __init__(self, device, log, name=None):
        self.device = device
        self.log = log
        self._changes = ChangeLog(log)   # one 'offline' line per outage, however often retries fail
        self.connected = False
        self.wanted = True          # False after an operator's shutdown(): no reconnecting
        self.offline_reason = 'not connected yet'
        self._commands = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or type(device).__name__, daemon=True)
        self._reconnect = ReconnectPolicy(self.BACKOFF_MIN, self.BACKOFF_MAX)
        self._retry_at = 0.0

    # Used by any thread.
    def start(self):
        self._thread.start()

    def stop(self, timeout=5.0):
        """Make the device safe, close it and end the loop (the daemon is exiting)."""
        if self._thread.is_alive():
            try:
                self.call(self._stop_on_loop, offline_ok=True, timeout=timeout)
            except Exception:
                pass
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout)

    def submit(self, fn, *args, offline_ok=False):
        """Queue fn(*args) for the loop's thread; a Future of its result.

        The future fails with NotConnected at once when offline (unless offline_ok), and
        with DeviceError when the device failed during fn (the loop has then gone offline).
        """
        future = Future()
        if not offline_ok and not self.connected:
            # Not queued: the loop may be busy for a whole serial timeout in a reconnection
            # attempt, and a command during an outage must fail fast.
            future.set_exception(NotConnected(self.offline_reason))
            return future
        self._commands.put((fn, args, offline_ok, future))
        self._wake.set()
        return future

    def call(self, fn, *args, offline_ok=False, timeout=None):
        """fn(*args) run on the loop's thread: its result, or its exception; TimeoutError
        after timeout (command_timeout unless given)."""
        return self.wait(self.submit(fn, *args, offline_ok=offline_ok), timeout)

    def wait(self, future, timeout=None):
        """A submitted future's result, waiting at most timeout (command_timeout unless given)."""
        timeout = self.command_timeout if timeout is None else timeout
        try:
            return future.result(timeout)
        except futures.TimeoutError:   # not the built-in TimeoutError before Python 3.11
            future.cancel()
            raise TimeoutError(f'no answer within {timeout:g} s') from None

    def wake(self):
        """Run the next cycle now (something changed that the loop should act on)."""
        self._wake.set()

    def connect(self):
        """Connect now, also resuming reconnection after a disconnect. The future fails with
        NotDisconnected when connected already, DeviceError when connecting failed."""
        return self.submit(self._connect, offline_ok=True)

    def disconnect(self):
        """Make the device safe, disconnect and stay so. The future fails with NotConnected
        when it was disconnected already."""
        return self.submit(self._disconnect, offline_ok=True)

    def restart(self):
        """Release a connected device as a disconnect does, then connect it again."""
        return self.submit(self._restart, offline_ok=True)

    # Loop thread: the operator's connect and disconnect.
    def _connect(self):
        self.wanted = True
        if self.connected:
            raise NotDisconnected()
        self._try_connect()
        if not self.connected:
            raise DeviceError(self.offline_reason)

    def _disconnect(self):
        if not (self.connected or self.wanted):
            raise NotConnected('disconnected already')
        self.wanted = False
        self._release()
        self._changes.forget('link')
        self._set_offline('disconnected by operator', logging.INFO)

    def _restart(self):
        if self.connected:
            self._disconnect()
        self._connect()

    # The loop itself.
    def _run(self):
        next_poll = 0.0
        while not self._stopping.is_set():
            try:
                next_poll = self._cycle(next_poll)
            except Exception as e:  # a bug must not kill the one thread that owns the device
                self.log.exception('device loop failed')
                if self.connected:
                    self._lost(DeviceError(f'internal error: {e!r}'))
                self._wake.wait(self.BACKOFF_MIN)

    def _cycle(self, next_poll):
        """Connect if due, run queued commands, poll if due, then sleep until the next
        thing is due or a command arrives; returns when the next poll is due."""
        self._wake.clear()
        if self.wanted and not self.connected and time.monotonic() >= self._retry_at:
            self._try_connect()
            next_poll = time.monotonic() + self.device.poll_interval()

        if self._run_commands():
            # A command may have started something (a move) that wants faster polling.
            next_poll = min(next_poll, time.monotonic() + self.device.poll_interval())

        if self.connected and time.monotonic() >= next_poll:
            try:
                self.device.poll()
                self._reconnect.good_poll()
            except DeviceError as e:
                self._lost(e)
            next_poll = time.monotonic() + self.device.poll_interval()

        if self.connected:
            deadline = next_poll
        else:
            deadline = self._retry_at if self.wanted else None
        self._wake.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return next_poll

    def _run_commands(self):
        """Run every queued command; True if any ran while connected."""
        ran = False
        while True:
            try:
                fn, args, offline_ok, future = self._commands.get_nowait()
            except queue.Empty:
                return ran and self.connected
            if not future.set_running_or_notify_cancel():
                continue
            if not self.connected and not offline_ok:
                future.set_exception(NotConnected(self.offline_reason))
                continue
            ran = True
            try:
                future.set_result(fn(*args))
            except DeviceError as e:
                self._lost(e)
                future.set_exception(e)
            except Exception as e:
                future.set_exception(e)

    def _try_connect(self):
        try:
            self.device.open_device()
            self.connected = True
            self.offline_reason = None
            self._changes.forget('link')
            self.log.info('device online')
        except Exception as e:
            if not isinstance(e, DeviceError):
                self.log.exception('connecting failed')
            self.device.close_device()
            self._set_offline(str(e) if isinstance(e, DeviceError) else f'internal error: {e!r}', logging.ERROR)
            self._schedule_retry()

    def _lost(self, error):
        self.device.close_device()
        self.connected = False
        self._set_offline(str(error), logging.ERROR)
        self._schedule_retry()

    def _schedule_retry(self):
        self._retry_at = time.monotonic() + self._reconnect.failed()

    def _set_offline(self, reason, level):
        self.offline_reason = reason
        self._changes('link', level, f'device offline: {reason}', state='offline')
        went_offline = getattr(self.device, 'went_offline', None)
        if went_offline:
            went_offline()

    def _stop_on_loop(self):
        self.wanted = False   # the daemon is exiting: the loop must not reconnect before it ends
        self._release()

    def _release(self):
        """Leave a connected device safe and closed."""
        if self.connected:
            try:
                getattr(self.device, 'make_safe', lambda: None)()
            except DeviceError as e:
                self.log.error('could not make the device safe: %s', e)
            self.device.close_device()
            self.connected = False

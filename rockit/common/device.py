"""The one thread that owns a device.

It connects, polls at the device's own pace, runs the commands queued by Pyro worker
threads, and reconnects as ReconnectPolicy says when the device is lost, until an operator
disconnects it on purpose. Pyro threads never touch the device: they read
the snapshot the loop publishes, or queue a command with call() and wait for its result.
"""
import logging
import queue
import threading
import time
from concurrent.futures import Future

from .errors import DeviceError
from .reconnect import ReconnectPolicy


class NotConnected(Exception):
    """A command arrived while the device is offline."""


class DeviceLoop:
    """Subclasses implement the hooks below and set `codes`, their CommandStatus class with
    NotConnected and NotDisconnected codes, for the Pyro-facing helpers at the end."""
    BACKOFF_MIN = 1.0   # s between reconnection attempts: the first after a failure...
    BACKOFF_MAX = 5.0   # ...and the longest, which bounds how long a device that is back waits
    command_timeout = 30.0   # s a Pyro command waits for the device thread

    def __init__(self, log):
        self.log = log
        self._offline_logged = False  # one log line per outage, however often retries fail
        self.connected = False
        self.wanted = True          # False after an operator's shutdown(): no reconnecting
        self.offline_reason = 'not connected yet'
        self._commands = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._reconnect = ReconnectPolicy(self.BACKOFF_MIN, self.BACKOFF_MAX)
        self._retry_at = 0.0

    # Hooks for the device, all run on the loop's thread.
    def open_device(self):
        """Open the link and read the first state; raise DeviceError on failure."""
        raise NotImplementedError

    def close_device(self):
        """Close the link; must not raise."""
        raise NotImplementedError

    def poll(self):
        """Refresh the published state from the device; raise DeviceError on failure."""
        raise NotImplementedError

    def poll_interval(self):
        """Seconds until the next poll (shorter while something moves)."""
        raise NotImplementedError

    def make_safe(self):
        """Called once before the daemon exits while connected (e.g. stop a move)."""

    # Used by Pyro threads.
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

    def call(self, fn, *args, offline_ok=False, timeout=None):
        """Run fn(*args) on the loop's thread and return its result.

        Raises NotConnected at once when offline (unless offline_ok), DeviceError when the
        device failed during fn (the loop has then gone offline), TimeoutError after timeout.
        """
        if not offline_ok and not self.connected:
            # Not queued: the loop may be busy for a whole serial timeout in a reconnection
            # attempt, and a command during an outage must fail fast.
            raise NotConnected(self.offline_reason)
        future = Future()
        self._commands.put((fn, args, offline_ok, future))
        self._wake.set()
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def connect_now(self):
        """Loop thread: connect at once. True if it connected now, False if it already was."""
        self.wanted = True
        if self.connected:
            return False
        self._try_connect()
        if not self.connected:
            raise DeviceError(self.offline_reason)
        return True

    def disconnect_now(self):
        """Loop thread: make the device safe, disconnect and stay so. False if it already
        was disconnected."""
        was_active = self.connected or self.wanted
        self.wanted = False
        self._release()
        self._offline_logged = False
        self._set_offline('disconnected by operator', logging.INFO)
        return was_active

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
            next_poll = time.monotonic() + self.poll_interval()

        if self._run_commands():
            # A command may have started something (a move) that wants faster polling.
            next_poll = min(next_poll, time.monotonic() + self.poll_interval())

        if self.connected and time.monotonic() >= next_poll:
            try:
                self.poll()
                self._reconnect.good_poll()
            except DeviceError as e:
                self._lost(e)
            next_poll = time.monotonic() + self.poll_interval()

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
            self.open_device()
            self.connected = True
            self.offline_reason = None
            self._offline_logged = False
            self.log.info('device online')
        except Exception as e:
            if not isinstance(e, DeviceError):
                self.log.exception('connecting failed')
            self.close_device()
            self._set_offline(str(e) if isinstance(e, DeviceError) else f'internal error: {e!r}', logging.ERROR)
            self._schedule_retry()

    def _lost(self, error):
        self.close_device()
        self.connected = False
        self._set_offline(str(error), logging.ERROR)
        self._schedule_retry()

    def _schedule_retry(self):
        self._retry_at = time.monotonic() + self._reconnect.failed()

    def _set_offline(self, reason, level):
        self.offline_reason = reason
        if not self._offline_logged:
            self._offline_logged = True
            self.log.log(level, 'device offline: %s', reason)
        self.went_offline()

    def went_offline(self):
        """Hook: clear the published state that is no longer true."""

    def _stop_on_loop(self):
        self.wanted = False   # the daemon is exiting: the loop must not reconnect before it ends
        self._release()

    def _release(self):
        """Leave a connected device safe and closed."""
        if self.connected:
            try:
                self.make_safe()
            except DeviceError as e:
                self.log.error('could not make the device safe: %s', e)
            self.close_device()
            self.connected = False

    # For Pyro commands: the device thread's answer as a status code.
    def on_device(self, fn, *args, offline_ok=False, timeout=None, codes=None):
        """fn's result from the device thread; codes.NotConnected when offline, codes.Failed
        (logged) when the device failed or did not answer in time."""
        codes = codes or self.codes
        try:
            return self.call(fn, *args, offline_ok=offline_ok, timeout=timeout or self.command_timeout)
        except NotConnected:
            return codes.NotConnected
        except (DeviceError, TimeoutError) as e:
            self.log.error('%s failed: %s', getattr(fn, '__name__', 'command').strip('_'), e or 'no answer in time')
            return codes.Failed

    def initialize_command(self):
        """initialize(): connect now, also resuming reconnection after a shutdown."""
        result = self.on_device(self.connect_now, offline_ok=True)
        if result is True:
            return self.codes.Succeeded
        return self.codes.NotDisconnected if result is False else result

    def shutdown_command(self):
        """shutdown(): make the device safe, disconnect and stay disconnected until initialize."""
        result = self.on_device(self.disconnect_now, offline_ok=True)
        if result is True:
            return self.codes.Succeeded
        return self.codes.NotConnected if result is False else result

"""The device loop survives its own device's bugs and keeps the one-thread promise."""
import logging
import threading
from types import SimpleNamespace

import pytest

from support import wait_until
from rockit.common.daemon import Daemon, OneCommand
from rockit.common.device import DeviceLoop
from rockit.common.errors import Blocked, DeviceError, NotConnected, NotDisconnected


class QuickLoop(DeviceLoop):
    BACKOFF_MIN = 0.05
    BACKOFF_MAX = 0.2


class Flaky:
    """A device whose poll raises what it is told to, once."""

    def __init__(self):
        self.raise_next = None
        self.interval_error = None
        self.opened = 0
        self.threads = set()

    def open_device(self):
        self.threads.add(threading.get_ident())
        self.opened += 1

    def close_device(self):
        pass

    def poll(self):
        self.threads.add(threading.get_ident())
        error, self.raise_next = self.raise_next, None
        if error:
            raise error

    def poll_interval(self):
        if self.interval_error:
            error, self.interval_error = self.interval_error, None
            raise error
        return 0.02


@pytest.fixture
def device():
    flaky = Flaky()
    flaky.loop = QuickLoop(flaky, logging.getLogger('rockit-test-flaky'))
    flaky.loop.start()
    wait_until(lambda: flaky.loop.connected, message='connected')
    yield flaky
    flaky.loop.stop()


@pytest.mark.parametrize('error', [DeviceError('garbage'), KeyError('bug')])
def test_a_failing_poll_goes_offline_then_reconnects(device, error):
    device.raise_next = error
    wait_until(lambda: device.opened >= 2 and device.loop.connected, message='reconnected')
    assert device.loop._thread.is_alive()


def test_commands_run_on_the_loop_thread_and_fail_fast_offline(device):
    loop = device.loop
    assert loop.call(threading.get_ident) == loop._thread.ident
    assert device.threads == {loop._thread.ident}
    assert loop.wait(loop.disconnect()) is None
    with pytest.raises(NotConnected):
        loop.wait(loop.disconnect())
    with pytest.raises(NotConnected):
        loop.call(lambda: None, timeout=1)
    assert loop.wait(loop.connect()) is None
    with pytest.raises(NotDisconnected):
        loop.wait(loop.connect())


def test_a_command_that_times_out_raises_timeout_error_and_never_runs(device):
    """On every Python: future.result() raises concurrent.futures.TimeoutError, which is the
    built-in TimeoutError only from 3.11 on."""
    release, ran = threading.Event(), []
    busy = device.loop.submit(release.wait, 30)
    with pytest.raises(TimeoutError, match='no answer within'):
        device.loop.call(ran.append, 'late', timeout=0.01)
    release.set()
    assert device.loop.wait(busy) is True
    assert device.loop.call(ran.append, 'next') is None
    assert ran == ['next']                       # the timed-out command was cancelled, not run late


def test_restart_releases_the_device_and_opens_it_again(device):
    opened = device.opened
    assert device.loop.wait(device.loop.restart()) is None
    assert device.opened == opened + 1 and device.loop.connected


def test_submit_returns_a_future_without_starting_a_thread(device):
    threads = threading.active_count()
    futures = [device.loop.submit(threading.get_ident) for _ in range(20)]
    assert threading.active_count() == threads
    assert {device.loop.wait(f) for f in futures} == {device.loop._thread.ident}


def test_a_bug_anywhere_in_the_cycle_does_not_end_the_loop(device):
    device.interval_error = ZeroDivisionError('bug')
    wait_until(lambda: device.interval_error is None, message='the bug hit')
    wait_until(lambda: device.loop.connected and device.opened >= 2, message='reconnected after the bug')
    assert device.loop._thread.is_alive()
    assert device.loop.call(lambda: 'alive', timeout=5) == 'alive'


class TwoDevices(Daemon):
    def __init__(self):
        self.devices = [Flaky(), Flaky()]
        for device in self.devices:
            device.loop = QuickLoop(device, logging.getLogger('rockit-test-two'))
        super().__init__(SimpleNamespace(control_ips=set()), logging.getLogger('rockit-test-two'),
                         [device.loop for device in self.devices])


@pytest.fixture
def two_devices():
    daemon = TwoDevices()
    daemon.start()
    wait_until(lambda: all(loop.connected for loop in daemon.loops), message='both connected')
    yield daemon
    daemon.stop()


def test_several_loops_connect_and_disconnect_together(two_devices):
    first, second = two_devices.loops
    with pytest.raises(NotDisconnected):
        two_devices.connect_all()                  # every one was connected already
    first.wait(first.disconnect())
    two_devices.connect_all()                      # one connected now: done
    assert first.connected and second.connected
    two_devices.disconnect_all()
    assert not first.connected and not second.connected
    with pytest.raises(NotConnected):
        two_devices.disconnect_all()


def test_one_command_at_a_time_refuses_another_naming_the_one_that_runs():
    guard = OneCommand(logging.getLogger('rockit-test-one'))
    with guard.run('initialize'):
        assert guard.running == 'initialize'
        with pytest.raises(Blocked, match='initialize is running'):
            with guard.run('shutdown'):
                pass
    assert guard.running is None
    with guard.run('shutdown'):
        assert guard.running == 'shutdown'

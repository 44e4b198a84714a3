"""The device loop survives its own device's bugs and keeps the one-thread promise."""
import logging
import threading

import pytest

from conftest import wait_until
from rockit.common.device import DeviceLoop, NotConnected
from rockit.common.errors import DeviceError


class Flaky(DeviceLoop):
    """A device whose poll raises what it is told to, once."""
    BACKOFF_MIN = 0.05
    BACKOFF_MAX = 0.2

    def __init__(self):
        super().__init__(logging.getLogger('rockit-test-flaky'))
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
    loop = Flaky()
    loop.start()
    wait_until(lambda: loop.connected, message='connected')
    yield loop
    loop.stop()


@pytest.mark.parametrize('error', [DeviceError('garbage'), KeyError('bug')])
def test_a_failing_poll_goes_offline_then_reconnects(device, error):
    device.raise_next = error
    wait_until(lambda: device.opened >= 2 and device.connected, message='reconnected')
    assert device._thread.is_alive()


def test_commands_run_on_the_loop_thread_and_fail_fast_offline(device):
    assert device.call(threading.get_ident) == device._thread.ident
    assert device.threads == {device._thread.ident}
    assert device.call(device.disconnect_now, offline_ok=True) is True
    with pytest.raises(NotConnected):
        device.call(lambda: None, timeout=1)
    assert device.call(device.connect_now, offline_ok=True) is True
    assert device.call(device.connect_now, offline_ok=True) is False


def test_a_bug_anywhere_in_the_cycle_does_not_end_the_loop(device):
    device.interval_error = ZeroDivisionError('bug')
    wait_until(lambda: device.interval_error is None, message='the bug hit')
    wait_until(lambda: device.connected and device.opened >= 2, message='reconnected after the bug')
    assert device._thread.is_alive()
    assert device.call(lambda: 'alive', timeout=5) == 'alive'

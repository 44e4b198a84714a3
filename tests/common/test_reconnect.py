"""Reconnection: a device that comes back is found again soon, however its outages came,
and a device that fails between good polls cannot make the loop spin.

The loop here talks over a real serial link (pyserial on socket://) to an emulated line
device. Its waits are scaled down tenfold (0.1 s to 0.5 s), so a dozen replug cycles of a
loose cable take seconds. That the waits stop growing at the longest is the policy's own
test; here RECOVERY is only a ceiling for a busy machine.
"""
import logging
import random
import threading
import time

import pytest

from support import wait_until
from rockit.common.device import DeviceLoop
from rockit.common.emulator import EmulatorLink
from rockit.common.errors import DeviceError
from rockit.common.reconnect import ReconnectPolicy
from rockit.common.serial_link import SerialLink

RECOVERY = 30    # s: a ceiling for a busy machine; the longest wait is 0.5 s


class LineModel:
    """Answers PING always; with fail_every_other, only every second CMD."""
    request_terminator = reply_terminator = b'\n'

    def __init__(self):
        self.fail_every_other = False
        self.commands = 0

    def respond(self, request):
        if request == b'PING':
            return b'PONG\n'
        self.commands += 1
        if self.fail_every_other and self.commands % 2 == 0:
            return None
        return b'DONE\n'


class ScaledLoop(DeviceLoop):
    BACKOFF_MIN = 0.1
    BACKOFF_MAX = 0.5


class LineDevice:
    def __init__(self, url):
        self.link = SerialLink(url, 9600, 0.3)
        self.opened = []   # monotonic times of each successful open
        self.loop = ScaledLoop(self, logging.getLogger('rockit-test-line'))

    def open_device(self):
        self.link.open()
        self.link.request(b'PING\n', b'\n')
        self.opened.append(time.monotonic())

    def close_device(self):
        self.link.close()

    def poll(self):
        self.link.request(b'PING\n', b'\n')

    def poll_interval(self):
        return 0.02

    def command(self):
        return self.link.request(b'CMD\n', b'\n')


@pytest.fixture
def line():
    model = LineModel()
    link = EmulatorLink(model).start()
    device = LineDevice(link.url)
    device.loop.start()
    wait_until(lambda: device.loop.connected, message='connected')
    yield model, link, device.loop
    device.loop.stop()
    link.stop()


def test_waits_double_to_the_longest_and_only_a_good_poll_starts_them_over():
    policy = ReconnectPolicy(1.0, 5.0)
    assert [policy.failed() for _ in range(6)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    policy.good_poll()
    assert [policy.failed() for _ in range(3)] == [1.0, 2.0, 4.0]


@pytest.mark.slow
def test_back_online_soon_after_every_replug_of_a_flapping_cable(line):
    model, link, device = line
    rng = random.Random(13)
    for cycle in range(12):
        link.unplug()
        wait_until(lambda: not device.connected, message='offline')
        # Long outages now and then drive the waits to their longest.
        time.sleep(rng.choice([rng.uniform(0.05, 0.5), rng.uniform(0.8, 1.2)]))
        link.replug()
        wait_until(lambda: device.connected, timeout=RECOVERY, message=f'online after replug {cycle}')
        time.sleep(rng.uniform(0.1, 0.4))   # connected a little while, polled or not
    assert device.call(device.device.command, timeout=5) == b'DONE'


def test_a_device_failing_every_other_command_cannot_make_the_loop_spin(line):
    model, link, device = line
    model.fail_every_other = True
    answered, stop = [], threading.Event()

    def commanding():
        while not stop.is_set():
            try:
                answered.append(device.call(device.device.command, timeout=5))
            except Exception as e:   # NotConnected or the DeviceError of a lost reply
                answered.append(e)

    client = threading.Thread(target=commanding)
    client.start()
    window = 3.0
    time.sleep(window)
    stop.set()
    client.join(10)
    opens = [t for t in device.device.opened if t > device.device.opened[0]]
    # Every reconnection waits at least the shortest wait, good polls or not.
    assert len(opens) <= window / ScaledLoop.BACKOFF_MIN + 1, len(opens)
    assert any(isinstance(a, DeviceError) for a in answered) and b'DONE' in answered
    gaps = [b - a for a, b in zip(device.device.opened, device.device.opened[1:])]
    assert min(gaps) >= ScaledLoop.BACKOFF_MIN, gaps
    model.fail_every_other = False
    wait_until(lambda: device.connected, timeout=RECOVERY, message='online once the device is well')

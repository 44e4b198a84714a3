"""Reconnection: a device that comes back is found again soon, however its outages came,
and a device that fails between good polls cannot make the loop spin.

The loop here talks over a real serial link (pyserial on socket://) to an emulated line
device. Its waits are scaled down tenfold (0.1 s to 0.5 s), so a dozen replug cycles of a
loose cable take seconds. That the waits stop growing at the longest is the policy's own
test; here RECOVERY is only a ceiling for a busy machine.
"""
import random
import threading
import time

import pytest

from line_device import LineDevice, LineModel, ScaledLoop
from support import wait_until
from rockit.common.emulator import EmulatorLink
from rockit.common.errors import DeviceError
from rockit.common.reconnect import ReconnectPolicy

RECOVERY = 30    # s: a ceiling for a busy machine; the longest wait is 0.5 s


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

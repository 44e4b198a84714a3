"""A misbehaving serial device, for every serial daemon: one that answers only every other
command, replies just inside and just outside serial_timeout, and a cable pulled while a
command waits for its reply. The daemon stays up, reports OFFLINE with the reason, refuses
commands at once with its NotConnected code, and comes back by itself.

A refused command takes milliseconds; one queued behind the device thread's reconnection
attempt would wait serial_timeout. The tests that tell the two apart give serial_timeout
SLOW_DEVICE seconds and allow a refusal FAIL_FAST, generous for a busy machine; a status
call must be answered while a command still waits on the device.
"""
import threading

import pytest

from support import wait_until
from reliability_harness import SERIAL, alive, timed

FAIL_FAST = 3.0          # s: a command during an outage is refused within this, well before
SLOW_DEVICE = 6.0        # s: the serial_timeout a reconnection attempt waits for
RECOVERY = 30            # s: back online after the fault clears (the longest retry wait, 5 s, included)

pytestmark = pytest.mark.parametrize('spec', SERIAL, ids=str)


def command_is_refused_at_once(device):
    method, args = device.spec.device_command
    sent = len(device.commands_sent())
    code, seconds = timed(device.call, method, *args)
    assert code == device.spec.codes.NotConnected, device.spec.codes.message(code)
    assert seconds < FAIL_FAST, seconds
    assert len(device.commands_sent()) == sent


def test_a_device_answering_every_other_command_is_offline_until_it_is_well(device):
    device.link.every_other = True
    status = device.wait_offline()
    assert 'no reply' in status['offline_reason'], status
    command_is_refused_at_once(device)
    # No reconnection can succeed: it stays OFFLINE, and the outage is logged once.
    attempts = len(device.link.requests)
    wait_until(lambda: len(device.link.requests) > attempts + 2, timeout=RECOVERY, message='reconnection attempts')
    assert device.status()['status'] == 0
    device.link.every_other = False
    device.wait_online(RECOVERY)
    assert alive(device) and device.log().count('device offline') == 1, device.log()
    method, args = device.spec.device_command
    assert device.call(method, *args) == 0


def test_replies_just_inside_serial_timeout_keep_it_online(request, spec):
    # Replies three times slower than the 0.5 s the other tests configure, inside
    # serial_timeout with as much to spare; status calls meanwhile are answered while the
    # command still waits (a command may queue behind a poll of several requests).
    device = spec.start(request, serial_timeout=3.0)
    device.link.delay = 1.5
    method, args = spec.device_command
    result, thread = [], threading.Thread(target=lambda: result.append(device.call(method, *args)))
    thread.start()
    samples = []
    while thread.is_alive():
        status = device.status()
        samples.append((status['status'], thread.is_alive()))
    thread.join()
    assert result == [0]
    assert all(online for online, _ in samples), samples
    assert any(waiting for _, waiting in samples), 'no status was answered while the command waited on the device'
    assert 'device offline' not in device.log()


def test_replies_just_outside_serial_timeout_take_it_offline_and_commands_fail_fast(request, spec):
    # A long serial_timeout: a command queued behind a reconnection attempt would wait it.
    device = spec.start(request, serial_timeout=SLOW_DEVICE)
    device.link.delay = SLOW_DEVICE + 0.1
    status = device.wait_offline(timeout=RECOVERY)
    assert f'within {SLOW_DEVICE} s' in status['offline_reason'], status
    # Catch the device thread in a reconnection attempt, waiting on the slow device.
    attempts = len(device.link.requests)
    wait_until(lambda: len(device.link.requests) > attempts, message='a reconnection attempt')
    command_is_refused_at_once(device)
    _, seconds = timed(device.status)
    assert seconds < FAIL_FAST, 'status waited on the reconnection attempt'
    device.link.delay = 0
    device.wait_online(RECOVERY)
    assert alive(device) and device.log().count('device offline') == 1, device.log()


def test_unplug_while_a_command_waits_for_its_reply_then_replug(device):
    device.link.delay = 0.3
    method, args = device.spec.device_command
    sent = len(device.commands_sent())
    result = []
    thread = threading.Thread(target=lambda: result.append(timed(device.call, method, *args)))
    thread.start()
    wait_until(lambda: len(device.commands_sent()) > sent, message='the command on the line')
    device.link.unplug()
    thread.join(10)
    code, seconds = result[0]
    assert code == device.spec.codes.Failed and seconds < 0.3 + FAIL_FAST
    status = device.wait_offline()
    assert status['offline_reason']
    command_is_refused_at_once(device)
    device.link.delay = 0
    device.link.replug()
    device.wait_online(RECOVERY)
    assert alive(device) and device.log().count('device offline') == 1, device.log()
    assert device.call(method, *args) == 0

"""The daemon process itself: SIGTERM while a command runs, and kill -9 followed by a
restart on the same port at once. focusd's own tests cover both for the focuser (a move is
stopped); every other daemon is checked here.

Stopping must exit 0, send nothing more to the device than the command already on its
way, and leave the device as the daemon promises (the chiller keeps running: cameras
still need cooling; camvirtd leaves the VMs as they are). Restarting must answer at once:
the port is free again the moment the old process is gone.
"""
import signal
import threading
import time

import pytest

from support import wait_until
from reliability_harness import DAEMONS
from rockit.common import pyro

PROCESS = [spec for spec in DAEMONS if spec.name != 'focusd']
STOP_WITHIN = 10.0      # s from SIGTERM to exit, the command on the line included
ANSWER_WITHIN = 60.0    # s from kill -9 to the restarted daemon answering (a busy machine imports slowly)

pytestmark = pytest.mark.parametrize('spec', PROCESS, ids=str)


def call_ignoring_disconnection(device, method, args, results):
    try:
        results.append(device.call(method, *args))
    except pyro.CommunicationErrors as e:   # the daemon went away mid-call: what a client sees
        results.append(e)


def test_sigterm_while_a_command_runs_exits_0_and_leaves_the_device_as_promised(device):
    method, args, under_way = device.spec.slow_command(device)
    results = []
    caller = threading.Thread(target=call_ignoring_disconnection, args=(device, method, args, results))
    caller.start()
    wait_until(under_way, message=f'{method} under way')
    sent = len(device.commands_sent())
    started = time.monotonic()
    assert device.process.stop(signal.SIGTERM, timeout=STOP_WITHIN) == 0
    assert time.monotonic() - started < STOP_WITHIN
    caller.join(10)
    assert not caller.is_alive() and len(results) == 1   # the caller got an answer or a closed connection
    assert len(device.commands_sent()) == sent
    if device.spec.left_as_promised:
        assert device.spec.left_as_promised(device)
    log = device.log()
    assert 'stopped PYRO:' in log and 'Traceback' not in log, log


def test_restart_on_the_same_port_right_after_kill_9(device):
    started = time.monotonic()
    device.process.stop(signal.SIGKILL)
    device.process.start()   # waits until it answers, and fails at once if it exits
    assert time.monotonic() - started < ANSWER_WITHIN
    device.wait_online()
    method, args = device.spec.device_command
    assert device.call(method, *args) == 0

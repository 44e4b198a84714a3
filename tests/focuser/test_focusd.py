"""focusd end to end: emulated controller -> real focusd process -> Pyro proxy."""
import json
import re
import signal
import subprocess
import sys
import time

import pytest

from support import ROOT, connections_from, wait_until
from focuser_harness import MIRROR, in_background
from rockit.common import pyro
from rockit.focuser.multichannel import protocol
from rockit.focuser.multichannel.codes import CommandStatus


def test_status_has_the_keys_dashboards_poll(focuser):
    status = focuser.status()
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', status['date'])
    assert status['status'] == 1 and status['fans_enabled'] is False
    for channel in (1, 2):
        assert status[f'target_steps_{channel}'] == 0
        assert status[f'current_steps_{channel}'] == 0
        assert status[f'moving_{channel}'] is False
    # -1.5 C reads as 4094.5 C through the firmware bug: invalid, so None.
    assert status['temperature'] == {'mirror': 12.5, 'tube': None}
    assert status['temperature_problems'] == {'tube': 'below 0 C, which the firmware misprints'}
    assert focuser.call('temperature_labels') == {'mirror': 'Primary Mirror', 'tube': 'Tube'}


def test_set_focus_returns_when_the_controller_reaches_the_target(focuser):
    assert focuser.call('set_focus', 1, 1500) == CommandStatus.Succeeded
    assert focuser.model.position(1) == 1500
    status = focuser.status()
    assert (status['current_steps_1'], status['moving_1'], status['current_steps_2']) == (1500, False, 0)
    assert focuser.call('set_focus', 1, -200, True) == CommandStatus.Succeeded
    assert focuser.model.position(1) == 1300
    assert focuser.call('set_focus', 2, -3000, False) == CommandStatus.Succeeded


def test_stop_mid_move_leaves_the_channel_where_it_stopped(make_focuser):
    focuser = make_focuser(speed=400)
    result, thread = in_background(focuser.call, 'set_focus', 1, 5000)
    wait_until(lambda: focuser.model.position(1) > 100, message='move under way')
    assert focuser.call('stop_channel', 1) == CommandStatus.Succeeded
    thread.join(10)
    assert result == [CommandStatus.Failed]          # it did not reach 5000
    stopped = focuser.model.position(1)
    assert 100 < stopped < 5000 and not focuser.model.is_moving(1)
    assert focuser.status()['current_steps_1'] == stopped


def test_only_stop_is_accepted_while_a_channel_moves(make_focuser):
    focuser = make_focuser(speed=300)
    result, thread = in_background(focuser.call, 'set_focus', 1, 3000)
    wait_until(lambda: focuser.status().get('moving_1'), message='channel 1 moving')
    assert focuser.call('set_focus', 1, 10) == CommandStatus.Blocked
    assert focuser.call('reset_home_position', 1) == CommandStatus.Blocked
    # the other channel is not blocked by the move, nor by the waiting caller
    assert focuser.call('set_focus', 2, 100) == CommandStatus.Succeeded
    assert focuser.call('stop_channel', 1) == CommandStatus.Succeeded
    thread.join(10)
    assert result == [CommandStatus.Failed]


@pytest.mark.parametrize('steps, offset', [(1_000_000, False), (-1_000_000, False), (10**12, False),
                                           (999_000, True)])
def test_positions_outside_the_range_are_refused_before_anything_is_sent(focuser, steps, offset):
    assert focuser.call('set_focus', 1, 5000) == CommandStatus.Succeeded
    sent = len(focuser.set_requests())
    assert focuser.call('set_focus', 1, steps, offset) == CommandStatus.PositionOutsideLimits
    assert len(focuser.set_requests()) == sent
    assert focuser.model.target(1) == 5000


def test_soft_limits_are_enforced(make_focuser):
    focuser = make_focuser(soft_limits={'2': {'min': -100, 'max': 2000}})
    assert focuser.call('set_focus', 2, 2001) == CommandStatus.PositionOutsideLimits
    assert focuser.call('set_focus', 2, 2000) == CommandStatus.Succeeded
    assert focuser.call('set_focus', 2, 1, True) == CommandStatus.PositionOutsideLimits
    assert focuser.call('set_focus', 1, 5000) == CommandStatus.Succeeded   # channel 1 has no soft limit
    assert focuser.model.target(2) == 2000


@pytest.mark.parametrize('method, args, expected', [
    ('set_focus', (0, 10), CommandStatus.InvalidChannel),
    ('set_focus', (3, 10), CommandStatus.InvalidChannel),
    ('stop_channel', (9,), CommandStatus.InvalidChannel),
    ('reset_home_position', (-1,), CommandStatus.InvalidChannel),
    ('set_focus', ('1', 10), CommandStatus.InvalidArgument),
    ('set_focus', (1, '10'), CommandStatus.InvalidArgument),
    ('set_focus', (1, 10.5), CommandStatus.InvalidArgument),
    ('set_focus', (1, float('nan')), CommandStatus.InvalidArgument),
    ('set_focus', (1, None), CommandStatus.InvalidArgument),
    ('set_focus', (1, 10, 'yes'), CommandStatus.InvalidArgument),
    ('enable_fans', (1,), CommandStatus.InvalidArgument),
    ('enable_fans', (), CommandStatus.InvalidArgument),
])
def test_bad_arguments_get_their_code_and_send_nothing(focuser, method, args, expected):
    before = len(focuser.link.requests)
    assert focuser.call(method, *args) == expected
    commands = [r for r in focuser.link.requests[before:] if r not in (b'?', b'#') and not r.startswith(b'@')]
    assert commands == []


def test_fans_and_home_position(focuser):
    assert focuser.call('enable_fans', True) == CommandStatus.Succeeded
    assert focuser.model.fans is True and focuser.status()['fans_enabled'] is True
    assert focuser.call('set_focus', 2, 700) == CommandStatus.Succeeded
    assert focuser.call('reset_home_position', 2) == CommandStatus.Succeeded
    assert focuser.model.position(2) == 0 and focuser.status()['current_steps_2'] == 0
    assert focuser.call('enable_fans', False) == CommandStatus.Succeeded
    assert focuser.model.fans is False


def test_a_failed_probe_reads_as_none(focuser):
    focuser.model.failing_probes.add(MIRROR)
    wait_until(lambda: focuser.status()['temperature']['mirror'] is None, message='probe failure seen')
    focuser.model.failing_probes.clear()
    focuser.model.set_temperature(MIRROR, 8.0)
    wait_until(lambda: focuser.status()['temperature']['mirror'] == 8.0, message='probe reading back')


@pytest.mark.parametrize('fault', ['missing probe', 'firmware without probes'])
def test_an_unreadable_probe_stays_unknown_and_focusing_goes_on(make_focuser, fault):
    """The firmware answers FAILED for a probe that does not answer and '?' to a probe query
    it cannot parse: the reading is unknown, said once, and the focuser stays ONLINE."""
    focuser = make_focuser()
    if fault == 'missing probe':
        focuser.model.failing_probes.add(MIRROR)
        expected = 'the probe did not answer'
    else:
        focuser.model.probe_support = False
        expected = 'the controller did not understand the probe query'
    wait_until(lambda: focuser.status()['temperature'] == {'mirror': None, 'tube': None}
               and 'mirror' in focuser.status()['temperature_problems'], message='probe without reading')
    queries = focuser.link.requests.count(protocol.probe_query(MIRROR)[:-1])
    wait_until(lambda: focuser.link.requests.count(protocol.probe_query(MIRROR)[:-1]) >= queries + 2,
               message='two more queries of the unreadable probe')
    status = focuser.status()
    assert status['status'] == 1 and 'offline_reason' not in status
    assert status['temperature_problems']['mirror'].startswith(expected)
    assert focuser.call('set_focus', 1, 300) == CommandStatus.Succeeded
    assert focuser.model.position(1) == 300
    assert focuser.daemon.output().count('temperature probe mirror') == 1
    assert 'device offline' not in focuser.daemon.output()
    result = focuser.cli('status')
    assert result.returncode == 0, result.stderr
    assert 'Focuser is ONLINE' in result.stdout
    assert f'Primary Mirror: no reading ({expected}' in result.stdout
    focuser.model.failing_probes.clear()
    focuser.model.probe_support = True
    wait_until(lambda: focuser.status()['temperature']['mirror'] == 12.5, message='probe reading again')
    assert 'mirror' not in focuser.status()['temperature_problems']
    wait_until(lambda: 'temperature probe mirror reads again' in focuser.daemon.output(), message='logged')


def test_unplug_mid_move_fails_the_move_and_recovers_after_replug(make_focuser):
    focuser = make_focuser(speed=300)
    result, thread = in_background(focuser.call, 'set_focus', 1, 4000)
    wait_until(lambda: focuser.model.position(1) > 50, message='move under way')
    focuser.link.unplug()
    thread.join(10)
    assert result == [CommandStatus.Failed]
    status = wait_until(lambda: (s := focuser.status())['status'] == 0 and s, message='offline')
    assert status['offline_reason']
    assert focuser.call('set_focus', 2, 10) == CommandStatus.NotConnected   # fails fast
    focuser.link.replug()
    focuser.wait_online()
    assert focuser.call('stop_channel', 1) == CommandStatus.Succeeded
    assert focuser.daemon.output().count('device offline') == 1


@pytest.mark.parametrize('fault', ['garbage', 'silent'])
def test_garbage_or_silence_takes_it_offline_with_a_reason_then_it_recovers(focuser, fault):
    setattr(focuser.link, fault, True)
    status = wait_until(lambda: (s := focuser.status())['status'] == 0 and s, message='offline')
    assert status['offline_reason']
    # At least one failed reconnection (a request after the outage, then another after
    # that one went unanswered): the outage is still logged once.
    seen = len(focuser.link.requests)
    wait_until(lambda: len(focuser.link.requests) >= seen + 2, timeout=30, message='a failed reconnection')
    assert focuser.status()['status'] == 0
    setattr(focuser.link, fault, False)
    focuser.wait_online()
    log = focuser.daemon.output()
    assert log.count('device offline') == 1, log
    assert focuser.call('set_focus', 1, 30) == CommandStatus.Succeeded


def test_shutdown_disconnects_until_initialize(focuser):
    assert focuser.call('shutdown') == CommandStatus.Succeeded
    assert focuser.call('shutdown') == CommandStatus.NotConnected
    status = focuser.status()
    assert status['status'] == 0 and 'operator' in status['offline_reason']
    assert focuser.call('set_focus', 1, 10) == CommandStatus.NotConnected
    time.sleep(1.5)
    assert focuser.status()['status'] == 0   # no reconnection behind the operator's back
    assert focuser.call('initialize') == CommandStatus.Succeeded
    assert focuser.call('initialize') == CommandStatus.NotDisconnected
    assert focuser.status()['status'] == 1


def test_initialize_fails_cleanly_when_the_controller_is_gone(focuser):
    assert focuser.call('shutdown') == CommandStatus.Succeeded
    focuser.link.unplug()
    assert focuser.call('initialize') == CommandStatus.Failed


def test_every_command_is_refused_from_a_machine_not_in_control_machines(focuser):
    with connections_from('127.0.0.2'):
        with focuser.proxy() as proxy:
            assert proxy.report_status()['status'] == 1
            assert proxy.temperature_labels()
            for method, args in [('set_focus', (1, 100)), ('stop_channel', (1,)), ('reset_home_position', (1,)),
                                 ('enable_fans', (True,)), ('initialize', ()), ('shutdown', ())]:
                assert getattr(proxy, method)(*args) == CommandStatus.InvalidControlIP, method
    assert focuser.set_requests() == [] and focuser.status()['status'] == 1


def test_the_exposed_methods_are_the_ones_the_ecosystem_calls(focuser):
    from rockit.focuser.multichannel.daemon import FocuserDaemon
    assert pyro.exposed_methods(FocuserDaemon) == {
        'report_status': False, 'temperature_labels': False, 'set_focus': True, 'stop_channel': True,
        'reset_home_position': True, 'enable_fans': True, 'initialize': True, 'shutdown': True}


def test_fractional_moving_loop_delay_is_honoured(make_focuser):
    focuser = make_focuser(speed=100, moving_loop_delay=0.25)
    result, thread = in_background(focuser.call, 'set_focus', 1, 300)
    wait_until(lambda: focuser.model.is_moving(1), message='moving')
    def polls():
        return len([r for r in focuser.link.requests if r == b'?'])
    start, started = polls(), time.monotonic()
    wait_until(lambda: polls() >= start + 8, timeout=30, message='8 polls of the move')
    elapsed = time.monotonic() - started
    # 8 polls at 0.25 s take 2 s: not busy (a load only lengthens the gaps), and not rounded
    # up to 1 s a poll (a ceiling of 7 s, over three times the 2 s, for a busy machine).
    assert 8 * 0.25 * 0.75 <= elapsed < 7, elapsed
    thread.join(10)


def test_sigterm_during_a_move_stops_the_motor_and_exits_cleanly(make_focuser):
    focuser = make_focuser(speed=200)
    in_background(focuser.call, 'set_focus', 1, 5000)
    wait_until(lambda: focuser.model.is_moving(1), message='moving')
    assert focuser.daemon.stop(signal.SIGTERM) == 0
    assert not focuser.model.is_moving(1)
    assert 0 < focuser.model.position(1) < 5000


def test_restart_on_the_same_port_right_after_kill_9(focuser):
    focuser.daemon.stop(signal.SIGKILL)
    focuser.daemon.start()
    focuser.wait_online()
    assert focuser.call('set_focus', 1, 42) == CommandStatus.Succeeded


SEED_CONFIG = """
{
  "daemon": "localhost_test", # Run the server as this daemon. Daemon types are registered in `rockit.common.daemons`.
  "log_name": "klipper_focusd@test", # The name to use when writing messages to the observatory log.
  "control_machines": ["LocalHost"], # Machine names that are allowed to control (rather than just query) state. Machine names are registered in `rockit.common.IP`.
  "serial_port": "/dev/focuser", # Serial FIFO for communicating with the focuser
  "serial_baud": 9600, # Serial baud rate (always 9600)
  "serial_timeout": 5, # Serial comms timeout
  "channels": 2, # Number of controllable focusers
  "idle_loop_delay": 5, # Delay in seconds between focuser status polls when idle
  "moving_loop_delay": 0.5, # Delay in seconds between focuser status polls when moving
  "move_timeout": 180 # Maximum time expected for a focus movement
}
"""


def test_seed_config_text_loads(test_registry, tmp_path):
    """The configuration documented for the focuser daemon in service, comments removed."""
    from rockit.focuser.multichannel.config import FocuserConfig
    path = tmp_path / 'seed.json'
    path.write_text(re.sub(r'#.*', '', SEED_CONFIG))
    config = FocuserConfig.load(path)
    assert (config.channels, config.moving_loop_delay, config.control_ips) == (2, 0.5, {'127.0.0.1'})


def test_config_errors_name_the_key(test_registry, tmp_path):
    from rockit.common.config import ConfigError
    from rockit.focuser.multichannel.config import FocuserConfig
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps({'daemon': 'localhost_test', 'log_name': 'x', 'control_machines': ['LocalHost'],
                                'serial_port': '/dev/focuser', 'serial_baud': 9600, 'serial_timeout': 5,
                                'channels': 0, 'idle_loop_delay': 5, 'moving_loop_delay': 0.5,
                                'move_timeout': 180, 'soft_limits': {'1': {'min': 5, 'max': 1}}}))
    with pytest.raises(ConfigError) as error:
        FocuserConfig.load(path)
    assert 'channels: 0 is less than the minimum of 1' in str(error.value)
    result = subprocess.run([sys.executable, str(ROOT / 'focusd'), str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert 'channels: 0 is less than the minimum of 1' in result.stderr and 'Traceback' not in result.stderr

"""chillerd end to end: emulated T257P -> real chillerd process -> Pyro proxy."""
import json
import re
import subprocess
import sys
import time

import pytest

from support import ROOT, connections_from, wait_until
from rockit.chiller import errors, protocol
from rockit.chiller.codes import ChillerMode, ChillerStatus, CommandStatus
from rockit.common import pyro

AUTOMATIC, MANUAL = ChillerMode.Automatic, ChillerMode.Manual
INTERLOCK_KEYS = ('dome_temp', 'channels_enabled', 'antifreeze_enabled', 'cooling_requested_by',
                  'interlock_faults')


def test_status_reports_what_the_chiller_reads(make_chiller):
    chiller = make_chiller(emulator={'setpoint': 15.0, 'ambient': 21.5, 'water': 18.0})
    chiller.model.raise_alarm(0)
    chiller.model.raise_alarm(5)
    chiller.model.raise_warning(2)
    status = chiller.wait_status(lambda s: s['alarms'], 'alarms seen')
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', status['date'])
    assert (status['mode'], status['status'], status['status_label']) == (MANUAL, ChillerStatus.Idle, 'IDLE')
    assert status['setpoint_temp'] == 15.0 and status['ambient_temp'] == 21.5
    assert status['water_temp'] == pytest.approx(chiller.model.water_temp, abs=0.15)
    assert status['return_temp'] == pytest.approx(chiller.model.return_temp, abs=0.15)
    assert (status['tec_power'], status['control_mode'], status['pump_on']) == (0, 'standby', False)
    assert (status['alarms'], status['warnings']) == ([0, 5], [2])
    assert not set(INTERLOCK_KEYS) & set(status)   # no interlock configured

    chiller.model.running, chiller.model.water_temp = True, 10.0   # colder than the setpoint
    status = chiller.wait_status(lambda s: s['status'] == ChillerStatus.Heating, 'heating')
    assert (status['status_label'], status['tec_power']) == ('HEATING', chiller.model.tec_percent)
    assert (status['control_mode'], status['pump_on']) == ('run', True)
    chiller.model.water_temp = 20.0
    status = chiller.wait_status(lambda s: s['status'] == ChillerStatus.Cooling, 'cooling')
    assert status['status_label'] == 'COOLING' and status['tec_power'] == 100
    assert status['return_temp'] > status['water_temp']


def test_enable_and_disable_in_manual_mode_and_a_stopping_daemon_leaves_it_running(chiller):
    assert chiller.call('set_enabled', True) == CommandStatus.Succeeded
    assert chiller.model.running and chiller.status()['control_mode'] == 'run'   # status is fresh
    assert chiller.call('set_enabled', False) == CommandStatus.Succeeded
    assert not chiller.model.running and chiller.status()['status'] == ChillerStatus.Idle
    assert chiller.call('set_enabled', True) == CommandStatus.Succeeded
    assert chiller.daemon.stop() == 0
    assert chiller.model.running   # the cameras still need cooling without the daemon


def test_automatic_mode_applies_at_once_and_refuses_enable_and_disable(make_chiller):
    chiller = make_chiller(query_delay=30)   # a cycle every 30 s: anything sooner is the mode change
    chiller.model.running = True
    assert chiller.call('set_mode', AUTOMATIC) == CommandStatus.Succeeded
    assert chiller.status()['mode'] == AUTOMATIC
    # no interlock is configured, so nothing asks the chiller to run
    wait_until(lambda: not chiller.model.running, timeout=60, message='chiller stopped')
    sent = len(chiller.requests(protocol.SET_RUN))
    assert chiller.call('set_enabled', True) == CommandStatus.ModeIsAutomatic
    assert chiller.call('set_enabled', False) == CommandStatus.ModeIsAutomatic
    assert len(chiller.requests(protocol.SET_RUN)) == sent and not chiller.model.running
    assert chiller.call('set_mode', MANUAL) == CommandStatus.Succeeded
    assert chiller.call('set_enabled', True) == CommandStatus.Succeeded and chiller.model.running
    assert chiller.status()['status'] != ChillerStatus.Idle


def test_setpoint_round_trip_and_out_of_range_refusal_sends_nothing(chiller):
    assert chiller.call('set_setpoint', 12.5) == CommandStatus.Succeeded
    assert chiller.model.setpoint == 12.5 and chiller.status()['setpoint_temp'] == 12.5
    assert chiller.call('set_setpoint', 5) == CommandStatus.Succeeded and chiller.model.setpoint == 5.0
    assert chiller.call('set_setpoint', 21.04) == CommandStatus.Succeeded and chiller.model.setpoint == 21.0
    sent = len(chiller.requests(protocol.SET_SETPOINT))
    for celsius in (protocol.SETPOINT_MIN - 0.1, protocol.SETPOINT_MAX + 0.1, -40, 1e9):
        assert chiller.call('set_setpoint', celsius) == CommandStatus.SetpointOutsideLimits, celsius
    assert len(chiller.requests(protocol.SET_SETPOINT)) == sent and chiller.model.setpoint == 21.0


BAD_ARGUMENTS = [
    ('set_mode', (2,)), ('set_mode', (-1,)), ('set_mode', (True,)), ('set_mode', ('auto',)), ('set_mode', ()),
    ('set_enabled', (1,)), ('set_enabled', ('yes',)), ('set_enabled', ()),
    ('set_setpoint', ('12',)), ('set_setpoint', (float('nan'),)), ('set_setpoint', (None,)),
    ('set_setpoint', (True,)), ('set_setpoint', (10.0, 'extra')),
]


def test_bad_arguments_get_their_code_and_send_nothing(chiller):
    with chiller.proxy() as proxy:
        for method, args in BAD_ARGUMENTS:
            assert getattr(proxy, method)(*args) == CommandStatus.InvalidArgument, (method, args)
    assert chiller.requests(protocol.SET_RUN) == [] and chiller.requests(protocol.SET_SETPOINT) == []
    assert chiller.status()['mode'] == MANUAL


def test_each_chiller_error_digit_becomes_its_own_code(chiller):
    for digit in range(1, 6):
        chiller.model.reply_errors[protocol.SET_SETPOINT] = digit
        code = chiller.call('set_setpoint', 10.0)
        assert code == CommandStatus.chiller_refused(digit), digit
        assert CommandStatus.message(code) == CommandStatus._messages[code]
    chiller.model.reply_errors = {protocol.SET_RUN: errors.ERROR_BOUNDS}
    assert chiller.call('set_enabled', True) == CommandStatus.ChillerRejectedValue
    assert chiller.model.setpoint == 15.0 and not chiller.model.running
    assert chiller.status()['status'] == ChillerStatus.Idle   # a refusal is not a lost link
    chiller.model.reply_errors = {}
    assert chiller.call('set_setpoint', 10.0) == CommandStatus.Succeeded


def test_a_refused_read_takes_it_offline_with_the_reason_then_it_recovers(chiller):
    chiller.model.reply_errors[protocol.READ_SUPPLY_TEMP] = protocol.ERROR_COMMAND
    status = chiller.wait_offline()
    assert status['offline_reason'] == 'chiller replied error 2 (bad command) to command 04'
    assert 'water_temp' not in status and status['status_label'] == 'OFFLINE'
    chiller.model.reply_errors = {}
    chiller.wait_online()


def test_bad_reply_checksums_take_it_offline_logged_once_then_it_recovers(chiller):
    chiller.model.corrupt_checksum = True
    status = chiller.wait_offline()
    assert 'checksum' in status['offline_reason'] and 'water_temp' not in status
    # At least one failed reconnection (a request after the outage, and another after that
    # one was refused): the outage is still logged once.
    seen = len(chiller.link.requests)
    wait_until(lambda: len(chiller.link.requests) >= seen + 2, timeout=30, message='a failed reconnection')
    assert chiller.status()['status'] == ChillerStatus.Offline
    chiller.model.corrupt_checksum = False
    chiller.wait_online()
    assert chiller.log_count('device offline') == 1, chiller.daemon.output()
    assert chiller.call('set_setpoint', 11.0) == CommandStatus.Succeeded


def test_unplug_and_recovery_keeps_the_operators_setpoint(make_chiller):
    chiller = make_chiller(initial_setpoint=10.0)
    assert chiller.model.setpoint == 10.0   # from the config, on the first connection
    assert chiller.call('set_setpoint', 12.0) == CommandStatus.Succeeded
    chiller.link.unplug()
    assert chiller.wait_offline()['offline_reason']
    assert chiller.call('set_enabled', True) == CommandStatus.NotConnected
    assert chiller.call('set_setpoint', 14.0) == CommandStatus.NotConnected
    assert chiller.call('set_mode', MANUAL) == CommandStatus.Succeeded   # the mode is the daemon's
    chiller.link.replug()
    chiller.wait_online()
    assert chiller.model.setpoint == 12.0   # not reset to the config's on reconnection
    assert chiller.log_count('device offline') == 1


def test_shutdown_disconnects_until_initialize(chiller):
    assert chiller.call('shutdown') == CommandStatus.Succeeded
    assert chiller.call('shutdown') == CommandStatus.NotConnected
    status = chiller.status()
    assert status['status'] == ChillerStatus.Offline and 'operator' in status['offline_reason']
    assert chiller.call('set_enabled', True) == CommandStatus.NotConnected
    time.sleep(1.2)
    assert chiller.status()['status'] == ChillerStatus.Offline   # no reconnection behind the operator's back
    assert chiller.call('initialize') == CommandStatus.Succeeded
    assert chiller.call('initialize') == CommandStatus.NotDisconnected
    assert chiller.status()['status'] == ChillerStatus.Idle


def test_every_command_is_refused_from_a_machine_not_in_control_machines(chiller):
    with connections_from('127.0.0.2'):
        with chiller.proxy() as proxy:
            assert proxy.report_status()['status'] == ChillerStatus.Idle
            for method, args in [('set_mode', (AUTOMATIC,)), ('set_enabled', (True,)), ('set_setpoint', (10.0,)),
                                 ('initialize', ()), ('shutdown', ())]:
                assert getattr(proxy, method)(*args) == CommandStatus.InvalidControlIP, method
    assert chiller.requests(protocol.SET_RUN) == [] and chiller.requests(protocol.SET_SETPOINT) == []
    status = chiller.status()
    assert (status['mode'], status['status']) == (MANUAL, ChillerStatus.Idle)


def test_the_exposed_methods_are_the_ones_the_ecosystem_calls():
    from rockit.chiller.daemon import ChillerDaemon
    assert pyro.exposed_methods(ChillerDaemon) == {
        'report_status': False, 'set_mode': True, 'set_enabled': True, 'set_setpoint': True,
        'initialize': True, 'shutdown': True}


SEED_CONFIG = """
{
  "daemon": "clasp_chiller", # Run the server as this daemon. Daemon types are registered in `rockit.common.daemons`.
  "log_name": "chillerd@clasp",        # The name to use when writing messages to the observatory log.
  "serial_port": "/dev/chiller", # The serial port device to use
  "serial_baud": 9600,             # The serial baud rate to use
  "serial_timeout": 5,              # The serial time out to use
  "query_delay": 30                 # Delay (in seconds) between measurement updates
}
"""


def _seed_config():
    return json.loads(re.sub(r'#.*', '', SEED_CONFIG))


def test_seed_config_text_loads(test_registry, tmp_path):
    """The configuration documented for the chiller daemon in service, comments removed."""
    from rockit.chiller.config import ChillerConfig
    path = tmp_path / 'seed.json'
    path.write_text(json.dumps(_seed_config()))
    config = ChillerConfig.load(path)
    assert (config.serial_port, config.query_delay, config.address.object_id) == (
        '/dev/chiller', 30, 'clasp_chiller_daemon')
    # no control_machines: commands only from the daemon's own machine
    assert config.control_ips == {'127.0.0.1', config.address.host}
    assert (config.initial_mode, config.antifreeze, config.power_address) == (MANUAL, None, None)


def test_packaged_configs_load(test_registry):
    from rockit.chiller.config import ChillerConfig
    test_registry.add('clasp_domealert')   # in the upstream registry; the packaged one may lag
    clasp = ChillerConfig.load(ROOT / 'config' / 'chillerd' / 'clasp.json')
    assert (clasp.power_address.name, clasp.power_channels) == ('clasp_power', ['cam1', 'cam2'])
    assert (clasp.temperature_address.name, clasp.temperature_value_key, clasp.temperature_valid_key) == (
        'clasp_domealert', 'internal_temperature', 'internal_temperature_valid')
    assert (clasp.antifreeze, clasp.query_delay, clasp.initial_mode) == ((5, 7), 7, AUTOMATIC)
    assert clasp.control_ips == {'10.2.6.181'}
    test = ChillerConfig.load(ROOT / 'config' / 'chillerd' / 'test.json')
    assert (test.antifreeze, test.power_address, test.temperature_address) == ((3.0, 6.0), None, None)


@pytest.mark.parametrize('change, expected', [
    ({'query_delay': 0}, 'query_delay: 0 is less than or equal to the minimum of 0'),
    ({'serial_baud': '9600'}, "serial_baud: '9600' is not of type 'integer'"),
    ({'initial_mode': 'auto'}, "initial_mode: 'auto' is not one of ['manual', 'automatic']"),
    ({'initial_setpoint': 41}, 'initial_setpoint: 41 is greater than the maximum of 40.0'),
    ({'control_machines': ['Atlantis']}, "control_machines[0]: 'Atlantis' is not a machine in the registry"),
    ({'power_daemon': 'no_such_power'}, "power_daemon: 'no_such_power' is not a daemon in the registry"),
    ({'power_channels': []}, 'power_channels: [] should be non-empty'),
    ({'antifreeze_enable_below': 3}, 'antifreeze_disable_limit: required with antifreeze_enable_below'),
    ({'antifreeze_enable_limit': 3}, 'antifreeze_disable_limit: required with antifreeze_enable_limit'),
    ({'antifreeze_enable_limit': 6, 'antifreeze_disable_limit': 3},
     'antifreeze_enable_limit: 6 must be below antifreeze_disable_limit (3)'),
    ({'antifreeze_enable_limit': 1, 'antifreeze_enable_below': 1, 'antifreeze_disable_limit': 3},
     'antifreeze_enable_below: give antifreeze_enable_limit or its older name antifreeze_enable_below, not both'),
    ({'temperature_daemon': 'localhost_test', 'temperature_value_key': 't'},
     'antifreeze_enable_limit: required with temperature_daemon'),
    ({'antifreeze_enable_below': 6, 'antifreeze_disable_above': 3},
     'antifreeze_enable_below: 6 must be below antifreeze_disable_above (3)'),
    ({'power_daemon': 'clasp_power'}, 'power_channels: required with power_daemon'),
    ({'temperature_daemon': 'localhost_test'}, 'temperature_value_key: required with temperature_daemon'),
    ({'temperature_valid_key': 'ok'}, 'temperature_daemon: required with temperature_valid_key'),
    ({'colour': 'blue'}, 'colour: unknown key'),
])
def test_config_errors_name_the_key(test_registry, tmp_path, change, expected):
    from rockit.chiller.config import ChillerConfig
    from rockit.common.config import ConfigError
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps({**_seed_config(), **change}))
    with pytest.raises(ConfigError) as error:
        ChillerConfig.load(path)
    assert expected in [line.strip() for line in str(error.value).splitlines()]


def test_missing_keys_are_named_and_chillerd_exits_without_a_traceback(test_registry, tmp_path):
    data = _seed_config()
    del data['query_delay']
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(data))
    result = subprocess.run([sys.executable, str(ROOT / 'chillerd'), str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert 'query_delay: required key is missing' in result.stderr and 'Traceback' not in result.stderr


def test_restart_on_the_same_port_answers_at_once(chiller):
    chiller.daemon.stop()
    chiller.daemon.start()
    chiller.wait_online()
    assert chiller.call('set_enabled', True) == CommandStatus.Succeeded
    wait_until(lambda: chiller.model.running, message='running')

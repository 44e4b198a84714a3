"""chillerd's AUTOMATIC mode end to end: the emulated T257P, a real chillerd process, and
stand-ins of powerd and domealertd served by Pyro on loopback."""
import json
import shutil

import pytest

from chiller_harness import DomeAlertStandIn, PowerStandIn
from support import ROOT
from rockit.chiller import errors, protocol
from rockit.chiller.codes import ChillerMode, ChillerStatus, CommandStatus

AUTOMATIC, MANUAL = ChillerMode.Automatic, ChillerMode.Manual
DOME = {'temperature_value_key': 'internal_temperature', 'temperature_valid_key': 'internal_temperature_valid'}


def test_antifreeze_on_the_chillers_ambient_sensor_with_hysteresis(make_chiller):
    # The older key names: still read, and an interlock makes AUTOMATIC the starting mode.
    chiller = make_chiller(antifreeze_enable_below=3.0, antifreeze_disable_above=6.0)
    status = chiller.status()
    assert (status['mode'], status['dome_temp'], status['antifreeze_enabled']) == (AUTOMATIC, 20.0, False)
    assert status['cooling_requested_by'] == [] and status['interlock_faults'] == {}
    assert 'channels_enabled' not in status

    chiller.model.ambient_temp = 2.5
    status = chiller.wait_status(lambda s: s['antifreeze_enabled'], 'antifreeze on')
    assert chiller.model.running and status['cooling_requested_by'] == ['antifreeze']
    chiller.model.ambient_temp = 4.5            # between the limits: keeps running
    chiller.wait_status(lambda s: s['dome_temp'] == 4.5, 'dome at 4.5')
    chiller.wait_cycles(3)
    assert chiller.model.running and chiller.status()['antifreeze_enabled']
    chiller.model.ambient_temp = 6.5
    chiller.wait_status(lambda s: not s['antifreeze_enabled'] and s['status'] == ChillerStatus.Idle,
                        'antifreeze off')
    assert not chiller.model.running
    chiller.model.ambient_temp = 4.5            # between the limits again: stays off
    chiller.wait_status(lambda s: s['dome_temp'] == 4.5, 'dome at 4.5')
    chiller.wait_cycles(3)
    assert not chiller.model.running
    log = chiller.daemon.output()
    assert log.count('automatic mode: starting the chiller (antifreeze)') == 1, log
    assert log.count('automatic mode: stopping the chiller') == 1, log


def test_antifreeze_through_domealertd_never_uses_an_invalid_reading(make_chiller, stand_in):
    dome = stand_in('dome_test', DomeAlertStandIn(internal_temperature=10.0, internal_humidity=40.0)).stand_in
    chiller = make_chiller(antifreeze_enable_limit=3.0, antifreeze_disable_limit=6.0,
                           temperature_daemon='dome_test', **DOME)
    chiller.wait_status(lambda s: s['dome_temp'] == 10.0, 'dome temperature read')
    chiller.model.ambient_temp = -10.0          # the chiller's own sensor is not the source here

    # A freezing reading the sensor flags invalid (stale): never used, the decision held.
    dome.set('internal_temperature', -5.0, valid=False)
    status = chiller.wait_status(lambda s: s['dome_temp'] is None, 'invalid reading seen')
    assert 'internal_temperature_valid is False' in status['interlock_faults']['dome temperature']
    chiller.wait_cycles(4)
    assert not chiller.model.running and not chiller.status()['antifreeze_enabled']
    assert chiller.log_count('dome temperature unusable') == 1

    dome.set('internal_temperature', -5.0)
    status = chiller.wait_status(lambda s: s['antifreeze_enabled'] and s['status'] != ChillerStatus.Idle,
                                 'antifreeze on')
    assert chiller.model.running and status['dome_temp'] == -5.0 and status['interlock_faults'] == {}
    assert status['cooling_requested_by'] == ['antifreeze']
    assert chiller.log_count('dome temperature usable again') == 1

    dome.set('internal_temperature', 12.0)
    chiller.wait_status(lambda s: not s['antifreeze_enabled'] and s['status'] == ChillerStatus.Idle,
                        'antifreeze off')
    assert not chiller.model.running


def test_camera_power_through_powerd(make_chiller, stand_in):
    power = stand_in('power_test', PowerStandIn({'cam1': 0, 'cam2': 0, 'light': 1})).stand_in
    chiller = make_chiller(power_daemon='power_test', power_channels=['cam1', 'cam2'])
    status = chiller.wait_status(lambda s: 'camera power' not in s['interlock_faults'], 'powerd answered')
    assert (status['mode'], status['channels_enabled'], status['status']) == (AUTOMATIC, [], ChillerStatus.Idle)
    assert 'dome_temp' not in status and 'antifreeze_enabled' not in status

    chiller.model.reply_errors[protocol.SET_RUN] = errors.ERROR_BOUNDS   # the chiller will not start
    assert power.switch('cam2', True)
    chiller.wait_status(lambda s: s['channels_enabled'] == ['cam2'], 'camera power seen')
    chiller.wait_cycles(3)
    assert chiller.status()['status'] == ChillerStatus.Idle   # refused, retried, still online
    assert chiller.log_count('automatic mode could not start the chiller') == 1
    chiller.model.reply_errors = {}
    status = chiller.wait_status(lambda s: s['status'] != ChillerStatus.Idle, 'chiller started')
    assert chiller.model.running and status['cooling_requested_by'] == ['camera power']

    power.switch('cam1', True)
    chiller.wait_status(lambda s: s['channels_enabled'] == ['cam1', 'cam2'], 'both cameras on')

    power.channels['cam1'] = 2                  # the PDU did not answer: held, not "off"
    status = chiller.wait_status(lambda s: 'camera power' in s['interlock_faults'], 'power source unusable')
    assert 'channel cam1 is 2' in status['interlock_faults']['camera power']
    assert status['channels_enabled'] == ['cam1', 'cam2']
    chiller.wait_cycles(3)
    assert chiller.model.running and chiller.log_count('camera power unusable') == 1

    power.channels.update(cam1=0, cam2=0)
    chiller.wait_status(lambda s: s['channels_enabled'] == [] and s['status'] == ChillerStatus.Idle,
                        'chiller stopped')
    assert not chiller.model.running and chiller.log_count('camera power usable again') == 1


def test_a_camera_switched_on_is_acted_on_before_the_next_query_cycle(make_chiller, stand_in):
    """query_delay 60 s: the chiller is asked at connection and then not for a minute, yet
    the camera power watcher (asking every INTERLOCK_INTERVAL) starts it within seconds."""
    power = stand_in('power_test', PowerStandIn({'cam1': 0})).stand_in
    chiller = make_chiller(power_daemon='power_test', power_channels=['cam1'], query_delay=60)
    chiller.wait_status(lambda s: 'camera power' not in s['interlock_faults'], 'powerd answered', timeout=60)
    cycles = len(chiller.requests(protocol.READ_STATUS))
    power.switch('cam1', True)
    chiller.wait_status(lambda s: s['status'] != ChillerStatus.Idle, 'chiller started', timeout=30)
    assert chiller.model.running
    # One cycle for the news and one to read the state after switching, no more.
    assert len(chiller.requests(protocol.READ_STATUS)) - cycles <= 2


def test_a_power_daemon_that_dies_mid_run_is_a_fault_the_chiller_keeps_running(make_chiller, stand_in):
    served = stand_in('power_test', PowerStandIn({'cam1': 1}))
    chiller = make_chiller(power_daemon='power_test', power_channels=['cam1'])
    chiller.wait_status(lambda s: s['status'] != ChillerStatus.Idle, 'chiller started for the camera')

    served.stop()
    status = chiller.wait_status(lambda s: 'camera power' in s['interlock_faults'], 'powerd gone')
    assert 'power_test did not answer' in status['interlock_faults']['camera power']
    assert status['channels_enabled'] == ['cam1']   # the last thing powerd said
    chiller.wait_cycles(4)
    assert chiller.model.running                    # the cameras may still be on: keep cooling
    assert chiller.log_count('camera power unusable') == 1
    assert chiller.call('set_setpoint', 12.5) == CommandStatus.Succeeded
    assert chiller.model.setpoint == 12.5

    served.stand_in.channels['cam1'] = 0
    served.start()
    chiller.wait_status(lambda s: s['status'] == ChillerStatus.Idle and s['interlock_faults'] == {},
                        'powerd back, camera off')
    assert chiller.log_count('camera power usable again') == 1

    # Offline, the interlocks are still reported: they never came from the serial line.
    assert chiller.call('shutdown') == CommandStatus.Succeeded
    served.stand_in.channels['cam1'] = 1
    status = chiller.wait_status(lambda s: s['channels_enabled'] == ['cam1'], 'camera power seen offline')
    assert status['status'] == ChillerStatus.Offline and status['cooling_requested_by'] == ['camera power']


def test_a_hung_domealertd_holds_neither_the_serial_line_nor_the_status(make_chiller, stand_in):
    served = stand_in('dome_test', DomeAlertStandIn(internal_temperature=-2.0))
    chiller = make_chiller(antifreeze_enable_limit=3.0, antifreeze_disable_limit=6.0,
                           temperature_daemon='dome_test', **DOME)
    chiller.wait_status(lambda s: s['status'] != ChillerStatus.Idle, 'antifreeze started the chiller')

    served.stand_in.hang()                      # accepts each call and never answers it
    status = chiller.wait_status(lambda s: 'dome temperature' in s['interlock_faults'], 'domealertd silent',
                                 timeout=20)
    assert 'dome_test did not answer' in status['interlock_faults']['dome temperature']
    # While every question hangs for its whole timeout, the chiller keeps its own pace.
    chiller.wait_cycles(3)
    assert chiller.call('set_setpoint', 8.0) == CommandStatus.Succeeded
    status = chiller.status()
    assert (status['dome_temp'], status['antifreeze_enabled'], status['setpoint_temp']) == (None, True, 8.0)
    assert chiller.model.running

    served.stand_in.set('internal_temperature', 9.0)
    served.stand_in.answer()
    chiller.wait_status(lambda s: s['status'] == ChillerStatus.Idle and s['dome_temp'] == 9.0, 'dome warm again',
                        timeout=20)


@pytest.mark.slow
def test_the_reference_clasp_config_serves_unchanged(make_chiller, stand_in, test_registry):
    """config/chillerd/clasp.json as the reference daemon ships it, only its serial port
    pointed at the emulator: it starts in AUTOMATIC and follows powerd and domealertd."""
    reference = json.loads((ROOT / 'config' / 'chillerd' / 'clasp.json').read_text())
    test_registry.data['machines']['CLASPTCS'] = '127.0.0.1'
    power = stand_in('clasp_power', PowerStandIn({'cmos': 0, 'swir': 0, 'cam1': 0, 'cam2': 0})).stand_in
    dome = stand_in('clasp_domealert', DomeAlertStandIn(internal_temperature=12.0, sting_temperature=11.0)).stand_in
    reference.pop('serial_port')
    chiller = make_chiller(**reference)

    status = chiller.wait_status(lambda s: s['interlock_faults'] == {}, 'both interlocks answered', timeout=60)
    assert status['mode'] == AUTOMATIC and status['status'] == ChillerStatus.Idle
    assert (status['dome_temp'], status['antifreeze_enabled'], status['channels_enabled']) == (12.0, False, [])

    power.switch('cam1', True)
    status = chiller.wait_status(lambda s: s['status'] != ChillerStatus.Idle, 'camera power on', timeout=60)
    assert status['channels_enabled'] == ['cam1'] and chiller.model.running
    power.switch('cam1', False)
    chiller.wait_status(lambda s: s['status'] == ChillerStatus.Idle, 'camera power off', timeout=60)

    dome.set('internal_temperature', 4.0)         # below the 5 C limit
    status = chiller.wait_status(lambda s: s['antifreeze_enabled'] and s['status'] != ChillerStatus.Idle,
                                 'antifreeze on', timeout=20)
    assert status['cooling_requested_by'] == ['antifreeze'] and status['dome_temp'] == 4.0


def test_the_older_config_format_still_loads(test_registry, tmp_path):
    """The site config of the previous release: older antifreeze key names, no thermometer."""
    from rockit.chiller.config import ChillerConfig
    path = tmp_path / 'clasp.json'
    shutil.copy(ROOT / 'tests' / 'chiller' / 'clasp_older_format.json', path)
    config = ChillerConfig.load(path)
    assert (config.antifreeze, config.initial_mode, config.temperature_address) == ((3.0, 6.0), AUTOMATIC, None)
    assert (config.power_address.name, config.power_channels) == ('clasp_power', ['cam1', 'cam2'])
    data = json.loads(path.read_text())
    del data['initial_mode']
    path.write_text(json.dumps(data))
    assert ChillerConfig.load(path).initial_mode == AUTOMATIC   # an interlock is configured
    for key in ('antifreeze_enable_below', 'antifreeze_disable_above', 'power_daemon', 'power_channels'):
        del data[key]
    path.write_text(json.dumps(data))
    assert ChillerConfig.load(path).initial_mode == MANUAL      # none is

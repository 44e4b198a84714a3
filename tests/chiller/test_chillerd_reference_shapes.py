"""chillerd's Pyro answers field by field against the reference chillerd's (rockit-astro/chillerd,
read for the names and types of what it returns): every key the reference returns is there,
with the same type, in both states, and the commands answer the same codes. What we add is
listed in docs/compatibility.md."""
import json

import pytest

from chiller_harness import DomeAlertStandIn, PowerStandIn
from support import ROOT
from rockit.chiller.codes import ChillerMode, ChillerStatus

NONE = type(None)
# report_status() of the reference, as it builds it: the date and mode always, the readings
# and interlock state while the chiller answers.
REFERENCE_OFFLINE = {'date': str, 'mode': int, 'status': int}
REFERENCE_ONLINE = {**REFERENCE_OFFLINE, 'status_label': str, 'setpoint_temp': float, 'water_temp': float,
                    'ambient_temp': float, 'dome_temp': (float, NONE), 'channels_enabled': list,
                    'antifreeze_enabled': bool, 'tec_power': int}
REFERENCE_LABELS = {0: 'OFFLINE', 1: 'IDLE', 2: 'COOLING', 3: 'HEATING'}


def assert_shape(status, shape):
    for key, types in shape.items():
        assert key in status, key
        value = status[key]
        assert isinstance(value, types) and (bool in (types if isinstance(types, tuple) else (types,))
                                             or not isinstance(value, bool)), (key, value)


@pytest.mark.slow
def test_report_status_and_commands_answer_as_the_reference_does(make_chiller, stand_in, test_registry):
    reference = json.loads((ROOT / 'config' / 'chillerd' / 'clasp.json').read_text())
    test_registry.data['machines']['CLASPTCS'] = '127.0.0.1'
    stand_in('clasp_power', PowerStandIn({'cmos': 0, 'swir': 0, 'cam1': 1, 'cam2': 0}))
    stand_in('clasp_domealert', DomeAlertStandIn(internal_temperature=12.0, sting_temperature=11.0))
    reference.pop('serial_port')
    chiller = make_chiller(**reference)

    status = chiller.wait_status(lambda s: s.get('interlock_faults') == {} and s['status'] != ChillerStatus.Idle,
                                 'cooling for cam1', timeout=20)
    assert_shape(status, REFERENCE_ONLINE)
    assert status['status_label'] == REFERENCE_LABELS[status['status']]
    assert (status['mode'], status['dome_temp'], status['channels_enabled']) == (ChillerMode.Automatic, 12.0, ['cam1'])

    assert chiller.call('set_enabled', True) == 10            # ModeIsAutomatic, as the reference
    assert chiller.call('set_mode', ChillerMode.Manual) == 0
    assert chiller.call('set_enabled', False) == 0
    chiller.wait_status(lambda s: s['status'] == ChillerStatus.Idle, 'stopped by hand', timeout=20)

    chiller.link.unplug()
    status = chiller.wait_offline(timeout=30)
    assert_shape(status, REFERENCE_OFFLINE)
    assert status['status'] == 0 and status['mode'] == ChillerMode.Manual

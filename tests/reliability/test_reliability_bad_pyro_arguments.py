"""Every exposed method of every daemon, called with arguments no daemon accepts: each
argument in turn replaced by a wrong type, None, a huge, infinite or NaN number, a
collection or a long string, plus missing, extra and unknown keyword arguments. The answer
is a status code (an int, never an exception reaching the client, except where the daemons
in service raise: RAISE_FOR_UNKNOWN_ID, and for a call too long to decode), nothing reaches the
device, and the daemon logs no traceback of its own.

The methods and their parameters come from rockit.common.pyro.exposed_methods and the
methods' signatures, so a new method or argument is covered without touching this file.
Values that are bad only for some arguments (a negative step count is a fine offset) are
listed per daemon in BAD_CALLS.
"""
import inspect
import math

import Pyro4.errors
import pytest

from reliability_harness import DAEMONS, RAISE_FOR_UNKNOWN_ID
from rockit.common import pyro, pyro_serpent

NEVER_VALID = [None, 'text', '', '1', b'\x00\xff', [], {}, [1], {'a': 1}, math.nan, math.inf, -math.inf,
               10 ** 30, -10 ** 30, 2 ** 63, 1e308, 'x' * 60_000]      # a longer call is not decoded: below

# Per daemon: calls that are wrong for the daemon's own reasons (unknown channels and
# negative values where a count or a temperature belongs).
BAD_CALLS = {
    'focusd': [('set_focus', (0, 10)), ('set_focus', (-1, 10)), ('set_focus', (3, 10)), ('set_focus', (1, 10.0)),
               ('set_focus', (1, 1_000_000)), ('set_focus', (1, -1_000_000)), ('set_focus', (1, 10, 1)),
               ('stop_channel', (-1,)), ('stop_channel', (True,)), ('reset_home_position', (10,)),
               ('enable_fans', (0,)), ('enable_fans', ('true',))],
    'chillerd': [('set_mode', (-1,)), ('set_mode', (2,)), ('set_mode', (0.0,)), ('set_enabled', (1,)),
                 ('set_setpoint', (-5.0,)), ('set_setpoint', (4.9,)), ('set_setpoint', (40.1,)),
                 ('set_setpoint', (-273,))],
    'camvirtd': [('report_camera_status', ('cam9',)), ('report_camera_status', (-1,)),
                 ('report_camera_status', ('CAM1',))],
    # pycamd: a settings request is all or nothing, so a bad value next to a good one
    # changes nothing either; a shutter speed for a band left in auto exposure is refused.
    'pycamd': [('set_settings', (settings,)) for settings in (
                   {}, {'shutter_a': 2000}, {'frame_rate': 0}, {'frame_rate': 2.0}, {'frame_rate': 0.0009},
                   {'frame_rate': 0.5, 'gain_a': 99}, {'gain_b': 0.5}, {'auto_a': 1}, {'auto_a': 'off'},
                   {'auto_a': False, 'shutter_a': 2000.0}, {'auto_a': False, 'shutter_a': 499},
                   {'auto_a': False, 'shutter_a': 256001}, {'saturation_rows': [400, 0]},
                   {'saturation_rows': [0, 487]}, {'saturation_rows': [0]}, {'saturation_rows': [0, 100, 200]},
                   {'min_saturation': 0.95}, {'max_saturation': -0.1}, {'saturation_pixels': 0},
                   {'spec_coadds': 0}, {'spec_coadds': 101}, {'spec_auto': False, 'spec_integration': 9},
                   {'spec_wavelengths': [335, 300]}, {'spec_wavelengths': [199, 300]}, {'spec_min_saturation': 1.5},
                   {'Frame_rate': 0.5}, {('frame_rate',): 0.5})]
               + [('capture', (kind,)) for kind in ('test', 'PLUME', '123456ppmm', 'ppmm', '5 ppmm', '5ppm')]
               + [('capture', ('Test', 'Cameras')), ('start_acquisition', ('camera',)),
                  ('capture_darks', ('spectrometers',)), ('stop_acquisition', ('none',)),
                  ('restart_device', ('all',)), ('restart_device', ('both',))],
}

pytestmark = pytest.mark.parametrize('spec', DAEMONS, ids=str)


def parameters(spec, name):
    """The method's arguments as a client passes them (self left out)."""
    return [p for p in inspect.signature(getattr(spec.daemon_class, name)).parameters.values() if p.name != 'self']


def bad_calls(spec):
    """(method, args, kwargs) for every exposed method."""
    for name in pyro.exposed_methods(spec.daemon_class):
        valid = list(spec.calls.get(name, ()))
        params = parameters(spec, name)
        assert len(valid) >= sum(p.default is inspect.Parameter.empty for p in params), \
            f'give a valid call of {spec.name}.{name} in reliability_harness'
        for position in range(len(params)):
            for value in NEVER_VALID:
                args = valid + [None] * (position + 1 - len(valid))
                args[position] = value
                yield name, tuple(args), {}
        yield name, tuple(valid) + tuple(p.default for p in params[len(valid):]) + ('extra',), {}
        yield name, tuple(valid), {'colour': 'blue'}
        if valid:
            yield name, (), {}
    for name, args in BAD_CALLS.get(spec.name, []):
        yield name, args, {}


def test_bad_arguments_get_a_status_code_and_reach_no_device(device):
    spec = device.spec
    sent = len(device.commands_sent())
    with device.proxy(timeout=30) as proxy:
        for name, args, kwargs in bad_calls(spec):
            try:
                result = getattr(proxy, name)(*args, **kwargs)
            except TypeError as e:
                assert RAISE_FOR_UNKNOWN_ID.get((spec.name, name)) in str(e), (name, args, kwargs, e)
                continue
            shown = (name, [repr(a)[:40] for a in args], kwargs, result)
            assert isinstance(result, int) and not isinstance(result, bool) and result != 0, shown
            assert spec.codes.message(result) != f'error: unknown error code {result}', shown
        # A call longer than any a daemon takes is refused before it is decoded: no code then.
        with pytest.raises(Pyro4.errors.SerializeError, match='refused'):
            proxy.report_status('x' * pyro_serpent.CALL_LIMIT)
    assert len(device.commands_sent()) == sent
    assert device.status()['status'] != 0
    assert 'Traceback' not in device.log(), device.log()

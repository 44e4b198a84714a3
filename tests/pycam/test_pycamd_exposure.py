"""Exposure end to end: auto exposure converges on a brighter and a darker sky, auto off and
a shutter speed in one request end manual at that speed, and bad settings are refused
with their code while nothing changes."""
import math

from rockit.pycam.codes import CommandStatus
from rockit.pycam.storage import names


def converged(status):
    cameras, spectrometer = status['cameras'], status['spectrometer']
    return (cameras['captures_saved'] >= 3 and spectrometer['captures_saved'] >= 3
            and all(cameras[b]['saturation'] is not None and 0.6 <= cameras[b]['saturation'] <= 0.9
                    for b in ('fltrA', 'fltrB'))
            and spectrometer['saturation'] is not None and 0.6 <= spectrometer['saturation'] <= 0.9)


def test_auto_exposure_converges_on_a_brighter_and_a_darker_sky(make_pycam):
    bright = make_pycam(simulation={'sky_brightness': 4.0, 'seed': 1})
    dull = make_pycam(simulation={'sky_brightness': 0.25, 'seed': 2})
    for instrument in (bright, dull):
        assert instrument.call('start_acquisition') == CommandStatus.Succeeded
    settled = {}
    for name, instrument in (('bright', bright), ('dull', dull)):
        settled[name] = instrument.wait(converged, timeout=40, message=f'{name} sky converged')['settings']
        instrument.call('stop_acquisition')
    for key in ('shutter_a', 'shutter_b', 'spec_integration'):
        assert settled['bright'][key] * 8 <= settled['dull'][key], key     # 16 times the light
    # The simulated sky gives 0.8 of full scale at about 8 ms (fltrA) and 0.7 ms (fltrB) when
    # four times as bright, 128 ms and 11 ms when a quarter as bright.
    assert settled['bright']['shutter_a'] <= 11000 and settled['dull']['shutter_a'] >= 90000
    assert settled['bright']['shutter_b'] <= 1000 and settled['dull']['shutter_b'] >= 8000


def test_auto_off_and_a_shutter_speed_in_one_request_end_manual_at_that_speed(pycam):
    before = pycam.status()['settings']
    assert before['auto_a'] is True
    # Alone, a shutter speed for a band in auto exposure is refused, not silently ignored.
    assert pycam.call('set_settings', {'shutter_a': 2000}) == CommandStatus.AutoExposureOn
    assert pycam.status()['settings'] == before
    # The speed first and auto off second in the same request: both apply.
    assert pycam.call('set_settings', {'shutter_a': 2000, 'auto_a': False}) == CommandStatus.Succeeded
    settings = pycam.status()['settings']
    assert (settings['auto_a'], settings['shutter_a'], settings['auto_b']) == (False, 2000, True)
    assert pycam.call('start_acquisition', 'cameras') == CommandStatus.Succeeded
    pycam.wait(lambda s: s['cameras']['captures_saved'] >= 3, timeout=60, message='3 pairs')
    pycam.call('stop_acquisition')
    exposures = {names.parse_image_name(p.name).exposure_us for p in pycam.files('*_fltrA_*.png')}
    assert len(exposures) == 1 and abs(exposures.pop() - 2000) < 30     # measured, whole sensor lines
    assert pycam.status()['settings']['shutter_a'] == 2000              # no auto exposure behind it
    # Auto back on with a starting speed, in one request too.
    assert pycam.call('set_settings', {'auto_a': True, 'shutter_a': 4000}) == CommandStatus.Succeeded


BAD = [
    ({'shutter_b': 2000}, CommandStatus.AutoExposureOn),
    ({'auto_a': False, 'shutter_a': 100}, CommandStatus.SettingOutsideLimits),        # below the list
    ({'auto_a': False, 'shutter_a': 10**7}, CommandStatus.SettingOutsideLimits),
    ({'auto_a': False, 'shutter_a': 2000.5}, CommandStatus.InvalidArgument),
    ({'gain_a': 0.5}, CommandStatus.SettingOutsideLimits),
    ({'gain_b': 'high'}, CommandStatus.InvalidArgument),
    ({'frame_rate': 2.0}, CommandStatus.SettingOutsideLimits),
    ({'frame_rate': math.nan}, CommandStatus.InvalidArgument),
    ({'frame_rate': 0.5, 'gain_a': 99}, CommandStatus.SettingOutsideLimits),         # all or nothing
    ({'min_saturation': 0.95}, CommandStatus.SettingOutsideLimits),                  # above the max
    ({'saturation_rows': [400, 100]}, CommandStatus.SettingOutsideLimits),
    ({'saturation_rows': [0, 999]}, CommandStatus.SettingOutsideLimits),
    ({'saturation_rows': [0]}, CommandStatus.InvalidArgument),
    ({'saturation_pixels': 0}, CommandStatus.SettingOutsideLimits),
    ({'auto_b': 1}, CommandStatus.InvalidArgument),
    ({'spec_coadds': 0}, CommandStatus.SettingOutsideLimits),
    ({'spec_integration': 20}, CommandStatus.AutoExposureOn),
    ({'spec_wavelengths': [330, 300]}, CommandStatus.SettingOutsideLimits),
    ({'exposure': 1}, CommandStatus.UnknownSetting),
    ({}, CommandStatus.InvalidArgument),
    ('frame_rate', CommandStatus.InvalidArgument),
    (None, CommandStatus.InvalidArgument),
]


def test_bad_settings_are_refused_with_their_code_and_change_nothing(pycam):
    before = pycam.status()['settings']
    with pycam.proxy() as proxy:
        for request, code in BAD:
            assert proxy.set_settings(request) == code, request
            assert proxy.report_status()['settings'] == before, request
        assert proxy.set_settings({'frame_rate': 0.5, 'saturation_rows': [10, 300], 'gain_b': 2}) == 0
        after = proxy.report_status()['settings']
    assert (after['frame_rate'], after['saturation_rows'], after['gain_b']) == (0.5, [10, 300], 2.0)

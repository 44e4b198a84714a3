"""A configured exposure list the device cannot take: the device stays OFFLINE with a
reason naming both ranges (nothing is captured at a time the device would clamp), and
the other device of the instrument works on."""
from pycam_harness import INTEGRATIONS, SHUTTERS, config_for


def test_integration_times_beyond_the_spectrometers_limits_keep_it_offline(make_pycam, tmp_path):
    spectrometer = config_for('x', tmp_path)['spectrometer']
    spectrometer['integration_times'] = INTEGRATIONS + [70_000]     # the simulated Flame-S takes 1-65000 ms
    pycam = make_pycam(spectrometer=spectrometer, wait_online=False)
    status = pycam.wait(lambda s: s['cameras']['status'] == 1 and 'offline_reason' in s['spectrometer'] and
                        s['spectrometer']['offline_reason'] != 'connecting', message='cameras up, spectrometer refused')
    reason = status['spectrometer']['offline_reason']
    assert 'spectrometer takes 1-65000 ms' in reason and f'list {INTEGRATIONS[0]}-70000 ms' in reason, reason
    assert status['spectrometer']['status'] == 0 and status['status'] == 0


def test_shutter_speeds_beyond_the_cameras_limits_keep_them_offline(make_pycam):
    pycam = make_pycam(shutter_speeds=SHUTTERS + [7_000_000], wait_online=False)   # the simulated camera: 130-6e6 us
    status = pycam.wait(lambda s: s['spectrometer']['status'] == 1 and 'offline_reason' in s['cameras'] and
                        s['cameras']['offline_reason'] != 'connecting', message='spectrometer up, cameras refused')
    reason = status['cameras']['offline_reason']
    assert 'camera takes 130-6000000 us' in reason and f'list {SHUTTERS[0]}-7000000 us' in reason, reason
    assert status['cameras']['status'] == 0

"""Dark sequences: one capture at every exposure of each device's list, progress in status,
and stop aborts them."""
from rockit.pycam.codes import CommandStatus
from rockit.pycam.storage import names

SHORT_LIST = [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000]
SPECTROMETER = {'backend': 'simulated', 'integration_time': 50, 'integration_times': [10, 20, 50, 100, 150]}


def test_a_dark_sequence_covers_every_exposure_with_progress_in_status(make_pycam):
    pycam = make_pycam(shutter_speeds=SHORT_LIST, spectrometer=SPECTROMETER)
    assert pycam.call('capture_darks') == CommandStatus.Succeeded
    assert pycam.call('capture_darks') == CommandStatus.AcquisitionRunning
    assert pycam.call('start_acquisition', 'cameras') == CommandStatus.AcquisitionRunning
    seen = set()

    def finished(status):
        for device in ('cameras', 'spectrometer'):
            if status[device]['darks']:
                seen.add((device, status[device]['darks']['done'], status[device]['darks']['total']))
        return all((status[d]['last_darks'] or {}).get('completed') for d in ('cameras', 'spectrometer'))

    status = pycam.wait(finished, timeout=30, message='dark sequences complete')
    assert any(device == 'cameras' and 0 < done < total == len(SHORT_LIST) for device, done, total in seen)
    assert status['cameras']['last_darks']['done'] == len(SHORT_LIST)
    assert status['cameras']['mode'] == 'idle'

    darks = [names.parse_image_name(p.name) for p in pycam.files('*_Dark.png')]
    for band in ('fltrA', 'fltrB'):
        measured = sorted(d.exposure_us for d in darks if d.filter == band)
        assert len(measured) == len(SHORT_LIST)
        assert all(abs(m - s) < 30 for m, s in zip(measured, SHORT_LIST)), measured
    spectra = sorted(names.parse_spectrum_name(p.name).integration_ms for p in pycam.files('*_Dark.npy'))
    assert spectra == SPECTROMETER['integration_times']
    assert pycam.status()['settings']['shutter_b'] == 4000        # darks leave the settings alone


def test_stop_aborts_a_dark_sequence(make_pycam):
    pycam = make_pycam(spectrometer=False)
    assert pycam.call('capture_darks', 'cameras') == CommandStatus.Succeeded
    pycam.wait(lambda s: s['cameras']['darks'] and s['cameras']['darks']['done'] >= 2, message='darks under way')
    assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
    status = pycam.status()
    assert status['cameras']['darks'] is None and status['cameras']['last_darks']['completed'] is False
    assert status['cameras']['last_darks']['done'] < status['cameras']['last_darks']['total']

"""pycamd end to end on its simulators: continuous capture on the wall-clock grid, missed
slots counted, single captures of each type, and what is refused while acquisition runs."""
import datetime
import json
import time

import numpy as np

from pycam_harness import SHUTTERS, read_png, read_spectrum
from rockit.pycam.codes import CommandStatus
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH
from rockit.pycam.storage import names


def pairs_by_stamp(pycam, capture_type):
    pairs = {}
    for path in pycam.files('*.png'):
        parsed = names.parse_image_name(path.name)
        assert parsed, path.name
        if parsed.kind == capture_type:
            pairs.setdefault(parsed.time, {})[parsed.filter] = (path, parsed)
    return pairs


def test_continuous_capture_writes_named_readable_pairs_and_spectra_on_the_grid(pycam):
    assert pycam.call('start_acquisition') == CommandStatus.Succeeded
    status = pycam.wait(lambda s: s['cameras']['captures_saved'] >= 4 and s['spectrometer']['captures_saved'] >= 4,
                        timeout=30, message='4 captures of each device')
    assert status['cameras']['mode'] == 'continuous' and status['cameras']['next_slot']
    assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
    status = pycam.status()
    assert status['cameras']['continuous'] is False and status['spectrometer']['mode'] == 'idle'

    pairs = pairs_by_stamp(pycam, 'Plume')
    stamps = sorted(pairs)
    assert len(stamps) == status['cameras']['captures_saved']
    assert all(set(pair) == {'fltrA', 'fltrB'} for pair in pairs.values())      # both cameras, one slot
    span = int((stamps[-1] - stamps[0]).total_seconds()) + 1                    # 1 Hz grid
    assert len(stamps) + status['cameras']['slots_missed'] >= span              # every slot taken or counted
    for stamp, pair in pairs.items():
        for band, (path, parsed) in pair.items():
            image = read_png(path)
            assert image.dtype == np.uint16 and image.shape == (IMAGE_HEIGHT, IMAGE_WIDTH) and 16 <= image.max() <= 1023
            sidecar = json.loads(path.with_suffix('.json').read_text())
            assert sidecar['exposure_us'] == parsed.exposure_us and sidecar['band'] == band
            assert sidecar['time'] == stamp.strftime('%Y-%m-%dT%H:%M:%SZ') and sidecar['type'] == 'Plume'
            assert path.parent.name == stamp.strftime('%Y-%m-%d')
            written = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
            assert written >= stamp, 'a file stamped with a slot that had not begun'   # how late: bench/pycam_frames.py

    spectra = [p for p in pycam.files('*.npy') if names.parse_spectrum_name(p.name).kind == 'Plume']
    assert len(spectra) == status['spectrometer']['captures_saved']
    spectrum = read_spectrum(spectra[-1])
    assert spectrum.shape == (2, 2048) and 241 < spectrum[0, 0] < 243 and spectrum[1].max() <= 65535
    assert json.loads(spectra[-1].with_suffix('.json').read_text())['coadds'] == 1
    assert not [p for p in pycam.files() if p.name.startswith('.')]            # no temporary files left
    assert status['storage']['files_written'] == len(pycam.files())


def test_a_capture_longer_than_the_period_misses_slots_and_counts_them(make_pycam):
    pycam = make_pycam(spectrometer=False, shutter_speeds=SHUTTERS + [1200000])
    assert pycam.call('set_settings', {'auto_a': False, 'shutter_a': 1200000}) == CommandStatus.Succeeded
    assert pycam.call('start_acquisition', 'cameras') == CommandStatus.Succeeded
    status = pycam.wait(lambda s: s['cameras']['captures_saved'] >= 2 and s['cameras']['slots_missed'] >= 1,
                        timeout=20, message='a missed slot')
    pycam.call('stop_acquisition')
    status = pycam.status()
    stamps = sorted(pairs_by_stamp(pycam, 'Plume'))
    span = int((stamps[-1] - stamps[0]).total_seconds()) + 1
    assert len(stamps) < span <= len(stamps) + status['cameras']['slots_missed']
    assert 'missed' in pycam.daemon.output()


def test_single_captures_of_each_type_and_what_is_refused(pycam):
    for capture_type in ('Test', 'Clear', 'Dark', '304ppmm', 'Plume'):
        assert pycam.call('capture', capture_type) == CommandStatus.Succeeded, capture_type
    types = {names.parse_image_name(p.name).kind for p in pycam.files('*.png')}
    assert types == {'Test', 'Clear', 'Dark', '304ppmm', 'Plume'}
    assert {names.parse_spectrum_name(p.name).kind for p in pycam.files('*.npy')} == types
    dark = read_png(next(p for p in pycam.files('*fltrB*_Dark.png')))
    clear = read_png(next(p for p in pycam.files('*fltrB*_Clear.png')))
    assert dark.mean() < 30 < clear.mean()                    # the simulator's lens cap for Dark
    assert pycam.call('capture', 'Test', 'spectrometer') == CommandStatus.Succeeded
    assert len(pycam.files('*_Test.png')) == 2               # cameras untouched

    for bad in ('../Plume', 'plume', 'Plume.png', '1e3ppmm', '', 7, None, ['Test']):
        assert pycam.call('capture', bad) == CommandStatus.InvalidCaptureType, bad
    assert pycam.call('capture', 'Test', 'telescope') == CommandStatus.InvalidDevice
    assert pycam.call('start_acquisition', 'cameras') == CommandStatus.Succeeded
    assert pycam.call('capture', 'Test', 'cameras') == CommandStatus.AcquisitionRunning
    assert pycam.call('capture_darks', 'cameras') == CommandStatus.AcquisitionRunning
    assert pycam.call('capture', 'Test', 'spectrometer') == CommandStatus.Succeeded    # not running
    assert pycam.call('stop_acquisition', 'all') == CommandStatus.Succeeded


def test_a_device_restart_and_shutdown_then_initialize(pycam):
    assert pycam.call('restart_device', 'cameras') == CommandStatus.Succeeded
    assert pycam.call('restart_device', 'all') == CommandStatus.InvalidDevice
    assert pycam.call('initialize') == CommandStatus.NotDisconnected
    assert pycam.call('shutdown') == CommandStatus.Succeeded
    status = pycam.status()
    assert status['status'] == 0 and 'operator' in status['cameras']['offline_reason']
    assert pycam.call('capture', 'Test') == CommandStatus.NotConnected
    assert pycam.call('start_acquisition') == CommandStatus.NotConnected
    time.sleep(1.5)
    assert pycam.status()['status'] == 0                      # no reconnection behind the operator's back
    assert pycam.call('initialize') == CommandStatus.Succeeded
    assert pycam.status()['status'] == 1
    assert pycam.call('capture', 'Test') == CommandStatus.Succeeded


def test_a_spectrometer_only_instrument_refuses_camera_work(make_pycam):
    pycam = make_pycam(cameras=False)
    assert 'cameras' not in pycam.status()
    assert pycam.call('capture', 'Test', 'cameras') == CommandStatus.DeviceNotConfigured
    assert pycam.call('set_settings', {'gain_a': 2.0}) == CommandStatus.DeviceNotConfigured
    assert pycam.call('capture', 'Test') == CommandStatus.Succeeded
    assert len(pycam.files('*.npy')) == 1 and not pycam.files('*.png')

"""The simulators keep to the device interfaces the daemon uses (picamera2, seabreeze) and
render what processing needs to see: a plume darker on-band, counts that scale with exposure,
saturation at full scale, SO2 absorption in the spectra."""
import time

import numpy as np
import pytest

from rockit.common.errors import DeviceError
from rockit.pycam.acquisition import frames
from rockit.pycam.devices import raw10
from rockit.pycam.devices.camera import SO2Camera
from rockit.pycam.devices.spectrometer import SO2Spectrometer
from rockit.pycam.instrument import IMAGE_HEIGHT, RAW_HEIGHT, RAW_WIDTH
from rockit.pycam.simulator.camera import SimulatedPicamera2
from rockit.pycam.simulator.scene import PlumeScene
from rockit.pycam.simulator.spectrometer import SimulatedSpectrometer

SIZE = (RAW_WIDTH, RAW_HEIGHT)


def open_camera(band, scene=None, fmt=None):
    camera = SO2Camera(band, lambda: SimulatedPicamera2(0 if band == 'fltrA' else 1, band, scene, seed=3), SIZE,
                       fmt, longest_exposure=256000)
    camera.open()
    return camera


def binned(camera, exposure_us, gain=1.0):
    frame = camera.capture(exposure_us, gain)
    return frames.bin_raw(frame.raw, *SIZE, camera.packed), frame.metadata


def test_the_camera_speaks_the_picamera2_subset():
    camera = SimulatedPicamera2(0, 'fltrA')
    assert camera.sensor_resolution == SIZE
    assert any(tuple(m['size']) == SIZE and m['bit_depth'] == 10 for m in camera.sensor_modes)
    assert camera.camera_controls['ExposureTime'][0] > 0
    with pytest.raises(RuntimeError):
        camera.capture_request()                     # not started
    camera.configure(camera.create_still_configuration(raw={'format': 'SGBRG10_CSI2P', 'size': SIZE}, buffer_count=1))
    camera.start()
    with pytest.raises(RuntimeError):
        camera.set_controls({'Brightness': 0.5})     # unknown controls are refused, as libcamera does
    request = camera.capture_request()
    raw, metadata = request.make_array('raw'), request.get_metadata()
    request.release()
    assert raw.dtype == np.uint8 and raw.shape == (RAW_HEIGHT, raw10.stride(RAW_WIDTH))
    assert set(metadata) >= {'ExposureTime', 'AnalogueGain', 'SensorTimestamp', 'FrameDuration'}


def test_measured_exposure_is_whole_sensor_lines_and_new_controls_wait_for_a_new_frame():
    camera = open_camera('fltrB')
    _, metadata = binned(camera, 1400)
    assert metadata['ExposureTime'] != 1400 and abs(metadata['ExposureTime'] - 1400) < 30
    camera.device.set_controls({'ExposureTime': 8000})
    request = camera.device.capture_request()        # the frame already being exposed
    assert abs(request.get_metadata()['ExposureTime'] - 1400) < 30
    request.release()
    camera.close()


def test_counts_scale_with_exposure_and_saturate_at_1023():
    camera = open_camera('fltrB')
    short, _ = binned(camera, 1000)
    double, _ = binned(camera, 2000)
    sky = np.s_[100:380, 100:540]
    ratio = (double[sky].astype(float) - 16).mean() / (short[sky].astype(float) - 16).mean()
    assert 1.9 < ratio < 2.1
    over, _ = binned(camera, 64000)
    assert over.max() == raw10.MAX_DN and (over[sky] == raw10.MAX_DN).mean() > 0.5
    camera.close()


def test_the_plume_is_darker_on_band_than_off_band():
    scene = PlumeScene(wind_speed=0.0)
    column = scene.column(0.0)
    plume, sky = column > 0.5 * column.max(), (column < 1) & (np.arange(IMAGE_HEIGHT)[:, None] < 380)
    ratios = {}
    for band, exposure_us in (('fltrA', 32000), ('fltrB', 3200)):
        camera = open_camera(band, scene)
        image, _ = binned(camera, exposure_us)
        radiance = scene.radiance(band)
        signal = (image.astype(float) - 16) / radiance
        ratios[band] = signal[plume].mean() / signal[sky].mean()
        camera.close()
    assert ratios['fltrA'] < 0.9 < 0.97 < ratios['fltrB']


def test_the_plume_drifts_with_the_wind():
    scene = PlumeScene(wind_speed=20.0)
    row = int(scene.centre_row(300))
    before, after = scene.column(0.0)[row, 100:500], scene.column(2.0)[row, 100:500]
    # after[x] matches before[x + shift]: what was at x + 40 is at x 2 s later, at 20 px/s to the left.
    shifts = [np.dot(np.roll(before, -s), after) for s in range(-60, 61)]
    assert np.argmax(shifts) - 60 == pytest.approx(40, abs=4)


def test_the_spectrometer_speaks_the_seabreeze_subset_and_sees_so2():
    device = SimulatedSpectrometer(PlumeScene(wind_speed=0.0), seed=2)
    wavelengths = device.wavelengths()
    assert wavelengths.shape == (2048,) and 241 < wavelengths[0] < 243 and 403 < wavelengths[-1] < 405
    assert device.pixels == 2048 and device.max_intensity == 65535.0
    with pytest.raises(ValueError):
        device.integration_time_micros(10)
    spectrometer = SO2Spectrometer(lambda: device)
    spectrometer.open()
    device.mimic_operator('Dark')
    dark = spectrometer.capture(20, 2)
    assert 900 < dark.mean() < 1150
    device.mimic_operator('Clear')
    clear = spectrometer.capture(20, 2) - dark
    device.mimic_operator('1257ppmm')
    cell = spectrometer.capture(20, 2) - dark
    absorbing, clear_band = (wavelengths > 305) & (wavelengths < 315), (wavelengths > 340) & (wavelengths < 360)
    assert (cell[absorbing] / clear[absorbing]).mean() < 0.8 * (cell[clear_band] / clear[clear_band]).mean()
    device.mimic_operator('Clear')
    assert spectrometer.capture(400, 1).max() == 65535.0      # saturates at full scale


def test_a_spectrum_takes_its_integration_time():
    spectrometer = SO2Spectrometer(lambda: SimulatedSpectrometer(seed=1))
    spectrometer.open()
    spectrometer.capture(100, 1)
    start = time.monotonic()
    spectrometer.capture(100, 3)
    assert 0.29 < time.monotonic() - start < 10    # three integrations, in ms, not seconds


def test_a_real_backend_that_is_not_installed_is_an_offline_reason():
    from rockit.pycam.devices.selection import picamera_opener
    camera = SO2Camera('fltrA', picamera_opener(0), SIZE)
    with pytest.raises(DeviceError, match='picamera2'):
        camera.open()


def test_the_filters_make_aa_bend_over_and_cells_carry_their_windows():
    from rockit.pycam.simulator.camera import CELL_WINDOW_DEPTH
    scene = PlumeScene(wind_speed=0.0, sky_aa_gradient=0.0)
    optics = scene.optics
    per_ppmm = [optics.absorbance(c) / c for c in (10, 304, 1257)]
    assert per_ppmm[0] > per_ppmm[1] > per_ppmm[2] and per_ppmm[2] < 0.95 * per_ppmm[0]
    aa = {}
    for cell in ('0ppmm', '1257ppmm'):
        counts = {}
        for band, exposure_us in (('fltrA', 32000), ('fltrB', 3200)):
            camera = SimulatedPicamera2(0, band, scene, seed=3)
            clear = camera.stored_frame('Clear', exposure_us, 0.0).astype(float) - 16
            counts[band] = clear[100:300, 400:600].mean() / (camera.stored_frame(cell, exposure_us, 0.0).astype(float)
                                                            - 16)[100:300, 400:600].mean()
        aa[cell] = np.log(counts['fltrA']) - np.log(counts['fltrB'])
    window = CELL_WINDOW_DEPTH['fltrA'] - CELL_WINDOW_DEPTH['fltrB']
    assert aa['0ppmm'] == pytest.approx(window, abs=0.001)           # the empty cell: its windows alone
    assert aa['1257ppmm'] == pytest.approx(window + optics.absorbance(1257), abs=0.003)


def test_light_dilution_lowers_the_plumes_apparent_absorption():
    clear, diluted = PlumeScene(wind_speed=0.0), PlumeScene(wind_speed=0.0, extinction_per_km=0.1,
                                                            plume_distance_m=5000)
    column = np.float32(200.0)
    aa = {name: -np.log(scene.transmission('fltrA', column)) + np.log(scene.transmission('fltrB', column))
          for name, scene in (('clear', clear), ('diluted', diluted))}
    assert aa['clear'] == pytest.approx(clear.optics.absorbance(200.0), rel=1e-5)
    assert aa['diluted'] < 0.7 * aa['clear']        # exp(-0.5) of the light crossed the plume
    spectrometer = SimulatedSpectrometer(diluted, seed=1)
    assert spectrometer.render(0.0).shape == (2048,)

"""SO2Camera: one band's Pi camera through the picamera2 interface, real or simulated.

The camera streams raw full-resolution frames with its own auto exposure off; the daemon
sets exposure and gain itself. New controls reach the sensor a frame or more after
set_controls, so frames are taken until their metadata shows the exposure and gain asked
for (a bounded number), and the exposure recorded is the one the metadata measured.
"""
from typing import NamedTuple

from rockit.common.errors import DeviceError

from . import raw10

APPLY_FRAMES = 6              # frames allowed for new controls to show in the metadata
FRAME_WAIT_MARGIN = 2.0       # s beyond two exposures that a frame may take to arrive
FRAME_DURATION_MARGIN = 100_000   # us of frame time beyond the longest exposure


class RawFrame(NamedTuple):
    raw: object          # numpy uint8 (height, stride), see raw10.py
    metadata: dict


def _applied(metadata, exposure_us, gain):
    measured, measured_gain = metadata.get('ExposureTime'), metadata.get('AnalogueGain')
    if measured is None or measured_gain is None:
        return False
    return abs(measured - exposure_us) <= max(0.01 * exposure_us, 100) and abs(measured_gain - gain) <= 0.05 * gain


class SO2Camera:
    def __init__(self, band, open_device, raw_size, raw_format=None, longest_exposure=None):
        self.band = band
        self.width, self.height = raw_size
        self._open_device = open_device
        self._requested_format = raw_format
        self._longest_exposure = longest_exposure
        self.device = None
        self.raw_format = None
        self.packed = None
        self.model = None
        self._controls = None

    def open(self):
        try:
            self.device = self._open_device()
            mode = self._sensor_mode()
            self.raw_format = str(self._requested_format or mode['format'])
            self.packed = raw10.is_packed(self.raw_format)
            if mode.get('bit_depth', raw10.BITS) != raw10.BITS:
                raise DeviceError(f'{self.band} camera: a {mode["bit_depth"]}-bit sensor mode, '
                                  f'not the {raw10.BITS}-bit one this instrument uses')
            controls = {'AeEnable': False}
            frame_limits = self.device.camera_controls.get('FrameDurationLimits')
            if frame_limits and self._longest_exposure:
                longest = min(frame_limits[1], self._longest_exposure + FRAME_DURATION_MARGIN)
                controls['FrameDurationLimits'] = (frame_limits[0], longest)
            configuration = self.device.create_still_configuration(
                raw={'format': self.raw_format, 'size': (self.width, self.height)}, buffer_count=2,
                controls=controls)
            self.device.configure(configuration)
            self.device.start()
            self.model = type(self.device).__name__
            self._controls = None
        except DeviceError:
            self.close()
            raise
        except Exception as e:  # picamera2 and libcamera raise a variety of errors
            self.close()
            raise DeviceError(f'{self.band} camera: {e or type(e).__name__}') from None

    def _sensor_mode(self):
        for mode in self.device.sensor_modes:
            if tuple(mode['size']) == (self.width, self.height):
                return mode
        raise DeviceError(f'{self.band} camera has no {self.width} x {self.height} sensor mode')

    def exposure_limits(self):
        low, high, _ = self.device.camera_controls['ExposureTime']
        return low, high

    def close(self):
        device, self.device = self.device, None
        if device is not None:
            for step in (device.stop, device.close):
                try:
                    step()
                except Exception:
                    pass

    def mimic_operator(self, capture_type):
        """Simulators only: what an operator does for a capture type (a lens cap for Dark,
        a calibration cell for <N>ppmm). Real cameras have no such method: the operator does it."""
        mimic = getattr(self.device, 'mimic_operator', None)
        if mimic is not None:
            mimic(capture_type)

    def capture(self, exposure_us, gain):
        """A raw frame exposed for exposure_us at gain, with its metadata."""
        if self.device is None:
            raise DeviceError(f'{self.band} camera is not open')
        try:
            # A frame that never comes (a hung camera link) must not hold the device thread
            # for ever: it may take the frame being exposed with the old controls, then one.
            timeout = (exposure_us + (self._controls or (exposure_us,))[0]) / 1e6 + FRAME_WAIT_MARGIN
            if self._controls != (exposure_us, gain):
                self.device.set_controls({'ExposureTime': int(exposure_us), 'AnalogueGain': float(gain)})
                self._controls = (exposure_us, gain)
            for _ in range(APPLY_FRAMES):
                request = self.device.wait(self.device.capture_request(wait=False), timeout)
                try:
                    metadata = dict(request.get_metadata())
                    if _applied(metadata, exposure_us, gain):
                        return RawFrame(request.make_array('raw'), metadata)
                finally:
                    request.release()
        except TimeoutError:
            raise DeviceError(f'{self.band} camera: no frame within {timeout:.1f} s') from None
        except Exception as e:
            raise DeviceError(f'{self.band} camera: {e or type(e).__name__}') from None
        raise DeviceError(f'{self.band} camera did not apply {exposure_us} us at gain {gain:g} '
                          f'within {APPLY_FRAMES} frames')

"""The device interfaces the daemon uses, as small as its needs: a subset of picamera2's
Picamera2 and of seabreeze's Spectrometer (docs/protocols.md section 4). The real backends
are those libraries' own objects; the simulators implement exactly these members, so the
daemon runs the same code on either.
"""
from typing import Protocol


class CameraRequest(Protocol):
    def make_array(self, name: str):
        """For 'raw': uint8 (height, stride) for a packed format, see raw10.py."""

    def get_metadata(self) -> dict:
        """Holds 'ExposureTime' (us), 'AnalogueGain', 'SensorTimestamp' (ns), 'FrameDuration' (us)."""

    def release(self) -> None:
        """Give the buffer back to the camera."""


class CameraDevice(Protocol):
    """picamera2.Picamera2(camera_num)."""
    sensor_resolution: tuple
    sensor_modes: list            # dicts with 'format', 'unpacked', 'bit_depth', 'size', 'exposure_limits'
    camera_controls: dict         # {name: (min, max, default)}

    def create_still_configuration(self, main=None, raw=None, buffer_count=1, controls=None) -> dict: ...

    def configure(self, configuration) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def set_controls(self, controls: dict) -> None:
        """Takes effect a frame or more later; unknown names raise RuntimeError."""

    def capture_request(self, wait=None) -> CameraRequest:
        """The next completed frame of the running camera; with wait=False a job for wait()."""

    def wait(self, job, timeout=None) -> CameraRequest:
        """The frame of a capture_request(wait=False) job; TimeoutError after timeout s."""

    def close(self) -> None: ...


class SpectrometerDevice(Protocol):
    """seabreeze.spectrometers.Spectrometer."""
    model: str
    serial_number: str
    pixels: int
    max_intensity: float
    integration_time_micros_limits: tuple

    def wavelengths(self): ...

    def intensities(self, correct_dark_counts=False, correct_nonlinearity=False): ...

    def integration_time_micros(self, integration_time_micros: int) -> None: ...

    def close(self) -> None: ...

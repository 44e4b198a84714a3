"""A simulated Pi v1 camera (OV5647) behind a UV filter, with the members of picamera2's
Picamera2 the daemon uses (devices.interfaces.CameraDevice), rendering the simulated scene.

Raw frames are 2592 x 1944 RAW10 packed as picamera2 gives them for SGBRG10_CSI2P: uint8
(1944, 3264), 4 pixels in 5 bytes, rows padded to 32 bytes (devices/raw10.py); an unpacked
SGBRG10 configuration gives 16-bit pixels instead. Counts are a black level of 16 plus the
scene's radiance times exposure and gain, through the SO2 of the plume (on-band fltrA at
310 nm absorbs strongly, off-band fltrB at 330 nm hardly; optics.py integrates the SO2
cross-section over each filter), with shot and read noise, and clip at 1023 as a real
sensor saturates. As an operator would, the simulator points the camera at clear sky for
Clear and calibration-cell (<N>ppmm) captures, so those frames hold no plume, and caps the
lens for Dark. A cell's quartz windows dim the bands a little differently
(CELL_WINDOW_DEPTH), so even the empty cell has an AA, the cell set's offset. The scene is rendered at the scale the daemon stores
(each 4 x 4 block of raw pixels shares one value, with the noise of a block's mean): that
keeps a simulated frame cheap enough for two cameras a second on a busy test machine.

The camera streams like a real one: frames follow each other back to back, each lasting
its exposure (at least the sensor's shortest frame time); capture_request() waits for the
frame being exposed to finish; set_controls() takes effect from the next frame that starts.
The exposure is a whole number of sensor lines, so the metadata's ExposureTime differs a
little from the one asked for, as on the real sensor. As picamera2, capture_request(wait=False)
gives a job and wait(job, timeout) the frame, or TimeoutError when none arrives in time.

Fault switches, on the class so that they hold for the camera a reconnection opens too:
`unplugged` (bands whose camera is gone: opening fails and frames stop) and `frames_stalled`
(the camera stays open but frames stop arriving, as when the CSI link hangs).
"""
import math
import threading
import time

import numpy as np

from ..devices import raw10
from ..instrument import BLACK_LEVEL_DN, OFF_BAND, ON_BAND, RAW_HEIGHT, RAW_WIDTH
from .scene import PlumeScene

WIDTH, HEIGHT = RAW_WIDTH, RAW_HEIGHT
FORMAT, UNPACKED = 'SGBRG10_CSI2P', 'SGBRG10'
LINE_TIME_US = 28.57
MIN_FRAME_US = 63_965
MAX_EXPOSURE_US = 6_000_000
BLACK_LEVEL = float(BLACK_LEVEL_DN)
READ_NOISE = 1.5
ELECTRONS_PER_COUNT = 2.0
# Counts per ms at gain 1 for the brightest sky; the optical depth of a calibration cell's
# two quartz windows per band (an empty cell's AA is their difference, -0.004).
BAND_RATE = {ON_BAND: 25.0, OFF_BAND: 250.0}
CELL_WINDOW_DEPTH = {ON_BAND: 0.040, OFF_BAND: 0.044}
CONTROLS = {
    'ExposureTime': (130, MAX_EXPOSURE_US, 20000),
    'AnalogueGain': (1.0, 63.9375, 1.0),
    'AeEnable': (False, True, True),
    'FrameDurationLimits': (MIN_FRAME_US, MAX_EXPOSURE_US + 200_000, MIN_FRAME_US),
}


class SimulatedRequest:
    """A completed frame; its pixels are rendered when first asked for, so that frames a
    caller drops after reading their metadata cost no rendering."""

    def __init__(self, render, metadata):
        self._render, self._metadata, self._released = render, metadata, False
        self._raw = None

    def make_array(self, name):
        if name != 'raw':
            raise RuntimeError(f'no stream {name!r} (only raw is configured)')
        if self._released:
            raise RuntimeError('request already released')
        if self._raw is None:
            self._raw = self._render()
        return self._raw

    def get_metadata(self):
        return dict(self._metadata)

    def release(self):
        self._released = True


class FrameJob:
    """capture_request(wait=False)'s handle on the next frame, for wait()."""


class SimulatedPicamera2:
    unplugged = set()
    frames_stalled = False

    def __init__(self, camera_num=0, band=ON_BAND, scene=None, seed=None):
        if band not in BAND_RATE:
            raise ValueError(f'no simulated filter {band!r}')
        if band in self.unplugged:
            raise RuntimeError(f'camera {camera_num} not found')
        self.camera_num, self.band = camera_num, band
        self.scene = scene or PlumeScene()
        self.sensor_resolution = (WIDTH, HEIGHT)
        self.sensor_modes = [
            {'format': FORMAT, 'unpacked': UNPACKED, 'bit_depth': 10, 'size': (640, 480), 'fps': 58.92,
             'exposure_limits': (130, 969249, None)},
            {'format': FORMAT, 'unpacked': UNPACKED, 'bit_depth': 10, 'size': (WIDTH, HEIGHT), 'fps': 15.63,
             'exposure_limits': (130, MAX_EXPOSURE_US, None)},
        ]
        self.camera_controls = dict(CONTROLS)
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()
        self._configured = self._started = False
        self._packed = True
        self._active = {'ExposureTime': 20000, 'AnalogueGain': 1.0}
        self._pending = None
        self._frame_start = None
        self._cell_ppmm = None
        self._capped = False
        self._clear_sky = False

    # Configuration.
    def create_still_configuration(self, main=None, raw=None, buffer_count=1, controls=None, **_):
        return {'use_case': 'still', 'main': main or {}, 'raw': dict(raw or {}), 'buffer_count': buffer_count,
                'controls': dict(controls or {})}

    def configure(self, configuration):
        raw = configuration.get('raw') or {}
        size, fmt = tuple(raw.get('size', (WIDTH, HEIGHT))), raw.get('format', FORMAT)
        if size != (WIDTH, HEIGHT) or fmt not in (FORMAT, UNPACKED):
            raise RuntimeError(f'unsupported raw configuration {fmt} {size}')
        self._packed = fmt == FORMAT
        self._configured = True
        self.set_controls(configuration.get('controls', {}))

    def start(self):
        if not self._configured:
            raise RuntimeError('camera must be configured before start')
        with self._lock:
            if self._pending:
                self._active.update(self._pending)
                self._pending = None
            self._frame_start = time.monotonic()
            self._started = True

    def stop(self):
        self._started = False

    def close(self):
        self._started = self._configured = False

    # Controls and frames.
    def set_controls(self, controls):
        for name, value in controls.items():
            if name not in CONTROLS:
                raise RuntimeError(f'Control {name} is not advertised by libcamera')
        with self._lock:
            self._advance(time.monotonic())
            self._pending = {**(self._pending or {}), **controls}

    def capture_array(self, name='raw'):
        request = self.capture_request()
        try:
            return request.make_array(name)
        finally:
            request.release()

    def capture_request(self, wait=None):
        """The next completed frame; with wait=False, a job for wait()."""
        job = FrameJob()
        return job if wait is False else self.wait(job)

    def wait(self, job, timeout=None):
        """The frame of a job from capture_request(wait=False); TimeoutError when it has not
        arrived within timeout seconds (None: wait for ever, as picamera2)."""
        if not self._started:
            raise RuntimeError('camera is not started')
        waited_until = None if timeout is None else time.monotonic() + timeout
        while self.frames_stalled or self.band in self.unplugged:
            if waited_until is not None and time.monotonic() >= waited_until:
                raise TimeoutError('no frame arrived')
            time.sleep(0.05)
        with self._lock:
            self._advance(time.monotonic())
            start, controls = self._frame_start, dict(self._active)
            duration = self._frame_duration(controls)
        end = start + duration / 1e6
        if waited_until is not None and end > waited_until:
            time.sleep(max(0.0, waited_until - time.monotonic()))
            raise TimeoutError('no frame arrived')
        time.sleep(max(0.0, end - time.monotonic()))
        with self._lock:
            self._advance(time.monotonic())
        exposure = self._measured(controls['ExposureTime'])
        mid_exposure = time.time() - (time.monotonic() - (end - exposure / 2e6))
        gain, packed, view = controls['AnalogueGain'], self._packed, self._view()

        def render():
            return full_frame(self._render(exposure, gain, mid_exposure, view), packed)
        metadata = {'ExposureTime': exposure, 'AnalogueGain': float(controls['AnalogueGain']),
                    'SensorTimestamp': int((end - exposure / 1e6) * 1e9), 'FrameDuration': duration}
        return SimulatedRequest(render, metadata)

    def mimic_operator(self, capture_type):
        """What the operator does for a capture type: the lens cap for Dark; the camera
        turned to clear sky for Clear, and with a calibration cell of N ppm.m in front for
        <N>ppmm; the plume in view otherwise."""
        self._capped = capture_type == 'Dark'
        self._cell_ppmm = float(capture_type[:-4]) if capture_type.endswith('ppmm') else None
        self._clear_sky = capture_type == 'Clear' or capture_type.endswith('ppmm')

    def stored_frame(self, capture_type, exposure_us, t, gain=1.0):
        """The frame of a capture type as pycamd stores it (binned, uint16 counts) with its
        exposure centred on time t (s), at once: for writing sequences of data."""
        self.mimic_operator(capture_type)
        return self._render(exposure_us, gain, t, self._view())

    def _view(self):
        """What is in front of the lens now: None (the cap), or (plume in view, cell ppm.m
        or None without a cell)."""
        return None if self._capped else (not self._clear_sky, self._cell_ppmm)

    def _frame_duration(self, controls):
        """us: the exposure, at least the sensor's shortest frame."""
        low, high = controls.get('FrameDurationLimits', (MIN_FRAME_US, CONTROLS['FrameDurationLimits'][1]))
        return int(min(max(self._measured(controls['ExposureTime']), low, MIN_FRAME_US), max(high, MIN_FRAME_US)))

    def _advance(self, now):
        """Move the stream on to the frame being exposed at monotonic time now."""
        if not self._started:
            return
        duration = self._frame_duration(self._active) / 1e6
        if now < self._frame_start + duration:
            return
        self._frame_start += duration
        if self._pending:
            self._active.update(self._pending)
            self._pending = None
            duration = self._frame_duration(self._active) / 1e6
        if now >= self._frame_start + duration:
            self._frame_start += ((now - self._frame_start) // duration) * duration

    @staticmethod
    def _measured(exposure_us):
        lines = max(1, int(exposure_us / LINE_TIME_US))
        return int(lines * LINE_TIME_US)

    def _render(self, exposure_us, gain, t, view):
        """The frame's counts at the scale of the stored image (HEIGHT / 4, WIDTH / 4), with
        the shot and read noise of a 4 x 4 block's mean, clipped at full scale. view: what
        _view() saw when the frame was taken."""
        if view is None:
            signal = np.zeros_like(self.scene.radiance())
        else:
            plume, cell_ppmm = view
            transmitted = self.scene.transmission(self.band, self.scene.column(t)) if plume else np.float32(1)
            if cell_ppmm is not None:
                depth = self.scene.optics.depth(self.band, cell_ppmm) + CELL_WINDOW_DEPTH[self.band]
                transmitted = transmitted * np.float32(math.exp(-depth))
            counts_per_radiance = np.float32(BAND_RATE[self.band] * exposure_us / 1000 * gain)
            signal = self.scene.radiance(self.band) * transmitted * counts_per_radiance
        sigma = np.sqrt(signal * np.float32(gain / ELECTRONS_PER_COUNT) + np.float32(READ_NOISE ** 2)) / 4
        counts = signal + np.float32(BLACK_LEVEL) + sigma * self._rng.standard_normal(signal.shape, dtype=np.float32)
        return np.clip(np.rint(counts), 0, raw10.MAX_DN).astype(np.uint16)


def full_frame(blocks, packed):
    """The raw frame whose every 4 x 4 block of pixels holds one value of blocks: RAW10
    packed (HEIGHT, stride) uint8, or unpacked 16-bit pixels viewed as uint8."""
    rows, columns = blocks.shape
    if not packed:
        return np.repeat(np.repeat(blocks, 4, axis=0), 4, axis=1).view(np.uint8)
    groups = np.empty((rows, columns, 5), np.uint8)
    groups[..., :4] = (blocks >> 2)[..., None]
    groups[..., 4] = _LOW_FIELDS[blocks & 3]
    out = np.zeros((rows, 4, raw10.stride(columns * 4)), np.uint8)
    out[:, :, :columns * 5] = groups.reshape(rows, 1, columns * 5)
    return out.reshape(rows * 4, -1)


_LOW_FIELDS = np.array([0x00, 0x55, 0xAA, 0xFF], np.uint8)   # the same two low bits for 4 pixels

"""The camera pair's acquisition: both cameras captured for the same slot by one thread,
each frame binned, checked for saturation and saved with its sidecar, the pair saved as
one group, then each band's auto exposure moved on and the pair delivered to processing.
A band whose camera is on a second Pi (devices/remote.py) is left out here: this thread
captures the bands of this Pi only."""
import json
import time

from rockit.common.errors import DeviceError
from rockit.common.status import iso

from . import exposure, frames
from .loop import Acquisition
from ..devices import raw10
from ..devices.camera import SO2Camera
from ..instrument import BAND_SUFFIX, BLACK_LEVEL_DN, FILTER_NM, IMAGE_HEIGHT, IMAGE_WIDTH
from ..storage import names
from ..storage.saved import SavedImagePair, read_only

DARK_LEVEL = BLACK_LEVEL_DN / raw10.MAX_DN    # the black level as a fraction of full scale


class CameraPairAcquisition(Acquisition):
    device_name = 'cameras'
    capture_bytes = 2 * (IMAGE_WIDTH * IMAGE_HEIGHT * 2 + 4096)   # two stored PNGs and their sidecars

    def __init__(self, context, config, openers, log):
        super().__init__(context, log)
        self.config = config
        self.cameras = {band: SO2Camera(band, openers[band], config.raw_size, config.raw_format,
                                        longest_exposure=config.shutter_speeds[-1])
                        for band in config.local_cameras}
        self._pipelines = {}
        self._bands = {band: {'exposure_us': None, 'saturation': None, 'last_file': None} for band in self.cameras}

    def open_device(self):
        try:
            for camera in self.cameras.values():
                camera.open()
                low, high = camera.exposure_limits()
                shutters = self.config.shutter_speeds
                if shutters[0] < low or shutters[-1] > high:
                    raise DeviceError(f'{camera.band} camera takes {low}-{high} us, the shutter-speed list '
                                      f'{shutters[0]}-{shutters[-1]} us')
                self._pipelines[camera.band] = frames.FramePipeline(camera.width, camera.height, camera.packed)
        except DeviceError:
            self.close_device()
            raise

    def close_device(self):
        for camera in self.cameras.values():
            camera.close()

    def exposure_choices(self):
        return self.config.shutter_speeds

    def _bands_here(self):
        return [(suffix, band) for suffix, band in BAND_SUFFIX.items() if band in self.cameras]

    def capture_and_save(self, capture_type, moment, dark_exposure=None):
        """capture_type: one for both bands, or {band: type} (a cell in front of one lens,
        the other's frame Clear); the pair is delivered under the cell's type."""
        kinds = capture_type if isinstance(capture_type, dict) else {band: capture_type for band in self.cameras}
        if isinstance(capture_type, dict):
            capture_type = next(kind for kind in kinds.values() if kind.endswith('ppmm'))
        values, generations = self.context.settings.snapshot()
        requested = {}
        for suffix, band in self._bands_here():
            requested[band] = (dark_exposure or values[f'shutter_{suffix}'], values[f'gain_{suffix}'])
            self.cameras[band].mimic_operator(kinds[band])
        captured = {band: self.cameras[band].capture(*requested[band]) for band in self.cameras}

        rows, pixels = values['saturation_rows'], values['saturation_pixels']
        files, images, metadata, levels = [], {}, {}, {}
        for suffix, band in self._bands_here():
            frame = captured[band]
            image, level, png = self._pipelines[band].process(frame.raw, rows, pixels)
            shutter, gain = requested[band]
            measured = int(frame.metadata['ExposureTime'])
            name = names.image_name(moment, band, gain, measured, kinds[band])
            levels[band] = level / raw10.MAX_DN
            metadata[band] = {
                'file': name, 'time': iso(moment), 'type': kinds[band], 'band': band,
                'filter_nm': FILTER_NM[band], 'gain': float(gain), 'exposure_us': measured,
                'requested_exposure_us': int(shutter),
                'auto_exposure': bool(values[f'auto_{suffix}']) and dark_exposure is None,
                'sensor_timestamp_ns': int(frame.metadata.get('SensorTimestamp', 0)),
                'sensor_time_unix': sensor_wall_time(frame.metadata.get('SensorTimestamp')),
                'frame_duration_us': int(frame.metadata.get('FrameDuration', 0)),
                'camera': {'number': self.config.cameras[band].camera_num, 'backend': self.config.cameras[band].backend,
                           'raw_format': self.cameras[band].raw_format,
                           'raw_size': [self.cameras[band].width, self.cameras[band].height]},
                'image_size': [image.shape[1], image.shape[0]], 'binning': frames.BIN, 'bit_depth': raw10.BITS,
                'saturation': {'top_mean': level, 'fraction': levels[band], 'pixels': pixels, 'rows': list(rows),
                               'min': values['min_saturation'], 'max': values['max_saturation']},
                'instrument': self.config.daemon,
            }
            images[band] = read_only(image)
            files += [(name, png), (names.sidecar_name(name), json.dumps(metadata[band], indent=1).encode())]

        paths = self.context.store.save(moment, files)
        pngs = {band: path for (_, band), path in zip(self._bands_here(), paths[0::2])}
        with self._lock:
            for band in self.cameras:
                self._bands[band] = {'exposure_us': metadata[band]['exposure_us'],
                                     'saturation': round(levels[band], 4), 'last_file': pngs[band].name}
        if dark_exposure is None and capture_type != 'Dark':
            self._auto_expose(values, generations, levels)
        self.deliver(SavedImagePair(moment, capture_type, pngs, images, metadata))
        return paths

    def _auto_expose(self, values, generations, levels):
        for suffix, band in self._bands_here():
            if not values[f'auto_{suffix}']:
                continue
            current = values[f'shutter_{suffix}']
            chosen = exposure.next_exposure(self.config.shutter_speeds, current, levels[band],
                                            values['min_saturation'], values['max_saturation'], DARK_LEVEL)
            if chosen != current and self.context.settings.set_automatic(f'shutter_{suffix}', chosen,
                                                                         generations[band]):
                self.log.info('%s auto exposure: %d -> %d us (saturation %.2f)', band, current, chosen, levels[band])

    def device_status(self):
        values, _ = self.context.settings.snapshot()
        with self._lock:
            bands = {band: dict(state) for band, state in self._bands.items()}
        for suffix, band in self._bands_here():
            bands[band].update({'auto_exposure': values[f'auto_{suffix}'], 'shutter_speed': values[f'shutter_{suffix}'],
                                'gain': values[f'gain_{suffix}']})
        return bands


def sensor_wall_time(timestamp_ns):
    """A sensor timestamp (CLOCK_MONOTONIC ns, as libcamera gives it) on this Pi's wall
    clock, in Unix seconds: what lets the halves of a pair from two Pis be compared."""
    if not timestamp_ns:
        return None
    return round(time.time() - (time.monotonic() - timestamp_ns / 1e9), 6)

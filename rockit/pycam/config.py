"""pycamd's config: the daemon's name and control machines, where data goes, and per device
whether it is real (picamera2, seabreeze) or simulated, with its starting settings."""
from pathlib import Path
from typing import NamedTuple

from rockit.common import config

from .field import config as field_config
from .instrument import BAND_SUFFIX, BANDS, IMAGE_HEIGHT, IMAGE_WIDTH, RAW_HEIGHT, RAW_WIDTH, SPECTRUM_PIXELS
from .settings import MAX_FRAME_RATE, MIN_FRAME_RATE

FRACTION = {'type': 'number', 'minimum': 0, 'maximum': 1}
ROWS = {'type': 'array', 'minItems': 2, 'maxItems': 2, 'items': {'type': 'integer', 'minimum': 0,
                                                                  'maximum': IMAGE_HEIGHT}}
ASCENDING = {'type': 'array', 'minItems': 1, 'items': {'type': 'integer', 'minimum': 1}}

CAMERA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['backend'],
    'properties': {
        'backend': {'enum': ['picamera2', 'simulated', 'remote']},
        'daemon': dict(config.DAEMON, description="remote: the second Pi's pycamd that owns this band"),
        'pair_tolerance_ms': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 60000,
                              'description': 'remote: how far apart the sensor times of a pair may be'},
        'camera_num': {'type': 'integer', 'minimum': 0, 'maximum': 7},
        'shutter_speed': {'type': 'integer', 'minimum': 1, 'description': 'us at start'},
        'auto_exposure': {'type': 'boolean'},
        'gain': {'type': 'number', 'minimum': 1, 'maximum': 16},
    },
}

RECTANGLE = {'type': 'array', 'minItems': 4, 'maxItems': 4, 'items': {'type': 'integer', 'minimum': 0},
             'description': '[x0, y0, x1, y1] in on-band pixels'}
SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['daemon', 'log_name', 'control_machines', 'data_root', 'frame_rate'],
    'properties': {
        'daemon': config.DAEMON,
        'log_name': config.LOG_NAME,
        'control_machines': config.MACHINES,
        'data_root': {'type': 'string', 'minLength': 1},
        'free_space_floor_mb': {'type': 'number', 'minimum': 0},
        'frame_rate': {'type': 'number', 'minimum': MIN_FRAME_RATE, 'maximum': MAX_FRAME_RATE},
        'cameras': {
            'type': 'object', 'additionalProperties': False, 'minProperties': 1,
            'properties': dict.fromkeys(BANDS, CAMERA),
            'description': "both bands, or one band alone on the second Pi of a two-Pi instrument",
        },
        'raw_format': {'type': 'string', 'pattern': '^S[RGB]{4}10(_CSI2P)?$'},
        'shutter_speeds': ASCENDING,
        'saturation': {
            'type': 'object', 'additionalProperties': False, 'required': ['min', 'max', 'pixels', 'rows'],
            'properties': {'min': FRACTION, 'max': FRACTION, 'pixels': {'type': 'integer', 'minimum': 1},
                           'rows': ROWS},
        },
        'spectrometer': {
            'type': 'object', 'additionalProperties': False,
            'required': ['backend', 'integration_time', 'integration_times'],
            'properties': {
                'backend': {'enum': ['seabreeze', 'simulated']},
                'serial_number': {'type': 'string', 'minLength': 1},
                'integration_time': {'type': 'integer', 'minimum': 1, 'description': 'ms at start'},
                'integration_times': ASCENDING,
                'auto_integration': {'type': 'boolean'},
                'coadds': {'type': 'integer', 'minimum': 1, 'maximum': 100},
                'saturation': {
                    'type': 'object', 'additionalProperties': False,
                    'required': ['min', 'max', 'pixels', 'wavelengths'],
                    'properties': {'min': FRACTION, 'max': FRACTION, 'pixels': {'type': 'integer', 'minimum': 1,
                                                                               'maximum': SPECTRUM_PIXELS},
                                   'wavelengths': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                                                   'items': {'type': 'number', 'minimum': 200, 'maximum': 1100}}},
                },
            },
        },
        'simulation': {
            'type': 'object', 'additionalProperties': False,
            'properties': {
                'sky_brightness': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 100},
                'wind_speed': {'type': 'number', 'minimum': 0, 'maximum': 200},
                'sky_aa_gradient': {'type': 'number', 'minimum': -1, 'maximum': 1},
                'extinction_per_km': {'type': 'number', 'minimum': 0, 'maximum': 10,
                                      'description': 'light dilution at 310 nm (0: none)'},
                'plume_distance_m': {'type': 'number', 'exclusiveMinimum': 0},
                'spectrometer_view': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                                      'items': {'type': 'number', 'minimum': 0, 'maximum': IMAGE_WIDTH}},
                'seed': {'type': 'integer', 'minimum': 0},
                'clock_offset_s': {'type': 'number', 'minimum': -3600, 'maximum': 3600,
                                   'description': 'how far this Pi reports its clock off (tests)'},
            },
        },
        'processing': {
            'type': 'object',
            'description': 'settings for live processing, passed on as they are (the keys below checked here)',
            'properties': {
                'background': {'enum': ['clear', 'sky', 'surface']},
                'surface_regions': {'type': 'array', 'minItems': 1, 'items': RECTANGLE},
                'surface_order': {'type': 'integer', 'minimum': 1, 'maximum': 4},
                'sky_gradient': {'enum': ['none', 'linear', 'quadratic']},
                'sky_gradient_region': RECTANGLE,
                'distance_per_pixel': {'type': 'boolean'},
                'min_column': {'type': 'number', 'minimum': 0, 'description': 'molecules/cm^2'},
                'speed_mode': {'enum': ['flow', 'histogram', 'cross-correlation', 'global']},
                'global_speed_m_s': {'type': 'number', 'exclusiveMinimum': 0},
                'light_dilution': {'type': 'boolean', 'description': "the spectrometer's light dilution correction"},
                'light_dilution_windows': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                                           'items': {'type': 'array', 'minItems': 2, 'maxItems': 2,
                                                     'items': {'type': 'number'}},
                                           'description': 'the two fit windows, [[low, high], [low, high]] nm'},
                'light_dilution_grid': {'type': 'object', 'additionalProperties': False,
                                        'properties': {'so2_max': {'type': 'number', 'exclusiveMinimum': 0},
                                                       'so2_points': {'type': 'integer', 'minimum': 4},
                                                       'ldf_max': {'type': 'number', 'exclusiveMinimum': 0,
                                                                   'exclusiveMaximum': 1},
                                                       'ldf_points': {'type': 'integer', 'minimum': 4}}},
                'dilution_extinction_per_km': {'type': 'object', 'required': ['on', 'off'],
                                               'additionalProperties': False,
                                               'properties': {'on': {'type': 'number', 'minimum': 0},
                                                              'off': {'type': 'number', 'minimum': 0}}},
                'dilution_terrain': {'type': 'array', 'minItems': 3, 'items': {'type': 'object'}},
                'dilution_ambient_region': RECTANGLE,
                'dilution_distance_m': {'type': 'number', 'exclusiveMinimum': 0},
            },
        },
        **field_config.SCHEMA,
    },
}

DEFAULT_SATURATION = {'min': 0.7, 'max': 0.9, 'pixels': 1000, 'rows': [0, IMAGE_HEIGHT]}
DEFAULT_SPECTRUM_SATURATION = {'min': 0.6, 'max': 0.9, 'pixels': 10, 'wavelengths': [300.0, 335.0]}
DEFAULT_FLOOR_MB = 200
DEFAULT_PAIR_TOLERANCE_MS = 500   # half the 1 Hz period: the cameras free-run, so a frame ends up to one late
LOCAL_CAMERA_KEYS = ('camera_num', 'shutter_speed')
REMOTE = 'remote'


class CameraConfig(NamedTuple):
    backend: str
    camera_num: int = None
    shutter_speed: int = None
    auto_exposure: bool = True
    gain: float = 1.0
    daemon: str = None                 # remote: the second Pi's pycamd
    pair_tolerance_ms: float = DEFAULT_PAIR_TOLERANCE_MS

    @property
    def remote(self):
        return self.backend == REMOTE


class SpectrometerConfig(NamedTuple):
    backend: str
    serial_number: str
    integration_time: int
    integration_times: list
    auto_integration: bool
    coadds: int
    saturation: dict


def _ascending(values):
    return all(a < b for a, b in zip(values, values[1:]))


class PycamConfig(config.DaemonConfig, schema=SCHEMA):
    def __init__(self, data, folder):
        super().__init__(data, folder)
        root = Path(data['data_root'])
        self.data_root = root if root.is_absolute() else Path(folder) / root
        self.floor_bytes = int(data.get('free_space_floor_mb', DEFAULT_FLOOR_MB) * 1e6)
        self.frame_rate = float(data['frame_rate'])
        self.raw_size = (RAW_WIDTH, RAW_HEIGHT)
        self.raw_format = data.get('raw_format')
        self.shutter_speeds = list(data.get('shutter_speeds', []))
        self.saturation = dict(DEFAULT_SATURATION, **data.get('saturation', {}))
        self.cameras = {}
        for band, camera in data.get('cameras', {}).items():
            self.cameras[band] = CameraConfig(
                camera['backend'], camera.get('camera_num'), camera.get('shutter_speed'),
                camera.get('auto_exposure', True), float(camera.get('gain', 1.0)), camera.get('daemon'),
                float(camera.get('pair_tolerance_ms', DEFAULT_PAIR_TOLERANCE_MS)))
        self.spectrometer = None
        if 'spectrometer' in data:
            spec = data['spectrometer']
            self.spectrometer = SpectrometerConfig(
                spec['backend'], spec.get('serial_number'), spec['integration_time'], list(spec['integration_times']),
                spec.get('auto_integration', True), spec.get('coadds', 1),
                dict(DEFAULT_SPECTRUM_SATURATION, **spec.get('saturation', {})))
        self.simulation = dict(data.get('simulation', {}))
        self.processing = dict(data.get('processing', {}))
        self.folder = folder
        self.schedule = data.get('schedule')
        self.housekeeping = data.get('storage')
        self.health = data.get('health')
        self.watchdog = data.get('watchdog')
        self.transfer = data.get('transfer')

    @property
    def local_cameras(self):
        return {band: camera for band, camera in self.cameras.items() if not camera.remote}

    @property
    def remote_cameras(self):
        """{band: camera} of the bands a pycamd on a second Pi captures for this one."""
        return {band: camera for band, camera in self.cameras.items() if camera.remote}

    @property
    def single_band(self):
        """A second Pi's pycamd: one band's camera, whose frames a master fetches."""
        return len(self.cameras) == 1

    @property
    def devices(self):
        return ({'cameras'} if self.cameras else set()) | ({'spectrometer'} if self.spectrometer else set())

    def initial_settings(self):
        """The acquisition settings at daemon start (settings.py names them)."""
        values = {'frame_rate': self.frame_rate}
        if self.cameras:
            for suffix, band in BAND_SUFFIX.items():
                camera = self.cameras.get(band)
                if camera is None or camera.remote:   # a remote band's come from its own pycamd
                    continue
                values.update({f'auto_{suffix}': camera.auto_exposure, f'shutter_{suffix}': camera.shutter_speed,
                               f'gain_{suffix}': camera.gain})
            saturation = self.saturation
            values.update(min_saturation=float(saturation['min']), max_saturation=float(saturation['max']),
                          saturation_pixels=saturation['pixels'], saturation_rows=list(saturation['rows']))
        if self.spectrometer:
            spec = self.spectrometer
            saturation = spec.saturation
            values.update(spec_auto=spec.auto_integration, spec_integration=spec.integration_time,
                          spec_coadds=spec.coadds, spec_min_saturation=float(saturation['min']),
                          spec_max_saturation=float(saturation['max']), spec_saturation_pixels=saturation['pixels'],
                          spec_wavelengths=[float(w) for w in saturation['wavelengths']])
        return values

    @classmethod
    def extra_problems(cls, data):
        problems = []
        if 'cameras' not in data and 'spectrometer' not in data:
            problems.append('(top level): configure cameras, a spectrometer, or both')
        shutters = data.get('shutter_speeds')
        if 'cameras' in data:
            if not shutters:
                problems.append('shutter_speeds: required with cameras')
            elif not _ascending(shutters):
                problems.append('shutter_speeds: must be in ascending order without repeats')
            problems += _camera_problems(data['cameras'])
            if shutters and _ascending(shutters):
                for band, camera in data['cameras'].items():
                    if 'shutter_speed' in camera and not shutters[0] <= camera['shutter_speed'] <= shutters[-1]:
                        problems.append(f'cameras.{band}.shutter_speed: {camera["shutter_speed"]} is outside '
                                        f'the shutter_speeds ({shutters[0]}-{shutters[-1]})')
        saturation = data.get('saturation', {})
        if saturation and not saturation['min'] < saturation['max']:
            problems.append('saturation.min: must be below saturation.max')
        if saturation and not saturation['rows'][0] < saturation['rows'][1]:
            problems.append('saturation.rows: the first row must come before the second')
        spec = data.get('spectrometer')
        if spec:
            times = spec['integration_times']
            if not _ascending(times):
                problems.append('spectrometer.integration_times: must be in ascending order without repeats')
            elif not times[0] <= spec['integration_time'] <= times[-1]:
                problems.append(f'spectrometer.integration_time: {spec["integration_time"]} is outside the '
                                f'integration_times ({times[0]}-{times[-1]})')
            spec_saturation = spec.get('saturation')
            if spec_saturation and not spec_saturation['min'] < spec_saturation['max']:
                problems.append('spectrometer.saturation.min: must be below spectrometer.saturation.max')
            if spec_saturation and not spec_saturation['wavelengths'][0] < spec_saturation['wavelengths'][1]:
                problems.append('spectrometer.saturation.wavelengths: the first must be below the second')
        problems += field_config.problems(data, data.get('free_space_floor_mb', DEFAULT_FLOOR_MB))
        return sorted(problems)


def _camera_problems(cameras):
    """What a local or a remote band needs, and that a remote band has a local partner."""
    problems = []
    for band, camera in cameras.items():
        if camera['backend'] == REMOTE:
            if 'daemon' not in camera:
                problems.append(f"cameras.{band}.daemon: required with backend 'remote'")
            for key in LOCAL_CAMERA_KEYS:
                if key in camera:
                    problems.append(f"cameras.{band}.{key}: set on the second Pi's pycamd, not with backend 'remote'")
        else:
            problems += [f'cameras.{band}.{key}: required with backend {camera["backend"]!r}'
                         for key in LOCAL_CAMERA_KEYS if key not in camera]
            problems += [f"cameras.{band}.{key}: only with backend 'remote'"
                         for key in ('daemon', 'pair_tolerance_ms') if key in camera]
    if len(cameras) == 1 and any(camera['backend'] == REMOTE for camera in cameras.values()):
        problems.append("cameras: a 'remote' band needs the other band on this Pi")
    return problems

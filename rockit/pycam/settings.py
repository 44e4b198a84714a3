"""Every acquisition setting an operator can change, checked and applied in one place.

A request is a dict {setting: value}: every value is checked before anything changes, the
request is then applied as one step under a lock, so a request either changes everything
it names or nothing. That also settles the order problem of the instrument's old protocol,
where a shutter speed sent in the same message as "auto exposure off" was applied first,
ignored because auto exposure was still on, and lost: here `{'auto_a': False,
'shutter_a': 2000}` ends with auto off and 2000 us, and a shutter speed for a band left
in auto exposure is refused (AutoExposureOn) instead of silently ignored.

Kept free of numpy and device imports: the CLI parses values with this table too.
"""
import threading
from collections import namedtuple

from rockit.common.arguments import Boolean, Integer, Number

from .codes import CommandStatus
from .instrument import BAND_SUFFIX, BANDS, IMAGE_HEIGHT, SPECTRUM_PIXELS

LIMIT = CommandStatus.SettingOutsideLimits
MAX_FRAME_RATE = 1.0   # Hz: file names have a resolution of one second
MIN_FRAME_RATE = 0.001   # Hz: one capture in about 17 minutes


class Pair:
    """[low, high] with each item passing item_check and low < high."""
    def __init__(self, item_check):
        self.item_check = item_check

    def __call__(self, daemon, value):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            return CommandStatus.InvalidArgument
        for item in value:
            code = self.item_check(daemon, item)
            if code is not None:
                return code
        return None if value[0] < value[1] else LIMIT


def _shutters(daemon):
    return daemon.config.shutter_speeds


def _integrations(daemon):
    return daemon.config.spectrometer.integration_times


def _parse_bool(text):
    words = {'on': True, 'true': True, 'yes': True, '1': True, 'off': False, 'false': False, 'no': False, '0': False}
    if text.lower() not in words:
        raise ValueError('expected on or off')
    return words[text.lower()]


def _parse_pair(kind):
    def parse(text):
        parts = text.replace(',', ':').split(':')
        if len(parts) != 2:
            raise ValueError('expected two values, e.g. 100:400')
        return [kind(part) for part in parts]
    return parse


class Setting(namedtuple('Setting', 'device check parse help')):
    """device: 'cameras' or 'spectrometer'; check: rockit.common.arguments style,
    (daemon, value) -> code or None; parse: CLI text -> value; help: one line for usage."""
    __slots__ = ()


def _band_settings():
    table = {}
    for suffix, band in BAND_SUFFIX.items():
        table[f'auto_{suffix}'] = Setting('cameras', Boolean(), _parse_bool, f'{band} auto exposure on|off')
        table[f'shutter_{suffix}'] = Setting(
            'cameras', Integer(lambda d: _shutters(d)[0], lambda d: _shutters(d)[-1], LIMIT), int,
            f'{band} shutter speed in us (within the shutter-speed list; needs auto off)')
        table[f'gain_{suffix}'] = Setting('cameras', Number(1.0, 16.0, LIMIT), float, f'{band} analogue gain, 1-16')
    return table


def _saturation_settings(device, prefix, adjusts, full_scale, most_pixels):
    """The window auto exposure keeps the brightest pixels in, for cameras or spectrometer."""
    return {
        f'{prefix}min_saturation': Setting(device, Number(0.0, 1.0, LIMIT), float,
                                           f'{adjusts} lengthens below this fraction of {full_scale}'),
        f'{prefix}max_saturation': Setting(device, Number(0.0, 1.0, LIMIT), float,
                                           f'{adjusts} shortens above this fraction of {full_scale}'),
        f'{prefix}saturation_pixels': Setting(device, Integer(1, most_pixels, LIMIT), int,
                                              'how many of the brightest pixels are averaged'),
    }


SETTINGS = {
    'frame_rate': Setting('all', Number(MIN_FRAME_RATE, MAX_FRAME_RATE, LIMIT), float,
                          'captures per second on the wall-clock grid, up to 1'),
    **_band_settings(),
    **_saturation_settings('cameras', '', 'auto exposure', '1023', 100000),
    'saturation_rows': Setting('cameras', Pair(Integer(0, IMAGE_HEIGHT, LIMIT)), _parse_pair(int),
                               f'rows checked, start:end of the {IMAGE_HEIGHT}-row image'),
    'spec_auto': Setting('spectrometer', Boolean(), _parse_bool, 'spectrometer auto integration on|off'),
    'spec_integration': Setting(
        'spectrometer', Integer(lambda d: _integrations(d)[0], lambda d: _integrations(d)[-1], LIMIT), int,
        'integration time in ms (within the integration-time list; needs spec_auto off)'),
    'spec_coadds': Setting('spectrometer', Integer(1, 100, LIMIT), int, 'spectra averaged into one'),
    **_saturation_settings('spectrometer', 'spec_', 'auto integration', 'full scale', SPECTRUM_PIXELS),
    'spec_wavelengths': Setting('spectrometer', Pair(Number(200.0, 1100.0, LIMIT)), _parse_pair(float),
                                'wavelength window checked, min:max nm'),
}

# (manual value, its auto switch): a manual value is only accepted with the switch off.
MANUAL_VALUES = {'shutter_a': 'auto_a', 'shutter_b': 'auto_b', 'spec_integration': 'spec_auto'}
ORDERED_PAIRS = [('min_saturation', 'max_saturation'), ('spec_min_saturation', 'spec_max_saturation')]


class SettingsCheck:
    """The declarative check of a whole request, for @command(settings=SettingsCheck())."""

    def __call__(self, daemon, value):
        if not isinstance(value, dict) or not value:
            return CommandStatus.InvalidArgument
        for name, item in value.items():
            setting = SETTINGS.get(name) if isinstance(name, str) else None
            if setting is None:
                return CommandStatus.UnknownSetting
            if setting.device != 'all' and setting.device not in daemon.devices:
                return CommandStatus.DeviceNotConfigured
            code = setting.check(daemon, item)
            if code is not None:
                return code
        return None


def _normal(name, value):
    """Store numbers as the type their check stands for (1 -> 1.0 for a gain)."""
    check = SETTINGS[name].check
    if isinstance(check, Number):
        return float(value)
    if isinstance(check, Pair):
        kind = float if isinstance(check.item_check, Number) else int
        return [kind(item) for item in value]
    return value


class AcquisitionSettings:
    """The current settings, shared by the Pyro threads (operators) and the device threads
    (auto exposure). A device thread works from a snapshot and writes an auto-exposure
    result back only if no operator changed that device's exposure in the meantime."""

    def __init__(self, initial):
        self._lock = threading.Lock()
        self._values = dict(initial)
        self._generation = {**dict.fromkeys(BANDS, 0), 'spectrometer': 0}

    def snapshot(self):
        with self._lock:
            return dict(self._values), dict(self._generation)

    def values(self):
        with self._lock:
            return {k: list(v) if isinstance(v, list) else v for k, v in self._values.items()}

    def apply(self, changes):
        """Apply a checked request as one step; Succeeded or the code refusing all of it."""
        with self._lock:
            merged = dict(self._values)
            merged.update({name: _normal(name, value) for name, value in changes.items()})
            for manual, switch in MANUAL_VALUES.items():
                if manual in changes and merged.get(switch) and switch not in changes:
                    return CommandStatus.AutoExposureOn
            for low, high in ORDERED_PAIRS:
                if low in merged and high in merged and not merged[low] < merged[high]:
                    return LIMIT
            self._values = merged
            for name in changes:
                owner = _exposure_owner(name)
                if owner:
                    self._generation[owner] += 1
            return CommandStatus.Succeeded

    def set_automatic(self, name, value, generation):
        """An auto-exposure result from a device thread; dropped if an operator has changed
        that device's exposure since the snapshot it came from, or turned auto off."""
        owner = _exposure_owner(name)
        with self._lock:
            if self._generation[owner] != generation or not self._values.get(MANUAL_VALUES[name]):
                return False
            self._values[name] = value
            return True


def _exposure_owner(name):
    for suffix, band in BAND_SUFFIX.items():
        if name in (f'auto_{suffix}', f'shutter_{suffix}', f'gain_{suffix}'):
            return band
    if name in ('spec_auto', 'spec_integration'):
        return 'spectrometer'
    return None

"""The operator's settings kept across restarts (PyCam's SAV file).

Every set_settings request that succeeds is merged into a small JSON file beside the data
(<data_root>/.pycamd-settings.json, hidden, so the transfer and housekeeping leave it
alone), written atomically. At start pycamd applies it over the config's initial values,
each setting checked as a request would be today: one the instrument no longer has, or
whose value is now out of its limits (a shorter shutter-speed list, say), is left out and
named in status with the reason, and so is a file that cannot be read. Delete the file to
start from the config's values again.

The operator's image geometry (image_geometry.py: integration lines, sky region,
spectrometer view) is kept in the same file under "geometry", each value checked again at
start as a request would be.
"""
import json
import logging
from pathlib import Path

from rockit.common import json_bounds
from rockit.common.files import atomic_write

from . import image_geometry
from .codes import CommandStatus
from .settings import SETTINGS, SettingsCheck

FILE_NAME = '.pycamd-settings.json'
GEOMETRY = 'geometry'       # the file's key for the image geometry (never a setting's name)
MAX_BYTES = 64 * 1024
log = logging.getLogger('rockit.pycam')


class KeptSettings:
    """The file, what was restored from it at start, and the last write's failure if any."""

    def __init__(self, data_root):
        self.path = Path(data_root) / FILE_NAME
        self.kept = {}          # every setting an operator has set, as last set
        self.restored = {}
        self.ignored = {}       # name -> why it was not restored
        self.error = None
        self.geometry = {}      # image geometry key -> value, as an operator last set it
        self._found_geometry = None

    def restore(self, daemon, settings):
        """Apply the kept settings that still pass their checks to settings (an
        AcquisitionSettings); what was left out is in self.ignored."""
        try:
            if not self.path.exists():
                return
            if self.path.stat().st_size > MAX_BYTES:
                raise ValueError(f'larger than {MAX_BYTES} bytes')
            kept = json_bounds.loads(self.path.read_text())
            if not isinstance(kept, dict):
                raise ValueError('not a JSON object of settings')
        except (OSError, ValueError, json_bounds.OutOfBounds) as e:
            self.ignored['*'] = f'{self.path} not read: {e}'
            log.warning('kept settings not restored: %s not read: %s', self.path, e)
            return
        self._found_geometry = kept.pop(GEOMETRY, None)
        check = SettingsCheck()
        usable = {}
        for name, value in kept.items():
            code = check(daemon, {name: value}) if name in SETTINGS else CommandStatus.UnknownSetting
            if code is None:
                usable[name] = value
            else:
                self.ignored[name] = CommandStatus.message(code).removeprefix('error: ')
        code = settings.apply(usable) if usable else CommandStatus.Succeeded
        if code != CommandStatus.Succeeded:
            self.ignored.update(dict.fromkeys(usable, CommandStatus.message(code).removeprefix('error: ')))
            usable = {}
        self.kept, self.restored = usable, usable
        if usable:
            log.info('kept settings restored from %s: %s', self.path,
                     ', '.join(f'{k}={v}' for k, v in sorted(usable.items())))
        if self.ignored:
            log.warning('kept settings left out: %s', '; '.join(f'{k}: {v}' for k, v in sorted(self.ignored.items())))

    def restore_geometry(self):
        """The kept image geometry's values that still pass their checks (to apply); the
        others are named in self.ignored as 'geometry <key>'."""
        found, self._found_geometry = self._found_geometry, None
        if found is None:
            return {}
        if not isinstance(found, dict):
            self.ignored[GEOMETRY] = f'not a JSON object: {found!r}'
            return {}
        for key, value in found.items():
            try:
                self.geometry.update(image_geometry.check({key: value}))
            except image_geometry.GeometryError as e:
                self.ignored[f'{GEOMETRY} {key}'] = str(e)
        left_out = [f'{k}: {v}' for k, v in sorted(self.ignored.items()) if k.startswith(GEOMETRY)]
        if left_out:
            log.warning('kept geometry left out: %s', '; '.join(left_out))
        return dict(self.geometry)

    def record_geometry(self, changes):
        """Keep an image geometry request that succeeded (as record does a setting's)."""
        self.geometry = {**self.geometry, **changes}
        self._write()

    def record(self, changes):
        """Keep a request that succeeded; a failed write is logged and said in status."""
        self.kept = {**self.kept, **changes}
        self._write()

    def _write(self):
        kept = {**self.kept, GEOMETRY: self.geometry} if self.geometry else self.kept
        try:
            atomic_write(self.path, json.dumps(kept, indent=1, sort_keys=True).encode() + b'\n')
            self.error = None
        except OSError as e:
            self.error = f'{self.path} not written: {e}'
            log.error('settings changed but not kept for a restart: %s', self.error)

    def status(self):
        return {'file': str(self.path), 'restored': dict(self.restored), 'ignored': dict(self.ignored),
                'error': self.error, 'geometry': dict(self.geometry)}

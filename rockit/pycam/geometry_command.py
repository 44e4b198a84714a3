"""pycamd's image geometry: the integration lines, the sky region and the spectrometer's
field of view live processing uses, as the config gives them and as an operator sets them
(`pycam geometry`, rockit-web's drawing). A request is checked whole (image_geometry.py),
handed to the live processor (used from the next pair) and kept for the next start
(kept_settings.py); a refused one changes nothing.

A view set by hand is fixed as a configured one is: no search replaces it, and `pycam
search-fov` is refused while it holds. Setting the view to none has processing search for
it again, a configured one included.
"""
import threading

from rockit.common.errors import Refused
from rockit.common.pyro import command

from . import image_geometry
from .codes import CommandStatus
from .instrument import IMAGE_HEIGHT, IMAGE_WIDTH

REFUSALS = {'integration_line': CommandStatus.InvalidLine, 'sky_region': CommandStatus.InvalidSkyRegion,
            'doas_fov': CommandStatus.InvalidView, 'geometry': CommandStatus.InvalidArgument}


def describe(geometry):
    """One line for the log."""
    parts = []
    for line in geometry.get('integration_line') or []:
        parts.append(f"line {line['name']} ({line['x'][0]:g}, {line['y'][0]:g})-({line['x'][1]:g}, {line['y'][1]:g}) "
                     f"flowing {line['orientation']}")
    if 'sky_region' in geometry:
        parts.append('sky region ' + ','.join(map(str, geometry['sky_region'])))
    if 'doas_fov' in geometry:
        view = geometry['doas_fov']
        parts.append('view searched for' if view is None else f'view ({view[0]:g}, {view[1]:g}) r {view[2]:g}')
    return '; '.join(parts)


class ImageGeometry:
    """Mixed into PycamDaemon (self.processor, self.config, self.kept_settings, self.log)."""

    def _start_geometry(self):
        """The config's geometry, then the kept one applied over it."""
        self._configured_geometry = {'integration_line': [], 'sky_region': None, 'doas_fov': None}
        self._geometry_error = None
        self._geometry_lock = threading.Lock()      # two requests at once: processing and the file agree
        if self.processor is None:
            return
        try:
            from .processing.live.settings import configured_geometry
            self._configured_geometry = configured_geometry(self.config.processing)
        except Exception as e:      # processing says so too, and does not start
            self._geometry_error = f'{type(e).__name__}: {e}'
            self.log.error("the config's image geometry is unusable: %s", self._geometry_error)
        kept = self.kept_settings.restore_geometry()
        if kept:
            self.processor.set_geometry(kept)
            self.log.info('image geometry kept from before the restart: %s', describe(kept))

    def current_geometry(self):
        """{integration_line, sky_region, doas_fov} processing uses (None without processing)."""
        if self.processor is None:
            return None
        return {**self._configured_geometry, **self.kept_settings.geometry}

    def geometry_status(self):
        now = self.current_geometry()
        if now is None:
            return None
        kept = self.kept_settings.geometry
        view = now.get('doas_fov')
        source = 'search' if view is None else 'set' if 'doas_fov' in kept else 'configured'
        return {**now, 'doas_fov_source': source, 'set': sorted(kept), 'image_size': [IMAGE_WIDTH, IMAGE_HEIGHT],
                'error': self._geometry_error}

    @command()
    def set_image_geometry(self, geometry):
        """Set any of {'integration_line': [{'x': [x0, x1], 'y': [y0, y1], 'orientation':
        'left'|'right', 'name'}, ...], 'sky_region': [x0, y0, x1, y1], 'doas_fov': [x, y,
        radius] or None (searched for)} in on-band pixels: all of it or nothing."""
        if self.processor is None:
            raise Refused(CommandStatus.DeviceNotConfigured, 'no live processing on this Pi')
        try:
            changes = image_geometry.check(geometry)
        except image_geometry.GeometryError as e:
            self.log.warning('image geometry refused: %s', e)
            raise Refused(REFUSALS[e.key], str(e)) from None
        with self._geometry_lock:
            self.processor.set_geometry(changes)
            self.kept_settings.record_geometry(changes)
        self.log.info('image geometry set: %s', describe(changes))
        return CommandStatus.Succeeded

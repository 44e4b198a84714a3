"""Where the plume is: the distance along the camera's viewing direction and the angular
size of a pixel, which together turn pixels into metres. The emission rate goes with the
square of both, so none of them is ever assumed: they come from the config, the command
line or a geometry file, and without them no emission rate is given.

Geometry file: PyCam's cam_geom format, `key=value` lines and `#` comments. The camera's
`lat`, `lon` (degrees), `altitude` (m), `elev` and `azim` (degrees, the centre of the view)
as PyCam writes them, and the source's `source_lat`, `source_lon`; optionally
`plume_dir`, the azimuth the plume travels towards, and `focal_length_mm`,
`pixel_size_um`, `distance_m` to state those directly.

The distance is measured as pyplis's MeasGeometry does: horizontally from the camera to
where its central viewing direction meets the plume (the line from the source along
plume_dir; without plume_dir the plume is taken to cross the view at right angles over the
source), then along the view's elevation.

Across a wide line that distance changes: a pixel off the view's centre looks along its
own azimuth and elevation (the lens's angle to it added to the centre's), and meets the
plume nearer or further. With `per_pixel`, each line point gets the distance along its own
line of sight (pyplis's MeasGeometry.compute_all_integration_step_lengths, PyCam's
per-pixel plume distance), so its length and speed in metres are its own.
"""
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .emission import CameraGeometry
from .errors import GeometryError
from ..instrument import IMAGE_HEIGHT, IMAGE_WIDTH, PIXEL_SIZE_M

EARTH_RADIUS_M = 6371000.0


def read_geometry_file(path):
    """{key: float} from a cam_geom file (non-numeric values such as volcano= are kept as text)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise GeometryError(f'{path}: {e}') from None
    values = {}
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition('=')
        if not sep:
            raise GeometryError(f'{path}: "{raw.strip()}" is not key=value')
        try:
            values[key.strip().lower()] = float(value)
        except ValueError:
            values[key.strip().lower()] = value.strip()
    return values


def _offset_m(lat0, lon0, lat1, lon1):
    """(east, north) metres from point 0 to point 1, on a sphere, flat over a few km."""
    mean_lat = math.radians((lat0 + lat1) / 2)
    return (math.radians(lon1 - lon0) * EARTH_RADIUS_M * math.cos(mean_lat),
            math.radians(lat1 - lat0) * EARTH_RADIUS_M)


def viewing_distance(camera, source, azimuth, elevation, plume_dir=None):
    """Metres from the camera to the plume along the central viewing direction.

    camera, source: (lat, lon) in degrees; azimuth, elevation of the view in degrees.
    """
    east, north = _offset_m(camera[0], camera[1], source[0], source[1])
    view = (math.sin(math.radians(azimuth)), math.cos(math.radians(azimuth)))
    if plume_dir is None:
        horizontal = east * view[0] + north * view[1]
    else:
        plume = (math.sin(math.radians(plume_dir)), math.cos(math.radians(plume_dir)))
        # camera + t * view = source + s * plume, solved for t
        det = view[0] * -plume[1] + plume[0] * view[1]
        if abs(det) < 1e-6:
            raise GeometryError('the plume travels along the viewing direction: no distance to it')
        horizontal = (east * -plume[1] + plume[0] * north) / det
    if horizontal <= 0:
        raise GeometryError(f'the plume is behind the camera (azimuth {azimuth:g} deg looks away from the source)')
    return horizontal / math.cos(math.radians(elevation))


@dataclass(frozen=True)
class ViewingGeometry:
    """Where the camera is and looks, and where the plume is: enough to find the distance
    along any pixel's line of sight. Angles in degrees, positions (lat, lon)."""
    camera: tuple
    source: tuple
    azimuth: float
    elevation: float
    plume_dir: float = None
    centre: tuple = (IMAGE_WIDTH / 2, IMAGE_HEIGHT / 2)   # the pixel the view's centre falls on

    def distances(self, xs, ys, pixel_size_m, focal_length_m):
        """Metres from the camera to the plume along the lines of sight of pixels (xs, ys)."""
        out = []
        for x, y in zip(np.atleast_1d(xs), np.atleast_1d(ys)):
            azimuth = self.azimuth + math.degrees(math.atan((x - self.centre[0]) * pixel_size_m / focal_length_m))
            elevation = self.elevation - math.degrees(math.atan((y - self.centre[1]) * pixel_size_m / focal_length_m))
            out.append(viewing_distance(self.camera, self.source, azimuth, elevation, self.plume_dir))
        return np.array(out)

    def describe(self):
        return {'camera': list(self.camera), 'source': list(self.source), 'azimuth_deg': self.azimuth,
                'elevation_deg': self.elevation, 'plume_dir_deg': self.plume_dir}


def focal_length_from_fov(fov_deg, pixel_size_m=PIXEL_SIZE_M, width_px=IMAGE_WIDTH):
    """The focal length giving a horizontal field of view of fov_deg on this sensor."""
    if not 0 < fov_deg < 180:
        raise GeometryError(f'field of view must be between 0 and 180 degrees, not {fov_deg!r}')
    return pixel_size_m * width_px / 2 / math.tan(math.radians(fov_deg) / 2)


def resolve(distance_m=None, focal_length_m=None, fov_deg=None, pixel_size_m=None, geometry_file=None,
            per_pixel=False):
    """(CameraGeometry or None, notes): the given values first, the file's for the rest.

    None comes with a note naming what is missing; each note says where a value came from.
    per_pixel: each line point's own distance along its line of sight, from the geometry
    file's camera position, view and source (GeometryError when it lacks them).
    """
    notes, values = [], {}
    if geometry_file:
        values = read_geometry_file(geometry_file)
    pixel = pixel_size_m or (values['pixel_size_um'] * 1e-6 if 'pixel_size_um' in values else None)
    pixel_note = 'given' if pixel else 'the sensor\'s'
    pixel = pixel or PIXEL_SIZE_M
    focal = focal_length_m or (values['focal_length_mm'] * 1e-3 if 'focal_length_mm' in values else None)
    if focal is None and fov_deg:
        focal = focal_length_from_fov(float(fov_deg), pixel)
        notes.append(f'focal length {focal * 1e3:.2f} mm from a {float(fov_deg):g} deg field of view')
    distance, how = distance_m, 'given'
    if distance is None and 'distance_m' in values:
        distance, how = values['distance_m'], f'from {geometry_file}'
    if distance is None and geometry_file:
        distance, how = _distance_from(values, geometry_file), f'along the view, from {geometry_file}'
    missing = [what for what, value in (('distance to the plume', distance), ('focal length or field of view', focal))
               if value is None]
    if missing:
        return None, notes + [f'no {" and no ".join(missing)}: AA and SO2 column images are written, emission '
                              'rates are left empty']
    view = None
    if per_pixel:
        if not geometry_file:
            raise GeometryError('a distance per pixel needs a geometry file (cam_geom: lat, lon, elev, azim, '
                                'source_lat, source_lon, plume_dir)')
        view = viewing_geometry(values, geometry_file)
    try:
        geometry = CameraGeometry(float(distance), float(pixel), float(focal), view=view)
    except ValueError as e:
        raise GeometryError(str(e)) from None
    notes.append(f'plume {geometry.distance_m:.0f} m away ({how}), {pixel * 1e6:g} um pixels ({pixel_note}), '
                 f'{focal * 1e3:.2f} mm lens = {geometry.pixel_m:.3f} m per pixel'
                 + (' at the centre; each line point at its own distance along its line of sight' if view else ''))
    return geometry, notes


def viewing_geometry(values, path, what='a distance per pixel', otherwise=''):
    """The ViewingGeometry of a cam_geom file's values."""
    needed = ('lat', 'lon', 'azim', 'source_lat', 'source_lon')
    absent = [k for k in needed if not isinstance(values.get(k), float)]
    if absent:
        raise GeometryError(f'{path}: {what} needs {", ".join(needed)} (missing or not numbers: '
                            f'{", ".join(absent)}){otherwise}')
    plume_dir = values.get('plume_dir')
    return ViewingGeometry((values['lat'], values['lon']), (values['source_lat'], values['source_lon']),
                           values['azim'], float(values.get('elev', 0.0)),
                           plume_dir if isinstance(plume_dir, float) else None)


def _distance_from(values, path):
    view = viewing_geometry(values, path, 'the distance', ', or distance_m')
    return viewing_distance(view.camera, view.source, view.azimuth, view.elevation, view.plume_dir)

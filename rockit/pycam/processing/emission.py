"""Step 7: SO2 emission rate (kg/s) through a plume cross-section line.

phi = sum over the line of  column * speed-through-the-line * pixel-length,  converted to
mass with the molar mass. A pixel's length in the plume is its angular size times the
distance to the plume: pixel pitch / focal length * distance. The uncertainty combines the
column, speed and distance uncertainties, each fully correlated along the line (a wrong
calibration or distance biases every pixel the same way), as pyplis's det_emission_rate
does, except that the distance counts twice: it scales the pixel length and the speed.
"""
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import LineError

SO2_MOLAR_MASS = 64.066       # g/mol
AVOGADRO = 6.02214076e23      # 1/mol


@dataclass(frozen=True)
class IntegrationLine:
    """A plume cross-section from (x0, y0) to (x1, y1) in on-band pixels.

    `orientation` says on which side of the line the plume flows to: 'left' is the side of
    negative x (for a horizontal line, of positive y), the convention of the line files.
    Points are taken about one pixel apart, end points included, and sampled bilinearly;
    each stands for `spacing` pixels of the line in its sums.
    """
    x0: float
    y0: float
    x1: float
    y1: float
    orientation: str = 'left'
    name: str = ''

    def __post_init__(self):
        if self.orientation not in ('left', 'right'):
            raise LineError(f'line orientation must be left or right, not {self.orientation!r}')
        if self.length < 2:
            raise LineError('an integration line must be at least 2 pixels long')

    @classmethod
    def parse(cls, text, name=''):
        """From the line file format: `x=273,408`, `y=236,101`, `orientation=left`."""
        values = {}
        for raw in text.splitlines():
            line = raw.split('#', 1)[0].strip()
            if line:
                key, _, value = line.partition('=')
                values[key.strip().lower()] = value.strip()
        try:
            x0, x1 = (float(v) for v in values['x'].split(','))
            y0, y1 = (float(v) for v in values['y'].split(','))
        except (KeyError, ValueError):
            raise LineError('a line file needs `x=<x0>,<x1>` and `y=<y0>,<y1>`') from None
        return cls(x0, y0, x1, y1, values.get('orientation', 'left').lower(), name)

    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            return cls.parse(path.read_text(), name=path.stem)
        except OSError as e:
            raise LineError(f'{path}: {e}') from None
        except LineError as e:
            raise LineError(f'{path}: {e}') from None

    @property
    def length(self):
        return math.hypot(self.x1 - self.x0, self.y1 - self.y0)

    @property
    def points(self):
        """(xs, ys): round(length) points from start to end."""
        n = int(round(self.length))
        return np.linspace(self.x0, self.x1, n), np.linspace(self.y0, self.y1, n)

    @property
    def spacing(self):
        """The line's length per sample, in pixels: its round(length) samples share it, so
        a sum over them times this is the integral along the whole line."""
        return self.length / len(self.points[0])

    @property
    def normal(self):
        """Unit vector (x, y) across the line, pointing the way the plume flows."""
        dx, dy = self.x1 - self.x0, self.y1 - self.y0
        a = np.array([-dy, dx]) / self.length
        if a[0] > 0 or (a[0] == 0 and a[1] < 0):
            a = -a                     # a is now the 'left' normal
        return a if self.orientation == 'left' else -a

    def bounds(self, shape, margin=0):
        """The (x0, y0, x1, y1) pixel box around the line plus a margin, inside the image."""
        h, w = shape
        return (max(0, int(math.floor(min(self.x0, self.x1))) - margin),
                max(0, int(math.floor(min(self.y0, self.y1))) - margin),
                min(w, int(math.ceil(max(self.x0, self.x1))) + margin + 1),
                min(h, int(math.ceil(max(self.y0, self.y1))) + margin + 1))

    def profile(self, image, origin=(0, 0), scale=1.0):
        """Bilinear samples of image along the line; image may be a crop starting at origin
        (x, y) in line pixels, or a version shrunk by `scale`."""
        xs, ys = self.points
        return sample_bilinear(image, (xs - origin[0]) / scale, (ys - origin[1]) / scale)


def distinct_names(lines):
    """The lines, renamed line<N> where a name is empty or taken: results go by name."""
    named, seen = [], set()
    for index, line in enumerate(lines):
        name = line.name if line.name and line.name not in seen else f'line{index + 1}'
        seen.add(name)
        named.append(line if name == line.name else IntegrationLine(line.x0, line.y0, line.x1, line.y1,
                                                                      line.orientation, name))
    return named


def sample_bilinear(image, xs, ys):
    h, w = image.shape
    x = np.clip(xs, 0, w - 1)
    y = np.clip(ys, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(int), w - 2)
    y0 = np.minimum(np.floor(y).astype(int), h - 2)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


@dataclass(frozen=True)
class CameraGeometry:
    """What turns pixels into metres in the plume: every value the site's own (see
    geometry.py for where they come from)."""
    distance_m: float
    pixel_size_m: float
    focal_length_m: float
    distance_error: float = 0.10     # relative: the plume's distance is rarely known better
    view: object = None              # a geometry.ViewingGeometry: the distance pixel by pixel

    # What a camera watching a plume can have, each (lowest, highest, unit, metres per unit):
    # a value outside is a slip of units (metres given where millimetres are meant), which
    # would scale the emission rates by a million without a word.
    PLAUSIBLE = {'distance_m': (10, 200e3, 'm', 1), 'pixel_size_m': (0.5, 50, 'um', 1e-6),
                 'focal_length_m': (1, 2000, 'mm', 1e-3)}

    def __post_init__(self):
        for name, (low, high, unit, scale) in self.PLAUSIBLE.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f'camera geometry: {name} must be a positive number, not {value!r}')
            if not low <= value / scale <= high:
                what = name[:-2].replace('_', ' ')
                raise ValueError(f'camera geometry: a {what} of {value / scale:g} {unit} is not plausible (expected '
                                 f'{low:g}-{high:g} {unit}); is it in the wrong unit?')

    @property
    def pixel_m(self):
        """A pixel's extent at the plume, in metres."""
        return self.distance_m * self.pixel_size_m / self.focal_length_m

    def line_pixel_m(self, line):
        """Metres per pixel at each of the line's points: one figure, or with a viewing
        geometry (`view`), each point's own from its distance along its line of sight."""
        if self.view is None:
            return self.pixel_m
        return _line_pixel_m(self, line)

    def describe(self, lines=()):
        described = {'distance_m': self.distance_m, 'pixel_size_m': self.pixel_size_m,
                     'focal_length_m': self.focal_length_m, 'distance_error': self.distance_error}
        if self.view is not None:
            described['view'] = self.view.describe()
            described['line_distances_m'] = [
                [round(float(v), 1) for v in (d.min(), d.max())]
                for d in (np.asarray(self.line_pixel_m(line)) * self.focal_length_m / self.pixel_size_m
                          for line in lines)]
        return described


@functools.lru_cache(maxsize=16)
def _line_pixel_m(geometry, line):
    xs, ys = line.points
    return geometry.view.distances(xs, ys, geometry.pixel_size_m, geometry.focal_length_m) \
        * geometry.pixel_size_m / geometry.focal_length_m


def mass_per_molecule_column(molar_mass=SO2_MOLAR_MASS):
    """kg/m^2 per molecules/cm^2."""
    return 1e4 * molar_mass * 1e-3 / AVOGADRO


def emission_rate(columns, speeds, pixel_m, column_err, speed_err, pixel_err, molar_mass=SO2_MOLAR_MASS):
    """(phi, phi_err) in kg/s.

    columns: molecules/cm^2 along the line; speeds: m/s through the line (same length);
    pixel_m: metres per line sample (one figure, or each sample's); *_err: 1-sigma, scalars
    or arrays in the same units.
    """
    c = mass_per_molecule_column(molar_mass)
    columns, speeds = np.asarray(columns, float), np.asarray(speeds, float)
    phi = np.sum(columns * speeds * pixel_m) * c
    # The speeds were measured in pixels and scaled by pixel_m as well: a distance error
    # moves both factors, so its term is twice pyplis's single one.
    terms = (np.sum(speeds * pixel_m * column_err) ** 2, np.sum(columns * pixel_m * speed_err) ** 2,
             np.sum(2 * columns * speeds * pixel_err) ** 2)
    return float(phi), float(c * math.sqrt(sum(terms)))


def line_column(columns, pixel_m, molar_mass=SO2_MOLAR_MASS):
    """The line-integrated column, kg per metre of plume length along its travel (pixel_m:
    one figure or each point's)."""
    return float(np.sum(np.asarray(columns, float) * pixel_m) * mass_per_molecule_column(molar_mass))

"""Light dilution: light scattered into the view between the plume and the camera carries no
SO2 and makes a distant plume look weaker (Campion et al. 2015; pyplis's DilutionCorr).

Seen through air of extinction coefficient e (per band), an object of radiance I0 at
distance d looks like

    I(d) = I0 exp(-e d) + IA (1 - exp(-e d)),

IA the ambient light, the sky near the horizon. Dark terrain at several known distances
gives e: ln(IA - I) = ln(IA - I0) - e d is a straight line in d, fitted here weighted by
IA - I (the logarithm's error grows as the difference shrinks). A plume pixel of the same
law, its background B the plume-free sky there, is corrected before the AA image is formed:

    I_corrected = (I - B (1 - exp(-e d))) / exp(-e d).

A sky pixel (I = B) is left as it was: only pixels with plume change.
"""
import logging
import math
from dataclasses import dataclass

import numpy as np

from rockit.common.log import ChangeLog

from .background import SkyRegion

BANDS = ('on', 'off')
MIN_TERRAIN_POINTS = 3      # the fit's two parameters and one residual to judge it by
log = logging.getLogger(__name__)


class DilutionError(ValueError):
    """Terrain, distances or coefficients that cannot give a dilution correction."""


@dataclass(frozen=True)
class TerrainFeature:
    """A line (or a point, x0 = x1 and y0 = y1) on dark terrain at a known distance, in
    on-band pixels; its radiance is the mean along it."""
    x0: float
    y0: float
    x1: float
    y1: float
    distance_m: float

    def __post_init__(self):
        if not (math.isfinite(self.distance_m) and self.distance_m > 0):
            raise DilutionError(f'terrain {self.describe()}: the distance must be above 0 m, not {self.distance_m!r}')

    @classmethod
    def parse(cls, text):
        """From 'x,y,distance_m' (a point) or 'x0,y0,x1,y1,distance_m' (a line)."""
        try:
            values = [float(v) for v in str(text).split(',')]
        except ValueError:
            values = []
        if len(values) == 3:
            return cls(values[0], values[1], values[0], values[1], values[2])
        if len(values) == 5:
            return cls(*values)
        raise DilutionError(f'terrain {text!r}: expected x,y,distance_m (a point) or x0,y0,x1,y1,distance_m '
                            '(a line), pixels and metres')

    def mean(self, image):
        n = int(max(abs(self.x1 - self.x0), abs(self.y1 - self.y0))) + 1
        xs = np.rint(np.linspace(self.x0, self.x1, n)).astype(int)
        ys = np.rint(np.linspace(self.y0, self.y1, n)).astype(int)
        h, w = image.shape
        if xs.min() < 0 or ys.min() < 0 or xs.max() >= w or ys.max() >= h:
            raise DilutionError(f'terrain {self.describe()} lies outside the {w}x{h} image')
        return float(np.nanmean(image[ys, xs]))

    def describe(self):
        if (self.x0, self.y0) == (self.x1, self.y1):
            return f'{self.x0:g},{self.y0:g},{self.distance_m:g}'
        return f'{self.x0:g},{self.y0:g},{self.x1:g},{self.y1:g},{self.distance_m:g}'


@dataclass(frozen=True)
class ExtinctionFit:
    """One band's extinction from terrain: per km, its standard error, the ambient light and
    the terrain's undiluted radiance (the image's units), and the fit's quality: r2 of the
    radiances and their rms residual relative to the ambient."""
    per_km: float
    per_km_err: float
    ambient: float
    terrain_radiance: float
    r2: float
    rms_residual: float
    points: int

    def as_dict(self):
        return {'per_km': self.per_km, 'per_km_err': self.per_km_err, 'ambient': self.ambient,
                'terrain_radiance': self.terrain_radiance, 'r2': self.r2, 'rms_residual': self.rms_residual,
                'points': self.points}


def fit_extinction(radiances, distances_m, ambient):
    """The extinction coefficient of one band from terrain radiances at distances (m) and the
    ambient light: an ExtinctionFit, or DilutionError saying why none can be had."""
    radiances = np.asarray(radiances, float)
    distances = np.asarray(distances_m, float)
    if radiances.shape != distances.shape or radiances.ndim != 1:
        raise DilutionError(f'{radiances.size} terrain radiances for {distances.size} distances')
    if not (np.all(np.isfinite(distances)) and np.all(distances > 0)):
        raise DilutionError(f'terrain distances must be above 0 m: {distances.tolist()}')
    if len(set(distances.tolist())) < MIN_TERRAIN_POINTS:
        raise DilutionError(f'the extinction needs terrain at {MIN_TERRAIN_POINTS} distances at least, '
                            f'not {len(set(distances.tolist()))}')
    if not (math.isfinite(ambient) and ambient > 0):
        raise DilutionError(f'the ambient light must be above 0, not {ambient!r}: is the ambient region sky?')
    if not np.all(np.isfinite(radiances)):
        raise DilutionError('terrain radiances without data (NaN): does the terrain lie in the image?')
    darker = ambient - radiances
    if np.any(darker <= 0):
        raise DilutionError(f'terrain at {distances[darker <= 0].tolist()} m is not darker than the ambient light '
                            f'({ambient:.4g}): the fit needs dark terrain below a bright horizon')
    km = distances / 1000
    w = darker ** 2                     # weights of the log's squared residuals
    sw = w.sum()
    mean_d, mean_y = (w * km).sum() / sw, (w * np.log(darker)).sum() / sw
    sxx = (w * (km - mean_d) ** 2).sum()
    slope = (w * (km - mean_d) * (np.log(darker) - mean_y)).sum() / sxx
    intercept = mean_y - slope * mean_d
    residual = np.log(darker) - (intercept + slope * km)
    dof = len(km) - 2
    slope_err = math.sqrt((w * residual ** 2).sum() / dof / sxx) if dof > 0 else math.nan
    per_km = max(-slope, 0.0)           # air does not make terrain darker with distance
    predicted = ambient - math.exp(intercept) * np.exp(-per_km * km)
    ss_res = float(((radiances - predicted) ** 2).sum())
    ss_tot = float(((radiances - radiances.mean()) ** 2).sum())
    if not math.isfinite(per_km) or not math.isfinite(intercept):
        raise DilutionError('the extinction fit failed: the terrain radiances do not follow the dilution law')
    return ExtinctionFit(per_km, slope_err, float(ambient), float(ambient - math.exp(intercept)),
                         1 - ss_res / ss_tot if ss_tot > 0 else math.nan,
                         math.sqrt(ss_res / len(km)) / ambient, len(km))


def estimate(images, terrain, ambient_region):
    """{band: ExtinctionFit} from {band: image} (counts per second, on the on-band grid),
    terrain features and a plume-free sky region whose mean is the ambient light."""
    if len(terrain) < MIN_TERRAIN_POINTS:
        raise DilutionError(f'the extinction needs {MIN_TERRAIN_POINTS} terrain points or lines at least, '
                            f'not {len(terrain)}')
    distances = [feature.distance_m for feature in terrain]
    return {band: fit_extinction([feature.mean(image) for feature in terrain], distances,
                                 ambient_region.mean(image)) for band, image in images.items()}


def correct(image, background, per_km, distance_m):
    """The image as seen without the air between camera and plume: background is the
    plume-free sky in the image's units (an image or one value), per_km the band's
    extinction, distance_m the plume's distance (a value or an image)."""
    f = np.exp(-per_km * np.asarray(distance_m, np.float32) / 1000).astype(np.float32)
    return (image - background * (1 - f)) / f


@dataclass
class DilutionCorrection:
    """What corrects a pair: the plume's distance, and either fixed coefficients per band
    ({'on': per km, 'off': per km}) or terrain and an ambient region to fit them to each
    pair. A pair whose terrain fit fails keeps the last good coefficients (logged); before
    any, it is left uncorrected. `last_fit`: the {band: ExtinctionFit} of the latest pair,
    None when its fit failed or the coefficients are fixed."""
    distance_m: float
    per_km: dict = None
    terrain: tuple = ()
    ambient_region: SkyRegion = None

    def __post_init__(self):
        if not (isinstance(self.distance_m, (int, float)) and math.isfinite(self.distance_m) and self.distance_m > 0):
            raise DilutionError(f'the plume distance must be above 0 m, not {self.distance_m!r}')
        if self.per_km is not None:
            for band in BANDS:
                value = self.per_km.get(band)
                if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                    raise DilutionError(f'the {band}-band extinction must be a number of at least 0 per km, '
                                        f'not {value!r}')
        elif len({feature.distance_m for feature in self.terrain}) < MIN_TERRAIN_POINTS or self.ambient_region is None:
            raise DilutionError(f'a dilution correction needs fixed coefficients for both bands, or terrain at '
                                f'{MIN_TERRAIN_POINTS} distances at least and an ambient sky region')
        self.last = dict(self.per_km) if self.per_km is not None else None
        self.last_fit = None
        self._changes = ChangeLog(log)      # a terrain fit failing pair after pair is said once

    def coefficients(self, on, off):
        """{'on': per km, 'off': per km} for this pair: fixed, or fitted to its terrain."""
        if self.per_km is not None:
            return self.last
        try:
            self.last_fit = estimate({'on': on, 'off': off}, self.terrain, self.ambient_region)
            self.last = {band: fit.per_km for band, fit in self.last_fit.items()}
            self._changes('terrain', logging.INFO, 'light dilution: coefficients fitted to the terrain', state='fitted')
        except DilutionError as e:
            self.last_fit = None
            self._changes('terrain', logging.WARNING, f'light dilution: {e}; ' +
                          ('the last coefficients kept' if self.last else 'not corrected'), state='failed')
        return self.last

    def __call__(self, on, off, on_background, off_background):
        """(on, off) corrected and the coefficients used (None: not corrected)."""
        used = self.coefficients(on, off)
        if used is None:
            return on, off, None
        return (correct(on, on_background, used['on'], self.distance_m),
                correct(off, off_background, used['off'], self.distance_m), used)

    def describe(self):
        return {'plume_distance_m': self.distance_m,
                'per_km': None if self.per_km is None else dict(self.per_km),
                'terrain': [feature.describe() for feature in self.terrain] or None,
                'ambient_region': None if self.ambient_region is None else self.ambient_region.as_list()}

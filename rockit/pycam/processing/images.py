"""Step 1: raw 10-bit counts to dark-corrected counts per second.

Dark current scales with exposure, so a frame is corrected with the dark of the same band
and exposure; when the instrument has none at that exposure the nearest is used and the
substitution is reported (never silently). Dividing by the exposure makes frames taken at
different shutter speeds (auto exposure, clear-sky vs plume) directly comparable.
Saturated pixels carry no radiance information and become NaN.
"""
import logging
from dataclasses import dataclass

import cv2
import numpy as np

from ..storage.names import images_in

SATURATION = 1023  # 10-bit counts
log = logging.getLogger('rockit.pycam.processing')


def load_png(path):
    """A 16-bit greyscale PNG as float32 counts."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise OSError(f'{path}: not a readable image')
    if image.ndim != 2:
        raise OSError(f'{path}: expected a greyscale image, got shape {image.shape}')
    return image.astype(np.float32)


def mean_frame(paths):
    """The average of several frames: co-adding beats down read noise."""
    total = None
    for path in paths:
        frame = load_png(path)
        total = frame if total is None else total + frame
    return total / len(paths)


@dataclass
class DarkMatch:
    frame: np.ndarray
    exposure_us: int
    exact: bool


class DarkLibrary:
    """Dark frames by band and exposure, averaged over every frame taken at that setting."""

    def __init__(self, darks=None):
        self._darks = dict(darks or {})   # (band, exposure_us) -> frame
        self.substitutions = set()        # (band, wanted, used) already reported

    @classmethod
    def from_folder(cls, folder):
        groups = {}
        for name in images_in(folder, kind='Dark'):
            groups.setdefault((name.band, name.exposure_us), []).append(name.path)
        return cls({key: mean_frame(paths) for key, paths in groups.items()})

    def add(self, band, exposure_us, frame):
        self._darks[(band, int(exposure_us))] = np.asarray(frame, np.float32)

    def __len__(self):
        return len(self._darks)

    def bands(self):
        return {band for band, _ in self._darks}

    def exposures(self, band):
        return sorted(exposure for b, exposure in self._darks if b == band)

    def match(self, band, exposure_us):
        """The dark for this band and exposure, or the nearest exposure with a warning."""
        exposures = self.exposures(band)
        if not exposures:
            raise LookupError(f'no dark frame for the {band}-band camera')
        nearest = min(exposures, key=lambda e: abs(e - exposure_us))
        exact = nearest == exposure_us
        if not exact and (band, exposure_us, nearest) not in self.substitutions:
            self.substitutions.add((band, exposure_us, nearest))
            log.warning('no %s-band dark at %d us: using the nearest, %d us', band, exposure_us, nearest)
        return DarkMatch(self._darks[(band, nearest)], nearest, exact)


def counts_per_second(raw, dark, exposure_us, saturation=SATURATION):
    """(raw - dark) / exposure; saturated pixels, and pixels at or below the dark level
    (no measurable light), are NaN rather than a number that would poison a logarithm."""
    rate = (raw - dark) * np.float32(1e6 / exposure_us)
    rate[rate <= 0] = np.nan
    if saturation is not None:
        rate[raw >= saturation] = np.nan
    return rate

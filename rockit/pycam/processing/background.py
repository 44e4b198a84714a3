"""Step 2: the sky as it would look without the plume (I0), and optical depth
tau = ln(I0 / I) per band.

A clear-sky frame taken with the same camera carries the camera's vignetting and the
sky's own gradient, which then cancel in the ratio; without one, the mean of a patch of
plume-free sky in the frame itself stands in for I0 (no vignetting correction, so only a
fallback). Either way, tau is then referenced to that patch: the sky brightens and dims
between the clear-sky frame and the plume frame, and the patch is defined to hold no SO2.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SkyRegion:
    """A plume-free rectangle, x0 <= x < x1, y0 <= y < y1, in on-band pixels."""
    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self):
        if not (0 <= self.x0 < self.x1 and 0 <= self.y0 < self.y1):
            raise ValueError(f'sky region {self.as_list()} is not a rectangle x0 < x1, y0 < y1')

    @classmethod
    def parse(cls, text):
        """From 'x0,y0,x1,y1'."""
        try:
            values = [int(v) for v in str(text).split(',')]
        except ValueError:
            raise ValueError(f'sky region {text!r}: expected x0,y0,x1,y1 in pixels') from None
        if len(values) != 4:
            raise ValueError(f'sky region {text!r}: expected x0,y0,x1,y1 in pixels')
        return cls(*values)

    @property
    def slices(self):
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def mean(self, image):
        patch = image[self.slices]
        if patch.size == 0:
            raise ValueError(f'sky region {self.as_list()} lies outside the {image.shape[1]}x{image.shape[0]} image')
        return float(np.nanmean(patch))

    def as_list(self):
        return [self.x0, self.y0, self.x1, self.y1]


def optical_depth(background, image):
    """tau = ln(I0 / I); NaN wherever either has no data."""
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.log(background / image)


class ClearSkyBackground:
    """I0 per band from clear-sky frames (counts per second, off-band already registered)."""
    kind = 'clear sky'

    def __init__(self, on, off, sky):
        self.on = np.asarray(on, np.float32)
        self.off = np.asarray(off, np.float32)
        self.sky = sky

    def intensity(self, band, image):
        return self.on if band == 'on' else self.off


class SkyRegionBackground:
    """I0 per band as the frame's own mean in the sky region: a uniform sky, no vignetting."""
    kind = 'sky region'

    def __init__(self, sky):
        self.sky = sky

    def intensity(self, band, image):
        return np.float32(self.sky.mean(image))

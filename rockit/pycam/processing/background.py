"""Step 2: the sky as it would look without the plume (I0), and optical depth
tau = ln(I0 / I) per band. Three backgrounds (pyplis's PlumeBackgroundModel modes):

- clear: a clear-sky frame taken with the same camera carries the camera's vignetting and
  the sky's own gradient, which then cancel in the ratio (pyplis mode 1);
- sky: the mean of a patch of plume-free sky in the frame itself stands in for I0 (no
  vignetting correction, so only a fallback);
- surface: no clear frame; a 2-D polynomial fitted to the logarithm of the frame's own
  plume-free regions in each band is its I0 (pyplis mode 0, of order 2 by default).

Either way, tau is then referenced to the sky region: the sky brightens and dims between the
clear-sky frame and the plume frame, and the region is defined to hold no SO2. When the
sky's AA still changes with height (the on-band sky darkens towards the horizon more than
the off-band, and the clear frame was not taken at that moment), a linear or quadratic
function of the row, fitted to the AA of a tall plume-free strip, is taken off the AA
image (`SkyGradient`; pyplis modes 2 and 3 fit a line between two rectangles and a
quadratic along one column).
"""
import warnings
from dataclasses import dataclass

import numpy as np

BACKGROUNDS = ('clear', 'sky', 'surface')
GRADIENTS = {'none': None, 'linear': 1, 'quadratic': 2}
SURFACE_STEP = 4          # px between the samples the surface is fitted to


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


class SurfaceBackground:
    """I0 per band as a 2-D polynomial in x and y fitted to the frame's plume-free regions
    (pyplis's bg_from_poly_surface_fit): a clear sky without a clear-sky frame. The
    polynomial is fitted to the logarithm of the intensity (pyplis fits the intensity):
    the vignetting and the sky's brightness, which both bands share, then give both bands
    the same misfit, which cancels in the AA as it does in a clear-sky ratio."""
    kind = 'surface fit'

    def __init__(self, sky, regions, order=2):
        if not 1 <= int(order) <= 4:
            raise ValueError(f'surface order must be 1-4, not {order!r}')
        self.sky, self.regions, self.order = sky, tuple(regions or (sky,)), int(order)
        self._shape = None
        self.coefficients = {}     # band -> the last fit's coefficients (for diagnostics)

    def _design(self, shape):
        """The polynomial's terms at the fitted samples and over the whole image."""
        h, w = shape
        mask = np.zeros(shape, bool)
        for region in self.regions:
            mask[region.slices] = True
        ys, xs = np.mgrid[0:h:SURFACE_STEP, 0:w:SURFACE_STEP]
        keep = mask[ys, xs]
        if keep.sum() < 3 * (self.order + 1) * (self.order + 2) // 2:
            raise ValueError(f'the surface regions {[r.as_list() for r in self.regions]} hold too few pixels of the '
                             f'{w}x{h} image for an order {self.order} surface')
        self._samples = (ys[keep], xs[keep])
        terms = [(i, j) for i in range(self.order + 1) for j in range(self.order + 1 - i)]
        u = lambda x: (x - w / 2) / (w / 2)        # noqa: E731 (well conditioned: -1..1)
        v = lambda y: (y - h / 2) / (w / 2)        # noqa: E731
        self._fit = np.column_stack([u(xs[keep]) ** i * v(ys[keep]) ** j for i, j in terms])
        column, row = u(np.arange(w, dtype=np.float32)), v(np.arange(h, dtype=np.float32))
        self._full = [(row[:, None] ** j) * (column[None, :] ** i) for i, j in terms]
        self._shape = shape

    def intensity(self, band, image):
        if self._shape != image.shape:
            self._design(image.shape)
        with np.errstate(divide='ignore', invalid='ignore'):
            values = np.log(image[self._samples])
        ok = np.isfinite(values)
        coeffs, *_ = np.linalg.lstsq(self._fit[ok], values[ok], rcond=None)
        self.coefficients[band] = [float(c) for c in coeffs]
        return np.exp(sum(np.float32(c) * term for c, term in zip(coeffs, self._full)))


@dataclass(frozen=True)
class SkyGradient:
    """The sky's AA as a polynomial of the row, fitted to a tall plume-free region's row means
    and taken off the whole image."""
    region: SkyRegion
    order: int

    def __call__(self, aa):
        return self.remove(aa)[0]

    def remove(self, aa):
        """(aa without the gradient, the polynomial's coefficients highest power first or
        None where too few rows have data to fit it)."""
        rows = np.arange(self.region.y0, min(self.region.y1, aa.shape[0]))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', RuntimeWarning)      # rows without data: NaN
            profile = np.nanmean(aa[self.region.slices], axis=1)
        ok = np.isfinite(profile)
        if ok.sum() <= self.order:
            return aa, None
        coeffs = np.polyfit(rows[ok], profile[ok], self.order)
        aa -= np.polyval(coeffs, np.arange(aa.shape[0], dtype=np.float32)).astype(np.float32)[:, None]
        return aa, [float(c) for c in coeffs]


def sky_statistics(sky, image):
    """The sky region's mean, standard deviation and pixel count in an image (NaN left out)."""
    patch = image[sky.slices]
    finite = patch[np.isfinite(patch)]
    if finite.size == 0:
        return {'mean': None, 'std': None, 'pixels': 0}
    return {'mean': float(finite.mean()), 'std': float(finite.std()), 'pixels': int(finite.size)}



def background_for(settings, clear_rates=None):
    """The background settings.background asks for: clear sky from clear_rates ({'on', 'off'}
    counts per second, the off-band not yet registered) when there are some, else the sky
    region; or the surface fit, which needs no clear frame."""
    if settings.background == 'surface':
        return SurfaceBackground(settings.sky, settings.surface_regions, settings.surface_order)
    if settings.background == 'sky' or clear_rates is None:
        return SkyRegionBackground(settings.sky)
    return ClearSkyBackground(clear_rates['on'], settings.registration.apply(clear_rates['off']), settings.sky)

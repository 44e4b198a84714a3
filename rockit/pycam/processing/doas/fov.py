"""Where the spectrometer looks in the camera's image, found from the data, as pyplis's
DoasFOVEngine does with its Pearson method: over a time window, each pixel's AA is
correlated with the DOAS columns taken at the same times; the pixel that follows them best
is the centre of the spectrometer's view, and the disk around it whose mean AA correlates
best gives its radius.

The images are averaged over BINNING x BINNING blocks first: the view is some pixels
wide, single pixels are noisy, and a 648 x 486 series binned by 4 correlates in a few
milliseconds.

A view is accepted only when its correlation is beyond chance. Plume AA and DOAS columns
change slowly, so neighbouring samples are not independent: each pixel's test counts the
samples its series and the columns' are worth together, n (1 - r1 r2) / (1 + r1 r2) with
r1, r2 their lag-1 autocorrelations (Bretherton et al. 1999), before a t test on its
correlation and a Bonferroni bound over the pixels. Counting all samples, 30 of
autocorrelated noise (lag-1 0.8) passed for a view in 9 of 10 trials.
"""
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.stats import t as student_t

from ..errors import FovError

BINNING = 4
RADII_PX = (2, 4, 6, 8, 12, 16, 24, 32)   # disk radii tried, in full-resolution pixels
MIN_SAMPLES = 30          # fewer, and some of thousands of pixels correlate by chance
MIN_VARIATION = 0.25      # of the most variable pixels' AA scatter: below it, sky and ground
CHANCE = 0.01             # the odds that the best of all pixels tested correlates this well by chance


@dataclass(frozen=True)
class FieldOfView:
    x: float
    y: float
    radius: float
    correlation: float

    def same_view(self, other):
        """The same place and size (the correlation each search finds aside)."""
        return other is not None and (self.x, self.y, self.radius) == (other.x, other.y, other.radius)

    def as_json(self):
        return {'x': round(self.x, 1), 'y': round(self.y, 1), 'radius': round(self.radius, 1),
                'correlation': round(self.correlation, 4)}


def binned(image, factor=BINNING):
    """Block means of factor x factor pixels (edges that do not fill a block dropped);
    NaN pixels are left out of their block's mean."""
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = np.asarray(image[:h, :w], np.float32).reshape(h // factor, factor, w // factor, factor)
    with np.errstate(invalid='ignore'):
        return np.nanmean(blocks, axis=(1, 3)).astype(np.float32)


def _pearson(stack, series):
    """Correlation of each pixel's time series (stack: n x h x w) with series (n)."""
    s = series - series.mean()
    a = stack - stack.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (s * s).sum())
    with np.errstate(invalid='ignore', divide='ignore'):
        r = np.tensordot(s, a, axes=(0, 0)) / denominator
    return np.where(np.isfinite(r), r, -1.0)


def correlation_map(images, columns):
    """Pearson r of every (binned) pixel's AA with the DOAS columns; -1 where the AA
    hardly changes (sky, ground), whose noise would otherwise correlate by chance."""
    stack = np.nan_to_num(np.asarray(images, np.float32))
    columns = np.asarray(columns, float)
    if len(columns) < MIN_SAMPLES:
        raise FovError(f'the field-of-view search needs at least {MIN_SAMPLES} DOAS columns with AA images, '
                       f'got {len(columns)}')
    if np.ptp(columns) <= 0:
        raise FovError('the DOAS columns do not change over the window: nothing to correlate')
    r = _pearson(stack, columns)
    scatter = stack.std(axis=0)
    return np.where(scatter >= MIN_VARIATION * np.percentile(scatter, 99), r, -1.0)


def chance_correlation(samples, pixels, odds=CHANCE):
    """The correlation the best of `pixels` unrelated pixels reaches with `odds` over
    `samples` independent points (Fisher's z, Bonferroni over the pixels): with 30 samples
    and thousands of pixels, noise alone reaches about 0.7."""
    z = NormalDist().inv_cdf(1 - odds / max(pixels, 1))
    return math.tanh(z / math.sqrt(max(samples - 3, 1)))


def lag1_autocorrelation(series):
    """Lag-1 autocorrelation along the first axis, corrected for its bias in short series
    ((n r + 1) / (n - 3)) and kept in 0-0.99: a negative one gains nothing."""
    a = np.asarray(series, float)
    a = a - a.mean(axis=0)
    n = a.shape[0]
    with np.errstate(invalid='ignore', divide='ignore'):
        r = (a[1:] * a[:-1]).sum(axis=0) / (a * a).sum(axis=0)
    r = (n * np.nan_to_num(r) + 1) / max(n - 3, 1)
    return np.clip(r, 0.0, 0.99)


def effective_samples(samples, r1, r2):
    """Independent samples two autocorrelated series are worth together."""
    product = np.asarray(r1, float) * np.asarray(r2, float)
    return np.clip(samples * (1 - product) / (1 + product), 2.0, samples)


def chance_odds(r, n_eff):
    """One-sided odds that a correlation this high comes by chance from n_eff samples."""
    r = np.clip(np.asarray(r, float), -0.999999, 0.999999)
    dof = np.maximum(np.asarray(n_eff, float) - 2, 1e-9)
    return student_t.sf(r * np.sqrt(dof / (1 - r * r)), dof)


def search(images, columns, factor=BINNING, radii=RADII_PX, r=None):
    """The field of view from binned AA images and the DOAS columns at their times (r:
    their correlation_map, when the caller has it already). Raises FovError while no
    pixel follows the columns better than chance would."""
    stack = np.nan_to_num(np.asarray(images, np.float32))
    columns = np.asarray(columns, float)
    r = correlation_map(stack, columns) if r is None else r
    row, col = np.unravel_index(int(np.argmax(r)), r.shape)
    tested = int((r > -1).sum())
    n_eff = float(effective_samples(len(columns), lag1_autocorrelation(columns), lag1_autocorrelation(stack[:, row, col])))
    odds = float(chance_odds(r[row, col], n_eff))
    if not odds < CHANCE / max(tested, 1):
        raise FovError(f'no pixel follows the DOAS columns better than chance: the best correlates '
                       f'r = {r[row, col]:.2f} over {len(columns)} samples, worth {n_eff:.0f} independent ones; '
                       f'chance reaches {chance_correlation(n_eff, tested):.2f}')
    yy, xx = np.mgrid[:stack.shape[1], :stack.shape[2]]
    best = (radii[0], -1.0)
    for radius in radii:
        disk = (xx - col) ** 2 + (yy - row) ** 2 <= max(radius / factor, 0.5) ** 2
        series = stack[:, disk].mean(axis=1)
        if np.ptp(series) > 0:
            score = float(np.corrcoef(series, columns)[0, 1])
            if score > best[1]:
                best = (radius, score)
    centre = lambda i: i * factor + (factor - 1) / 2   # noqa: E731 (block centre in full pixels)
    return FieldOfView(float(centre(col)), float(centre(row)), float(best[0]), best[1])

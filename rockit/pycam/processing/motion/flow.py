"""Step 6: plume speed from consecutive AA images.

Farneback dense optical flow follows the plume's texture from one AA image to the next;
the displacement across the integration line, times metres per pixel, over the time
between the images, is the speed that carries SO2 through the line. The images are first
byte-scaled as pyplis does, over a contrast range taken from the first image (robust
percentiles of the crop, where pyplis takes its minimum and maximum).

Full-resolution Farneback (Gaussian window, pyplis's defaults) over a 648x486 frame costs
0.15-0.25 s; only the flow across the line enters the emission rate, so the live path
computes the same flow on a crop around the line, which keeps the speed along the line
within 1 % of the full frame's for about a fifth of the cost (bench/pycam_processing.py).

Cross-correlation of the column integrated along two parallel lines is the alternative:
the lag that best aligns the downstream line's series with the upstream one is the travel
time between them.
"""
from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FarnebackSettings:
    """cv2.calcOpticalFlowFarneback parameters; the defaults are pyplis's."""
    pyr_scale: float = 0.5
    levels: int = 4
    winsize: int = 20
    iterations: int = 5
    poly_n: int = 5
    poly_sigma: float = 1.1
    gaussian: bool = True

    def arguments(self):
        args = asdict(self)
        args['flags'] = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if args.pop('gaussian') else 0
        return args


def bytescale(image, low, high):
    """float image -> uint8 over [low, high], NaN as low: pyplis's (scipy's) bytescale."""
    scale = 255.0 / ((high - low) or 1.0)
    scaled = (np.nan_to_num(np.asarray(image, np.float64), nan=low) - low) * scale + 0.4999
    return np.clip(scaled, 0, 255).astype(np.uint8)


def contrast_range(image, box=None, step=2):
    """Robust (0.5 %, 99.5 %) range of the finite values in a box: the plume's AA spans a
    few hundredths to a few tenths, and a handful of terrain-edge pixels must not flatten it."""
    if box is not None:
        x0, y0, x1, y1 = box
        image = image[y0:y1, x0:x1]
    values = image[::step, ::step]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(values, (0.5, 99.5))
    return float(low), float(high if high > low else low + 1e-3)


def farneback(first8, next8, settings=FarnebackSettings()):
    """Displacement field (h, w, 2) in pixels from first to next."""
    return cv2.calcOpticalFlowFarneback(first8, next8, None, **settings.arguments())


def normal_displacement(flow, line, origin=(0, 0)):
    """Displacement through the line (pixels, positive the way the plume flows), per point."""
    dx = line.profile(flow[..., 0], origin)
    dy = line.profile(flow[..., 1], origin)
    nx, ny = line.normal
    return dx * nx + dy * ny


class LineFlow:
    """Farneback flow on the line's neighbourhood only.

    What Farneback finds at a pixel depends on a window around it (winsize at each pyramid
    level), so the crop keeps a margin beyond the line: with 32 px (more than a window) the
    speed along the Villarrica line stays within 1 % of the full frame's (16 px: 0.7 %),
    at a fifth of the cost.
    """

    def __init__(self, line, shape, margin=32, settings=FarnebackSettings()):
        self.line = line
        self.box = line.bounds(shape, margin)
        self.settings = settings

    def __call__(self, first_aa, next_aa, contrast=None):
        """(normal displacements along the line in pixels, the crop's flow, contrast used)."""
        x0, y0, x1, y1 = self.box
        first, following = first_aa[y0:y1, x0:x1], next_aa[y0:y1, x0:x1]
        low, high = contrast or contrast_range(first)
        flow = farneback(bytescale(first, low, high), bytescale(following, low, high), self.settings)
        return normal_displacement(flow, self.line, (x0, y0)), flow, (low, high)


def cross_correlation_lag(upstream, downstream, dt, max_lag=None):
    """Travel time (s) from the upstream series to the downstream one.

    Both are time series of the line-integrated column on a regular grid of dt seconds; the
    lag maximises their Pearson correlation, refined between samples by a parabola.
    Returns (lag_s, correlation).
    """
    a = np.asarray(upstream, float)
    b = np.asarray(downstream, float)
    n = min(a.size, b.size)
    max_lag = n // 2 if max_lag is None else min(int(max_lag), n - 3)
    if n < 4 or max_lag < 1:
        raise ValueError('cross-correlation needs at least 4 samples on each line')
    scores = []
    for lag in range(max_lag + 1):
        x, y = a[:n - lag], b[lag:n]
        if x.std() == 0 or y.std() == 0:
            scores.append(-1.0)
        else:
            scores.append(float(np.corrcoef(x, y)[0, 1]))
    scores = np.array(scores)
    best = int(np.argmax(scores))
    offset = 0.0
    if 0 < best < max_lag:
        left, mid, right = scores[best - 1:best + 2]
        curvature = left - 2 * mid + right
        if curvature < 0:
            offset = 0.5 * (left - right) / curvature
    return (best + offset) * dt, float(scores[best])


def cross_correlation_speed(upstream, downstream, dt, separation_m, max_lag=None):
    """Plume speed (m/s) from two parallel lines separation_m apart along the flow."""
    lag, correlation = cross_correlation_lag(upstream, downstream, dt, max_lag)
    if lag <= 0:
        return float('nan'), correlation
    return separation_m / lag, correlation


def resample_series(times_s, values, dt):
    """A series on a regular grid of dt seconds (linear interpolation), for correlation."""
    times_s = np.asarray(times_s, float)
    grid = np.arange(times_s[0], times_s[-1] + dt / 2, dt)
    return grid, np.interp(grid, times_s, values)

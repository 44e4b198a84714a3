"""How far the plume moved through one integration line between two images, per line
pixel, by one of three methods:

- flow: Farneback's displacement at each line pixel, as it comes (pyplis's flow_raw);
- histogram: the dominant displacement of the plume around the line (the peak of the
  histogram of the flow's component through the line over plume pixels whose flow is
  longer than a pixel, as pyplis's
  flow_histo analysis), used at the line pixels where the raw flow strays from it by more
  than two of the histogram's widths or where there is no plume to follow (pyplis's
  flow_hybrid); elsewhere the raw flow is kept;
- cross-correlation: the travel time of the line-integrated AA from the line to a parallel
  line `cc_separation_px` downstream, over the last `cc_window` images; one speed for the
  whole line, none until the window has filled;
- global: no measurement, one configured speed through the line (the pipeline's
  global_speed_m_s; pyplis's velo_glob), for plumes too faint or smooth to follow.
"""
import collections

import numpy as np

from ..emission import IntegrationLine
from .flow import LineFlow, bytescale, contrast_range, cross_correlation_speed, farneback, normal_displacement
from .flow import resample_series
from .histogram import flow_histogram

SPEED_MODES = ('flow', 'histogram', 'cross-correlation', 'global')
HISTOGRAM_BINS = 60
HYBRID_TOLERANCE = 2.0      # histogram widths a raw displacement may stray before it is replaced
MIN_LENGTH_PX = 1.0         # shorter flow vectors say little about the plume's motion (pyplis's min_length)


def dominant_displacement(normal, mask):
    """(peak, width) of the displacement through the line over the masked pixels, px."""
    values = normal[mask & np.isfinite(normal)]
    if values.size < 20:
        return None
    low, high = np.percentile(values, [1, 99])
    if high <= low:
        return float(low), 0.0
    counts, edges = np.histogram(values, HISTOGRAM_BINS, (low, high))
    peak = int(np.argmax(counts))
    mode = 0.5 * (edges[peak] + edges[peak + 1])
    width = 1.4826 * float(np.median(np.abs(values - mode)))
    return float(mode), width


def parallel_line(line, separation_px):
    """The line moved separation_px along its normal (the way the plume flows)."""
    nx, ny = line.normal
    dx, dy = nx * separation_px, ny * separation_px
    return IntegrationLine(line.x0 + dx, line.y0 + dy, line.x1 + dx, line.y1 + dy, line.orientation,
                           f'{line.name} +{separation_px:g} px')


class LineSpeed:
    """One line's displacements, image after image (observe() every image, then
    displacement() for each consecutive pair)."""

    def __init__(self, line, settings):
        self.line = line
        self.s = settings
        self._flow = None
        self.spread_px = None
        self.histogram = None      # the last pair's flow histograms (histogram.py)
        if settings.speed_mode == 'cross-correlation':
            self.downstream = parallel_line(line, settings.cc_separation_px)
            self.history = collections.deque(maxlen=settings.cc_window)

    def observe(self, time, aa):
        if self.s.speed_mode == 'cross-correlation':
            self.history.append((time.timestamp(), float(np.nansum(self.line.profile(aa))),
                                 float(np.nansum(self.downstream.profile(aa)))))

    def displacement(self, first, following, dt, plume_mask=None):
        """Displacement through the line per line pixel (px over dt), or None. Sets
        `spread_px`: the width of the histogram of the flow through the line over the
        moving plume around it (pyplis's histogram sigma), None where there is none."""
        mode = self.s.speed_mode
        self.spread_px = None
        if mode == 'cross-correlation':
            return self._cross_correlation(dt)
        normal, crop_flow, origin = self._raw(first, following)
        if crop_flow is None:
            return normal
        x0, y0 = origin
        h, w = crop_flow.shape[:2]
        nx, ny = self.line.normal
        across = crop_flow[..., 0] * nx + crop_flow[..., 1] * ny
        plume = plume_mask(following[y0:y0 + h, x0:x0 + w]) if plume_mask else np.isfinite(following[y0:y0 + h, x0:x0 + w])
        moving = np.hypot(crop_flow[..., 0], crop_flow[..., 1]) > MIN_LENGTH_PX
        dominant = dominant_displacement(across, plume & moving)
        self.histogram = flow_histogram(crop_flow, plume & moving, across, dominant)
        if dominant is None:
            return normal
        peak, width = dominant
        self.spread_px = width
        if mode == 'flow':
            return normal
        line_plume = plume_mask(self.line.profile(following)) if plume_mask else np.ones(normal.shape, bool)
        stray = np.abs(normal - peak) > HYBRID_TOLERANCE * max(width, 0.05)
        return np.where(stray | ~line_plume, peak, normal)

    def _raw(self, first, following):
        s = self.s
        if s.full_frame_flow:
            low, high = s.flow_contrast or contrast_range(first, self.line.bounds(first.shape, s.flow_margin))
            flow = farneback(bytescale(first, low, high), bytescale(following, low, high), s.flow)
            return normal_displacement(flow, self.line), flow, (0, 0)
        if self._flow is None or self._flow.box != self.line.bounds(first.shape, s.flow_margin):
            self._flow = LineFlow(self.line, first.shape, s.flow_margin, s.flow)
        normal, flow, _ = self._flow(first, following, s.flow_contrast)
        return normal, flow, self._flow.box[:2]

    def _cross_correlation(self, dt):
        if len(self.history) < self.history.maxlen:
            return None
        times, upstream, downstream = (np.array(v) for v in zip(*self.history))
        step = float(np.median(np.diff(times)))
        if step <= 0:
            return None
        _, a = resample_series(times, upstream, step)
        _, b = resample_series(times, downstream, step)
        speed_px_s, correlation = cross_correlation_speed(a, b, step, self.s.cc_separation_px)
        if not np.isfinite(speed_px_s) or correlation < 0.5:
            return None
        return np.full(len(self.line.points[0]), speed_px_s * dt)

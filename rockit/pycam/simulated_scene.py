"""What the simulated instrument looks at: a sky over a volcano's flank, with an SO2 plume
rising from a vent and drifting to the left, in puffs that move with the wind, so that
processing sees the plume's structure travel between frames.

Positions are in pixels of the stored 648 x 486 image; columns are in ppm.m. Everything is
a function of wall-clock time, so the cameras and the spectrometer, each simulated on its
own thread, see the same plume at the same moment.
"""
import math

import numpy as np

WIDTH, HEIGHT = 648, 486
HORIZON = 410            # rows below it are the volcano's flank
VENT = (560.0, 395.0)    # x, y
PEAK_PPMM = 3000.0       # the column near the vent, before the puffs
RISE = 130.0             # px the plume centre rises before levelling off
PUFF_LENGTH = 90.0       # px between puffs along the plume
GROUND_RADIANCE = 0.06   # the flank, relative to the sky


class PlumeScene:
    def __init__(self, brightness=1.0, wind_speed=15.0):
        self.brightness = brightness      # scales the whole sky: a brighter or duller day
        self.wind_speed = wind_speed      # px/s, to the left
        ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        self._xs, self._ys = xs, ys
        self._sky = self._sky_radiance(xs, ys)
        self._downwind = np.maximum(VENT[0] - xs[0], 0)
        self._envelope = _envelope(np.maximum(VENT[0] - xs, 0), ys)

    @staticmethod
    def _sky_radiance(xs, ys):
        """Relative radiance: brighter towards the horizon, vignetted by the lens, dark flank."""
        gradient = 0.55 + 0.45 * np.clip(ys / HORIZON, 0, 1)
        r2 = ((xs - WIDTH / 2) / (WIDTH / 2)) ** 2 + ((ys - HEIGHT / 2) / (WIDTH / 2)) ** 2
        sky = gradient * (1 - 0.25 * r2)
        return np.where(ys < HORIZON, sky, GROUND_RADIANCE).astype(np.float32)

    def radiance(self):
        """Relative sky radiance per pixel (HEIGHT, WIDTH), before any absorption."""
        return self._sky * np.float32(self.brightness)

    def column(self, t):
        """SO2 column in ppm.m over the image grid (HEIGHT, WIDTH) at wall-clock time t (s)."""
        return self._envelope * self._puffs(self._downwind, t)[None, :]

    def column_at(self, x, y, t):
        """SO2 column in ppm.m at one image position (x, y) at wall-clock time t (s)."""
        downwind = np.maximum(VENT[0] - np.float32(x), 0)
        return float(_envelope(downwind, np.float32(y)) * self._puffs(downwind, t))

    def _puffs(self, downwind, t):
        """The plume's along-wind structure, travelling at the wind speed."""
        phase = 2 * math.pi * ((downwind - self.wind_speed * t) / PUFF_LENGTH)
        return (0.6 + 0.4 * np.sin(phase) * np.cos(0.37 * phase + 1.0)).astype(np.float32)

    def centre_row(self, x):
        """The plume's centre line at column x (where a spectrometer should look)."""
        return float(VENT[1] - RISE * (1 - math.exp(-max(VENT[0] - x, 0) / 90)))


def _envelope(downwind, ys):
    """The plume's column without its puffs: a rising, widening Gaussian cross-section
    whose peak falls as it widens (the same amount of SO2 spread wider), nothing upwind."""
    centre = VENT[1] - RISE * (1 - np.exp(-downwind / 90))
    width = 12 + 0.18 * downwind
    near_vent = 1 - np.exp(-downwind / 8)
    profile = np.exp(-0.5 * ((ys - centre) / width) ** 2)
    return np.where(downwind > 0, PEAK_PPMM * (12 / width) * near_vent * profile, 0).astype(np.float32)

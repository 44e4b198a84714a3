"""What the simulated instrument looks at: a sky over a volcano's flank, with an SO2 plume
rising from a vent and carried to the left by the wind.

The plume is a steady envelope (a rising, widening Gaussian cross-section that, once the
vent's gas has joined it, carries the same SO2 at every distance downwind) times a
turbulent texture that the wind advects rigidly ("frozen turbulence"): structures of about
5-40 px that keep their shape while they drift at the wind speed, as optical flow assumes
of a real plume. The texture is the product of two seamless noise strips of different
lengths (4096 and 3375 px), so it only repeats after 13.8 million px of drift (a month at
5 px/s): consecutive frames never show a periodic pattern that optical flow could match at
the wrong offset. Optical flow needs the drift between frames to stay a few px (about 5
at the default 5 px/s and 1 Hz).

The sky is brighter towards the horizon and vignetted by the lens, in both bands alike, and
the on-band sky darkens a little more towards the horizon than the off-band (more of its
shorter wavelengths are scattered out of a longer path): a clear-sky frame cancels it, the
AA of one sky patch does not (SKY_AA_GRADIENT, like the 0.05 of Villarrica's sky from top
to bottom). Light dilution is off unless asked for: with an extinction coefficient (per km
at 310 nm, falling as wavelength^-4) a fraction exp(-extinction * distance) of the light
comes through the plume, the rest is scattered into the view between plume and camera
and carries no SO2.

Below the horizon the flank is a few dark ridges at known distances (TERRAIN_RIDGES), one
behind the other, nearer ridges lower in the image. Diluted by the same law, a ridge's
radiance is GROUND_RADIANCE exp(-e d) + A (1 - exp(-e d)), A the band's sky at the horizon
(the ambient light): the further ridges look brighter, as real terrain does, which is what
estimating the extinction from terrain relies on (Campion et al. 2015). Without dilution
every ridge is GROUND_RADIANCE, the flank of before.

Positions are in pixels of the stored 648 x 486 image; columns are in ppm.m; the wind speed
is in px/s. Everything is a function of wall-clock time, so the cameras and the
spectrometer, each simulated on its own thread, see the same plume at the same moment.

The scene also knows its own truth, for tests of processing: the plume's speed, the column
integrated along any line, and the SO2 flux through it in kg/s for a camera geometry
(`emission_rate`), with the unit conversions of rockit.pycam.processing written out again
here (so that a mistake in either shows as a disagreement).
"""
import functools
import math

import numpy as np

from ..instrument import FILTER_NM, FOCAL_LENGTH_M, IMAGE_HEIGHT, IMAGE_WIDTH, OFF_BAND, ON_BAND, PIXEL_SIZE_M
from .optics import band_optics

WIDTH, HEIGHT = IMAGE_WIDTH, IMAGE_HEIGHT
HORIZON = 410            # rows below it are the volcano's flank
VENT = (560.0, 395.0)    # x, y
PEAK_PPMM = 2400.0       # ppm.m on the centre line were all the vent's gas in a plume VENT_WIDTH wide
VENT_WIDTH = 12.0        # px: the plume's Gaussian sigma at the vent
SPREAD = 0.11            # px of sigma gained per px downwind
SOURCE_LENGTH = 40.0     # px downwind over which the vent's gas joins the plume (1 - 1/e of it)
RISE = 170.0             # px the plume centre rises before levelling off
RISE_LENGTH = 90.0       # px downwind over which it rises by 1 - 1/e of that
GROUND_RADIANCE = 0.06   # the flank, relative to the sky
TEXTURE_STRIPS = (4096, 3375)   # px: lengths of the two seamless noise strips (lcm 13.8 Mpx)
TEXTURE_SCALES = (5.0, 40.0)    # px: the smallest and largest structures of the texture
TEXTURE_CONTRAST = 0.45         # sigma of the log of the texture (a lognormal of mean 1)
SKY_AA_GRADIENT = 0.05          # the clear sky's AA from the top of the image to the horizon
DILUTION_REFERENCE_NM = 310.0   # the wavelength the extinction coefficient is given at
# (top row, distance m) of each ridge of the flank, furthest first; a ridge reaches down to
# the next one's top, its edge waving by TERRAIN_WAVE px
TERRAIN_RIDGES = ((410, 9000.0), (424, 6000.0), (438, 4000.0), (452, 2500.0), (467, 1200.0))
TERRAIN_WAVE = 2.0
TERRAIN_LINE_X = (20, 480)      # the ridges' truth lines keep clear of the plume's vent
AMBIENT_REGION = (300, 398, 360, 408)   # x0, y0, x1, y1: plume-free sky just above the horizon

MOLECULES_PER_PPMM_273K = 2.687e15   # molecules/cm^2 in 1 ppm.m at 273.15 K and 1013.25 hPa
SO2_MOLAR_MASS = 64.066              # g/mol
AVOGADRO = 6.02214076e23             # 1/mol


class PlumeScene:
    def __init__(self, brightness=1.0, wind_speed=5.0, seed=0, sky_aa_gradient=SKY_AA_GRADIENT,
                 extinction_per_km=0.0, plume_distance_m=3000.0):
        self.brightness = brightness      # scales the whole sky: a brighter or duller day
        self.wind_speed = wind_speed      # px/s, to the left
        self.extinction_per_km = extinction_per_km   # at 310 nm; 0: no light dilution
        self.plume_distance_m = plume_distance_m     # for the dilution only
        self.optics = band_optics()
        ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        self._sky = self._sky_radiance(xs, ys)
        self._on_sky = self._sky * np.exp(-sky_aa_gradient * np.clip(ys / HORIZON, 0, 1)).astype(np.float32)
        self.terrain_distance_m = _terrain_distance(xs, ys)
        if extinction_per_km:
            self._sky = self._diluted_terrain(self._sky, OFF_BAND)
            self._on_sky = self._diluted_terrain(self._on_sky, ON_BAND)
        self._envelope = _envelope(np.maximum(VENT[0] - xs, 0), ys)
        self._strips = _texture_strips(seed)

    @staticmethod
    def _sky_radiance(xs, ys):
        """Relative radiance: brighter towards the horizon, vignetted by the lens, dark flank."""
        gradient = 0.55 + 0.45 * np.clip(ys / HORIZON, 0, 1)
        r2 = ((xs - WIDTH / 2) / (WIDTH / 2)) ** 2 + ((ys - HEIGHT / 2) / (WIDTH / 2)) ** 2
        sky = gradient * (1 - 0.25 * r2)
        return np.where(ys < HORIZON, sky, GROUND_RADIANCE).astype(np.float32)

    def _diluted_terrain(self, sky, band):
        """The flank's ridges seen through the air between them and the camera."""
        ambient = sky[HORIZON - 1, WIDTH // 2]
        f = np.exp(-self.extinction(band) * np.nan_to_num(self.terrain_distance_m) / 1000).astype(np.float32)
        terrain = np.isfinite(self.terrain_distance_m)
        return np.where(terrain, sky * f + ambient * (1 - f), sky).astype(np.float32)

    def extinction(self, band):
        """The band's extinction coefficient, per km."""
        return self.extinction_per_km * (DILUTION_REFERENCE_NM / FILTER_NM[band]) ** 4

    def terrain_lines(self):
        """[(distance m, (x0, y, x1, y))]: a row through the middle of each ridge, clear of
        its waving edges."""
        tops = [row for row, _ in TERRAIN_RIDGES] + [HEIGHT]
        return [(distance, (TERRAIN_LINE_X[0], (top + bottom) // 2, TERRAIN_LINE_X[1], (top + bottom) // 2))
                for (top, distance), bottom in zip(TERRAIN_RIDGES, tops[1:])]

    def radiance(self, band=None):
        """Relative sky radiance per pixel (HEIGHT, WIDTH) in a band (None: the off-band's
        shape), before any absorption."""
        return (self._on_sky if band == ON_BAND else self._sky) * np.float32(self.brightness)

    def direct_fraction(self, wavelength_nm):
        """The share of the light that crossed the plume (1 without dilution)."""
        per_km = self.extinction_per_km * (DILUTION_REFERENCE_NM / np.asarray(wavelength_nm, float)) ** 4
        return np.exp(-per_km * self.plume_distance_m / 1000)

    def transmission(self, band, column):
        """What reaches a camera band through columns (ppm.m) of the plume, diluted."""
        direct = self.optics.depth(band, column)
        transmitted = np.exp(-direct)
        if self.extinction_per_km:
            f = np.float32(self.direct_fraction(FILTER_NM[band]))
            transmitted = f * transmitted + (1 - f)
        return transmitted

    def drift(self, t):
        """px the turbulence has travelled (to the left) at wall-clock time t (s)."""
        return self.wind_speed * t

    def column(self, t):
        """SO2 column in ppm.m over the image grid (HEIGHT, WIDTH) at wall-clock time t (s)."""
        drift = self.drift(t)
        start = math.floor(drift)
        weights = _catmull_rom(np.float32(drift - start))
        columns = np.arange(WIDTH) + start
        texture = None
        for strip in self._strips:
            length = strip.shape[1]
            part = sum(w * strip[:, (columns + k - 1) % length] for k, w in enumerate(weights))
            texture = part if texture is None else texture * part
        return self._envelope * np.maximum(texture, 0)

    def column_at(self, x, y, t):
        """SO2 column in ppm.m at image positions (x, y) (scalars or arrays, fractional
        allowed) at wall-clock time t (s): the same field column() renders on the grid."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        value = _envelope(np.maximum(VENT[0] - x, 0), y) * self._texture_at(x + self.drift(t), y)
        return float(value) if value.ndim == 0 else value

    def _texture_at(self, u, y):
        """The texture at strip positions u (Catmull-Rom along the strips, as column()
        renders) and rows y (linear between rows)."""
        start = np.floor(u)
        weights = _catmull_rom(u - start)
        row = np.floor(y)
        fy = y - row
        rows = [(row.astype(np.int64) % HEIGHT, 1 - fy), ((row.astype(np.int64) + 1) % HEIGHT, fy)]
        texture = 1.0
        for strip in self._strips:
            length = strip.shape[1]
            part = 0.0
            for k, w in enumerate(weights):
                index = (start.astype(np.int64) + k - 1) % length
                part = part + w * sum(wy * strip[r, index] for r, wy in rows)
            texture = texture * part
        return np.maximum(texture, 0)

    def centre_row(self, x):
        """The plume's centre line at column x (where a spectrometer should look)."""
        return float(_centre(max(VENT[0] - x, 0)))

    # The truth, for tests of processing.

    def velocity(self):
        """The plume's velocity (vx, vy) in px/s: the wind, to the left."""
        return -float(self.wind_speed), 0.0

    def line_column(self, x0, y0, x1, y1, t, step=0.25):
        """The column integrated along the line from (x0, y0) to (x1, y1) at time t, in
        ppm.m px (midpoint rule, `step` px apart)."""
        length = math.hypot(x1 - x0, y1 - y0)
        n = max(1, int(math.ceil(length / step)))
        f = (np.arange(n) + 0.5) / n
        return float(np.sum(self.column_at(x0 + f * (x1 - x0), y0 + f * (y1 - y0), t)) * length / n)

    def line_flux(self, x0, y0, x1, y1, t, step=0.25):
        """The column the wind carries through the line per second, ppm.m px^2/s: the
        line-integrated column times the wind's component across the line."""
        length = math.hypot(x1 - x0, y1 - y0)
        vx, vy = self.velocity()
        across = abs(vx * (y1 - y0) - vy * (x1 - x0)) / length
        return self.line_column(x0, y0, x1, y1, t, step) * across

    @staticmethod
    def pixel_m(distance_m, pixel_size_m=PIXEL_SIZE_M, focal_length_m=FOCAL_LENGTH_M):
        """A stored pixel's extent at the plume's distance, m."""
        return distance_m * pixel_size_m / focal_length_m

    def speed_m_s(self, distance_m, pixel_size_m=PIXEL_SIZE_M, focal_length_m=FOCAL_LENGTH_M):
        """The plume's true speed in m/s for a camera geometry."""
        return math.hypot(*self.velocity()) * self.pixel_m(distance_m, pixel_size_m, focal_length_m)

    def line_mass(self, x0, y0, x1, y1, t, distance_m, pixel_size_m=PIXEL_SIZE_M, focal_length_m=FOCAL_LENGTH_M,
                  temperature_k=273.15):
        """The true SO2 mass along the line at time t, kg per metre of plume travel (the
        processing's line_column_kg_m), for a camera geometry and the reference temperature
        of the ppm.m -> molecules/cm^2 conversion (at 1013.25 hPa)."""
        pixel = self.pixel_m(distance_m, pixel_size_m, focal_length_m)
        return self.line_column(x0, y0, x1, y1, t) * pixel * _kg_per_m2_per_ppmm(temperature_k)

    def emission_rate(self, x0, y0, x1, y1, t, distance_m, pixel_size_m=PIXEL_SIZE_M, focal_length_m=FOCAL_LENGTH_M,
                      temperature_k=273.15):
        """The true SO2 flux through the line at time t, kg/s, for a camera geometry and the
        reference temperature of the ppm.m -> molecules/cm^2 conversion (at 1013.25 hPa)."""
        pixel = self.pixel_m(distance_m, pixel_size_m, focal_length_m)
        return self.line_flux(x0, y0, x1, y1, t) * pixel * pixel * _kg_per_m2_per_ppmm(temperature_k)


def _kg_per_m2_per_ppmm(temperature_k):
    """SO2 kg/m^2 in a column of 1 ppm.m: ppm.m -> molecules/cm^2 -> mol/m^2 -> kg/m^2."""
    molecules_per_cm2 = MOLECULES_PER_PPMM_273K * 273.15 / temperature_k
    return molecules_per_cm2 * 1e4 / AVOGADRO * SO2_MOLAR_MASS * 1e-3


def _terrain_distance(xs, ys):
    """m to the ridge each pixel sees; NaN in the sky."""
    distance = np.full(xs.shape, np.nan, np.float32)
    for k, (top, metres) in enumerate(TERRAIN_RIDGES):
        edge = top + TERRAIN_WAVE * np.sin(2 * np.pi * xs / 170 + k) if k else top
        distance[ys >= edge] = metres
    return distance


def _centre(downwind):
    return VENT[1] - RISE * (1 - np.exp(-downwind / RISE_LENGTH))


def _envelope(downwind, ys):
    """The plume's column without its texture: a rising, widening Gaussian cross-section
    whose peak falls as it widens (the same amount of SO2 spread wider), nothing upwind."""
    width = VENT_WIDTH + SPREAD * downwind
    near_vent = 1 - np.exp(-downwind / SOURCE_LENGTH)
    profile = np.exp(-0.5 * ((ys - _centre(downwind)) / width) ** 2)
    return np.where(downwind > 0, PEAK_PPMM * (VENT_WIDTH / width) * near_vent * profile, 0).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _texture_strips(seed):
    """The texture's strips, made once per seed and process (the cameras and the
    spectrometer each have a scene) and never written to. Each strip is exp(s N - s^2 / 2)
    of unit Gaussian noise N: their product has mean 1 and a log of sigma TEXTURE_CONTRAST."""
    rng = np.random.default_rng(seed)
    s = TEXTURE_CONTRAST / math.sqrt(len(TEXTURE_STRIPS))
    strips = []
    for length in TEXTURE_STRIPS:
        strip = np.exp(s * _noise(rng, HEIGHT, length) - s * s / 2).astype(np.float32)
        strip.flags.writeable = False
        strips.append(strip)
    return tuple(strips)


def _noise(rng, rows, length):
    """Unit Gaussian noise (rows, length), seamless at both ends of both axes, with equal
    variance per octave of structure size between TEXTURE_SCALES."""
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(length)[None, :]
    k = np.hypot(kx, ky)
    smallest, largest = TEXTURE_SCALES
    with np.errstate(divide='ignore'):
        amplitude = np.where(k > 0, 1 / k, 0) * np.exp(-(k * smallest) ** 2) * (1 - np.exp(-(k * largest) ** 2))
    spectrum = np.fft.rfft2(rng.standard_normal((rows, length))) * amplitude
    field = np.fft.irfft2(spectrum, s=(rows, length))
    return (field - field.mean()) / field.std()


def _catmull_rom(f):
    """The weights of samples at -1, 0, 1, 2 for a point a fraction f past sample 0."""
    f2, f3 = f * f, f * f * f
    return ((-f3 + 2 * f2 - f) / 2, (3 * f3 - 5 * f2 + 2) / 2, (-3 * f3 + 4 * f2 + f) / 2, (f3 - f2) / 2)

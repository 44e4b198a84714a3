"""A simulated Ocean Insight Flame-S, with the members of seabreeze's Spectrometer the daemon
uses (devices.interfaces.SpectrometerDevice), looking at the simulated scene from one point
of the cameras' view.

Its 2048 pixels span 242-404 nm with the real instrument's wavelength calibration. A
spectrum is a dark level of about 1030 counts (with a fixed pixel pattern) plus the clear
sky (solar spectrum through ozone, convolved with the instrument's line shape, times its
response) scaled by brightness and integration time, through the SO2 column the scene has
at the spectrometer's view (none for Clear and <N>ppmm captures, which an operator takes
looking at clear sky), with shot and read noise, clipped at the 16-bit full scale.
The reference comes from data/flame_s_reference.npz (tools/make_pycam_reference.py). Where
the DOAS references are at hand (optics.reference_folder), the SO2 absorption in 300-334 nm
is rendered at 0.01 nm and then convolved with the line shape, as the light reaches a real
spectrometer; elsewhere with the convolved cross-section. With the scene's light dilution,
the light scattered in between carries no SO2. intensities() takes as long as the
integration, as on the device; render() gives a spectrum at any time at once.

Fault switch, on the class so that it holds for the spectrometer a reconnection opens too:
`unplugged` (the USB cable is out: opening fails, and so does every spectrum).
"""
import time
from pathlib import Path

import numpy as np

from .optics import SpectralTransmission, reference_folder
from .scene import PlumeScene
from ..instrument import SPECTRUM_FULL_SCALE, SPECTRUM_PIXELS

REFERENCE = Path(__file__).with_name('data') / 'flame_s_reference.npz'
MOLECULES_PER_PPMM = 2.687e15   # molecules/cm^2 per ppm.m at 273.15 K and 1013.25 hPa
READ_NOISE = 8.0
ELECTRONS_PER_COUNT = 0.5
VIEW_RADIUS = 5.0     # px of the on-band image: the disk the spectrometer sees, evenly weighted


class SimulatedSpectrometer:
    model = 'FLAME-S'
    pixels = SPECTRUM_PIXELS
    max_intensity = float(SPECTRUM_FULL_SCALE)
    integration_time_micros_limits = (1000, 65_000_000)
    unplugged = False

    def __init__(self, scene=None, view=None, serial_number='FLMS-SIM01', seed=None, view_radius=VIEW_RADIUS):
        if self.unplugged:
            raise RuntimeError('no spectrometer found')
        self.scene = scene or PlumeScene()
        self.serial_number = serial_number
        x = 330.0
        self.view = tuple(view) if view else (x, self.scene.centre_row(x))
        dy, dx = np.mgrid[-view_radius:view_radius + 0.5:1.0, -view_radius:view_radius + 0.5:1.0]
        inside = dx ** 2 + dy ** 2 <= view_radius ** 2
        self._view_points = (self.view[0] + dx[inside], self.view[1] + dy[inside])
        reference = np.load(REFERENCE)
        self._wavelengths = reference['wavelengths']
        self._clear = reference['clear_counts_per_ms'].astype(np.float64)
        self._cross_section = reference['so2_cross_section'].astype(np.float64)
        self._rng = np.random.default_rng(seed)
        self._dark = float(reference['dark_counts']) + self._rng.normal(0, 6, self.pixels)
        folder = reference_folder()
        self._line_by_line = None if folder is None else SpectralTransmission(folder, self._wavelengths)
        self._integration_us = 100_000
        self._capped = False
        self._cell_ppmm = 0.0
        self._clear_sky = False
        self._open = True

    def wavelengths(self):
        return self._wavelengths.copy()

    def integration_time_micros(self, integration_time_micros):
        low, high = self.integration_time_micros_limits
        if not low <= integration_time_micros <= high:
            raise ValueError(f'integration time {integration_time_micros} us outside {low}-{high} us')
        self._integration_us = int(integration_time_micros)

    def intensities(self, correct_dark_counts=False, correct_nonlinearity=False):
        if not self._open:
            raise RuntimeError('device is closed')
        if self.unplugged:
            raise RuntimeError('USB transfer failed: no such device')
        seconds = self._integration_us / 1e6
        time.sleep(seconds)
        counts = self.render(time.time() - seconds / 2)
        if correct_dark_counts:
            counts = counts - self._dark.mean()
        return counts

    def plume_column(self, t):
        """The SO2 column (ppm.m) in the spectrometer's view at time t (s): the mean over
        the disk of view_radius px around `view`."""
        return float(np.mean(self.scene.column_at(*self._view_points, t)))

    def render(self, t):
        """The counts of a spectrum whose integration is centred on time t (s), at once."""
        signal = np.zeros(self.pixels)
        if not self._capped:
            plume = 0.0 if self._clear_sky else self.plume_column(t)
            cell = self._cell_ppmm
            transmission = self._transmission(plume)
            if cell:
                transmission = transmission * self._transmission(cell)
            if plume and self.scene.extinction_per_km:
                direct = self.scene.direct_fraction(self._wavelengths)
                transmission = direct * transmission + (1 - direct)
            signal = self._clear * self.scene.brightness * (self._integration_us / 1000) * transmission
        noise = self._rng.standard_normal(self.pixels) * np.sqrt(signal / ELECTRONS_PER_COUNT + READ_NOISE ** 2)
        return np.clip(np.rint(self._dark + signal + noise), 0, self.max_intensity)

    def _transmission(self, ppmm):
        molecules = ppmm * MOLECULES_PER_PPMM
        transmission = np.exp(-self._cross_section * molecules)
        if self._line_by_line is None:
            return transmission
        return self._line_by_line.apply(transmission, molecules)

    def spectrum(self):
        return np.array([self.wavelengths(), self.intensities()])

    def mimic_operator(self, capture_type):
        """What the operator does for a capture type: no light for Dark; clear sky for Clear,
        through a calibration cell of N ppm.m for <N>ppmm; the plume in view otherwise."""
        self._capped = capture_type == 'Dark'
        self._cell_ppmm = float(capture_type[:-4]) if capture_type.endswith('ppmm') else 0.0
        self._clear_sky = capture_type == 'Clear' or capture_type.endswith('ppmm')

    def close(self):
        self._open = False

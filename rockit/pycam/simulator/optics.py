"""What an SO2 column does to the light each camera records, from the physics rather than a
constant: each band's optical depth is that of the sky's spectrum I0(lambda) through the
filter's transmission T(lambda) and the SO2 cross-section sigma(lambda),

    tau_band(S) = -ln( sum I0 T exp(-sigma S) / sum I0 T ),

summed over the spectrometer's wavelength grid (data/flame_s_reference.npz: the clear sky
and the SO2 cross-section at 0.08 nm spacing). The filters are Gaussians of FILTER_FWHM_NM
around the instrument's 310 and 330 nm. Across a 10 nm band SO2 absorbs unevenly, so the
wavelengths it absorbs most saturate first: AA = tau_on - tau_off bends over as the column
grows, as the cells show on real instruments.

The optical depth is tabulated once over TABLE_PPMM and interpolated per pixel, which
keeps a frame as cheap as the Beer-Lambert constant it replaces.
"""
import functools
from pathlib import Path

import numpy as np

from ..instrument import FILTER_NM

REFERENCE = Path(__file__).with_name('data') / 'flame_s_reference.npz'
MOLECULES_PER_PPMM = 2.687e15      # molecules/cm^2 per ppm.m at 273.15 K and 1013.25 hPa
FILTER_FWHM_NM = 10.0
TABLE_PPMM = np.linspace(0.0, 8000.0, 801)   # beyond the last entry the last slope goes on


def filter_transmission(wavelengths, centre_nm, fwhm_nm=FILTER_FWHM_NM):
    sigma = fwhm_nm / (2 * np.sqrt(2 * np.log(2)))
    return np.exp(-0.5 * ((wavelengths - centre_nm) / sigma) ** 2)


class BandOptics:
    """Optical depth of an SO2 column (ppm.m) in each camera band."""

    def __init__(self, fwhm_nm=FILTER_FWHM_NM, centres=None):
        reference = np.load(REFERENCE)
        wavelengths = reference['wavelengths']
        sky = reference['clear_counts_per_ms'].astype(np.float64)
        sigma = reference['so2_cross_section'].astype(np.float64)
        self.centres = dict(centres or FILTER_NM)
        self.fwhm_nm = fwhm_nm
        self._tables = {}
        for band, centre in self.centres.items():
            weight = sky * filter_transmission(wavelengths, centre, fwhm_nm)
            transmitted = np.exp(-np.outer(TABLE_PPMM * MOLECULES_PER_PPMM, sigma)) @ weight
            self._tables[band] = (-np.log(transmitted / weight.sum())).astype(np.float64)

    def depth(self, band, column_ppmm):
        """tau of the band for columns (scalar or array, ppm.m; float32 for arrays): linear
        between the table's evenly spaced entries, a straight line on past its end."""
        table = self._tables[band]
        step = TABLE_PPMM[1] - TABLE_PPMM[0]
        position = np.clip(np.asarray(column_ppmm, np.float32) / np.float32(step), 0, None)
        index = np.minimum(position.astype(np.int32), len(table) - 2)
        fraction = position - index
        low, high = table[index].astype(np.float32), table[index + 1].astype(np.float32)
        value = low + (high - low) * fraction
        return float(value) if value.ndim == 0 else value

    def absorbance(self, column_ppmm):
        """The apparent absorbance AA = tau_on - tau_off of a column (ppm.m), no offsets."""
        on, off = sorted(self.centres, key=self.centres.get)
        return self.depth(on, column_ppmm) - self.depth(off, column_ppmm)


@functools.lru_cache(maxsize=4)
def band_optics(fwhm_nm=FILTER_FWHM_NM):
    """The tables, made once per process (every simulated camera shares them)."""
    return BandOptics(fwhm_nm)


HIGH_RESOLUTION_NM = (300.0, 334.0)   # where the spectrometer's SO2 is rendered line by line
MODEL_SPACING_NM = 0.01


def reference_folder():
    """The DOAS references (cross-sections, solar spectrum, line shape): those pycam ships,
    else the shared data beside the repository; None when neither is there."""
    try:
        from ..references import FOLDER
        if (FOLDER / 'SO2_293K.txt').is_file():
            return FOLDER
    except ImportError:
        pass
    for parent in Path(__file__).resolve().parents:
        candidate = parent / 'shared' / 'data' / 'pycam' / 'spectra' / 'reference'
        if (candidate / 'SO2_293K.txt').is_file():
            return candidate
    return None


def _columns(path):
    return np.loadtxt(path, comments='#', usecols=(0, 1)).T


class SpectralTransmission:
    """The SO2 transmission a spectrometer records, pixel by pixel: the solar spectrum times
    exp(-sigma S) at 0.01 nm, convolved with the instrument's line shape, over the same
    without SO2. Taking the convolution after the absorption (not exp(-S times a convolved
    sigma)) is what a real spectrometer does, and what a DOAS fit models."""

    def __init__(self, folder, pixels, ils='2019-07-03_302nm_ILS.txt'):
        folder = Path(folder)
        low, high = HIGH_RESOLUTION_NM
        grid = np.arange(low, high + MODEL_SPACING_NM / 2, MODEL_SPACING_NM)
        x, y = _columns(folder / 'sao2010_solar.txt')
        self._solar = np.interp(grid, x, y)
        x, y = _columns(folder / 'SO2_293K.txt')
        self._sigma = np.interp(grid, x, y)
        offset, shape = _columns(folder / ils)
        centre = offset[np.argmax(shape)]
        half = max(centre - offset[0], offset[-1] - centre)
        kernel_grid = np.arange(-half, half + MODEL_SPACING_NM / 2, MODEL_SPACING_NM)
        kernel = np.interp(kernel_grid + centre, offset, shape, left=0.0, right=0.0)
        self._kernel = kernel / kernel.sum()
        margin = half + 0.1
        self._inside = (pixels > low + margin) & (pixels < high - margin)
        self._pixels, self._grid = pixels[self._inside], grid
        self._clear = self._convolved(self._solar)

    def _convolved(self, values):
        return np.interp(self._pixels, self._grid, np.convolve(values, self._kernel, mode='same'))

    def apply(self, transmission, molecules):
        """transmission (per pixel, as from a convolved cross-section) with its pixels
        inside HIGH_RESOLUTION_NM replaced by the line-by-line transmission of the column."""
        out = np.array(transmission, float)
        if molecules > 0:
            out[self._inside] = self._convolved(self._solar * np.exp(-self._sigma * molecules)) / self._clear
        return out

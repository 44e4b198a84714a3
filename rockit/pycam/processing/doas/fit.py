"""SO2 slant columns from the spectrometer by a DOAS fit in intensity space.

The measured spectrum is modelled directly, as the field's established tools do, rather
than as a ratio to a clear spectrum (which would itself carry SO2 and stray light):

    I(lambda) = ILS * [ S(lambda) P(lambda) exp(-sum_i sigma_i(lambda) c_i) ] + offset

S is the high-resolution solar reference, P a cubic polynomial (the sky's broadband
colour and the instrument's throughput), sigma_i the SO2, O3 and Ring references, ILS the
spectrometer's measured line shape; the model is built on a 0.01 nm grid, convolved, and
sampled at the measured wavelengths after a shift and stretch of the model grid. Before
fitting, the dark spectrum is subtracted, and stray light is estimated as the mean signal
in 293-296 nm, where the atmosphere passes no sunlight, and subtracted.
"""
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DoasError
from ...instrument import SPECTRUM_FULL_SCALE
from ...storage.names import spectra_in

FIT_WINDOW = (308.0, 318.0)
STRAY_WINDOW = (293.0, 296.0)
MODEL_SPACING = 0.01     # nm
MODEL_PADDING = 1.0      # nm each side, so that shifts and the ILS wings stay inside
# The ILS is the one measured on the 302 nm mercury line: the "313 nm" line is the
# 312.57/313.16 nm doublet, whose recorded shape is nearly twice as wide as the instrument's.
REFERENCE_FILES = {
    'solar': 'sao2010_solar.txt',
    'SO2': 'SO2_293K.txt',
    'O3': 'O3_223K_Serdyuchenko.txt',
    'Ring': 'Ring.txt',
    'ILS': '2019-07-03_302nm_ILS.txt',
}
# PyCam's names for the same data (its pycam/doas/calibration/), used when ours are absent.
PYCAM_REFERENCE_FILES = {'solar': 'sao2010.txt', 'O3': 'Serdyuchenko_O3_223K.txt'}
# First guesses and the scale each column is fitted in (keeps the problem well conditioned).
ABSORBERS = {'SO2': 1e16, 'O3': 1e19, 'Ring': 0.1}
SATURATED_COUNTS = SPECTRUM_FULL_SCALE


def load_reference(path, low=None, high=None):
    """Two-column text (wavelength nm, value), '#' comments, cut to [low, high] nm."""
    data = np.loadtxt(path, comments='#')
    if data.ndim != 2 or data.shape[1] < 2:
        raise DoasError(f'{path}: expected two columns (wavelength, value)')
    data = data[np.argsort(data[:, 0])]
    if low is not None:
        data = data[(data[:, 0] >= low) & (data[:, 0] <= high)]
    return data[:, 0], data[:, 1]


def line_shape(offsets, values, spacing=MODEL_SPACING):
    """The measured ILS resampled onto the model spacing, centred on its centroid and
    normalised to unit area, so that convolving shifts nothing and keeps intensity.

    Its pedestal is kept: the wings a mercury line leaves above zero are the instrument's
    own stray light around every wavelength, and taking the minimum off narrows the
    shape (on the 2019-05-29 plume spectra the SO2 columns fell 3.5 % short of iFit's
    with the same references)."""
    values = np.clip(np.asarray(values, float), 0, None)
    centre = np.sum(offsets * values) / np.sum(values)
    half = max(centre - offsets[0], offsets[-1] - centre)
    steps = int(half / spacing)
    grid = np.arange(-steps, steps + 1) * spacing
    kernel = np.interp(grid + centre, offsets, values, left=0, right=0)
    return kernel / kernel.sum()


@dataclass
class DoasReferences:
    """The references on the model grid: everything that does not change between spectra."""
    grid: np.ndarray
    solar: np.ndarray
    cross_sections: dict
    ils: np.ndarray

    @classmethod
    def load(cls, folder, window=FIT_WINDOW, files=None):
        folder = Path(folder)
        files = dict(REFERENCE_FILES, **(files or {}))
        files.update({key: name for key, name in PYCAM_REFERENCE_FILES.items()
                      if not (folder / files[key]).is_file() and (folder / name).is_file()})
        low, high = window[0] - MODEL_PADDING, window[1] + MODEL_PADDING
        grid = np.arange(low, high + MODEL_SPACING / 2, MODEL_SPACING)
        missing = [name for name in files.values() if not (folder / name).is_file()]
        if missing:
            raise DoasError(f'{folder}: missing reference files {", ".join(missing)}')

        def on_grid(name):
            x, y = load_reference(folder / files[name], low - 1, high + 1)
            if x.size < 2 or x[0] > low or x[-1] < high:
                raise DoasError(f'{files[name]} does not cover {low:.1f}-{high:.1f} nm')
            return np.interp(grid, x, y)

        solar = on_grid('solar')
        sections = {name: on_grid(name) for name in ABSORBERS}
        ils = line_shape(*load_reference(folder / files['ILS']))
        return cls(grid, solar / solar.mean(), sections, ils)


@dataclass
class DoasResult:
    column: float            # SO2, molecules/cm^2
    error: float             # 1-sigma fit error, molecules/cm^2
    columns: dict = field(default_factory=dict)   # every absorber's fitted amount
    errors: dict = field(default_factory=dict)
    shift: float = math.nan   # nm
    stretch: float = math.nan  # nm across the fit window
    stray_light: float = math.nan   # counts subtracted
    residual_rms: float = math.nan  # relative to the spectrum
    saturated: bool = False
    success: bool = True
    params: np.ndarray = None       # the fitted parameter vector (see DoasFitter.model)
    wavelengths: np.ndarray = None  # the fit window's pixels, the corrected spectrum there,
    measured: np.ndarray = None     # and the model's fit to it: for plots and checks
    fitted: np.ndarray = None

    def as_json(self):
        return {'column': _finite(self.column), 'error': _finite(self.error)}


def _finite(value):
    return float(value) if value is not None and math.isfinite(value) else None


class DoasFitter:
    """Fits one spectrum at a time; the references are prepared once."""

    def __init__(self, references, window=FIT_WINDOW, stray_window=STRAY_WINDOW, poly_order=3):
        self.refs = references
        self.window = window
        self.stray_window = stray_window
        self.poly_order = poly_order
        self.absorbers = list(ABSORBERS)
        self._scale = np.array([ABSORBERS[a] for a in self.absorbers])
        g = references.grid
        self._x = (g - g.mean()) / (g[-1] - g[0])   # polynomial argument, -0.5..0.5
        self._line = (g - g[0]) / (g[-1] - g[0])    # stretch argument, 0..1
        self._sections = np.array([references.cross_sections[a] for a in self.absorbers])

    def model(self, params, wavelengths):
        """The forward model at the measured wavelengths for a parameter vector:
        [poly (order+1, highest power first), offset, shift, stretch, absorbers...]."""
        n = self.poly_order + 1
        poly = np.polyval(params[:n], self._x)
        offset, shift, stretch = params[n:n + 3]
        amounts = params[n + 3:] * self._scale
        optical_depth = amounts @ self._sections
        return self.observe(self.refs.solar * poly * np.exp(-optical_depth) + offset, shift, stretch, wavelengths)

    def observe(self, high_res, shift, stretch, wavelengths):
        """A spectrum on the model grid as the spectrometer records it: convolved with the
        line shape, then sampled at the wavelengths after a shift and stretch of the grid."""
        ils = self.refs.ils
        pad = ils.size // 2
        padded = np.concatenate([np.full(pad, high_res[0]), high_res, np.full(pad, high_res[-1])])
        convolved = np.convolve(padded, ils, mode='valid')
        shifted_grid = self.refs.grid + shift + stretch * self._line
        return np.interp(wavelengths, shifted_grid, convolved)

    def prepare(self, wavelengths, counts, dark=None):
        """Dark- and stray-light-corrected counts inside the fit window."""
        wavelengths = np.asarray(wavelengths, float)
        counts = np.asarray(counts, float)
        if dark is not None:
            counts = counts - np.asarray(dark, float)
        stray_mask = (wavelengths >= self.stray_window[0]) & (wavelengths <= self.stray_window[1])
        stray = float(counts[stray_mask].mean()) if stray_mask.any() else 0.0
        fit_mask = (wavelengths >= self.window[0]) & (wavelengths <= self.window[1])
        if fit_mask.sum() < 10:
            raise DoasError(f'fewer than 10 spectrometer pixels in {self.window[0]}-{self.window[1]} nm')
        return wavelengths[fit_mask], counts[fit_mask] - stray, stray, fit_mask

    def fit(self, wavelengths, counts, dark=None):
        """DoasResult for one spectrum (wavelengths in nm, counts) given its dark spectrum.
        Levenberg-Marquardt on the residual relative to the spectrum's level; the errors are
        the covariance scaled by the residual's variance, as the field's tools report them."""
        from scipy.optimize import least_squares
        raw = np.asarray(counts, float)
        w, y, stray, fit_mask = self.prepare(wavelengths, raw, dark)
        saturated = bool(np.any(raw[fit_mask] >= SATURATED_COUNTS))
        # Start: a flat polynomial at the spectrum's level, no offset, shift, stretch or SO2,
        # typical amounts of the other absorbers.
        n = self.poly_order + 1
        absorbers = np.array([0.0 if a == 'SO2' else 1.0 for a in self.absorbers])
        flat = np.r_[np.zeros(n - 1), 1.0, 0.0, 0.0, 0.0, absorbers]
        level = np.median(y) / np.median(self.model(flat, w))
        start = flat.copy()
        start[n - 1] = level
        scale_y = max(float(np.median(np.abs(y))), 1.0)
        x_scale = np.r_[np.full(n, max(abs(level), 1.0)), 0.01 * scale_y, 0.01, 0.01, np.ones(len(self.absorbers))]

        def residual(p):
            return (self.model(p, w) - y) / scale_y

        solution = least_squares(residual, start, x_scale=x_scale, method='lm', max_nfev=4000)
        p = solution.x
        dof = max(y.size - p.size, 1)
        sigma2 = np.sum(solution.fun ** 2) / dof
        try:
            cov = np.linalg.inv(solution.jac.T @ solution.jac) * sigma2
            perr = np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            perr = np.full(p.size, np.nan)
        columns = {a: float(p[n + 3 + i] * self._scale[i]) for i, a in enumerate(self.absorbers)}
        errors = {a: float(perr[n + 3 + i] * self._scale[i]) for i, a in enumerate(self.absorbers)}
        fitted = self.model(p, w)
        rms = float(np.sqrt(np.mean(((y - fitted) / np.where(y != 0, y, 1)) ** 2)))
        return DoasResult(columns['SO2'], errors['SO2'], columns, errors, shift=float(p[n + 1]),
                          stretch=float(p[n + 2]), stray_light=stray, residual_rms=rms,
                          saturated=saturated, success=bool(solution.success), params=p,
                          wavelengths=w, measured=y, fitted=fitted)


def load_spectrum(path):
    """A saved spectrum: (wavelengths nm, counts), from the (2, pixels) array."""
    data = np.load(path, allow_pickle=False)
    if data.ndim != 2 or data.shape[0] != 2:
        raise DoasError(f'{path}: expected a (2, pixels) array of wavelengths and counts, got {data.shape}')
    return data[0].astype(float), data[1].astype(float)


def folder_dark(folder, integration_ms=None):
    """The mean of the folder's Dark spectra (at the integration time asked for, if any)."""
    darks = spectra_in(folder, kind='Dark')
    if integration_ms is not None:
        matching = [d for d in darks if d.integration_ms == integration_ms]
        darks = matching or darks
    if not darks:
        return None
    return np.mean([load_spectrum(d.path)[1] for d in darks], axis=0)


def plume_spectra(folder):
    """(file name, wavelengths, counts, dark) of every Plume spectrum, with the folder's dark
    at its integration time."""
    folder = Path(folder)
    plumes = spectra_in(folder, kind='Plume')
    if not plumes:
        raise DoasError(f'{folder}: no Plume spectra (<time>_<ms>ss_<N>coadd_Plume.npy)')
    darks = {}
    for name in plumes:
        if name.integration_ms not in darks:
            darks[name.integration_ms] = folder_dark(folder, name.integration_ms)
        if darks[name.integration_ms] is None:
            raise DoasError(f'{folder}: no Dark spectrum (<time>_<ms>ss_<N>coadd_Dark.npy)')
        yield (name.path.name, *load_spectrum(name.path), darks[name.integration_ms])


def fit_folder(folder, references=None, fitter=None):
    """{spectrum file name: DoasResult} for every Plume spectrum, with the folder's dark."""
    if fitter is None:
        fitter = DoasFitter(references or DoasReferences.load(default_reference_folder(folder)))
    return {name: fitter.fit(wavelengths, counts, dark) for name, wavelengths, counts, dark in plume_spectra(folder)}


def default_reference_folder(folder):
    """References beside the spectra (`<folder>/reference`, else `../reference`), else the
    ones pycam ships."""
    from ...references import FOLDER
    folder = Path(folder)
    for candidate in (folder / 'reference', folder.parent / 'reference'):
        if (candidate / REFERENCE_FILES['SO2']).is_file():
            return candidate
    return FOLDER

"""Light dilution of the spectrometer's SO2 column, corrected by comparing two fit windows
(Varnam et al. 2021, as iFit's light-dilution method does).

Light scattered into the line of sight between the plume and the instrument carries no
SO2 and dilutes the plume's absorption. Scattering grows as wavelength^-4, so the shorter
window (306-316 nm by default) is diluted more than the longer one (312-322 nm), while
SO2's stronger absorption at short wavelengths bends its fit the other way: the pair of
columns the two windows return places a spectrum on a grid of (true column, light
dilution factor). The light dilution factor (LDF) is the fraction of the light at 310 nm
that did not cross the plume; at other wavelengths the light through the plume is
(1 - LDF) ** ((310 / lambda) ** 4).

The grid is made from the fit's own forward model: noise-free spectra with each true
column and LDF, fitted in both windows as measured spectra are. Their sky is a measured
spectrum's fit across both windows (polynomial, ozone, Ring, offset, shift and stretch):
how dilution bends each window's fit depends on the sky's colour and the instrument's
throughput, and a flat sky puts the grid's LDF 0.1 away from the truth on the
simulator. The grid is built once and kept in a .npz file with the parameters it was made
from, rebuilt whenever they differ (windows, grid, references, the instrument's
wavelengths) or the file cannot be read; the sky it was made with is kept in it too.

A measured pair is inverted on a bicubic interpolation of the grid; the errors of the
corrected column and the LDF come from the two fits' errors through the interpolation's
slopes (the windows' errors are taken as independent, as iFit does). A pair whose
columns are not at least twice their errors has no defined dilution, and a pair further
than 2 sigma from every point of the grid (beyond its largest column, or off it at an
LDF above 0) is not corrected: both give NaN with the reason. A pair whose shorter
window reads above the longer beyond noise, which dilution cannot do, is given LDF 0 and
the column that explains both windows without dilution (as iFit does), with a note that
the windows disagree: the 2019 plume spectra are such pairs. An LDF less than
twice its error above 0 is not told apart from none: the column is then the one that
explains both windows without dilution (the LDF is still reported), so that noise and the
windows' small disagreements do not invent a correction.
"""
import hashlib
import io
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rockit.common.files import atomic_write

from ..errors import DoasError
from .fit import DoasFitter, DoasReferences

DEFAULT_WINDOWS = ((306.0, 316.0), (312.0, 322.0))
DEFAULT_GRID = {'so2_max': 1.2e19, 'so2_points': 16, 'ldf_max': 0.9, 'ldf_points': 10}
LDF_REFERENCE_NM = 310.0
SIGNIFICANCE = 2.0         # a window's column must be this many errors above zero
WITHIN_SIGMA = 2.0         # a pair further than this from the grid is not corrected
GRID_FORMAT = 1            # raised whenever the grid's making changes


@dataclass(frozen=True)
class DilutionSettings:
    windows: tuple = DEFAULT_WINDOWS
    so2_max: float = DEFAULT_GRID['so2_max']        # molecules/cm^2
    so2_points: int = DEFAULT_GRID['so2_points']
    ldf_max: float = DEFAULT_GRID['ldf_max']
    ldf_points: int = DEFAULT_GRID['ldf_points']

    @classmethod
    def checked(cls, windows=None, grid=None, where='light_dilution'):
        """Settings from config values, each checked: a wrong one named with `where`."""
        windows = DEFAULT_WINDOWS if windows is None else windows
        if not (isinstance(windows, (list, tuple)) and len(windows) == 2
                and all(isinstance(w, (list, tuple)) and len(w) == 2 and all(_is_number(v) for v in w)
                        for w in windows)):
            raise ValueError(f'{where}_windows must be two [low, high] windows in nm, not {windows!r}')
        windows = tuple((float(w[0]), float(w[1])) for w in windows)
        for low, high in windows:
            if not 290.0 <= low < high - 2.0 or high > 335.0:
                raise ValueError(f'{where}_windows: [{low:g}, {high:g}] nm must lie within 290-335 nm '
                                 'and span more than 2 nm')
        if not (windows[0][0] < windows[1][0] and windows[0][1] < windows[1][1]):
            raise ValueError(f'{where}_windows: the first window must be the shorter-wavelength one, '
                             f'not {[list(w) for w in windows]}')
        grid = DEFAULT_GRID if grid is None else grid
        if not isinstance(grid, dict):
            raise ValueError(f'{where}_grid must be {{"so2_max", "so2_points", "ldf_max", "ldf_points"}}, '
                             f'not {grid!r}')
        unknown = set(grid) - set(DEFAULT_GRID)
        if unknown:
            raise ValueError(f'{where}_grid: unknown keys {", ".join(sorted(unknown))} '
                             f'(known: {", ".join(DEFAULT_GRID)})')
        values = dict(DEFAULT_GRID, **grid)
        if not (_is_number(values['so2_max']) and values['so2_max'] > 0):
            raise ValueError(f'{where}_grid: so2_max must be a column above 0 in molecules/cm^2, '
                             f'not {values["so2_max"]!r}')
        if not (_is_number(values['ldf_max']) and 0 < values['ldf_max'] < 1):
            raise ValueError(f'{where}_grid: ldf_max must be above 0 and below 1, not {values["ldf_max"]!r}')
        for key, top in (('so2_points', 200), ('ldf_points', 100)):
            if not (_is_number(values[key]) and values[key] == int(values[key]) and 4 <= values[key] <= top):
                raise ValueError(f'{where}_grid: {key} must be a whole number from 4 to {top}, not {values[key]!r}')
        return cls(windows, float(values['so2_max']), int(values['so2_points']), float(values['ldf_max']),
                   int(values['ldf_points']))

    @property
    def so2_axis(self):
        return np.linspace(0.0, self.so2_max, self.so2_points)

    @property
    def ldf_axis(self):
        return np.linspace(0.0, self.ldf_max, self.ldf_points)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def direct_fraction(ldf, wavelengths):
    """The share of the light at each wavelength that crossed the plume, for an LDF at 310 nm."""
    return (1.0 - ldf) ** ((LDF_REFERENCE_NM / np.asarray(wavelengths, float)) ** 4)


@dataclass
class DilutionResult:
    column: float            # corrected SO2, molecules/cm^2 (NaN when not corrected)
    error: float
    ldf: float               # light dilution factor at 310 nm
    ldf_error: float
    window_columns: tuple    # the two windows' fitted SO2, molecules/cm^2
    window_errors: tuple
    reason: str = ''         # why there is no correction, or what to know about it; '' when neither

    @property
    def corrected(self):
        return math.isfinite(self.column)

    @property
    def within_noise(self):
        """A window's column is within noise of none: there is nothing to dilute."""
        return any(not c >= SIGNIFICANCE * e for c, e in zip(self.window_columns, self.window_errors))

    def as_json(self):
        def finite(v):
            return float(v) if math.isfinite(v) else None
        return {'column': finite(self.column), 'error': finite(self.error), 'ldf': finite(self.ldf),
                'ldf_error': finite(self.ldf_error), 'window_columns': [finite(c) for c in self.window_columns],
                'reason': self.reason}


class DilutionGrid:
    """What each window's fit returns (window, so2, ldf) for each true column and LDF."""

    def __init__(self, settings, columns, parameters):
        from scipy.interpolate import RectBivariateSpline
        self.settings = settings
        self.columns = np.asarray(columns, float)
        self.parameters = parameters
        so2, ldf = settings.so2_axis, settings.ldf_axis
        # Interpolated in units of so2_max, so that the fit below is well scaled.
        self._splines = [RectBivariateSpline(so2 / settings.so2_max, ldf, c / settings.so2_max)
                         for c in self.columns]

    @classmethod
    def build(cls, references_folder, settings, wavelengths, counts, dark=None):
        """Fit the model's spectra on the grid (settings.so2_points * ldf_points per window).
        Their sky is the fit of a measured spectrum across both windows: its polynomial
        (the sky's colour times the instrument's throughput, which decides how dilution
        bends each window's fit), ozone, Ring, offset, shift and stretch."""
        low, high = settings.windows[0][0], settings.windows[1][1]
        broad = DoasReferences.load(references_folder, window=(low, high))
        model = DoasFitter(broad, window=(low, high))
        sky = model.fit(wavelengths, counts, dark)
        if not sky.success or sky.wavelengths.size < 20:
            raise DoasError(f'the fit across {low:g}-{high:g} nm that gives the light dilution grid its sky '
                            'did not converge')
        fitters = [DoasFitter(DoasReferences.load(references_folder, window=w), window=w) for w in settings.windows]
        n = model.poly_order + 1
        p = sky.params
        offset, shift, stretch = p[n:n + 3]
        others = {a: p[n + 3 + i] * model._scale[i] for i, a in enumerate(model.absorbers) if a != 'SO2'}
        clear = broad.solar * np.polyval(p[:n], model._x) * np.exp(-sum(
            amount * broad.cross_sections[a] for a, amount in others.items()))
        so2_section = broad.cross_sections['SO2']
        columns = np.zeros((2, settings.so2_points, settings.ldf_points))
        for j, ldf in enumerate(settings.ldf_axis):
            direct = direct_fraction(ldf, broad.grid)
            for i, so2 in enumerate(settings.so2_axis):
                high_res = clear * (direct * np.exp(-so2 * so2_section) + 1 - direct) + offset
                spectrum = model.observe(high_res, shift, stretch, sky.wavelengths)
                for k, fitter in enumerate(fitters):
                    columns[k, i, j] = fitter.fit(sky.wavelengths, spectrum).column
        parameters = grid_parameters(broad, wavelengths, settings)
        parameters['sky'] = {'so2': sky.column, **others, 'shift_nm': float(shift), 'stretch_nm': float(stretch),
                             'residual_rms': sky.residual_rms}
        return cls(settings, columns, parameters)

    @classmethod
    def cached(cls, path, references_folder, settings, wavelengths, counts, dark=None):
        """The grid kept at path if it was made with the same parameters (its sky aside: the
        first spectrum's stays until the file is removed), else built from this spectrum and kept."""
        path = Path(path)
        low, high = settings.windows[0][0], settings.windows[1][1]
        wanted = grid_parameters(DoasReferences.load(references_folder, window=(low, high)), wavelengths, settings)
        kept = _read(path)
        if kept is not None and {k: v for k, v in kept[1].items() if k != 'sky'} == wanted:
            return cls(settings, kept[0], kept[1])
        grid = cls.build(references_folder, settings, wavelengths, counts, dark)
        atomic_write(path, grid.to_bytes())
        return grid

    def to_bytes(self):
        out = io.BytesIO()
        np.savez(out, columns=self.columns, parameters=np.array(json.dumps(self.parameters, sort_keys=True)))
        return out.getvalue()

    def _at(self, so2, ldf):
        return np.array([s.ev(so2, ldf)[()] for s in self._splines])

    def _slopes(self, so2, ldf):
        return np.array([[s.ev(so2, ldf, dx=1)[()], s.ev(so2, ldf, dy=1)[()]] for s in self._splines])

    def invert(self, columns, errors):
        """DilutionResult for the two windows' columns and their fit errors (molecules/cm^2)."""
        from scipy.optimize import least_squares
        columns, errors = _pair(columns, 'columns'), _pair(errors, 'errors')
        if not np.all(errors > 0):
            raise DoasError(f'light dilution: the window fits\' errors must be above 0, not {errors.tolist()}')
        scale = self.settings.so2_max
        nan = math.nan

        def result(column, error, ldf, ldf_error, reason=''):
            return DilutionResult(column, error, ldf, ldf_error, tuple(columns), tuple(errors), reason)

        if np.any(columns < SIGNIFICANCE * errors):
            return result(nan, nan, nan, nan, f'a window\'s column is under {SIGNIFICANCE:g} times its error')
        measured, sigma = columns / scale, errors / scale
        nodes = (self.columns / scale - measured[:, None, None]) / sigma[:, None, None]
        i, j = np.unravel_index(np.argmin(np.sum(nodes ** 2, axis=0)), nodes.shape[1:])
        start = np.array([self.settings.so2_axis[i] / scale, self.settings.ldf_axis[j]])
        fit = least_squares(lambda p: (self._at(*p) - measured) / sigma, start,
                            jac=lambda p: self._slopes(*p) / sigma[:, None],
                            bounds=([0.0, 0.0], [1.0, self.settings.ldf_max]))
        so2, ldf = fit.x
        misfit = float(np.sqrt(np.sum(fit.fun ** 2)))
        note = ''
        if misfit > WITHIN_SIGMA:
            if so2 >= 1.0 - 1e-6:
                return result(nan, nan, nan, nan, f'the windows\' columns lie beyond the grid\'s largest column '
                                                  f'(so2_max {scale:.3g})')
            if ldf > 1e-6:
                return result(nan, nan, nan, nan, f'the windows\' columns lie outside the grid ({misfit:.1f} sigma)')
            note = f'no dilution seen: the shorter window reads high, {misfit:.1f} sigma off the grid'
            ldf = 0.0
        jacobian = self._slopes(so2, ldf) / sigma[:, None]
        try:
            covariance = np.linalg.inv(jacobian.T @ jacobian)
            so2_error, ldf_error = np.sqrt(np.clip(np.diag(covariance), 0, None))
        except np.linalg.LinAlgError:
            so2_error = ldf_error = math.inf
        if not ldf >= SIGNIFICANCE * ldf_error:
            so2, so2_error = self._undiluted(measured, sigma, so2)
        return result(float(so2 * scale), float(so2_error * scale), float(ldf), float(ldf_error), note)

    def _undiluted(self, measured, sigma, start):
        """The column (in so2_max) and its error that explain both windows with no dilution."""
        from scipy.optimize import least_squares
        fit = least_squares(lambda q: (self._at(q[0], 0.0) - measured) / sigma, [start],
                            jac=lambda q: self._slopes(q[0], 0.0)[:, :1] / sigma[:, None], bounds=([0.0], [1.0]))
        slope = self._slopes(fit.x[0], 0.0)[:, 0] / sigma
        return fit.x[0], 1.0 / math.sqrt(np.sum(slope ** 2))


def _pair(values, what):
    try:
        values = np.asarray(values, float).reshape(-1)
    except (TypeError, ValueError):
        raise DoasError(f'light dilution: the two windows\' {what} must be numbers, not {values!r}') from None
    if values.size != 2 or not np.all(np.isfinite(values)):
        raise DoasError(f'light dilution: needs the two windows\' {what} as finite numbers, not {values.tolist()}')
    return values


def grid_parameters(references, wavelengths, settings):
    """What a grid depends on, as plain data: a kept grid made from other parameters is rebuilt."""
    digest = hashlib.sha256()
    for array in (references.grid, references.solar, references.ils,
                  *(references.cross_sections[k] for k in sorted(references.cross_sections))):
        digest.update(np.ascontiguousarray(array, np.float64).tobytes())
    wavelengths = np.asarray(wavelengths, float)
    return {'format': GRID_FORMAT, 'windows': [list(w) for w in settings.windows],
            'so2_max': settings.so2_max, 'so2_points': settings.so2_points,
            'ldf_max': settings.ldf_max, 'ldf_points': settings.ldf_points,
            'references_sha256': digest.hexdigest(),
            'wavelengths_sha256': hashlib.sha256(np.ascontiguousarray(wavelengths, np.float64).tobytes()).hexdigest()}


def _read(path):
    """(columns, parameters) kept at path, or None when absent or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            columns, parameters = data['columns'], json.loads(str(data['parameters']))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if not isinstance(parameters, dict) or columns.ndim != 3 or columns.shape[0] != 2 \
            or not np.all(np.isfinite(columns)):
        return None
    if parameters.get('so2_points') != columns.shape[1] or parameters.get('ldf_points') != columns.shape[2]:
        return None
    return columns, parameters


class DilutionCorrection:
    """The two windows' fits of a measured spectrum and their inversion on the grid."""

    def __init__(self, references_folder, settings, cache_path):
        self.references_folder = references_folder
        self.settings = settings
        self.cache_path = Path(cache_path)
        self.fitters = [DoasFitter(DoasReferences.load(references_folder, window=w), window=w)
                        for w in settings.windows]
        self.grid = None

    def correct(self, wavelengths, counts, dark=None):
        """DilutionResult of one spectrum (the grid built or read on first use)."""
        if self.grid is None:
            self.grid = DilutionGrid.cached(self.cache_path, self.references_folder, self.settings,
                                            wavelengths, counts, dark)
        fits = [fitter.fit(wavelengths, counts, dark) for fitter in self.fitters]
        if not all(f.success and math.isfinite(f.error) and f.error > 0 for f in fits):
            return DilutionResult(math.nan, math.nan, math.nan, math.nan, tuple(f.column for f in fits),
                                  tuple(f.error for f in fits), 'a window\'s fit did not converge')
        return self.grid.invert([f.column for f in fits], [f.error for f in fits])

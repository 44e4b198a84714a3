"""Step 5: apparent absorbance to SO2 column density.

Three sources of the AA -> column curve (models.py), all giving a `Calibration`:
- cells: quartz cells of known SO2 column (0, 304, 1257 ppm.m at Villarrica) in front of
  the lens against clear sky; the AA each cell produces is fitted against its column;
- DOAS: the spectrometer's fitted columns against the AA in its field of view, taken at
  the same times (calibrates through the real plume's light path);
- stored: a calibration saved earlier as JSON.

Columns are carried in ppm.m or molecules/cm^2; converting between them depends on the gas
temperature assumed, which differs between tools (2.687e15 at 273.15 K, 2.504e15 at
293.15 K), so the reference temperature is always an explicit setting.
"""
import datetime
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import models
from ..background import optical_depth
from ..errors import CalibrationError
from ..images import counts_per_second, load_png, mean_frame
from ...storage.names import cell_images_in, images_in
from ..registration import Registration

MOLECULES_PER_PPMM_273K = 2.687e15   # molecules/cm^2 in 1 ppm.m at 273.15 K, 1013.25 hPa
STANDARD_PRESSURE_HPA = 1013.25
# The ppm.m of the cells is stated at 0 degC and 1 atm (the cell makers' and pyplis's
# convention, 2.687e15 molecules/cm^2), so the conversion defaults to it.
DEFAULT_TEMPERATURE_K = 273.15
PPMM, MOLECULES = 'ppm.m', 'molecules/cm^2'
CALIBRATION_FILE = 'calibration.json'
DEFAULT_CELL_MODEL = 'poly2'    # three cells and a curve that bends: see models.py
DEFAULT_DOAS_MODEL = 'linear'   # plume AA spans a short, nearly straight part of the curve
# Line pixels at or below this column are sky, left out of emission rates (PyCam's default
# min_cd, in molecules/cm^2: about 19 ppm.m, above the noise of a clear-sky pixel).
DEFAULT_MIN_COLUMN = 5e16


@dataclass(frozen=True)
class ColumnUnits:
    """ppm.m <-> molecules/cm^2 at a stated gas temperature (and pressure)."""
    temperature_k: float
    pressure_hpa: float = STANDARD_PRESSURE_HPA

    @property
    def molecules_per_ppmm(self):
        return MOLECULES_PER_PPMM_273K * (273.15 / self.temperature_k) * (self.pressure_hpa / STANDARD_PRESSURE_HPA)

    def to_molecules(self, ppmm):
        return ppmm * self.molecules_per_ppmm

    def to_ppmm(self, molecules):
        return molecules / self.molecules_per_ppmm


@dataclass
class Calibration:
    """column = f(AA) for one of models.MODELS, in `unit` (ppm.m for cells,
    molecules/cm^2 for DOAS). `slope` and `intercept` describe the curve at AA = 0 (for a
    linear model they are the whole of it); `coeffs` and `covariance` are the fit."""
    slope: float
    intercept: float
    r2: float
    unit: str = PPMM
    method: str = 'cell'
    cells: dict = field(default_factory=dict)          # cell column -> mean AA
    cell_scatter: dict = field(default_factory=dict)   # cell column -> std of AA over frames
    slope_err: float = math.nan
    intercept_err: float = math.nan
    residual_std: float = math.nan                     # column units
    points: int = 0
    region: list = field(default_factory=list)         # [x, y, radius] the AA was taken in
    created: str = ''
    measured: str = ''                                 # UTC time of the newest data fitted (its age counts from it)
    source: str = ''
    model: str = 'linear'
    coeffs: list = field(default_factory=list)         # as in models.FORMULAS
    covariance: list = field(default_factory=list)     # of coeffs, column units squared
    keep_offset: bool = False                          # apply f(AA), not f(AA) - f(0) (PyCam's doas_cal_adjust_offset)

    def __post_init__(self):
        models.check_model(self.model)
        if not self.coeffs:                            # a bare line (older files, tests)
            self.model, self.coeffs = 'linear', [float(self.slope), float(self.intercept)]
        if len(self.coeffs) != models.PARAMETERS[self.model]:
            raise CalibrationError(f'a {self.model} calibration has {models.PARAMETERS[self.model]} '
                                   f'coefficients, not {len(self.coeffs)}')

    def column(self, aa, units, unit=MOLECULES):
        """Column density for plume AA (scalar or array) in the unit asked for: the curve
        less its offset (models.applied), so AA 0 reads 0, unless it keeps its offset."""
        curve = models.evaluate if self.keep_offset else models.applied
        return self._convert(curve(self.model, self.coeffs, aa), units, unit)

    def column_error(self, aa, units, unit=MOLECULES):
        """Each pixel's column uncertainty at its AA: the fit's own (the coefficients'
        covariance, which carries the slope error) and the points' scatter about it."""
        variance = models.column_variance(self.model, self.coeffs, self.covariance, aa, self.keep_offset)
        scatter = self.residual_std if math.isfinite(self.residual_std) else 0.0
        return self._convert(np.sqrt(variance + scatter ** 2), units, unit)

    def data_time(self):
        """When the data it was fitted from was taken (else when it was fitted), or None."""
        for text in (self.measured, self.created):
            try:
                return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
            except (TypeError, ValueError):
                continue
        return None

    def fitted(self):
        """{cell column: the fitted curve at that cell's mean AA, offset included (the
        cells' AA carries it), to check the curve against the cells}."""
        return {c: float(models.evaluate(self.model, self.coeffs, aa)) for c, aa in self.cells.items()}

    def describe(self):
        return f'{self.model}: column = ' + models.FORMULAS[self.model] + ' with ' + ', '.join(
            f'{name} = {value:.5g}' for name, value in zip('abc', self.coeffs)) + f' {self.unit}'

    def _convert(self, value, units, unit):
        if unit == self.unit:
            return value
        return units.to_molecules(value) if unit == MOLECULES else units.to_ppmm(value)

    def to_dict(self):
        data = asdict(self)
        data['cells'] = {str(k): v for k, v in self.cells.items()}
        data['cell_scatter'] = {str(k): v for k, v in self.cell_scatter.items()}
        return _json_safe(data)

    @classmethod
    def from_dict(cls, data):
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            cal = cls(**known)
            cal.slope, cal.intercept = float(cal.slope), float(cal.intercept)
        except (TypeError, ValueError) as e:   # ModelError is a ValueError
            raise CalibrationError(f'not a calibration: {e}') from None
        cal.r2 = math.nan if cal.r2 is None else float(cal.r2)
        if not isinstance(cal.keep_offset, bool):
            raise CalibrationError(f'not a calibration: keep_offset must be true or false, not {cal.keep_offset!r}')
        for name in ('slope_err', 'intercept_err', 'residual_std'):
            setattr(cal, name, math.nan if getattr(cal, name) is None else float(getattr(cal, name)))
        cal.cells = {_number(k): float(v) for k, v in (cal.cells or {}).items()}
        cal.cell_scatter = {_number(k): _float(v) for k, v in (cal.cell_scatter or {}).items()}
        try:
            cal.coeffs = [float(c) for c in cal.coeffs]
            cal.covariance = [[_float(v) for v in row] for row in (cal.covariance or [])]
        except (TypeError, ValueError) as e:
            raise CalibrationError(f'not a calibration: {e}') from None
        if cal.unit not in (PPMM, MOLECULES):
            raise CalibrationError(f'unknown column unit {cal.unit!r}')
        return cal

    def save(self, path):
        from rockit.common.files import atomic_write
        atomic_write(path, (json.dumps(self.to_dict(), indent=2) + '\n').encode())

    @classmethod
    def load(cls, path):
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError, AttributeError) as e:
            raise CalibrationError(f'{path}: {e}') from None


def _json_safe(value):
    """NaN and infinities (no such value) as null, all the way down."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _float(value):
    return math.nan if value is None else float(value)


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def disk_mask(shape, x, y, radius):
    yy, xx = np.ogrid[:shape[0], :shape[1]]
    return (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def cell_absorbances(cells, clear, darks, registration=None, radius=30):
    """Per cell: the AA of each on/off frame pair, as the mean in a disk at the image centre.

    cells: {ppm.m: [ImageName, ...]} with both bands; clear: {'on': I0, 'off': I0} in counts
    per second, the off-band not yet registered. Cells fill the whole field of view, so no
    sky region is referenced: the 0 ppm.m cell's AA is the cell windows' own offset, which
    the fit's intercept absorbs. Returns ({ppm.m: [AA, ...]}, [x, y, radius]).
    """
    registration = registration or Registration()
    clear_off = registration.apply(clear['off'])
    shape = clear['on'].shape
    mask = disk_mask(shape, shape[1] // 2, shape[0] // 2, radius)
    result = {}
    for ppmm, names in sorted(cells.items()):
        on = [n for n in names if n.band == 'on']
        off = [n for n in names if n.band == 'off']
        if not on or not off:
            raise CalibrationError(f'the {ppmm} ppm.m cell needs both on- and off-band frames')
        result[ppmm] = [float(np.nanmean(cell_aa_image(a, b, clear['on'], clear_off, darks, registration)[mask]))
                        for a, b in zip(on, off)]
    return result, [shape[1] // 2, shape[0] // 2, radius]


def cell_aa_image(on, off, clear_on, clear_off, darks, registration):
    """The AA image of one on/off cell frame pair (ImageNames) against clear sky, the
    off-band frames registered."""
    on_rate = counts_per_second(load_png(on.path), darks.match('on', on.exposure_us).frame, on.exposure_us)
    off_rate = counts_per_second(load_png(off.path), darks.match('off', off.exposure_us).frame, off.exposure_us)
    return optical_depth(clear_on, on_rate) - optical_depth(clear_off, registration.apply(off_rate))


AA_FLOOR = 1e-3   # smallest 1-sigma of a cell's mean AA: the clear sky's own noise


def fit_cells(frames, region=None, source='', model=DEFAULT_CELL_MODEL):
    """Fit cell column (ppm.m) against each cell's mean AA: frames is {ppm.m: [AA, ...]}.

    Each cell weighs by the uncertainty of its mean AA (the scatter of its frames over
    their number, at least AA_FLOOR), carried into ppm.m by the curve's local slope at
    that cell: a first fit by the cells' chord slope gives the curve, the second is
    weighted by its slope f'(AA) at each cell (the chord was 32 % low at the fullest
    cell and twice too steep near 0 on Cal_1).
    """
    if len(frames) < 2:
        raise CalibrationError(f'cells of at least two columns are needed, found {sorted(frames)} ppm.m')
    columns = sorted(frames)
    means = np.array([float(np.mean(frames[c])) for c in columns])
    scatter = {c: float(np.std(frames[c], ddof=1)) if len(frames[c]) > 1 else math.nan for c in columns}
    sem = np.array([scatter[c] / math.sqrt(len(frames[c])) if len(frames[c]) > 1 else 0.0 for c in columns])
    aa_sigma = np.maximum(sem, AA_FLOOR)
    chord = abs(np.ptp(columns) / np.ptp(means)) if np.ptp(means) > 0 else 1.0
    try:
        cal = _fitted(model, means, np.array(columns, float), chord * aa_sigma, PPMM, 'cell')
        local = np.abs(models.derivative(model, cal.coeffs, means))
        if np.all(np.isfinite(local) & (local > 0)):
            cal = _fitted(model, means, np.array(columns, float), local * aa_sigma, PPMM, 'cell')
    except models.ModelError as e:
        raise CalibrationError(f'{e} (cells of {", ".join(str(c) for c in columns)} ppm.m)') from None
    cal.cells = {c: float(m) for c, m in zip(columns, means)}
    cal.cell_scatter = scatter
    cal.region, cal.source = region or [], str(source)
    return cal


def _fitted(model, aa, columns, sigma, unit, method, through_origin=False):
    coeffs, cov, r2, residual_std = models.fit(model, aa, columns, sigma, through_origin)
    slope = float(models.derivative(model, coeffs, 0.0))
    intercept = float(models.evaluate(model, coeffs, 0.0))
    gradient = models.jacobian(model, coeffs, 0.0)
    slope_err = math.nan
    if model == 'linear':
        slope_err = math.sqrt(cov[0, 0]) if np.isfinite(cov[0, 0]) else math.nan
    intercept_err = math.sqrt(float(gradient[0] @ cov @ gradient[0])) if np.all(np.isfinite(cov)) else math.nan
    return Calibration(slope, intercept, r2, unit, method, slope_err=slope_err, intercept_err=intercept_err,
                       residual_std=residual_std, points=int(len(aa)), created=_now(), model=model,
                       coeffs=coeffs, covariance=cov.tolist())


def clear_sky_rates(folder, darks):
    """Mean clear-sky counts per second per band, from the folder's Clear frames at the
    exposure most of them were taken with."""
    rates = {}
    for band in ('on', 'off'):
        frames = [n for n in images_in(folder, kind='Clear') if n.band == band]
        if not frames:
            raise CalibrationError(f'no {band}-band clear-sky frame in {folder}')
        exposures = [n.exposure_us for n in frames]
        exposure = max(set(exposures), key=exposures.count)
        paths = [n.path for n in frames if n.exposure_us == exposure]
        rates[band] = counts_per_second(mean_frame(paths), darks.match(band, exposure).frame, exposure)
    return rates


def cell_calibration(cell_folder, darks, clear_folder=None, registration=None, radius=30,
                     model=DEFAULT_CELL_MODEL):
    """The cell calibration of a calibration run's folder (clear sky from the same folder
    unless another is named)."""
    cells = cell_images_in(cell_folder)
    if not cells:
        raise CalibrationError(f'{cell_folder}: no calibration cell images '
                               '(<time>_<filter>_<gain>ag_<exposure>ss_<N>ppmm.png)')
    clear = clear_sky_rates(clear_folder or cell_folder, darks)
    frames, region = cell_absorbances(cells, clear, darks, registration, radius)
    return fit_cells(frames, region, cell_folder, model)


def doas_calibration(aa_values, columns, errors=None, model=DEFAULT_DOAS_MODEL, through_origin=True):
    """Fit DOAS columns (molecules/cm^2) against the AA in the spectrometer's field of view,
    weighted by the DOAS fit errors when they are given.

    Through the origin unless told otherwise: the AA and the DOAS columns are both taken
    against clear sky, so AA 0 is column 0. An offset fitted to plume points alone and
    then dropped, as pyplis applies it, takes the curve's bending for an offset: with the
    simulator's filters the rates came out 9 % high that way (docs/processing.md)."""
    aa_values, columns = np.asarray(aa_values, float), np.asarray(columns, float)
    keep = np.isfinite(aa_values) & np.isfinite(columns)
    sigma = None
    if errors is not None:
        errors = np.asarray(errors, float)
        keep &= np.isfinite(errors) & (errors > 0)
        sigma = errors[keep]
    try:
        return _fitted(model, aa_values[keep], columns[keep], sigma, MOLECULES, 'doas', through_origin)
    except models.ModelError as e:
        raise CalibrationError(str(e)) from None


def aa_in_field_of_view(aa, x, y, radius):
    """Mean AA in the spectrometer's field of view, a disk in on-band pixels."""
    return float(np.nanmean(aa[disk_mask(aa.shape, x, y, radius)]))


def find_calibration(path, darks=None, clear_folder=None, registration=None, model=DEFAULT_CELL_MODEL):
    """A saved calibration file, a folder holding one, or a folder of cell images to fit."""
    path = Path(path)
    if path.is_file():
        return Calibration.load(path)
    saved = path / CALIBRATION_FILE
    if saved.is_file():
        return Calibration.load(saved)
    if not cell_images_in(path):
        raise CalibrationError(f'{path}: neither a {CALIBRATION_FILE} nor calibration cell images '
                               '(<time>_<filter>_<gain>ag_<exposure>ss_<N>ppmm.png)')
    if darks is None:
        raise CalibrationError(f'{path}: fitting its cells needs dark frames')
    return cell_calibration(path, darks, clear_folder, registration, model=model)

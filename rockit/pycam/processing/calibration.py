"""Step 5: apparent absorbance to SO2 column density.

Three sources of the AA -> column line, all giving a `Calibration`:
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

from .background import optical_depth
from .images import counts_per_second, load_png, mean_frame
from ..storage.names import cell_images_in, images_in
from .registration import Registration

MOLECULES_PER_PPMM_273K = 2.687e15   # molecules/cm^2 in 1 ppm.m at 273.15 K, 1013.25 hPa
STANDARD_PRESSURE_HPA = 1013.25
PPMM, MOLECULES = 'ppm.m', 'molecules/cm^2'
CALIBRATION_FILE = 'calibration.json'


class CalibrationError(ValueError):
    """Calibration data that is missing, inconsistent or unreadable."""


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
    """The fit column = slope * AA + intercept, in `unit` (ppm.m for cells, molecules/cm^2
    for DOAS)."""
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
    source: str = ''

    def column(self, aa, units, unit=MOLECULES):
        """Column density for AA (scalar or array) in the unit asked for.

        Only the slope is applied, as pyplis does: AA images are referenced to zero in
        plume-free sky, where the column is zero by definition, and the intercept is the
        cell windows' own offset (or the DOAS reference's own SO2), not gas in the plume.
        """
        value = self.slope * aa
        if unit == self.unit:
            return value
        return units.to_molecules(value) if unit == MOLECULES else units.to_ppmm(value)

    def column_error(self, units, unit=MOLECULES):
        """One pixel's column uncertainty: the fit's residual scatter, at least 5 % of the
        highest calibrated column, since three cells cannot show the fit's true error."""
        top = max((abs(float(c)) for c in self.cells), default=0.0) * 0.05
        value = max(self.residual_std if math.isfinite(self.residual_std) else 0.0, top if self.unit == PPMM else 0.0)
        if unit == self.unit:
            return value
        return units.to_molecules(value) if unit == MOLECULES else units.to_ppmm(value)

    def to_dict(self):
        data = asdict(self)
        data['cells'] = {str(k): v for k, v in self.cells.items()}
        data['cell_scatter'] = {str(k): v for k, v in self.cell_scatter.items()}
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data):
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            cal = cls(**known)
            cal.slope, cal.intercept = float(cal.slope), float(cal.intercept)
        except (TypeError, ValueError) as e:
            raise CalibrationError(f'not a calibration: {e}') from None
        cal.r2 = math.nan if cal.r2 is None else float(cal.r2)
        for name in ('slope_err', 'intercept_err', 'residual_std'):
            setattr(cal, name, math.nan if getattr(cal, name) is None else float(getattr(cal, name)))
        cal.cells = {_number(k): float(v) for k, v in (cal.cells or {}).items()}
        cal.cell_scatter = {_number(k): float(v) for k, v in (cal.cell_scatter or {}).items()}
        if cal.unit not in (PPMM, MOLECULES):
            raise CalibrationError(f'unknown column unit {cal.unit!r}')
        return cal

    def save(self, path):
        from .outputs import atomic_write_bytes
        atomic_write_bytes(path, (json.dumps(self.to_dict(), indent=2) + '\n').encode())

    @classmethod
    def load(cls, path):
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError, AttributeError) as e:
            raise CalibrationError(f'{path}: {e}') from None


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def fit_line(aa, column, weights=None):
    """Least squares column = slope * aa + intercept: (slope, intercept, r2, slope_err,
    intercept_err, residual_std)."""
    aa, column = np.asarray(aa, float), np.asarray(column, float)
    if aa.size < 2 or np.ptp(aa) == 0:
        raise CalibrationError('a calibration needs at least two different AA values')
    w = np.ones_like(aa) if weights is None else np.asarray(weights, float)
    design = np.column_stack([aa, np.ones_like(aa)]) * np.sqrt(w)[:, None]
    (slope, intercept), *_ = np.linalg.lstsq(design, column * np.sqrt(w), rcond=None)
    residual = column - (slope * aa + intercept)
    total = np.sum(w * (column - np.average(column, weights=w)) ** 2)
    r2 = 1 - np.sum(w * residual ** 2) / total if total > 0 else math.nan
    dof = aa.size - 2
    if dof > 0:
        sigma2 = np.sum(w * residual ** 2) / dof
        cov = sigma2 * np.linalg.inv(design.T @ design)
        slope_err, intercept_err = (float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])))
        residual_std = float(np.sqrt(np.sum(residual ** 2) / dof))
    else:
        slope_err = intercept_err = residual_std = math.nan
    return float(slope), float(intercept), float(r2), slope_err, intercept_err, residual_std


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
        values = []
        for a, b in zip(on, off):
            on_rate = counts_per_second(load_png(a.path), darks.match('on', a.exposure_us).frame, a.exposure_us)
            off_rate = counts_per_second(load_png(b.path), darks.match('off', b.exposure_us).frame, b.exposure_us)
            tau_on = optical_depth(clear['on'], on_rate)
            tau_off = optical_depth(clear_off, registration.apply(off_rate))
            values.append(float(np.nanmean((tau_on - tau_off)[mask])))
        result[ppmm] = values
    return result, [shape[1] // 2, shape[0] // 2, radius]


def fit_cells(frames, region=None, source=''):
    """Fit cell column (ppm.m) against each cell's mean AA: frames is {ppm.m: [AA, ...]}."""
    if len(frames) < 2:
        raise CalibrationError(f'cells of at least two columns are needed, found {sorted(frames)} ppm.m')
    columns = sorted(frames)
    means = [float(np.mean(frames[c])) for c in columns]
    slope, intercept, r2, slope_err, intercept_err, residual_std = fit_line(means, columns)
    return Calibration(slope, intercept, r2, PPMM, 'cell',
                       cells={c: m for c, m in zip(columns, means)},
                       cell_scatter={c: float(np.std(frames[c], ddof=1)) if len(frames[c]) > 1 else math.nan
                                     for c in columns},
                       slope_err=slope_err, intercept_err=intercept_err, residual_std=residual_std,
                       points=len(columns), region=region or [], created=_now(), source=str(source))


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


def cell_calibration(cell_folder, darks, clear_folder=None, registration=None, radius=30):
    """The cell calibration of a calibration run's folder (clear sky from the same folder
    unless another is named)."""
    cells = cell_images_in(cell_folder)
    if not cells:
        raise CalibrationError(f'{cell_folder}: no calibration cell images '
                               '(<time>_<filter>_<gain>ag_<exposure>ss_<N>ppmm.png)')
    clear = clear_sky_rates(clear_folder or cell_folder, darks)
    frames, region = cell_absorbances(cells, clear, darks, registration, radius)
    return fit_cells(frames, region, cell_folder)


def doas_calibration(aa_values, columns, errors=None):
    """Fit DOAS columns (molecules/cm^2) against the AA in the spectrometer's field of view,
    weighted by the DOAS fit errors when they are given."""
    aa_values, columns = np.asarray(aa_values, float), np.asarray(columns, float)
    keep = np.isfinite(aa_values) & np.isfinite(columns)
    weights = None
    if errors is not None:
        errors = np.asarray(errors, float)
        keep &= np.isfinite(errors) & (errors > 0)
        weights = 1.0 / errors[keep] ** 2
    slope, intercept, r2, slope_err, intercept_err, residual_std = fit_line(aa_values[keep], columns[keep], weights)
    return Calibration(slope, intercept, r2, MOLECULES, 'doas', slope_err=slope_err, intercept_err=intercept_err,
                       residual_std=residual_std, points=int(keep.sum()), created=_now())


def aa_in_field_of_view(aa, x, y, radius):
    """Mean AA in the spectrometer's field of view, a disk in on-band pixels."""
    return float(np.nanmean(aa[disk_mask(aa.shape, x, y, radius)]))


def find_calibration(path, darks=None, clear_folder=None, registration=None):
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
    return cell_calibration(path, darks, clear_folder, registration)

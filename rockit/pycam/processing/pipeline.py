"""Steps 1-7 together: `LivePipeline` turns one on/off Plume pair at a time into an AA
image, a plume speed and an emission rate, carrying the previous AA image across pairs for
the optical flow (batch/run.py drives it over stored pairs).
"""
import datetime
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .absorbance import AbsorbanceImager
from .background import SkyRegion
from .calibration.columns import (DEFAULT_CELL_MODEL, DEFAULT_DOAS_MODEL, DEFAULT_MIN_COLUMN, DEFAULT_TEMPERATURE_K,
                                  MOLECULES, PPMM, ColumnUnits)
from .emission import SO2_MOLAR_MASS, CameraGeometry, IntegrationLine, emission_rate, line_column
from .motion.flow import FarnebackSettings
from .images import counts_per_second, load_png
from ..storage.names import parse_image_name
from .registration import Registration
from .motion.speed import LineSpeed

# Top-right corner of a 648x486 frame: sky above and beside a plume rising from a summit
# in the lower middle of the view (the Villarrica scene's reference region).
DEFAULT_SKY = SkyRegion(550, 20, 600, 70)


@dataclass
class ProcessingSettings:
    """Everything about the scene and the method that is not in the images themselves."""
    sky: SkyRegion = DEFAULT_SKY
    line: IntegrationLine = None
    extra_lines: tuple = ()             # more integration lines: each has its rate, the CSV their total
    geometry: CameraGeometry = None     # None: no emission rates (see geometry.py)
    geometry_notes: list = field(default_factory=list)   # where the geometry came from, or why none
    registration: Registration = field(default_factory=Registration)
    units: ColumnUnits = ColumnUnits(temperature_k=DEFAULT_TEMPERATURE_K)
    flow: FarnebackSettings = FarnebackSettings()
    flow_margin: int = 32               # pixels around the line the flow is computed on
    full_frame_flow: bool = False       # flow over the whole frame (slow; for comparisons)
    flow_contrast: tuple = None         # AA range for byte-scaling; None: from each image
    speed_error: float = 0.15           # relative 1-sigma of the speed where the flow has no spread to give it
    speed_mode: str = 'flow'            # flow | histogram | cross-correlation | global (motion/speed.py)
    global_speed_m_s: float = math.nan  # global: the one speed through every line (pyplis's velo_glob)
    cc_separation_px: float = 10.0      # cross-correlation: the second line this far downstream
    cc_window: int = 20                 # cross-correlation: images correlated
    min_column: float = DEFAULT_MIN_COLUMN   # molecules/cm^2: line pixels at or below are sky (min_cd)
    background: str = 'clear'           # clear | sky | surface (background.py)
    surface_regions: tuple = ()         # SkyRegions the surface is fitted to; () = the sky region
    surface_order: int = 2
    sky_gradient: object = None         # a background.SkyGradient taken off every AA image; None: off
    calibration_model: str = DEFAULT_CELL_MODEL
    doas_calibration_model: str = DEFAULT_DOAS_MODEL
    doas_calibration_offset: bool = False   # DOAS curve applied with its offset (PyCam's doas_cal_adjust_offset)
    max_pair_gap_s: float = 60.0        # no flow between pairs further apart than this
    preview_range: tuple = (-0.05, 0.5)  # AA shown from dark to bright in previews
    molar_mass: float = SO2_MOLAR_MASS
    sensitivity: object = None          # a sensitivity.SensitivityMask the AA is divided by; None: off
    dilution: object = None             # a dilution.DilutionCorrection of both bands' intensities; None: off

    @property
    def lines(self):
        return [] if self.line is None else [self.line, *self.extra_lines]

    def describe(self):
        """JSON-safe summary, written beside the outputs so a result says how it was made."""
        return {
            'sky_region': self.sky.as_list(),
            'lines': [{'x': [line.x0, line.x1], 'y': [line.y0, line.y1], 'orientation': line.orientation,
                       'name': line.name} for line in self.lines],
            'speed_mode': self.speed_mode,
            'geometry': None if self.geometry is None else self.geometry.describe(self.lines),
            'geometry_notes': list(self.geometry_notes),
            'registration': {'warp': self.registration.warp.tolist(), 'source': self.registration.source},
            'reference_temperature_k': self.units.temperature_k,
            'flow': 'full frame' if self.full_frame_flow else f'line box + {self.flow_margin} px',
            'farneback': asdict(self.flow),
            'speed_error': self.speed_error,
            'min_column_molecules_cm2': self.min_column,
            'background': self.background,
            'surface_regions': [r.as_list() for r in self.surface_regions or (self.sky,)]
            if self.background == 'surface' else None,
            'surface_order': self.surface_order if self.background == 'surface' else None,
            'sky_gradient': None if self.sky_gradient is None else {
                'region': self.sky_gradient.region.as_list(), 'order': self.sky_gradient.order},
            'global_speed_m_s': self.global_speed_m_s if self.speed_mode == 'global' else None,
            'calibration_model': self.calibration_model,
            'doas_calibration_model': self.doas_calibration_model,
            'doas_calibration_offset': self.doas_calibration_offset,
            'molar_mass_g_mol': self.molar_mass,
            'sensitivity_mask': None if self.sensitivity is None else self.sensitivity.describe(),
            'dilution': None if self.dilution is None else self.dilution.describe(),
        }


@dataclass
class PairResult:
    time: datetime.datetime
    aa: np.ndarray                       # float32, on-band grid, NaN where no data
    line_mean_aa: float = math.nan
    speed_m_s: float = math.nan          # column-weighted speed through the line
    speed_err_m_s: float = math.nan
    emission_rate_kg_s: float = math.nan
    emission_rate_err_kg_s: float = math.nan
    line_column_kg_m: float = math.nan
    valid_fraction: float = math.nan     # of the line's pixels with data (not NaN)
    so2: np.ndarray = None               # float32 column image, ppm.m, when calibrated
    displacement_px: np.ndarray = None   # per point of the first line, since the previous pair
    lines: dict = field(default_factory=dict)   # line name -> its own rate, error and speed
    calibrated: bool = False
    dark_substituted: bool = False
    dilution: dict = None                # {'on', 'off'}: extinction per km the pair was corrected with

    def dilution_row(self):
        used = self.dilution or {}
        return {f'dilution_{band}_per_km': used.get(band, math.nan) for band in ('on', 'off')}

    def row(self):
        return {'time': self.time.strftime('%Y-%m-%dT%H:%M:%SZ'),
                'emission_rate_kg_s': self.emission_rate_kg_s,
                'emission_rate_err_kg_s': self.emission_rate_err_kg_s,
                'plume_speed_m_s': self.speed_m_s, 'plume_speed_err_m_s': self.speed_err_m_s,
                'line_column_kg_m': self.line_column_kg_m, 'line_mean_aa': self.line_mean_aa,
                'valid_fraction': self.valid_fraction,
                **{f'emission_rate_kg_s_{name}': value['emission_rate_kg_s'] for name, value in self.lines.items()}}


class LivePipeline:
    """One pair at a time; remembers the last AA image for the next pair's flow."""

    def __init__(self, settings, darks, background, calibration=None, previous=None):
        self.settings = settings
        self.darks = darks
        self.calibration = calibration
        self.absorbance = AbsorbanceImager(background, settings.registration, settings.sky_gradient,
                                           settings.dilution)
        self._speeds = {}          # IntegrationLine -> LineSpeed
        self._previous = previous  # (time, aa) of the last image, for the next one's flow

    def reset(self):
        self._previous = None

    def flow_histogram(self):
        """The first line's flow histograms of the last pair it had flow for, or None."""
        speed = self._speeds.get(self.settings.lines[0]) if self.settings.lines else None
        return getattr(speed, 'histogram', None)

    def absorbance_image(self, on_raw, off_raw, on_exposure_us, off_exposure_us):
        """Steps 1-4: raw frames to the AA image."""
        on_dark = self.darks.match('on', on_exposure_us)
        off_dark = self.darks.match('off', off_exposure_us)
        on = counts_per_second(on_raw, on_dark.frame, on_exposure_us)
        off = counts_per_second(off_raw, off_dark.frame, off_exposure_us)
        return self.absorbance(on, off), not (on_dark.exact and off_dark.exact)

    def process(self, on_raw, off_raw, on_exposure_us, off_exposure_us, time):
        """Steps 1-7 for one pair taken at `time` (aware datetime)."""
        aa, substituted = self.absorbance_image(on_raw, off_raw, on_exposure_us, off_exposure_us)
        result = self.process_aa(aa, time)
        result.dark_substituted = substituted
        result.dilution = self.absorbance.dilution_used
        return result

    def process_aa(self, aa, time):
        """Steps 5-7 for an AA image: columns, speed since the previous image, emission;
        for several lines, each line's rate and their total."""
        s = self.settings
        if s.sensitivity is not None:
            aa = s.sensitivity.apply(aa)
        result = PairResult(time, aa, calibrated=self.calibration is not None)
        if self.calibration is not None:
            result.so2 = self.calibration.column(aa, s.units, PPMM).astype(np.float32)
        previous, self._previous = self._previous, (time, aa)
        if not s.lines:
            return result
        for line in s.lines:
            if line not in self._speeds:
                self._speeds[line] = LineSpeed(line, s)
            self._speeds[line].observe(time, aa)
        dt = (time - previous[0]).total_seconds() if previous else 0.0
        parts = [self._line(line, previous[1] if previous else None, aa, dt) for line in s.lines]
        _combine(result, parts, s.geometry is not None and self.calibration is not None)
        if len(parts) > 1:
            result.lines = {line.name or f'line{i + 1}': {k: part[k] for k in (
                'emission_rate_kg_s', 'emission_rate_err_kg_s', 'speed_m_s')} for i, (line, part) in
                enumerate(zip(s.lines, parts))}
        return result

    def process_files(self, on_path, off_path):
        on, off = parse_image_name(on_path), parse_image_name(off_path)
        return self.process(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us, on.time)

    def _line(self, line, first, aa, dt):
        """One line's figures: {valid, mean_aa, displacement, speed_m_s, speed_err_m_s,
        emission_rate_kg_s, emission_rate_err_kg_s, column_kg_m, weight}."""
        s = self.settings
        aa_line = line.profile(aa)
        valid = np.isfinite(aa_line)
        part = {'valid': valid, 'mean_aa': float(aa_line[valid].mean()) if valid.any() else math.nan,
                'displacement': None, 'speed_m_s': math.nan, 'speed_err_m_s': math.nan, 'weight': 0.0,
                'emission_rate_kg_s': math.nan, 'emission_rate_err_kg_s': math.nan, 'column_kg_m': math.nan}
        flow_missing = first is None or not 0 < dt <= s.max_pair_gap_s
        if (flow_missing and s.speed_mode != 'global') or not valid.any():
            return part
        if s.speed_mode == 'global':
            if s.geometry is None:
                return part
            pixel_m = s.geometry.line_pixel_m(line)
            speeds = np.full(valid.shape, s.global_speed_m_s)
        else:
            columns_of = None
            if self.calibration is not None:
                columns_of = lambda values: self.calibration.column(values, s.units, MOLECULES) > s.min_column  # noqa: E731
            displacement = self._speeds[line].displacement(first, aa, dt, columns_of)
            part['displacement'] = displacement
            if displacement is None or s.geometry is None:
                return part
            pixel_m = s.geometry.line_pixel_m(line)
            speeds = displacement * pixel_m / dt
        if self.calibration is None:
            weights = np.clip(np.where(valid, aa_line, 0), 0, None)
            if weights.sum() > 0:
                part['speed_m_s'] = float(np.sum(weights * speeds) / weights.sum())
                part['speed_err_m_s'] = abs(part['speed_m_s']) * s.speed_error
            return part
        spread = None if s.speed_mode == 'global' else self._speeds[line].spread_px
        self._emission(part, aa_line, valid, speeds, pixel_m, line.spacing,
                       None if spread is None else spread * float(np.mean(pixel_m)) / dt)
        return part

    def _emission(self, part, aa_line, valid, speeds, pixel_m, spacing, spread_m_s):
        """Columns, speeds and their errors along the line, as pyplis's det_emission_rate:
        pixels without data or at or below the minimum column are left out; a pixel's
        column error is the calibration's at its AA (fully correlated along the line);
        the speed's error is the spread of the flow through the line (pyplis's histogram
        sigma), or speed_error of it without one; the distance enters the rate twice
        (pixel length and speed), so its error too. Each sample stands for `spacing`
        pixels of the line."""
        s = self.settings
        columns = self.calibration.column(aa_line, s.units, MOLECULES)
        plume = valid & (columns > s.min_column)
        weights = np.where(plume, columns, 0.0)
        speed = float(np.sum(weights * speeds) / weights.sum()) if weights.sum() > 0 else float(np.mean(speeds[valid]))
        speed_err = abs(speed) * s.speed_error if spread_m_s is None else spread_m_s
        sample_m = pixel_m * spacing
        part.update(speed_m_s=speed, speed_err_m_s=speed_err, weight=float(weights.sum()))
        if not plume.any():
            part.update(emission_rate_kg_s=0.0, emission_rate_err_kg_s=0.0, column_kg_m=0.0)
            return
        column_err = self.calibration.column_error(aa_line[plume], s.units, MOLECULES)
        sample_m = sample_m[plume] if np.ndim(sample_m) else sample_m
        phi, phi_err = emission_rate(columns[plume], speeds[plume], sample_m, column_err, speed_err,
                                     sample_m * s.geometry.distance_error, s.molar_mass)
        part.update(emission_rate_kg_s=phi, emission_rate_err_kg_s=phi_err,
                    column_kg_m=line_column(columns[plume], sample_m, s.molar_mass))


def _combine(result, parts, rated):
    """The pair's figures from its lines': totals of rates and columns (errors added
    linearly: calibration and distance err the same way on every line), the speed weighted
    by each line's column, the valid share and mean AA over all line pixels."""
    valid = np.concatenate([p['valid'] for p in parts])
    result.valid_fraction = float(valid.mean())
    weights = [int(p['valid'].sum()) for p in parts]
    means = [p['mean_aa'] for p in parts if np.isfinite(p['mean_aa'])]
    if means:
        result.line_mean_aa = float(np.average([p['mean_aa'] for p in parts if np.isfinite(p['mean_aa'])],
                                               weights=[w for p, w in zip(parts, weights) if np.isfinite(p['mean_aa'])]))
    result.displacement_px = parts[0]['displacement']
    speeds = [(p['speed_m_s'], p['speed_err_m_s'], p['weight']) for p in parts if np.isfinite(p['speed_m_s'])]
    if speeds:
        total = sum(w for _, _, w in speeds)
        if total > 0:
            result.speed_m_s = sum(v * w for v, _, w in speeds) / total
            result.speed_err_m_s = sum(e * w for _, e, w in speeds) / total
        else:
            result.speed_m_s, result.speed_err_m_s = speeds[0][0], speeds[0][1]
    if rated and all(np.isfinite(p['emission_rate_kg_s']) for p in parts):
        result.emission_rate_kg_s = float(sum(p['emission_rate_kg_s'] for p in parts))
        result.emission_rate_err_kg_s = float(sum(p['emission_rate_err_kg_s'] for p in parts))
        result.line_column_kg_m = float(sum(p['column_kg_m'] for p in parts))

"""Steps 1-7 together: `LivePipeline` turns one on/off Plume pair at a time into an AA
image, a plume speed and an emission rate, carrying the previous AA image across pairs for
the optical flow; `BatchRun` drives it over a folder of stored pairs and writes the same
outputs pycamd writes live.
"""
import datetime
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .absorbance import AbsorbanceImager
from .background import ClearSkyBackground, SkyRegion, SkyRegionBackground
from .calibration import CALIBRATION_FILE, MOLECULES, CalibrationError, ColumnUnits, clear_sky_rates, find_calibration
from .emission import SO2_MOLAR_MASS, CameraGeometry, IntegrationLine, emission_rate, line_column
from .flow import FarnebackSettings, LineFlow
from .images import DarkLibrary, counts_per_second, load_png
from ..storage.names import cell_images_in, images_in, parse_image_name, plume_pairs
from .registration import Registration

# Top-right corner of a 648x486 frame: sky above and beside a plume rising from a summit
# in the lower middle of the view (the Villarrica scene's reference region).
DEFAULT_SKY = SkyRegion(550, 20, 600, 70)


@dataclass
class ProcessingSettings:
    """Everything about the scene and the method that is not in the images themselves."""
    sky: SkyRegion = DEFAULT_SKY
    line: IntegrationLine = None
    geometry: CameraGeometry = None
    registration: Registration = field(default_factory=Registration)
    units: ColumnUnits = ColumnUnits(temperature_k=273.15)
    flow: FarnebackSettings = FarnebackSettings()
    flow_margin: int = 32               # pixels around the line the flow is computed on
    full_frame_flow: bool = False       # flow over the whole frame (slow; for comparisons)
    flow_contrast: tuple = None         # AA range for byte-scaling; None: from each image
    speed_error: float = 0.15           # relative 1-sigma of the optical-flow speed
    max_pair_gap_s: float = 60.0        # no flow between pairs further apart than this
    preview_range: tuple = (-0.05, 0.5)  # AA shown from dark to bright in previews
    molar_mass: float = SO2_MOLAR_MASS

    def describe(self):
        """JSON-safe summary, written beside the outputs so a result says how it was made."""
        return {
            'sky_region': self.sky.as_list(),
            'line': None if self.line is None else {
                'x': [self.line.x0, self.line.x1], 'y': [self.line.y0, self.line.y1],
                'orientation': self.line.orientation, 'name': self.line.name},
            'geometry': None if self.geometry is None else {
                'distance_m': self.geometry.distance_m, 'pixel_size_m': self.geometry.pixel_size_m,
                'focal_length_m': self.geometry.focal_length_m, 'distance_error': self.geometry.distance_error},
            'registration': {'warp': self.registration.warp.tolist(), 'source': self.registration.source},
            'reference_temperature_k': self.units.temperature_k,
            'flow': 'full frame' if self.full_frame_flow else f'line box + {self.flow_margin} px',
            'farneback': asdict(self.flow),
            'speed_error': self.speed_error,
            'molar_mass_g_mol': self.molar_mass,
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
    displacement_px: np.ndarray = None   # per line point, since the previous pair
    calibrated: bool = False
    dark_substituted: bool = False

    def row(self):
        return {'time': self.time.strftime('%Y-%m-%dT%H:%M:%SZ'),
                'emission_rate_kg_s': self.emission_rate_kg_s,
                'emission_rate_err_kg_s': self.emission_rate_err_kg_s,
                'plume_speed_m_s': self.speed_m_s, 'plume_speed_err_m_s': self.speed_err_m_s,
                'line_column_kg_m': self.line_column_kg_m, 'line_mean_aa': self.line_mean_aa}


class LivePipeline:
    """One pair at a time; remembers the last AA image for the next pair's flow."""

    def __init__(self, settings, darks, background, calibration=None):
        self.settings = settings
        self.darks = darks
        self.calibration = calibration
        self.absorbance = AbsorbanceImager(background, settings.registration)
        self._line_flow = None
        self._previous = None      # (time, aa)

    def reset(self):
        self._previous = None

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
        return result

    def process_aa(self, aa, time):
        """Steps 5-7 for an AA image: columns, speed since the previous image, emission."""
        result = PairResult(time, aa, calibrated=self.calibration is not None)
        line = self.settings.line
        if line is None:
            self._previous = (time, aa)
            return result
        aa_line = np.nan_to_num(line.profile(aa))
        result.line_mean_aa = float(aa_line.mean())
        previous, self._previous = self._previous, (time, aa)
        dt = (time - previous[0]).total_seconds() if previous else 0.0
        if previous is None or not 0 < dt <= self.settings.max_pair_gap_s:
            return result
        result.displacement_px = self._displacement(previous[1], aa)
        self._emission(result, aa_line, dt)
        return result

    def process_files(self, on_path, off_path):
        on, off = parse_image_name(on_path), parse_image_name(off_path)
        return self.process(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us, on.time)

    def _displacement(self, first, following):
        s = self.settings
        if s.full_frame_flow:
            from .flow import bytescale, contrast_range, farneback, normal_displacement
            low, high = s.flow_contrast or contrast_range(first, s.line.bounds(first.shape, s.flow_margin))
            flow = farneback(bytescale(first, low, high), bytescale(following, low, high), s.flow)
            return normal_displacement(flow, s.line)
        if self._line_flow is None or self._line_flow.box != s.line.bounds(first.shape, s.flow_margin):
            self._line_flow = LineFlow(s.line, first.shape, s.flow_margin, s.flow)
        return self._line_flow(first, following, s.flow_contrast)[0]

    def _emission(self, result, aa_line, dt):
        s = self.settings
        if s.geometry is None:
            return
        pixel_m = s.geometry.pixel_m
        speeds = result.displacement_px * pixel_m / dt
        if self.calibration is None:
            weights = np.clip(aa_line, 0, None)
            if weights.sum() > 0:
                result.speed_m_s = float(np.sum(weights * speeds) / weights.sum())
                result.speed_err_m_s = abs(result.speed_m_s) * s.speed_error
            return
        columns = self.calibration.column(aa_line, s.units, MOLECULES)
        column_err = self.calibration.column_error(s.units, MOLECULES)
        positive = np.clip(columns, 0, None)
        speed = float(np.sum(positive * speeds) / positive.sum()) if positive.sum() > 0 else float(np.mean(speeds))
        speed_err = abs(speed) * s.speed_error
        phi, phi_err = emission_rate(columns, speeds, pixel_m, column_err, speed_err,
                                     pixel_m * s.geometry.distance_error, s.molar_mass)
        result.speed_m_s, result.speed_err_m_s = speed, speed_err
        result.emission_rate_kg_s, result.emission_rate_err_kg_s = phi, phi_err
        result.line_column_kg_m = line_column(columns, pixel_m, s.molar_mass)


class MissingInput(LookupError):
    """Darks, clear-sky frames or a calibration that processing cannot do without."""


def build_background(settings, darks, clear_folder=None):
    """Clear-sky background from a folder of Clear frames, or the sky region when None."""
    if clear_folder is None:
        return SkyRegionBackground(settings.sky)
    try:
        rates = clear_sky_rates(clear_folder, darks)
    except CalibrationError as e:
        raise MissingInput(str(e)) from None
    return ClearSkyBackground(rates['on'], settings.registration.apply(rates['off']), settings.sky)


@dataclass
class BatchInputs:
    folder: Path
    pairs: list
    darks: Path
    clear: Path = None             # None: the sky region stands in for clear sky
    calibration: Path = None
    notes: list = field(default_factory=list)   # what was found where, for the user


HOW_TO_NAME = {
    'darks': 'dark frames named <time>_<fltrA|fltrB>_<gain>ag_<exposure us>ss_Dark.png for both cameras '
             '(in the folder, or name a folder with --darks)',
    'clear': 'clear-sky frames named <time>_<fltrA|fltrB>_<gain>ag_<exposure us>ss_Clear.png for both cameras '
             '(in the folder, or name a folder with --clear; --clear sky uses the sky region instead)',
    'calibration': 'a calibration: calibration.json from `pycam calibrate`, or cell frames named '
                   '<time>_<fltrA|fltrB>_<gain>ag_<exposure us>ss_<N>ppmm.png (in the folder, or name '
                   'a folder or file with --calibration)',
}


def _has_both_bands(folder, kind):
    return {n.band for n in images_in(folder, kind=kind)} >= {'on', 'off'}


def _has_calibration(path):
    if path.is_file():
        return True
    return path.is_dir() and ((path / CALIBRATION_FILE).is_file() or bool(cell_images_in(path)))


def find_inputs(folder, darks=None, clear=None, calibration=None):
    """Where this run's darks, clear sky and calibration come from: named, or in the folder.
    Raises MissingInput naming everything missing and how to provide it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingInput(f'{folder}: no such folder')
    pairs = plume_pairs(images_in(folder))
    missing, notes = [], []
    if not pairs:
        raise MissingInput(f'{folder}: no on/off Plume pairs (<time>_fltrA_..._Plume.png and '
                           '<time>_fltrB_..._Plume.png with the same time)')
    dark_folder = Path(darks) if darks else folder
    if not _has_both_bands(dark_folder, 'Dark'):
        missing.append(('darks', f'no dark frames for both cameras in {dark_folder}'))
    clear_folder = None
    if clear == 'sky':
        notes.append('background: the sky region of each frame (no clear-sky frames)')
    else:
        clear_folder = Path(clear) if clear else folder
        if not _has_both_bands(clear_folder, 'Clear'):
            missing.append(('clear', f'no clear-sky frames for both cameras in {clear_folder}'))
    cal = Path(calibration) if calibration else folder
    if not _has_calibration(cal):
        missing.append(('calibration', f'no calibration in {cal}'))
    if missing:
        lines = [f'{what}: {why}; needs {HOW_TO_NAME[what]}' for what, why in missing]
        raise MissingInput('cannot process ' + str(folder) + ':\n  ' + '\n  '.join(lines))
    return BatchInputs(folder, pairs, dark_folder, clear_folder, cal, notes)


class BatchRun:
    """A folder of stored pairs processed like the live path, outputs written as it goes."""

    def __init__(self, inputs, out, settings, darks=None):
        self.inputs = inputs
        self.out = Path(out)
        self.settings = settings
        self.darks = darks if darks is not None else DarkLibrary.from_folder(inputs.darks)
        self.calibration = find_calibration(inputs.calibration, self.darks, inputs.clear or inputs.calibration,
                                            settings.registration)
        background = build_background(settings, self.darks, inputs.clear)
        self.pipeline = LivePipeline(settings, self.darks, background, self.calibration)

    def __len__(self):
        return len(self.inputs.pairs)

    def run(self, progress=None):
        """Process every pair; progress(index, result) after each. Returns the results'
        rows (the AA images are written, not kept)."""
        from .outputs import PairWriter
        writer = PairWriter(self.out, self.settings, self.calibration)
        writer.write_settings(self.settings, self.inputs)
        rows = []
        for index, (on, off) in enumerate(self.inputs.pairs):
            result = self.pipeline.process(load_png(on.path), load_png(off.path), on.exposure_us,
                                           off.exposure_us, on.time)
            rows.append(writer.write(result))
            result.aa = None
            if progress:
                progress(index, result)
        return rows

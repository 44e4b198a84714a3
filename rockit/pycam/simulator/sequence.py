"""A stored day of the simulated instrument, written at once rather than in real time, with
its ground truth beside it: the files pycamd would have saved (darks, clear sky, the
calibration cells, on/off Plume pairs, dark and Plume spectra, an integration line), so
that `pycam process`, `pycam doas` and `pycam fov` can be held to what really happened.

The truth, in two files beside the data:
- truth.json: the scene (wind in px/s and its direction, sky gradient, light dilution:
  each band's extinction coefficient, the ridges of the flank with their distances and a
  line through each, the plume-free sky that is the ambient light; the cells' window AA),
  the geometry (plume distance, pixel size, focal length, the reference temperature of ppm.m), the line, the spectrometer's view, the true plume
  speed in m/s, and per pair its time, the true emission rate through the line (kg/s),
  the line's SO2 mass (kg/m) and the column the spectrometer saw (ppm.m);
- truth.npz: `times` (Unix seconds, one per pair) and `column_ppmm` (pairs, rows,
  columns; float32), the true SO2 column of every pixel of every pair's on-band image;
  `terrain_distance_m` (rows, columns; float32, NaN in the sky), the distance of the ridge
  each pixel sees.

Run: python -m rockit.pycam.simulator.sequence <folder> [--pairs N] [--interval S] ...
"""
import argparse
import datetime
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..instrument import FILTER_NM, FOCAL_LENGTH_M, OFF_BAND, ON_BAND, PIXEL_SIZE_M
from ..storage.names import image_name, spectrum_name
from .camera import CELL_WINDOW_DEPTH, SimulatedPicamera2
from .scene import AMBIENT_REGION, SKY_AA_GRADIENT, PlumeScene
from .spectrometer import SimulatedSpectrometer

TRUTH_JSON, TRUTH_NPZ = 'truth.json', 'truth.npz'
LINE_FILE = 'simulated_pcs_line.txt'
START = datetime.datetime(2026, 1, 15, 14, 0, 0, tzinfo=datetime.timezone.utc)


@dataclass
class SequencePlan:
    """What to write; every default is the demo's (config/pycamd/test.json)."""
    pairs: int = 60
    interval_s: int = 1                 # whole seconds: the file names' resolution
    start: datetime.datetime = START
    wind_speed: float = 5.0             # px/s, to the left
    sky_brightness: float = 1.0
    sky_aa_gradient: float = SKY_AA_GRADIENT
    extinction_per_km: float = 0.0      # at 310 nm; 0: no light dilution
    seed: int = 0                       # the plume's texture
    noise_seed: int = 1
    line: tuple = (250.0, 60.0, 250.0, 400.0)
    distance_m: float = 3000.0
    pixel_size_m: float = PIXEL_SIZE_M
    focal_length_m: float = FOCAL_LENGTH_M
    temperature_k: float = 273.15
    exposure_us: dict = field(default_factory=lambda: {ON_BAND: 32000, OFF_BAND: 3500})
    cells: tuple = (0, 304, 1257)
    reference_frames: int = 3           # darks, clear sky and each cell
    spectra: bool = True
    spectrometer_view: tuple = (330.0, 238.0)
    integration_ms: int = 50
    columns: bool = True                # write every pair's column image into truth.npz


def write_sequence(folder, plan=None):
    """Write the plan's data and truth into folder; the truth as a dict."""
    plan = plan or SequencePlan()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scene = PlumeScene(plan.sky_brightness, plan.wind_speed, plan.seed, plan.sky_aa_gradient,
                       plan.extinction_per_km, plan.distance_m)
    cameras = {band: SimulatedPicamera2(number, band, scene, seed=plan.noise_seed + number)
               for number, band in enumerate((ON_BAND, OFF_BAND))}
    t0 = plan.start.timestamp()
    references = ['Dark', 'Clear', *(f'{c}ppmm' for c in plan.cells)]
    moment = t0 - (len(references) * plan.reference_frames + 1) * plan.interval_s
    for capture_type in references:
        for _ in range(plan.reference_frames):
            _pair(folder, cameras, plan, capture_type, moment)
            moment += plan.interval_s
    spectrometer = None
    if plan.spectra:
        spectrometer = SimulatedSpectrometer(scene, plan.spectrometer_view, seed=plan.noise_seed + 7)
        spectrometer.integration_time_micros(plan.integration_ms * 1000)
        spectrometer.mimic_operator('Dark')
        for i in range(plan.reference_frames):
            _spectrum(folder, spectrometer, plan, 'Dark', t0 - (i + 1) * plan.interval_s)
        spectrometer.mimic_operator('Plume')
    pairs, columns = [], []
    for index in range(plan.pairs):
        t = t0 + index * plan.interval_s
        _pair(folder, cameras, plan, 'Plume', t)
        row = {'time': _stamp(t), 'unix_s': t,
               'emission_rate_kg_s': scene.emission_rate(*plan.line, t, plan.distance_m, plan.pixel_size_m,
                                                         plan.focal_length_m, plan.temperature_k),
               'line_column_kg_m': scene.line_mass(*plan.line, t, plan.distance_m, plan.pixel_size_m,
                                                   plan.focal_length_m, plan.temperature_k)}
        if spectrometer is not None:
            _spectrum(folder, spectrometer, plan, 'Plume', t)
            row['spectrometer_column_ppmm'] = spectrometer.plume_column(t)
        pairs.append(row)
        if plan.columns:
            columns.append(scene.column(t))
    x0, y0, x1, y1 = plan.line
    (folder / LINE_FILE).write_text(f'x={x0:g},{x1:g}\ny={y0:g},{y1:g}\norientation=left\n')
    truth = _truth(plan, scene, pairs)
    (folder / TRUTH_JSON).write_text(json.dumps(truth, indent=2) + '\n')
    np.savez_compressed(folder / TRUTH_NPZ, times=np.array([p['unix_s'] for p in pairs]),
                        column_ppmm=np.array(columns, np.float32).reshape(len(columns), *scene.radiance().shape)
                        if columns else np.zeros((0, *scene.radiance().shape), np.float32),
                        terrain_distance_m=scene.terrain_distance_m)
    return truth


def _truth(plan, scene, pairs):
    vx, vy = scene.velocity()
    optics = scene.optics
    window_aa = CELL_WINDOW_DEPTH[ON_BAND] - CELL_WINDOW_DEPTH[OFF_BAND]
    return {
        'format': 'rockit pycam simulated sequence truth 1',
        'velocity_px_s': [vx, vy],
        'speed_m_s': scene.speed_m_s(plan.distance_m, plan.pixel_size_m, plan.focal_length_m),
        'geometry': {'distance_m': plan.distance_m, 'pixel_size_m': plan.pixel_size_m,
                     'focal_length_m': plan.focal_length_m},
        'reference_temperature_k': plan.temperature_k,
        'line': {'x': [plan.line[0], plan.line[2]], 'y': [plan.line[1], plan.line[3]], 'orientation': 'left'},
        'sky_aa_gradient': plan.sky_aa_gradient,
        'extinction_per_km_310nm': plan.extinction_per_km,
        'dilution': {'extinction_per_km': {band: scene.extinction(band) for band in (ON_BAND, OFF_BAND)},
                     'plume_distance_m': plan.distance_m,
                     'ambient_region': list(AMBIENT_REGION),
                     'terrain': [{'distance_m': d, 'line': list(line)} for d, line in scene.terrain_lines()]},
        'filters_nm': dict(FILTER_NM), 'filter_fwhm_nm': optics.fwhm_nm,
        'cells': {str(c): {'aa': float(optics.absorbance(c)) + window_aa} for c in plan.cells},
        'cell_window_aa': window_aa,
        'spectrometer_view': list(plan.spectrometer_view) if plan.spectra else None,
        'plan': {k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in asdict(plan).items()},
        'pairs': pairs,
        'mean_emission_rate_kg_s': float(np.mean([p['emission_rate_kg_s'] for p in pairs])) if pairs else None,
    }


def _stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _pair(folder, cameras, plan, capture_type, t):
    moment = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    for band, camera in cameras.items():
        exposure = plan.exposure_us[band]
        frame = camera.stored_frame(capture_type, exposure, t)
        cv2.imwrite(str(folder / image_name(moment, band, 1, exposure, capture_type)), frame)


def _spectrum(folder, spectrometer, plan, capture_type, t):
    moment = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    data = np.array([spectrometer.wavelengths(), spectrometer.render(t)])
    np.save(folder / spectrum_name(moment, plan.integration_ms, 1, capture_type), data)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m rockit.pycam.simulator.sequence',
                                     description='write a simulated sequence of pycam data and its ground truth')
    parser.add_argument('folder')
    parser.add_argument('--pairs', type=int, default=SequencePlan.pairs)
    parser.add_argument('--interval', type=int, default=SequencePlan.interval_s, help='s between pairs (whole)')
    parser.add_argument('--wind-speed', type=float, default=SequencePlan.wind_speed, help='px/s')
    parser.add_argument('--extinction', type=float, default=0.0, help='light dilution, per km at 310 nm')
    parser.add_argument('--distance', type=float, default=SequencePlan.distance_m, help='m to the plume')
    parser.add_argument('--sky-gradient', type=float, default=SKY_AA_GRADIENT, help='clear-sky AA top to horizon')
    parser.add_argument('--no-spectra', action='store_true')
    parser.add_argument('--no-columns', action='store_true', help='leave the per-pixel columns out of truth.npz')
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.interval < 1:
        parser.error('--pairs and --interval must be at least 1')
    if not args.distance > 0 or args.extinction < 0:
        parser.error('--distance must be above 0 m and --extinction not below 0')
    plan = SequencePlan(pairs=args.pairs, interval_s=args.interval, wind_speed=args.wind_speed,
                        extinction_per_km=args.extinction, distance_m=args.distance, sky_aa_gradient=args.sky_gradient,
                        spectra=not args.no_spectra, columns=not args.no_columns)
    truth = write_sequence(args.folder, plan)
    print(f'{args.folder}: {len(truth["pairs"])} pairs, mean emission rate '
          f'{truth["mean_emission_rate_kg_s"]:.3f} kg/s, speed {truth["speed_m_s"]:.2f} m/s')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The spectrometer's light dilution correction: the cost of building its grid (once) and
of correcting one spectrum, against one ordinary DOAS fit of the same spectrum in the same
run; and what it gives on the 2019-05-29 plume spectra (no truth there: the two windows'
columns, the corrected column and the dilution factor beside the uncorrected fit)."""
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, summary

sys.path.insert(0, str(ROOT / 'tests' / 'pycam'))

BUILDS = 3      # the grid's build, timed this many times (each from scratch)
ROUNDS = 5      # each plume spectrum fitted and corrected this many times


def run():
    from processing_harness import REFERENCES, SPECTRA
    from rockit.pycam.processing.calibration.columns import ColumnUnits
    from rockit.pycam.processing.doas.dilution import DilutionCorrection, DilutionGrid, DilutionSettings
    from rockit.pycam.processing.doas.fit import DoasFitter, DoasReferences, plume_spectra
    if not SPECTRA.is_dir():
        raise SystemExit(f'{SPECTRA} is missing: the recorded spectra are needed')
    spectra = list(plume_spectra(SPECTRA))
    settings = DilutionSettings()
    folder = Path(tempfile.mkdtemp(prefix='pycam-dilution-'))

    builds, size = [], None
    for number in range(BUILDS):
        path = folder / f'grid-{number}.npz'
        start = time.perf_counter()
        DilutionGrid.cached(path, REFERENCES, settings, *spectra[0][1:])
        builds.append((time.perf_counter() - start) * 1000)
        size = path.stat().st_size

    fitter = DoasFitter(DoasReferences.load(REFERENCES))
    correction = DilutionCorrection(REFERENCES, settings, folder / 'grid-0.npz')
    correction.correct(*spectra[0][1:])            # reads the kept grid
    fits, corrections, inversions = [], [], []
    plume = {}
    for _ in range(ROUNDS):
        for name, wavelengths, counts, dark in spectra:
            start = time.perf_counter()
            fitted = fitter.fit(wavelengths, counts, dark)
            fits.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            corrected = correction.correct(wavelengths, counts, dark)
            corrections.append((time.perf_counter() - start) * 1000)
            if corrected.corrected:
                start = time.perf_counter()
                correction.grid.invert(corrected.window_columns, corrected.window_errors)
                inversions.append((time.perf_counter() - start) * 1000)
                plume[name] = (fitted, corrected)

    base = summary(fits)['median']
    rows = [('one DOAS fit, 308-318 nm (baseline)', *_row(fits), 1.0),
            ('light dilution per spectrum: 306-316 and 312-322 nm fits and the inversion', *_row(corrections),
             summary(corrections)['median'] / base),
            ('  of which the inversion on the grid', *_row(inversions), summary(inversions)['median'] / base),
            (f'grid build, {settings.so2_points} x {settings.ldf_points} points, both windows '
             f'({2 * settings.so2_points * settings.ldf_points} fits), from scratch', *_row(builds),
             summary(builds)['median'] / base),
            ('grid file size (kB)', size / 1000, size / 1000, 1, None)]

    units = ColumnUnits(273.15)
    ppmm = {'uncorrected (308-318 nm)': [units.to_ppmm(f.column) for f, _ in plume.values()],
            'window 306-316 nm': [units.to_ppmm(c.window_columns[0]) for _, c in plume.values()],
            'window 312-322 nm': [units.to_ppmm(c.window_columns[1]) for _, c in plume.values()],
            'corrected': [units.to_ppmm(c.column) for _, c in plume.values()]}
    uncorrected = statistics.median(ppmm['uncorrected (308-318 nm)'])
    for label, values in ppmm.items():
        rows.append((f'2019-05-29 plume spectra, {label} (ppm.m; median, max)', statistics.median(values),
                     max(values), len(values), statistics.median(values) / uncorrected))
    ldf = [c.ldf for _, c in plume.values()]
    rows.append(('2019-05-29 plume spectra, light dilution factor (median, max)', statistics.median(ldf), max(ldf),
                 len(ldf), None))
    misfit = [float(c.reason.split(', ')[1].split(' sigma')[0]) for _, c in plume.values() if 'sigma off' in c.reason]
    if misfit:
        rows.append(('2019-05-29 plume spectra, the windows off the grid, shorter reading high (sigma; median, max)',
                     statistics.median(misfit), max(misfit), len(misfit), None))
    return rows


def _row(times):
    s = summary(times)
    return s['median'], s['p99'], s['n']


if __name__ == '__main__':
    for row in run():
        print(row)

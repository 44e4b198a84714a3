"""The spectrometer's light dilution correction (two fit windows against a grid made from
the fit's own forward model), on the simulator's spectra with a plume 8 km away: the
corrected column is the true one where the uncorrected reads far low, and nothing is
invented without dilution; the grid kept on disk is rebuilt when it is not the one asked for."""
import json
import math

import numpy as np
import pytest

from processing_harness import REFERENCES, SPECTRA, needs_spectra
from rockit.pycam.processing.doas.dilution import DilutionCorrection, DilutionGrid, DilutionSettings
from rockit.pycam.processing.doas.fit import DoasFitter, DoasReferences, plume_spectra
from rockit.pycam.processing.errors import DoasError
from rockit.pycam.simulator.scene import PlumeScene
from rockit.pycam.simulator.spectrometer import MOLECULES_PER_PPMM, SimulatedSpectrometer

DISTANCE_M = 8000.0
EXTINCTION_PER_KM = 0.04        # at 310 nm: 27 % of the light at 8 km never crossed the plume
VIEW = (500.0, 312.0)           # a thick part of the plume (2700-4700e15 molecules/cm^2)
TIMES = (0.0, 30.0, 60.0)
COADDS = 20                     # spectra averaged into one, as a spectrometer co-adds
INTEGRATION_MS = 150            # the brightest pixel of 306-322 nm stays below full scale
# A smaller grid than the default keeps the test short; its columns still cover the plume's.
SETTINGS = DilutionSettings.checked(grid={'so2_max': 8e18, 'so2_points': 8, 'ldf_max': 0.7, 'ldf_points': 6})


def spectra(extinction_per_km):
    """(wavelengths, dark, [(co-added counts, true column molecules/cm^2) at each time])."""
    scene = PlumeScene(extinction_per_km=extinction_per_km, plume_distance_m=DISTANCE_M)
    spectrometer = SimulatedSpectrometer(scene, VIEW, seed=3)
    spectrometer.integration_time_micros(INTEGRATION_MS * 1000)
    spectrometer.mimic_operator('Dark')
    dark = np.mean([spectrometer.render(0.0) for _ in range(5)], axis=0)
    spectrometer.mimic_operator('Plume')
    plume = [(np.mean([spectrometer.render(t) for _ in range(COADDS)], axis=0),
              spectrometer.plume_column(t) * MOLECULES_PER_PPMM) for t in TIMES]
    return spectrometer.wavelengths(), dark, plume


@pytest.fixture(scope='module')
def correction(tmp_path_factory):
    return DilutionCorrection(REFERENCES, SETTINGS, tmp_path_factory.mktemp('dilution') / 'grid.npz')


@pytest.fixture(scope='module')
def measured(correction):
    """Uncorrected and corrected columns, with and without dilution, and the truth."""
    fitter = DoasFitter(DoasReferences.load(REFERENCES))
    out = {}
    for extinction in (0.0, EXTINCTION_PER_KM):
        wavelengths, dark, plume = spectra(extinction)
        out[extinction] = [(fitter.fit(wavelengths, counts, dark), correction.correct(wavelengths, counts, dark), true)
                           for counts, true in plume]
    return out


def test_plume_at_8_km_reads_far_low_and_the_corrected_column_is_the_true_one(measured):
    for uncorrected, corrected, true in measured[EXTINCTION_PER_KM]:
        assert uncorrected.column < 0.7 * true                 # at least 30 % low
        assert corrected.corrected, corrected.reason
        assert corrected.column == pytest.approx(true, rel=0.10)
        assert abs(corrected.column - true) < 3 * corrected.error
        assert corrected.ldf == pytest.approx(1 - math.exp(-EXTINCTION_PER_KM * DISTANCE_M / 1000), abs=0.05)


def test_without_dilution_the_correction_changes_the_column_by_under_2_percent(measured):
    for uncorrected, corrected, true in measured[0.0]:
        assert corrected.corrected, corrected.reason
        assert corrected.column == pytest.approx(uncorrected.column, rel=0.02)
        assert corrected.ldf < 2 * corrected.ldf_error      # no dilution detected


def test_a_point_of_the_grid_is_inverted_back(measured, correction):
    grid = correction.grid
    i, j = 5, 3
    result = grid.invert(grid.columns[:, i, j], [1e16, 1e16])
    assert result.column == pytest.approx(SETTINGS.so2_axis[i], rel=1e-3)
    assert result.ldf == pytest.approx(SETTINGS.ldf_axis[j], abs=1e-3)
    assert result.error > 1e16          # the correction costs precision


TINY = DilutionSettings.checked(grid={'so2_max': 6e18, 'so2_points': 4, 'ldf_max': 0.6, 'ldf_points': 4})


@pytest.fixture(scope='module')
def sky():
    """A simulated spectrum (wavelengths, counts, dark) to make grids from."""
    wavelengths, dark, plume = spectra(EXTINCTION_PER_KM)
    return wavelengths, plume[0][0], dark


@pytest.fixture(scope='module')
def tiny(sky, tmp_path_factory):
    """A small grid, made once."""
    return DilutionGrid.cached(tmp_path_factory.mktemp('tiny') / 'grid.npz', REFERENCES, TINY, *sky)


def test_a_kept_grid_with_the_same_parameters_is_read_not_rebuilt(sky, tiny, tmp_path):
    path = tmp_path / 'grid.npz'
    parameters = json.dumps(tiny.parameters)
    marked = tiny.columns.copy()
    marked[0, 1, 1] *= 1.01
    np.savez(path, columns=marked, parameters=np.array(parameters))
    assert DilutionGrid.cached(path, REFERENCES, TINY, *sky).columns[0, 1, 1] == marked[0, 1, 1]


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'no_parameters', 'parameters_not_a_dict', 'other_grid',
                                    'other_windows'])
def test_a_corrupt_or_mismatched_grid_file_is_rebuilt(sky, tiny, tmp_path, damage):
    path = tmp_path / 'grid.npz'
    path.write_bytes(tiny.to_bytes())
    good, parameters = tiny, tiny.parameters
    wrong = good.columns * 0.5
    if damage == 'garbage':
        path.write_bytes(b'not a grid at all')
    elif damage == 'truncated':
        path.write_bytes(path.read_bytes()[:200])
    elif damage == 'no_parameters':
        np.savez(path, columns=wrong)
    elif damage == 'parameters_not_a_dict':
        np.savez(path, columns=wrong, parameters=np.array(json.dumps([1, 2])))
    elif damage == 'other_grid':
        np.savez(path, columns=wrong, parameters=np.array(json.dumps(dict(parameters, so2_max=5e18))))
    else:
        np.savez(path, columns=wrong, parameters=np.array(json.dumps(dict(parameters, windows=[[305, 315],
                                                                                             [312, 322]]))))
    rebuilt = DilutionGrid.cached(path, REFERENCES, TINY, *sky)
    assert np.allclose(rebuilt.columns, good.columns)
    with np.load(path) as data:                   # and kept again, readable
        assert np.allclose(data['columns'], good.columns)
        assert json.loads(str(data['parameters']))['so2_max'] == TINY.so2_max


def test_columns_not_above_their_errors_are_not_corrected(tiny):
    result = tiny.invert([1e16, 3e17], [1e16, 1e16])
    assert not result.corrected and math.isnan(result.column) and math.isnan(result.ldf)
    assert 'error' in result.reason


def test_columns_beyond_the_grid_are_not_corrected(tiny):
    result = tiny.invert([2e19, 2e19], [1e16, 1e16])
    assert not result.corrected and math.isnan(result.column)
    assert 'largest column' in result.reason


def test_a_shorter_window_reading_high_is_no_dilution_with_a_note(tiny):
    """What the 2019 plume spectra show: 306-316 nm reads 15-25 % above 312-322 nm."""
    result = tiny.invert([2.0e18, 1.6e18], [2e16, 3e16])
    assert result.corrected and result.ldf == 0.0
    assert 1.6e18 < result.column < 2.0e18
    assert 'no dilution seen' in result.reason and 'sigma off the grid' in result.reason


@pytest.mark.parametrize('columns, errors, message', [
    ([1e18, math.nan], [1e16, 1e16], 'finite'),
    ([1e18], [1e16, 1e16], 'two windows'),
    ([1e18, 1e18], [1e16, 0.0], 'above 0'),
    (['a', 'b'], [1e16, 1e16], 'numbers'),
])
def test_bad_window_columns_are_refused_with_the_reason(tiny, columns, errors, message):
    with pytest.raises(DoasError, match=message):
        tiny.invert(columns, errors)


@pytest.mark.parametrize('windows, grid, message', [
    ([[306, 316]], None, 'light_dilution_windows must be two'),
    ([[316, 306], [312, 322]], None, r'light_dilution_windows: \[316, 306\]'),
    ([[312, 322], [306, 316]], None, 'shorter-wavelength one'),
    ([[250, 260], [312, 322]], None, '290-335'),
    (None, {'so2_max': -1}, 'light_dilution_grid: so2_max'),
    (None, {'ldf_max': 1.0}, 'light_dilution_grid: ldf_max'),
    (None, {'so2_points': 2}, 'light_dilution_grid: so2_points'),
    (None, {'ldf_points': 4.5}, 'light_dilution_grid: ldf_points'),
    (None, {'spacing': 3}, 'light_dilution_grid: unknown keys spacing'),
    (None, [1, 2], 'light_dilution_grid must be'),
])
def test_bad_settings_are_refused_naming_the_key(windows, grid, message):
    with pytest.raises(ValueError, match=message):
        DilutionSettings.checked(windows, grid, where='light_dilution')


def test_a_spectrum_without_the_windows_is_refused(tmp_path):
    wavelengths = np.linspace(330, 400, 500)
    with pytest.raises(DoasError):
        DilutionGrid.cached(tmp_path / 'grid.npz', REFERENCES, TINY, wavelengths, np.full(500, 5000.0))
    assert not (tmp_path / 'grid.npz').exists()


@needs_spectra
def test_the_2019_plume_spectra_show_no_dilution_their_shorter_window_reads_high(tmp_path):
    """No truth there: what the fits show. 306-316 nm reads 1850-1970 ppm.m, 312-322 nm
    1430-1700, which dilution cannot do: each gets LDF 0 and a column between the two."""
    settings = DilutionSettings.checked(grid={'so2_max': 1.2e19, 'so2_points': 8, 'ldf_max': 0.8, 'ldf_points': 6})
    correction = DilutionCorrection(REFERENCES, settings, tmp_path / 'grid.npz')
    fitter = DoasFitter(DoasReferences.load(REFERENCES))
    plume = 0
    for name, wavelengths, counts, dark in plume_spectra(SPECTRA):
        result = correction.correct(wavelengths, counts, dark)
        uncorrected = fitter.fit(wavelengths, counts, dark).column
        if uncorrected < 1e18:          # the clear-sky spectra: no dilution to speak of
            assert not result.corrected and 'error' in result.reason
            continue
        plume += 1
        shorter, longer = result.window_columns
        assert shorter > longer
        assert result.corrected and result.ldf == 0.0 and 'no dilution seen' in result.reason
        assert longer < result.column < shorter
        assert result.column == pytest.approx(uncorrected, rel=0.1)
    assert plume == 6

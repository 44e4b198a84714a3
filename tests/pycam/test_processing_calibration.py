"""Step 5: cell and DOAS calibration, stored calibrations, and ppm.m <-> molecules/cm^2."""
import json
import math

import numpy as np
import pytest

from processing_harness import CAL_1, SYNTHETIC_K, WARP_FILE, needs_data, write_synthetic_day
from rockit.pycam.processing.calibration.columns import (MOLECULES, PPMM, Calibration, ColumnUnits, cell_absorbances,
                                                 cell_calibration, clear_sky_rates, doas_calibration, fit_cells,
                                                 find_calibration)
from rockit.pycam.processing.calibration.models import ModelError, fit
from rockit.pycam.processing.errors import CalibrationError
from rockit.pycam.processing.images import DarkLibrary
from rockit.pycam.processing.registration import Registration
from rockit.pycam.storage.names import cell_images_in


def test_unit_conversion_depends_on_the_stated_temperature():
    assert ColumnUnits(273.15).to_molecules(1) == pytest.approx(2.687e15)
    assert ColumnUnits(293.15).to_molecules(1) == pytest.approx(2.504e15, rel=1e-3)
    units = ColumnUnits(283.0)
    assert units.to_ppmm(units.to_molecules(123.4)) == pytest.approx(123.4)


def test_synthetic_cells_give_the_true_slope(tmp_path):
    write_synthetic_day(tmp_path, pairs=0)
    cal = cell_calibration(tmp_path, DarkLibrary.from_folder(tmp_path), radius=20)
    assert cal.slope == pytest.approx(1 / SYNTHETIC_K, rel=0.02)
    assert cal.r2 > 0.9999 and abs(cal.intercept) < 5
    assert list(cal.cells) == [0, 304, 1257]


@needs_data
def test_villarrica_cells_aa_rises_with_column_and_the_fit_is_near_linear():
    darks = DarkLibrary.from_folder(CAL_1)
    registration = Registration.load(WARP_FILE)
    frames, _ = cell_absorbances(cell_images_in(CAL_1), clear_sky_rates(CAL_1, darks), darks, registration)
    means = {c: np.mean(v) for c, v in frames.items()}
    scatter = {c: np.std(v, ddof=1) for c, v in frames.items()}
    assert means[0] < means[304] < means[1257]
    assert abs(means[0]) < 3 * scatter[0] + 0.005, 'the empty cell adds no AA beyond its frames\' scatter'
    # Every frame of a cell is closer to its own cell's mean than to either other cell:
    # the cells are resolved far beyond their scatter.
    gaps = np.diff(sorted(means.values()))
    assert max(scatter.values()) * 5 < gaps.min()
    # These cells show the known curvature of cell calibrations: the AA per ppm.m falls by
    # about 30 % from the 304 to the 1257 ppm.m cell.
    per_ppmm = [means[304] / 304, means[1257] / 1257]
    assert 0.6 < per_ppmm[1] / per_ppmm[0] < 0.8


@needs_data
@pytest.mark.parametrize('model', ['poly2', 'kern2015'])
def test_villarrica_cells_read_back_through_the_fitted_curve(model):
    """A curve through three cells: each cell's own mean AA reads back on the fitted curve
    as its column; applied to plume AA, the curve goes without its offset."""
    darks = DarkLibrary.from_folder(CAL_1)
    cal = cell_calibration(CAL_1, darks, registration=Registration.load(WARP_FILE), model=model)
    assert cal.model == model and len(cal.coeffs) == 3
    units = ColumnUnits(273.15)
    assert cal.fitted() == pytest.approx({c: float(c) for c in cal.cells}, abs=1.0)
    for ppmm, aa in cal.cells.items():
        assert cal.column(aa, units, PPMM) == pytest.approx(ppmm - cal.intercept, abs=1.0)
    # The plume's range (AA 0-0.15) reads on the curve, below the straight line through
    # the origin and the 1257 ppm.m cell that overstated it.
    straight = 1257 / cal.cells[1257]
    assert cal.column(0.1, units, PPMM) < 0.85 * straight * 0.1
    # Each pixel's error from the fit's covariance: the offset's own error cancels at 0,
    # and grows with the AA.
    assert cal.column_error(0.0, units, PPMM) == pytest.approx(cal.residual_std if math.isfinite(cal.residual_std)
                                                               else 0.0, abs=1e-6)
    assert cal.column_error(0.2, units, PPMM) > cal.column_error(0.05, units, PPMM)


@needs_data
@pytest.mark.parametrize('model', ['linear', 'poly2', 'kern2015'])
def test_plume_aa_0_is_no_so2_whatever_the_cells_offset(model):
    """Plume AA is taken against clear sky, the cells' against clear sky through their
    windows: AA 0 is no SO2, not f(0) (on Cal_1 f(0) is +6.6 ppm.m for poly2, +7.2 for
    kern2015, -154 for linear), as pyplis applies f(AA) - f(0)."""
    cal = cell_calibration(CAL_1, DarkLibrary.from_folder(CAL_1), registration=Registration.load(WARP_FILE),
                           model=model)
    units = ColumnUnits(273.15)
    assert abs(cal.intercept) > 5, 'the curve has an offset to leave out'
    assert cal.column(0.0, units, PPMM) == 0.0
    assert cal.column(np.zeros((2, 2)), units, MOLECULES).tolist() == [[0.0, 0.0], [0.0, 0.0]]


@needs_data
def test_a_straight_line_through_curved_cells_states_its_misfit():
    darks = DarkLibrary.from_folder(CAL_1)
    cal = cell_calibration(CAL_1, darks, registration=Registration.load(WARP_FILE), model='linear')
    assert cal.model == 'linear' and math.isfinite(cal.residual_std) and cal.residual_std > 50
    misfit = max(abs(read - ppmm) for ppmm, read in cal.fitted().items())
    assert misfit > 100, 'three curved cells cannot sit on one line'


def test_models_recover_their_own_curves():
    aa = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    coeffs, cov, r2, residual = fit('linear', aa, 2 * aa + 1)
    assert coeffs == pytest.approx([2, 1]) and r2 == pytest.approx(1)
    coeffs, *_ = fit('poly2', aa, 3000 * aa ** 2 + 1500 * aa + 7, sigma=np.full(5, 5.0))
    assert coeffs == pytest.approx([3000, 1500, 7])
    coeffs, *_ = fit('kern2015', aa, 700 * np.expm1(2.3 * aa) + 7, sigma=np.full(5, 5.0))
    assert coeffs == pytest.approx([700, 2.3, 7], rel=1e-4)
    with pytest.raises(ModelError):
        fit('poly2', [0.1, 0.2], [1, 2])
    with pytest.raises(ModelError):
        fit('cubic', aa, aa)


def test_doas_calibration_weights_by_fit_error():
    rng = np.random.default_rng(0)
    aa = np.linspace(0, 0.4, 40)
    errors = np.where(np.arange(40) % 2, 1e16, 1e18)
    columns = 1.2e19 * aa + rng.normal(0, 1, 40) * errors
    cal = doas_calibration(aa, columns, errors)
    assert cal.unit == MOLECULES and cal.method == 'doas'
    assert cal.slope == pytest.approx(1.2e19, rel=0.01)


def test_the_line_is_applied_by_its_slope_alone():
    cal = Calibration(slope=3000.0, intercept=-40.0, r2=0.99, unit=PPMM)
    units = ColumnUnits(273.15)
    assert cal.model == 'linear' and cal.column(0.0, units, PPMM) == 0.0
    assert cal.column(0.1, units, MOLECULES) == pytest.approx(300 * 2.687e15)


def test_calibration_json_round_trip_and_discovery(tmp_path):
    cal = Calibration(slope=1507.0, intercept=6.6, r2=1.0, cells={0: -0.004, 304: 0.151, 1257: 0.44},
                      cell_scatter={0: 0.01, 304: 0.003, 1257: math.nan}, region=[324, 243, 30], model='poly2',
                      coeffs=[3042.5, 1507.2, 6.6], covariance=[[1.0, 0, 0], [0, 1.0, 0], [0, 0, math.nan]])
    cal.save(tmp_path / 'calibration.json')
    loaded = find_calibration(tmp_path)
    assert loaded.cells == cal.cells and loaded.slope == cal.slope
    assert loaded.model == 'poly2' and loaded.coeffs == cal.coeffs and math.isnan(loaded.covariance[2][2])
    assert loaded.column(0.2, None, PPMM) == pytest.approx(cal.column(0.2, None, PPMM))
    assert math.isnan(loaded.cell_scatter[1257]) and math.isnan(loaded.slope_err)
    (tmp_path / 'broken.json').write_text('{"slope": "x"}')
    with pytest.raises(CalibrationError):
        Calibration.load(tmp_path / 'broken.json')
    with pytest.raises(CalibrationError):
        find_calibration(tmp_path / 'nothing-here')


@needs_data
def test_a_seq_1_emission_rate_does_not_depend_on_the_cells_offset():
    """With the linear model, Cal_1's cells give f(0) = -154 ppm.m: applied with it, the
    rate moved by 42 % and the plume's edge fell under the minimum column."""
    from processing_harness import villarrica_rates, villarrica_settings
    from rockit.pycam.processing.background import ClearSkyBackground
    from rockit.pycam.processing.pipeline import LivePipeline
    settings = villarrica_settings()
    darks, clear, pairs = villarrica_rates()
    cal = cell_calibration(CAL_1, darks, registration=settings.registration, model='linear')
    no_offset = Calibration(cal.slope, 0.0, cal.r2, PPMM, model='linear', coeffs=[cal.slope, 0.0],
                            covariance=cal.covariance, residual_std=cal.residual_std)
    rates = []
    for calibration in (cal, no_offset):
        background = ClearSkyBackground(clear['on'], settings.registration.apply(clear['off']), settings.sky)
        pipeline = LivePipeline(settings, darks, background, calibration)
        results = [pipeline.process_aa(pipeline.absorbance(on, off), when) for when, on, off in pairs[:3]]
        rates.append([r.emission_rate_kg_s for r in results[1:]])
    assert abs(cal.intercept) > 100
    assert all(r > 0 for r in rates[0])
    assert rates[0] == pytest.approx(rates[1], rel=1e-9)


def test_a_doas_curve_goes_through_the_origin_unless_its_offset_is_kept():
    """PyCam's doas_cal_adjust_offset, off by default: AA 0 reads column 0. The offset is
    then held at 0 in the fit rather than fitted and dropped."""
    aa, columns = [0.0, 0.1, 0.2, 0.3], [2e17, 1.4e18, 2.6e18, 3.8e18]
    units = ColumnUnits(273.15)
    cal = doas_calibration(aa, columns)
    assert cal.column(0.0, units) == 0.0 and cal.intercept == 0.0
    assert cal.slope == pytest.approx(np.dot(aa, columns) / np.dot(aa, aa))
    kept = doas_calibration(aa, columns, through_origin=False)
    kept.keep_offset = True
    assert kept.column(0.0, units) == pytest.approx(2e17)
    assert kept.column(0.3, units) == pytest.approx(3.8e18)
    assert Calibration.from_dict(json.loads(json.dumps(kept.to_dict()))).keep_offset is True
    with pytest.raises(CalibrationError, match='keep_offset must be true or false'):
        Calibration.from_dict(dict(kept.to_dict(), keep_offset='yes'))


@pytest.mark.parametrize('model', ['linear', 'poly2', 'kern2015'])
def test_a_doas_curve_through_the_origin_reads_plume_columns_a_dropped_offset_overstates(model):
    """Plume AA spans only the bent upper part of a curve through the origin (columns
    grow faster than AA): a line fitted there meets AA 0 below column 0, and dropping that
    offset adds it to every pixel. Held to the curve, not to the offset's removal."""
    truth = lambda aa: 1800 * aa + 600 * aa ** 2        # noqa: E731 (ppm.m, a bent curve through 0)
    aa = np.linspace(0.2, 0.65, 30)
    errors = np.full(aa.size, 1e16)
    plume = np.array([0.05, 0.17, 0.4, 0.65])
    units = ColumnUnits(273.15)
    through = doas_calibration(aa, units.to_molecules(truth(aa)), errors, model)
    dropped = doas_calibration(aa, units.to_molecules(truth(aa)), errors, model, through_origin=False)
    assert through.column(0.0, units) == 0.0
    error = units.to_ppmm(through.column(plume, units)) / truth(plume) - 1
    overstated = units.to_ppmm(dropped.column(plume, units)) / truth(plume) - 1
    if model == 'linear':   # a line cannot follow the bend, but errs less, and both ways
        assert np.all(np.abs(error) < np.abs(overstated)) and np.all(overstated > 0.05), (error, overstated)
        assert error.min() < 0 < error.max()
    else:
        assert np.all(np.abs(error) < 0.01), error


def test_doas_calibration_offset_in_the_config_must_be_a_flag():
    from rockit.pycam.processing.live.settings import settings_from_config
    assert settings_from_config({'doas_calibration_offset': True}).doas_calibration_offset is True
    assert settings_from_config({}).doas_calibration_offset is False
    with pytest.raises(ValueError, match='processing: doas_calibration_offset must be true or false'):
        settings_from_config({'doas_calibration_offset': 'no'})


def test_cells_weigh_by_the_curves_local_slope():
    """Three cells fix a poly2 curve exactly, so the fitted column at each cell errs by
    that cell's own 1-sigma: its AA's standard error times f'(AA) there, not times the
    chord slope through the cells."""
    from rockit.pycam.processing.calibration.models import column_variance, derivative
    frames = {0: [0.010, 0.012, 0.014], 304: [0.150, 0.156, 0.162], 1257: [0.430, 0.445, 0.460]}
    cal = fit_cells(frames, model='poly2')
    for ppmm, values in frames.items():
        mean = np.mean(values)
        sem = np.std(values, ddof=1) / math.sqrt(3)
        local = sem * derivative('poly2', cal.coeffs, mean)
        error = math.sqrt(column_variance('poly2', cal.coeffs, cal.covariance, mean, keep_offset=True))
        assert error == pytest.approx(local, rel=0.02), ppmm

"""The intensity-space DOAS fit: a spectrum made by its own forward model is recovered, and
the 2019-05-29 spectra give the columns their sky and plume views imply."""
import numpy as np
import pytest

from processing_harness import REFERENCES, SPECTRA, needs_spectra
from rockit.pycam.processing.doas.fit import DoasFitter, DoasReferences, fit_folder, load_spectrum
from rockit.pycam.processing.errors import DoasError


@pytest.fixture(scope='module')
def fitter():
    if not REFERENCES.is_dir():
        pytest.skip(f'no DOAS references at {REFERENCES}')
    return DoasFitter(DoasReferences.load(REFERENCES))


@needs_spectra
def test_a_spectrum_made_by_the_model_is_fitted_back(fitter):
    wavelengths = load_spectrum(next(SPECTRA.glob('*Plume.npy')))[0]
    truth = np.r_[0.0, -2000.0, 3000.0, 30000.0, 150.0, -0.08, 0.02, 3.0e18 / 1e16, 1.3, 0.2]
    rng = np.random.default_rng(5)
    inside = (wavelengths > 300) & (wavelengths < 330)
    spectrum = np.full(wavelengths.size, 1000.0)                   # dark level
    spectrum[(wavelengths >= 293) & (wavelengths <= 296)] += 800    # stray light only
    model_range = (wavelengths >= 307.5) & (wavelengths <= 318.5)
    spectrum[model_range] += fitter.model(truth, wavelengths[model_range]) + 800
    spectrum[inside] += rng.normal(0, 30, inside.sum())
    result = fitter.fit(wavelengths, spectrum, np.full(wavelengths.size, 1000.0))
    assert result.success
    assert result.column == pytest.approx(3.0e18, rel=0.02)
    assert result.column - 3 * result.error < 3.0e18 < result.column + 3 * result.error
    assert result.shift == pytest.approx(-0.08, abs=0.01)


@needs_spectra
def test_2019_05_29_clear_spectra_near_zero_and_plume_spectra_far_above(fitter):
    results = fit_folder(SPECTRA, fitter=fitter)
    assert len(results) == 12, 'every Plume spectrum, not the Dark'
    columns = np.array([r.column for r in results.values()])
    errors = np.array([r.error for r in results.values()])
    assert np.all(np.isfinite(errors)) and np.all(errors > 0)
    clear, plume = columns[:6], columns[6:]          # 12:44:01-06 through clear sky, 07-12 in the plume
    assert np.all(np.abs(clear) < 3 * errors[:6] + 5e16), 'clear sky: zero within the fit error'
    assert np.all(plume > 3e18) and np.all(plume < 8e18), 'the plume: several 1e18 molecules/cm^2'
    assert np.all(plume > 10 * errors[6:])
    assert np.std(plume) / np.mean(plume) < 0.05, 'one plume, seconds apart: consistent columns'
    assert all(r.residual_rms < 0.04 for r in results.values()), 'the model explains the spectrum to a few %'


def test_folder_without_spectra_is_refused(tmp_path):
    with pytest.raises(DoasError, match='no Plume spectra'):
        fit_folder(tmp_path)


@needs_spectra
def test_plume_spectra_agree_with_ifit_with_the_line_shape_as_measured(fitter):
    """iFit, with the same references, window, polynomial, shift, stretch and stray light,
    gives 5.035e18 molecules/cm^2 on average over the six plume spectra; a line shape
    without its pedestal gave 3.5 % less."""
    results = fit_folder(SPECTRA, fitter=fitter)
    plume = [r.column for name, r in sorted(results.items()) if name[11:17] >= '124407']
    assert len(plume) == 6
    assert np.mean(plume) == pytest.approx(5.035e18, rel=0.015)


def test_the_line_shape_keeps_its_pedestal():
    from rockit.pycam.processing.doas.fit import line_shape
    offsets = np.linspace(0, 2, 21)
    values = 0.1 + np.exp(-((offsets - 1) / 0.2) ** 2)
    kernel = line_shape(offsets, values, spacing=0.1)
    assert kernel.sum() == pytest.approx(1)
    assert kernel[2] == pytest.approx(kernel.max() * 0.1 / 1.1, rel=0.02), 'the wings as measured'

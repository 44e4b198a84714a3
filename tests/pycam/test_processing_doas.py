"""The intensity-space DOAS fit on the references pycam ships: a spectrum made by its own
forward model is recovered, the 2019-05-29 spectra give the columns their sky and plume
views imply, and the shipped (trimmed) references give the columns the published files do."""
import numpy as np
import pytest

from processing_harness import PUBLISHED_REFERENCES, REFERENCES, SPECTRA, needs_spectra
from support import needs_shared_data
from rockit.pycam.processing.doas.fit import (REFERENCE_FILES, DoasFitter, DoasReferences, default_reference_folder,
                                              fit_folder, load_reference)
from rockit.pycam.processing.errors import DoasError
from rockit.pycam.simulator.spectrometer import REFERENCE as FLAME_S


@pytest.fixture(scope='module')
def fitter():
    return DoasFitter(DoasReferences.load(REFERENCES))


def test_a_spectrum_made_by_the_model_is_fitted_back(fitter):
    with np.load(FLAME_S) as flame_s:
        wavelengths = flame_s['wavelengths'].astype(float)    # the Flame-S's 2048 pixels
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


def test_spectra_without_references_beside_them_use_the_shipped_ones(tmp_path):
    assert default_reference_folder(tmp_path) == REFERENCES
    (tmp_path / 'reference').mkdir()
    (tmp_path / 'reference' / REFERENCE_FILES['SO2']).write_text('300 1e-19\n')
    assert default_reference_folder(tmp_path / 'day') == tmp_path / 'reference'


def test_every_shipped_reference_has_its_header_and_its_source_beside_it():
    readme = (REFERENCES / 'README.md').read_text()
    shipped = sorted(p.name for p in REFERENCES.glob('*.txt'))
    assert set(REFERENCE_FILES.values()) <= set(shipped)
    for name in shipped:
        assert f'`{name}`' in readme, f'{name} has no source in README.md'
        assert (REFERENCES / name).read_text().startswith('#'), f'{name} lost its header'
        wavelengths = load_reference(REFERENCES / name)[0]
        if 'ILS' not in name:
            assert wavelengths[0] < 285.5 and wavelengths[-1] > 334.5, name


@needs_shared_data(PUBLISHED_REFERENCES)
@pytest.mark.parametrize('name', sorted(set(REFERENCE_FILES.values()) | {'2019-07-03_313nm_ILS.txt'}))
def test_shipped_references_are_the_published_rows_and_headers(name):
    published = (PUBLISHED_REFERENCES / name).read_text().splitlines()
    shipped = (REFERENCES / name).read_text().splitlines()
    if 'ILS' not in name:
        assert shipped[0].startswith(f'# 285-335 nm of {name}'), 'a trimmed file says so first'
        shipped = shipped[1:]
    assert [line for line in shipped if line.startswith('#')] == [line for line in published if line.startswith('#')]
    assert set(shipped) <= set(published), 'the data lines as published'
    cut = (None, None) if 'ILS' in name else (285, 335)
    x, y = load_reference(PUBLISHED_REFERENCES / name, *cut)
    assert np.array_equal(load_reference(REFERENCES / name, *cut)[1], y) and x.size > 30


@needs_spectra
@needs_shared_data(PUBLISHED_REFERENCES)
def test_the_shipped_references_give_the_published_files_columns(fitter):
    shipped = fit_folder(SPECTRA, fitter=fitter)
    published = fit_folder(SPECTRA, fitter=DoasFitter(DoasReferences.load(PUBLISHED_REFERENCES)))
    assert shipped.keys() == published.keys()
    for name, result in shipped.items():
        assert result.column == pytest.approx(published[name].column, rel=1e-9, abs=1e10), name
        assert result.error == pytest.approx(published[name].error, rel=1e-9), name

"""The extinction fit and the correction of dilution.py on numbers whose answer is known,
and the reasons it gives when it cannot fit."""
import logging
import math

import numpy as np
import pytest

from rockit.pycam.processing.background import SkyRegion
from rockit.pycam.processing.dilution import (DilutionCorrection, DilutionError, TerrainFeature, correct, estimate,
                                              fit_extinction)

DISTANCES = np.array([1200.0, 2500.0, 4000.0, 6000.0, 9000.0])


def diluted(i0, ambient, per_km, distance_m):
    f = np.exp(-per_km * np.asarray(distance_m) / 1000)
    return i0 * f + ambient * (1 - f)


def test_the_fit_recovers_the_extinction_and_the_terrain():
    fit = fit_extinction(diluted(60.0, 1000.0, 0.06, DISTANCES), DISTANCES, 1000.0)
    assert fit.per_km == pytest.approx(0.06, rel=1e-9)
    assert fit.terrain_radiance == pytest.approx(60.0, rel=1e-9)
    assert fit.r2 == pytest.approx(1.0) and fit.rms_residual < 1e-9 and fit.points == 5


def test_noise_shows_in_the_fit_quality():
    rng = np.random.default_rng(3)
    radiances = diluted(60.0, 1000.0, 0.06, DISTANCES) + rng.normal(0, 5, DISTANCES.size)
    fit = fit_extinction(radiances, DISTANCES, 1000.0)
    assert fit.per_km == pytest.approx(0.06, abs=3 * fit.per_km_err)
    assert 0 < fit.per_km_err < 0.01 and 0.9 < fit.r2 < 1 and fit.rms_residual > 1e-3


def test_the_correction_undoes_the_dilution_of_a_plume_and_leaves_the_sky():
    background = np.full((2, 2), 800.0, np.float32)
    plume = np.array([[800.0, 500.0], [300.0, 800.0]], np.float32)
    seen = diluted(plume, background, 0.05, 8000.0)
    assert correct(seen, background, 0.05, 8000.0) == pytest.approx(plume, rel=1e-5)


def test_a_correction_fitted_to_images_uses_each_bands_terrain(caplog):
    image = {band: np.full((100, 100), 900.0, np.float32) for band in ('on', 'off')}
    terrain = []
    for row, distance in zip((50, 60, 70, 80), (9000.0, 6000.0, 3000.0, 1000.0)):
        for band, per_km in (('on', 0.06), ('off', 0.045)):
            image[band][row] = diluted(50.0, 900.0, per_km, distance)
        terrain.append(TerrainFeature(5, row, 95, row, distance))
    terrain.append(TerrainFeature(40, 80, 40, 80, 1000.0))      # a point
    fits = estimate(image, terrain, SkyRegion(0, 0, 100, 20))
    assert fits['on'].per_km == pytest.approx(0.06, rel=1e-4) and fits['off'].per_km == pytest.approx(0.045, rel=1e-4)
    correction = DilutionCorrection(8000.0, terrain=tuple(terrain), ambient_region=SkyRegion(0, 0, 100, 20))
    _, _, used = correction(image['on'], image['off'], 900.0, 900.0)
    assert used == {'on': pytest.approx(0.06, rel=1e-4), 'off': pytest.approx(0.045, rel=1e-4)}
    # A pair whose terrain is lost (cloud as bright as the sky) keeps the last coefficients.
    cloud = {band: np.full((100, 100), 900.0, np.float32) for band in ('on', 'off')}
    with caplog.at_level(logging.WARNING, logger='rockit.pycam.processing.dilution'):
        for _ in range(5):
            _, _, kept = correction(cloud['on'], cloud['off'], 900.0, 900.0)
            assert kept == used
    lost = [r for r in caplog.records if 'the last coefficients kept' in r.getMessage()]
    assert len(lost) == 1, 'said once while the terrain stays lost, not at every pair'


@pytest.mark.parametrize('radiances, distances, ambient, message', [
    ([50, 60], [1000, 2000], 900, '3 distances at least'),
    ([50, 60, 70], [1000, 1000, 2000], 900, '3 distances at least'),
    ([50, 60, 70], [1000, 0, 2000], 900, 'distances must be above 0 m'),
    ([50, 60, 70], [1000, -5, 2000], 900, 'distances must be above 0 m'),
    ([50, 60, 70], [1000, math.nan, 2000], 900, 'distances must be above 0 m'),
    ([50, 60, 70], [1000, 2000, 3000], 0, 'ambient light must be above 0'),
    ([50, 950, 70], [1000, 2000, 3000], 900, 'terrain at [2000.0] m is not darker than the ambient light'),
    ([50, math.nan, 70], [1000, 2000, 3000], 900, 'without data'),
    ([50, 60, 70], [1000, 2000], 900, '3 terrain radiances for 2 distances'),
])
def test_a_fit_that_cannot_be_had_says_why(radiances, distances, ambient, message):
    with pytest.raises(DilutionError, match=None) as caught:
        fit_extinction(radiances, distances, ambient)
    assert message in str(caught.value)


def test_bad_corrections_are_refused():
    with pytest.raises(DilutionError, match='plume distance must be above 0 m'):
        DilutionCorrection(-1.0, per_km={'on': 0.1, 'off': 0.1})
    with pytest.raises(DilutionError, match='on-band extinction must be a number'):
        DilutionCorrection(8000.0, per_km={'on': 'x', 'off': 0.1})
    with pytest.raises(DilutionError, match='needs fixed coefficients for both bands, or terrain'):
        DilutionCorrection(8000.0, terrain=(TerrainFeature(1, 1, 1, 1, 100.0),), ambient_region=SkyRegion(0, 0, 5, 5))
    with pytest.raises(DilutionError, match='lies outside the 10x10 image'):
        TerrainFeature(0, 5, 20, 5, 100.0).mean(np.zeros((10, 10)))
    with pytest.raises(DilutionError, match='terrain points or lines at least'):
        estimate({'on': np.zeros((10, 10))}, [TerrainFeature(1, 1, 1, 1, 100.0)], SkyRegion(0, 0, 5, 5))


def test_fit_and_correction_agree_with_pyplis():
    """pyplis's dilution_corr_fit (a bounded least-squares fit of the radiances) and
    correct_img (Campion et al. 2015, eq. 4) on the same noisy terrain and plume."""
    import logging
    import pyplis
    from pyplis.dilutioncorr import correct_img
    from pyplis.optimisation import dilution_corr_fit
    logging.getLogger('pyplis').setLevel(logging.ERROR)
    rng = np.random.default_rng(1)
    radiances = diluted(60.0, 1000.0, 0.06, DISTANCES) + rng.normal(0, 3, DISTANCES.size)
    theirs = dilution_corr_fit(radiances, DISTANCES, 1000.0, ext_max=1e-3)
    ours = fit_extinction(radiances, DISTANCES, 1000.0)
    assert ours.per_km == pytest.approx(theirs.x[1] * 1000, rel=0.01)       # pyplis: per m
    assert ours.terrain_radiance == pytest.approx(theirs.x[0], rel=0.05)
    plume, background = np.full((4, 4), 700.0), np.full((4, 4), 900.0)
    images = []
    for values in (plume, background):
        image = pyplis.Img(values.copy())
        image.edit_log['vigncorr'] = True
        images.append(image)
    expected = correct_img(images[0], 0.06e-3, images[1], 8000.0, np.ones((4, 4))).img
    assert correct(plume, background, 0.06, 8000.0) == pytest.approx(expected, rel=1e-6)

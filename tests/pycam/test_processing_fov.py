"""The field-of-view search on made-up series: it finds a view that follows the DOAS
columns, and refuses noise that only correlates by chance across thousands of pixels."""
import numpy as np
import pytest

from rockit.pycam.processing.doas import fov
from rockit.pycam.processing.errors import FovError


def noise_stack(rng, samples, shape=(120, 160)):
    return rng.normal(0.0, 0.01, (samples, *shape)).astype(np.float32)


def test_pure_noise_is_refused_as_chance():
    rng = np.random.default_rng(7)
    stack, columns = noise_stack(rng, 30), rng.normal(1e18, 2e17, 30)
    best = fov.correlation_map(stack, columns).max()
    assert best > 0.5, 'the best of 19,200 noise pixels correlates well over 30 samples'
    with pytest.raises(FovError, match='better than chance'):
        fov.search(stack, columns)


def test_a_view_that_follows_the_columns_is_found():
    rng = np.random.default_rng(7)
    stack, columns = noise_stack(rng, 30), rng.normal(1e18, 2e17, 30)
    yy, xx = np.mgrid[:120, :160]
    view = (xx - 100) ** 2 + (yy - 40) ** 2 <= 2 ** 2
    stack[:, view] += (columns[:, None] / 1e19).astype(np.float32)
    found = fov.search(stack, columns)
    assert (found.x, found.y) == pytest.approx((100 * fov.BINNING + 1.5, 40 * fov.BINNING + 1.5), abs=fov.BINNING)
    assert found.correlation > 0.9


@pytest.mark.parametrize('samples, pixels', [(30, 20000), (100, 20000), (30, 100)])
def test_chance_bound_falls_with_samples_and_rises_with_pixels(samples, pixels):
    bound = fov.chance_correlation(samples, pixels)
    assert 0 < bound < 1
    assert fov.chance_correlation(samples * 2, pixels) < bound < fov.chance_correlation(samples, pixels * 10)

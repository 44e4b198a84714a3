"""The field-of-view search on made-up series: it finds a view that follows the DOAS
columns, and refuses noise that only correlates by chance across thousands of pixels."""
import math

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


def ar1(rng, samples, shape=(), lag1=0.8):
    """Autocorrelated noise, as plume AA and DOAS columns are: each sample keeps lag1 of
    the one before."""
    series = np.empty((samples, *shape))
    series[0] = rng.normal(size=shape)
    for i in range(1, samples):
        series[i] = lag1 * series[i - 1] + np.sqrt(1 - lag1 ** 2) * rng.normal(size=shape)
    return series


def _found(stack, columns):
    try:
        return fov.search(stack.astype(np.float32), columns)
    except FovError:
        return None


def test_autocorrelated_noise_is_refused_at_the_nominal_rate():
    """30 samples of AR(1) noise (lag-1 0.8) in every (binned) pixel and in the columns: counted as
    independent samples, the search took a view from them in 9 trials of 10. Over 200
    seeded trials it may do so at its nominal 1 %, plus a binomial margin."""
    found = sum(_found(0.05 + 0.01 * ar1(np.random.default_rng(seed), 30, (64, 64)),
                       1e18 + 1e17 * ar1(np.random.default_rng(10_000 + seed), 30)) is not None for seed in range(200))
    assert found <= 200 * fov.CHANCE + 4


def test_an_autocorrelated_view_is_still_found():
    """The same noise, with a view of 2 binned px whose AA follows the columns: 30 such samples
    are worth about 7 independent ones, too few to tell a view among hundreds of pixels
    from chance; 120 (8 minutes of pairs at 4 s) are worth about 26."""
    yy, xx = np.mgrid[:64, :64]
    view = (xx - 42) ** 2 + (yy - 18) ** 2 <= 2 ** 2
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        columns = 1e18 + 1e17 * ar1(rng, 120)
        stack = 0.05 + 0.01 * ar1(rng, 120, (64, 64))
        stack[:, view] += (columns[:, None] - 1e18) / 5e18
        found = _found(stack, columns)
        hits += found is not None and bool(view[round((found.y - 1.5) / fov.BINNING), round((found.x - 1.5) / fov.BINNING)])
    assert hits >= 18


def _live(tmp_path, window_s=1800):
    from rockit.pycam.processing.live.doas import LiveDoas
    from rockit.pycam.processing.pipeline import ProcessingSettings
    status = {}
    doas = LiveDoas(None, tmp_path, ProcessingSettings(), status.update, window_s=window_s)
    return doas, status


def _pairings(doas, rng, start, count, view):
    """count pairings 4 s apart whose AA follows independent columns in a disk at view
    (full-resolution x, y) of a 64 x 64 frame; the calibrations they gave."""
    import datetime
    yy, xx = np.mgrid[:64, :64]
    disk = (xx - view[0]) ** 2 + (yy - view[1]) ** 2 <= 6 ** 2
    adopted = []
    for i in range(count):
        column = rng.uniform(0, 5e18)
        aa = rng.normal(0.05, 0.01, (64, 64))
        aa[disk] += column / 2e19
        when = start + datetime.timedelta(seconds=4 * i)
        adopted.append(doas._pair(when, aa.astype(np.float32), column, 2e16))
    return start + datetime.timedelta(seconds=4 * count), adopted


def test_a_found_view_is_kept_and_searched_again_only_once_lost(tmp_path):
    """Found once, the view is not searched for again while its refits hold (the points
    are not rebuilt); when the plume's columns stop following it, the refit is refused,
    the view is lost and the search finds where the columns are followed now."""
    import datetime
    rng = np.random.default_rng(3)
    doas, status = _live(tmp_path, window_s=200)
    start = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.timezone.utc)
    start, _ = _pairings(doas, rng, start, 30, (20, 20))
    assert doas.fov_source == 'search' and math.hypot(doas.fov.x - 20, doas.fov.y - 20) <= 4
    view, points = doas.fov, doas.points
    start, adopted = _pairings(doas, rng, start, 40, (20, 20))
    assert doas.fov is view and doas.points is points, 'not searched again, the points kept'
    assert all(c is not None for c in adopted) and status['doas_refit'] == 'adopted'
    start, adopted = _pairings(doas, rng, start, 120, (48, 44))
    assert any(c is None for c in adopted), 'refused while the columns follow another place'
    assert doas.fov is not view and math.hypot(doas.fov.x - 48, doas.fov.y - 44) <= 8, doas.fov
    assert status['doas_refit'] == 'adopted'


def test_a_refit_is_adopted_only_when_significant_and_rising():
    from rockit.pycam.processing.calibration.columns import doas_calibration
    from rockit.pycam.processing.live.doas import refusal
    rng = np.random.default_rng(4)
    aa = rng.uniform(0.0, 0.2, 40)
    rising = 2e19 * aa + rng.normal(0, 2e17, 40)
    for columns, says in ((rising, ''), (-rising, 'do not rise'), (2e18 + 3e18 * aa + rng.normal(0, 1e18, 40), 'r2'),
                          (2e19 * np.sort(aa[:12]) + rng.normal(0, 7e17, 12), 'within chance')):
        # The last: a trend in time, both series autocorrelated: 12 points worth about 2.
        ordered = np.sort(aa[:12]) if 'chance' in says else aa
        reason = refusal(doas_calibration(ordered, columns), ordered, columns)
        assert (reason == '') if not says else (says in reason), (says, reason)

"""Step 6: plume speed by optical flow (crop around the line vs the full frame) and by
cross-correlation of two lines."""
import cv2
import numpy as np
import pytest

from processing_harness import SYNTHETIC_SHAPE, needs_data, synthetic_column, villarrica_rates, villarrica_settings
from rockit.pycam.processing.absorbance import AbsorbanceImager
from rockit.pycam.processing.background import ClearSkyBackground
from rockit.pycam.processing.emission import IntegrationLine
from rockit.pycam.processing.motion.flow import (LineFlow, bytescale, contrast_range, cross_correlation_lag,
                                          cross_correlation_speed, farneback, normal_displacement, resample_series)


def test_flow_across_a_line_of_a_drifting_synthetic_plume():
    line = IntegrationLine(80, 15, 80, 105, 'left')          # vertical: 'left' is -x
    first, following = synthetic_column(SYNTHETIC_SHAPE, 0), synthetic_column(SYNTHETIC_SHAPE, 3)
    displacement, _, _ = LineFlow(line, SYNTHETIC_SHAPE, margin=32)(first, following)
    core = slice(30, 60)                                      # where the plume band is
    assert np.median(displacement[core]) == pytest.approx(3.0, abs=0.3), 'drifting left by 3 px'
    backwards, _, _ = LineFlow(IntegrationLine(80, 15, 80, 105, 'right'), SYNTHETIC_SHAPE)(first, following)
    assert np.median(backwards[core]) == pytest.approx(-3.0, abs=0.3)


def test_bytescale_is_pyplis_s():
    image = np.array([[91.06794177, 3.39058326, 84.4221549], [73.88003259, 80.91433048, 4.88878881]])
    assert bytescale(image, 0, 255).tolist() == [[91, 3, 84], [74, 81, 5]]
    assert bytescale(np.array([[np.nan, 2.0]]), 0, 1).tolist() == [[0, 255]]


@pytest.fixture(scope='module')
def villarrica_aa():
    settings = villarrica_settings()
    darks, clear, pairs = villarrica_rates()
    imager = AbsorbanceImager(ClearSkyBackground(clear['on'], settings.registration.apply(clear['off']), settings.sky),
                              settings.registration)
    return settings, [imager(on, off) for _, on, off in pairs]


@needs_data
def test_flow_on_the_line_crop_agrees_with_full_frame_farneback(villarrica_aa):
    """The live path's crop keeps the column-weighted speed through the line within 5 % of
    full-resolution Farneback on the same byte-scaled images (measured: within 1 %)."""
    settings, aas = villarrica_aa
    line = settings.line
    flow = LineFlow(line, aas[0].shape, margin=settings.flow_margin)
    for first, following in list(zip(aas, aas[1:]))[::3]:
        crop, _, (low, high) = flow(first, following)
        full = normal_displacement(farneback(bytescale(first, low, high), bytescale(following, low, high)), line)
        weights = np.clip(np.nan_to_num(line.profile(following)), 0, None)
        ratio = np.sum(weights * crop) / np.sum(weights * full)
        assert ratio == pytest.approx(1.0, abs=0.02)


@needs_data
def test_flow_direction_matches_the_plumes_visible_drift(villarrica_aa):
    """The drift seen by matching a patch of the plume's core between images (independent
    of optical flow) is up and to the left; the flow in the plume points the same way and
    carries the plume through the line the way its file says (orientation=left)."""
    settings, aas = villarrica_aa
    x0, y0, x1, y1, reach = 300, 120, 380, 200, 15
    first, following = np.nan_to_num(aas[2]), np.nan_to_num(aas[3])
    scores = cv2.matchTemplate(following[y0 - reach:y1 + reach, x0 - reach:x1 + reach],
                               first[y0:y1, x0:x1], cv2.TM_CCOEFF_NORMED)
    _, _, _, (bx, by) = cv2.minMaxLoc(scores)
    drift = np.array([bx - reach, by - reach], float)
    assert drift[0] < 0 and drift[1] < 0, 'the plume visibly drifts up and to the left'
    flow_box = LineFlow(settings.line, first.shape, margin=32)
    displacement, flow, _ = flow_box(aas[2], aas[3])
    bx0, by0 = flow_box.box[:2]
    plume = (first[by0:by0 + flow.shape[0], bx0:bx0 + flow.shape[1]] > 0.08)
    mean_flow = np.array([flow[..., 0][plume].mean(), flow[..., 1][plume].mean()])
    cosine = mean_flow @ drift / np.linalg.norm(mean_flow) / np.linalg.norm(drift)
    assert cosine > np.cos(np.deg2rad(25))
    assert np.average(displacement, weights=np.clip(np.nan_to_num(settings.line.profile(aas[3])), 0, None)) > 0


def test_contrast_range_ignores_a_few_extreme_pixels():
    image = np.random.default_rng(0).normal(0.1, 0.05, (100, 100))
    image[0, :20] = 5.0
    low, high = contrast_range(image)
    assert -0.1 < low < 0.0 and 0.2 < high < 0.3


def test_cross_correlation_finds_the_travel_time():
    rng = np.random.default_rng(4)
    t = np.arange(0, 200, 2.0)
    signal = np.convolve(rng.normal(size=t.size + 20), np.ones(5) / 5, mode='same')
    upstream, downstream = signal[10:10 + t.size], signal[7:7 + t.size]   # 3 samples = 6 s later
    lag, correlation = cross_correlation_lag(upstream, downstream, dt=2.0, max_lag=20)
    assert lag == pytest.approx(6.0, abs=0.5) and correlation > 0.9
    speed, _ = cross_correlation_speed(upstream, downstream, 2.0, separation_m=60.0, max_lag=20)
    assert speed == pytest.approx(10.0, rel=0.1)
    grid, values = resample_series([0, 4, 8], [0, 4, 8], 2.0)
    assert grid.tolist() == [0, 2, 4, 6, 8] and values.tolist() == [0, 2, 4, 6, 8]

"""Step 1 and 3: dark correction to counts per second, and the off-band registration."""
import logging

import cv2
import numpy as np
import pytest

from processing_harness import CAL_1, SEQ_1, WARP_FILE, needs_data
from rockit.pycam.processing.errors import RegistrationError
from rockit.pycam.processing.images import DarkLibrary, counts_per_second, load_png
from rockit.pycam.processing.registration import Registration, find_registration
from rockit.pycam.storage.names import images_in, plume_pairs


def test_counts_per_second_subtracts_dark_and_normalises_exposure():
    raw = np.array([[116.0, 1023.0], [10.0, 216.0]], np.float32)
    rate = counts_per_second(raw, np.full((2, 2), 16, np.float32), 100000)
    assert rate[0, 0] == pytest.approx(1000.0) and rate[1, 1] == pytest.approx(2000.0)
    assert np.isnan(rate[0, 1]), 'saturated pixels carry no radiance'
    assert np.isnan(rate[1, 0]), 'below the dark level there is no light to take a logarithm of'


def test_dark_of_the_matching_exposure_else_the_nearest_with_a_warning(caplog):
    darks = DarkLibrary()
    darks.add('on', 1000, np.full((2, 2), 10, np.float32))
    darks.add('on', 5000, np.full((2, 2), 50, np.float32))
    assert darks.match('on', 1000).exact
    with caplog.at_level(logging.WARNING, logger='rockit.pycam.processing'):
        match = darks.match('on', 4000)
        darks.match('on', 4000)
    assert (match.exposure_us, match.exact) == (5000, False)
    assert len([r for r in caplog.records if 'nearest' in r.getMessage()]) == 1, 'said once, not every frame'
    with pytest.raises(LookupError):
        darks.match('off', 1000)


@needs_data
def test_villarrica_darks_cover_both_cameras_and_seq_1_needs_the_nearest_off_band_dark():
    darks = DarkLibrary.from_folder(CAL_1)
    assert darks.exposures('on') == [1399829] and darks.exposures('off') == [99980]
    on, off = plume_pairs(images_in(SEQ_1))[0]
    assert darks.match('on', on.exposure_us).exact
    assert not darks.match('off', off.exposure_us).exact     # 99957 us frames, 99980 us darks


def test_registration_undoes_a_known_shift():
    rng = np.random.default_rng(1)
    scene = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 3)
    warp = np.array([[1, 0, 7.0], [0, 1, -4.0]], np.float32)
    # The off-band camera sees the scene shifted: off(x, y) = on(x - 7, y + 4).
    off = cv2.warpAffine(scene, warp, (160, 120), flags=cv2.INTER_LINEAR)
    back = Registration(warp).apply(off)
    inner = (slice(10, -10), slice(10, -10))
    assert np.nanmax(np.abs(back[inner] - scene[inner])) < 1e-5
    assert np.isnan(back[1, 80]), 'pixels the off-band camera never saw are NaN'


def test_ecc_finds_a_known_rotation_and_shift():
    rng = np.random.default_rng(2)
    scene = cv2.GaussianBlur(rng.random((240, 320)).astype(np.float32), (0, 0), 4)
    angle = np.deg2rad(0.8)
    warp = np.array([[np.cos(angle), -np.sin(angle), 12.0], [np.sin(angle), np.cos(angle), -9.0]], np.float32)
    # The off-band camera sees a real sky beyond the on-band's edges too (reflected here),
    # with another gain and offset.
    off = cv2.warpAffine(scene, warp, (320, 240), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT) * 3 + 100
    found = find_registration(scene, off).warp
    assert np.allclose(found[:, :2], warp[:, :2], atol=2e-3) and np.allclose(found[:, 2], warp[:, 2], atol=0.3)


@needs_data
def test_ecc_on_a_villarrica_pair_agrees_with_the_stored_warp():
    darks = DarkLibrary.from_folder(CAL_1)
    on, off = plume_pairs(images_in(SEQ_1))[3]
    on_rate = counts_per_second(load_png(on.path), darks.match('on', on.exposure_us).frame, on.exposure_us)
    off_rate = counts_per_second(load_png(off.path), darks.match('off', off.exposure_us).frame, off.exposure_us)
    found, stored = find_registration(on_rate, off_rate).warp, Registration.load(WARP_FILE).warp
    assert np.allclose(found[:, 2], stored[:, 2], atol=1.0), 'within a pixel of the installation warp'
    assert np.allclose(found[:, :2], stored[:, :2], atol=1e-3)


def test_a_registration_must_be_a_2x3_warp(tmp_path):
    np.save(tmp_path / 'bad.npy', np.eye(3))
    with pytest.raises(RegistrationError):
        Registration.load(tmp_path / 'bad.npy')

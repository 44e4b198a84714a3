"""The raw-frame previews a browser aims and focuses with: the sensor's full scale, saturated
pixels red and counted, and small enough for Pyro."""
import cv2
import numpy as np

from rockit.pycam import previews
from rockit.pycam.devices import raw10


def decoded(png):
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def test_saturated_pixels_are_red_and_counted_and_the_rest_grey_on_full_scale():
    image = np.full((486, 648), 512, np.uint16)
    image[:10, :20] = raw10.MAX_DN
    png, saturated = previews.frame_preview(image)
    assert saturated == 200 / image.size
    shown = decoded(png)
    assert shown.shape == (486, 648, 3)
    assert shown[5, 5].tolist() == [0, 0, 255]                  # BGR red
    assert shown[100, 100].tolist() == [127, 127, 127]          # half of full scale stays half grey


def test_a_preview_too_large_is_halved_until_it_fits():
    noise = np.random.default_rng(1).integers(0, raw10.MAX_DN + 1, (1944, 2592)).astype(np.uint16)
    png, saturated = previews.frame_preview(noise)
    assert len(png) <= previews.MAX_PREVIEW_BYTES
    assert decoded(png).shape[1] < 2592
    assert abs(saturated - 1 / (raw10.MAX_DN + 1)) < 1e-3


def test_a_frame_that_cannot_be_read_has_no_preview(tmp_path):
    broken = tmp_path / '2026-12-07T143137_fltrA_1ag_31998ss_Plume.png'
    broken.write_bytes(b'not a png')
    assert previews.band_preview(broken) is None
    good = tmp_path / '2026-12-07T143138_fltrA_1ag_31998ss_Plume.png'
    cv2.imwrite(str(good), np.full((48, 64), raw10.MAX_DN, np.uint16))
    preview = previews.band_preview(good)
    assert preview['name'] == good.name and preview['saturated'] == 1.0

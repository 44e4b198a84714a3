"""The frame pipeline gives, bit for bit, what the straightforward pipeline gives (unpack
every pixel, delete the low-bit columns, cv2.resize INTER_AREA, argsort for the top-N,
cv2.imencode); timing it is bench/pycam_frames.py's job."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import frames_reference
from rockit.pycam.acquisition import frames
from rockit.pycam.devices import raw10
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH, RAW_HEIGHT, RAW_WIDTH
from rockit.pycam.simulator.camera import SimulatedPicamera2

WIDTH, HEIGHT = RAW_WIDTH, RAW_HEIGHT
PIPELINE = frames.FramePipeline(WIDTH, HEIGHT, packed=True)   # one for every frame, as a camera has


def random_frame(seed, low=0, high=1024):
    return np.random.default_rng(seed).integers(low, high, (HEIGHT, WIDTH), dtype=np.uint16)


def frames_under_test():
    yield 'uniform noise', random_frame(1)
    ties = random_frame(2)                 # many 4 x 4 sums at exactly .5 of a count
    ties[::4, ::4] = (ties[::4, ::4] // 2) * 2
    yield 'rounding ties', ties
    saturated = random_frame(3, 900)
    saturated[:600] = raw10.MAX_DN
    yield 'saturated sky', saturated
    yield 'black', np.zeros((HEIGHT, WIDTH), np.uint16)
    yield 'all 1023', np.full((HEIGHT, WIDTH), raw10.MAX_DN, np.uint16)
    gradient = np.add.outer(np.arange(HEIGHT) * 1023 // HEIGHT, np.arange(WIDTH) % 7).clip(0, 1023)
    yield 'gradient', gradient.astype(np.uint16)


@pytest.mark.parametrize('name, image', list(frames_under_test()), ids=lambda v: v if isinstance(v, str) else '')
def test_the_fast_pipeline_is_bit_identical_to_the_straightforward_one(name, image):
    raw = raw10.pack(image)
    rows, pixels = (0, 400), 1000
    fast_image, fast_level, fast_png = PIPELINE.process(raw, rows, pixels)
    slow_image, slow_level, slow_png = frames_reference.process(raw, WIDTH, rows, pixels)
    assert fast_image.dtype == np.uint16 and fast_image.shape == (IMAGE_HEIGHT, IMAGE_WIDTH)
    assert np.array_equal(fast_image, slow_image)
    assert fast_level == slow_level
    decoded_fast = cv2.imdecode(np.frombuffer(fast_png, np.uint8), cv2.IMREAD_UNCHANGED)
    decoded_slow = cv2.imdecode(np.frombuffer(slow_png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded_fast.dtype == np.uint16 and np.array_equal(decoded_fast, decoded_slow)


def test_unpacking_recovers_every_pixel_and_binning_matches_inter_area_on_the_unpacked_frame():
    image = random_frame(4)
    raw = raw10.pack(image)
    assert raw.shape == (HEIGHT, raw10.stride(WIDTH)) and raw.dtype == np.uint8
    assert np.array_equal(frames_reference.unpack(raw, WIDTH), image)
    expected = cv2.resize(image, (IMAGE_WIDTH, IMAGE_HEIGHT), interpolation=cv2.INTER_AREA)
    assert np.array_equal(frames.bin_unpacked(image), expected)
    assert np.array_equal(frames.bin_raw(image.view(np.uint8), WIDTH, HEIGHT, packed=False), expected)


def test_a_simulated_camera_frame_bins_identically():
    camera = SimulatedPicamera2(0, 'fltrB', seed=1)
    camera.configure(camera.create_still_configuration(raw={'format': 'SGBRG10_CSI2P', 'size': (WIDTH, HEIGHT)}))
    camera.start()
    raw = camera.capture_array('raw')
    fast = frames.FramePipeline(WIDTH, HEIGHT, True).process(raw, (0, IMAGE_HEIGHT), 500)
    slow = frames_reference.process(raw, WIDTH, (0, IMAGE_HEIGHT), 500)
    assert np.array_equal(fast[0], slow[0]) and fast[1] == slow[1]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, IMAGE_HEIGHT - 1), st.integers(1, IMAGE_HEIGHT), st.integers(1, 400000), st.integers(0, 2**32 - 1))
def test_top_mean_matches_a_full_sort_for_any_band_and_count(start, length, pixels, seed):
    image = np.random.default_rng(seed).integers(0, 1024, (IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint16)
    rows = (start, min(IMAGE_HEIGHT, start + length))
    band = image[rows[0]:rows[1]].ravel()
    expected = float(np.sort(band)[-min(pixels, band.size):].mean())
    assert frames.top_mean(image, rows, pixels) == expected


def test_the_png_is_the_instruments_16_bit_greyscale_format():
    image = random_frame(5)[:IMAGE_HEIGHT, :IMAGE_WIDTH]
    data = frames.encode_png(image)
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    assert data[16:26] == bytes([0, 0, 2, 0x88, 0, 0, 1, 0xe6, 16, 0])   # 648 x 486, 16 bits, greyscale
    assert len(data) < 640_000                                            # stored, as the instrument's files
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), image)

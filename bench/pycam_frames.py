"""pycamd frames: the per-frame cost of turning a full-resolution RAW10 frame (2592 x 1944,
packed as picamera2 gives it) into the stored image: unpack, bin to 648 x 486, saturation
check (mean of the top 1000 pixels within rows 0-400), 16-bit PNG written to a file.
rockit/pycam/acquisition/frames.py against the straightforward NumPy way
(tests/pycam/frames_reference.py: unpack every pixel with shifts, delete the low-bit
columns, cv2.resize INTER_AREA, argsort, cv2.imencode) in the same run, frame by frame in turn. Both give the same pixels
(tests/pycam/test_pycam_acq_frames.py); the file is written without fsync in both, so the
disk's flush is not timed."""
import sys
import time

import numpy as np

from harness import ROOT, WORK, summary

sys.path.insert(0, str(ROOT / 'tests' / 'pycam'))

import frames_reference  # noqa: E402
from rockit.pycam.acquisition import frames  # noqa: E402
from rockit.pycam.devices import raw10  # noqa: E402
from rockit.pycam.instrument import RAW_HEIGHT, RAW_WIDTH  # noqa: E402

FRAMES = 30
WIDTH, HEIGHT = RAW_WIDTH, RAW_HEIGHT
ROWS, PIXELS = (0, 400), 1000


def sky_frame(seed):
    """A sky-like full-resolution frame: a gradient with noise and a saturated corner."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(350, 800, HEIGHT)[:, None]
    image = rows + rng.normal(0, 25, (HEIGHT, WIDTH))
    image[:300, :500] = 1100
    return raw10.pack(np.clip(np.rint(image), 0, raw10.MAX_DN).astype(np.uint16))


def write(path, data):
    with open(path, 'wb') as out:
        out.write(data)


def straightforward(raw, path):
    image = frames_reference.downsample(frames_reference.unpack(raw, WIDTH))
    level = frames_reference.top_mean(image, ROWS, PIXELS)
    write(path, frames_reference.encode_png(image))
    return level


def pipeline(binner, raw, path, stages=None):
    """As a camera's FramePipeline does, with its binner (and work buffers) kept."""
    started = time.perf_counter()
    image = binner(raw)
    binned = time.perf_counter()
    level = frames.top_mean(image, ROWS, PIXELS)
    checked = time.perf_counter()
    write(path, frames.encode_png(image))
    if stages is not None:
        stages['unpack + bin'].append((binned - started) * 1000)
        stages['saturation check'].append((checked - binned) * 1000)
        stages['PNG encode + write'].append((time.perf_counter() - checked) * 1000)
    return level


def run():
    raws = [sky_frame(seed) for seed in range(4)]
    baseline, fast = [], []
    stages = {'unpack + bin': [], 'saturation check': [], 'PNG encode + write': []}
    binner = frames.PackedBinner(WIDTH, HEIGHT)
    straightforward(raws[0], WORK / 'warm.png')
    pipeline(binner, raws[0], WORK / 'warm.png')
    for index in range(FRAMES):
        raw = raws[index % len(raws)]
        for times, step in ((baseline, straightforward), (fast, lambda r, p: pipeline(binner, r, p, stages))):
            started = time.perf_counter()
            step(raw, WORK / f'frame-{index % 2}.png')
            times.append((time.perf_counter() - started) * 1000)
    base = summary(baseline)
    rows = [('straightforward NumPy, per frame', base['median'], base['p99'], base['n'], 1.0)]
    mine = summary(fast)
    rows.append(('frames.py, per frame', mine['median'], mine['p99'], mine['n'], mine['median'] / base['median']))
    for name, times in stages.items():
        part = summary(times)
        rows.append((f'frames.py: {name}', part['median'], part['p99'], part['n'], None))
    return rows


if __name__ == '__main__':
    for name, median, p99, n, ratio in run():
        print(f'{name:40s} median {median:8.2f} ms  p99 {p99:8.2f} ms  n {n}'
              + (f'  ratio {ratio:.3f}' if ratio is not None else ''))

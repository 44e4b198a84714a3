"""Processing's results held against a simulated sequence's truth (sequence.py): the
emission rates pair by pair, and the SO2 column the processing reads in plume-free sky.

compare(out, truth_folder) reads the output folder of `pycam process` (emission_rates.csv
and its so2/<time>_so2.npy images) and the sequence's truth.json and truth.npz.
"""
import csv
import json
import math
from pathlib import Path

import cv2
import numpy as np

from .scene import HORIZON
from .sequence import TRUTH_JSON, TRUTH_NPZ

SKY_COLUMN_PPMM = 0.5    # pixels whose true column is below this are sky
SKY_BLOCKS = (8, 8)      # the sky is judged block by block, so that a gradient shows,
                         # each block over the run: an offset or a gradient stays from frame
                         # to frame, the noise of one frame's sky region does not
SKY_SHARE = 0.9          # of a block's pixels sky, for the block to be judged
SKY_MARGIN_PX = 3        # sky pixels this close to plume are left out (a frame's timing moves its edge)


def read_rates(csv_path):
    """{time: row} of the rows with an emission rate."""
    with open(csv_path, newline='') as f:
        return {row['time']: row for row in csv.DictReader(f)
                if row.get('emission_rate_kg_s') not in (None, '', 'nan')}


def rate_errors(rows, truth):
    """Per pair with a rate: (time, measured, true) kg/s; and the relative error of the mean."""
    pairs = [(p['time'], float(rows[p['time']]['emission_rate_kg_s']), p['emission_rate_kg_s'])
             for p in truth['pairs'] if p['time'] in rows]
    if not pairs:
        return pairs, math.nan
    measured, true = sum(p[1] for p in pairs), sum(p[2] for p in pairs)
    return pairs, measured / true - 1


def sky_columns(so2, true_column, blocks=SKY_BLOCKS):
    """(mean, {(row, column): block mean}) of the measured column (ppm.m) where the truth is
    sky, above the horizon, at least SKY_MARGIN_PX from plume; only blocks nearly all sky
    (SKY_SHARE) have a mean, so that the edges of the plume, where a pixel of low column
    sits among plume, do not count as sky."""
    kernel = np.ones((2 * SKY_MARGIN_PX + 1,) * 2, np.uint8)
    sky = cv2.erode((true_column < SKY_COLUMN_PPMM).astype(np.uint8), kernel).astype(bool) & np.isfinite(so2)
    sky[HORIZON - 4:] = False
    rows, columns = so2.shape
    means = {}
    for r in range(blocks[0]):
        for c in range(blocks[1]):
            part = (slice(r * rows // blocks[0], (r + 1) * rows // blocks[0]),
                    slice(c * columns // blocks[1], (c + 1) * columns // blocks[1]))
            if sky[part].mean() >= SKY_SHARE:
                means[r, c] = float(so2[part][sky[part]].mean())
    return float(so2[sky].mean()), means


def worst_block(frames):
    """ppm.m: the largest |mean| of a sky block over the frames ({block: mean} each) in
    which it was judged."""
    blocks = {}
    for frame in frames:
        for block, mean in frame.items():
            blocks.setdefault(block, []).append(mean)
    return max((abs(float(np.mean(means))) for means in blocks.values()), default=math.nan)


def compare(out, truth_folder):
    """{'pairs', 'mean_rate_error', 'pair_rate_errors', 'sky_mean_ppmm', 'sky_worst_block_ppmm'}."""
    out, truth_folder = Path(out), Path(truth_folder)
    truth = json.loads((truth_folder / TRUTH_JSON).read_text())
    rows = read_rates(out / 'emission_rates.csv')
    pairs, mean_error = rate_errors(rows, truth)
    columns = np.load(truth_folder / TRUTH_NPZ)
    by_time = dict(zip((p['time'] for p in truth['pairs']), columns['column_ppmm']))
    sky_means, frames = [], []
    with open(out / 'emission_rates.csv', newline='') as f:
        for row in csv.DictReader(f):
            if not row.get('so2_file') or row['time'] not in by_time:
                continue
            so2 = np.load(out / row['so2_file'])
            mean, blocks = sky_columns(so2, by_time[row['time']])
            sky_means.append(mean)
            frames.append(blocks)
    return {'pairs': len(pairs), 'mean_rate_error': mean_error,
            'pair_rate_errors': [m / t - 1 for _, m, t in pairs],
            'sky_mean_ppmm': float(np.mean(sky_means)) if sky_means else math.nan,
            'sky_worst_block_ppmm': worst_block(frames)}

"""The optical flow of one pair as an operator checks it (pyplis's flow histogram
analysis): how its vectors around the line spread in direction, in length and in the
component through the line, over the moving plume pixels the speed is taken from.

Three histograms of fixed bin counts: a few hundred numbers a pair, whatever the crop.
"""
import numpy as np

DIRECTION_BINS = 36         # 10 degrees each
LENGTH_BINS = 30
ACROSS_BINS = 30


def _counts(values, bins, low, high):
    counts, edges = np.histogram(values, bins, (low, high))
    return {'counts': counts.tolist(), 'edges': [float(e) for e in edges]}


def flow_histogram(flow, mask, across, dominant=None):
    """flow (h, w, 2) px, mask (h, w) of the pixels that count, across (h, w) the flow's
    component through the line; dominant: (peak, width) the speed took, or None.
    Directions in degrees from image right, clockwise (image y points down)."""
    dx, dy, through = flow[..., 0][mask], flow[..., 1][mask], across[mask]
    lengths = np.hypot(dx, dy)
    longest = float(lengths.max()) if lengths.size else 1.0
    reach = float(np.abs(through).max()) if through.size else 1.0
    return {'vectors': int(mask.sum()), 'of': int(mask.size),
            'direction_deg': _counts(np.degrees(np.arctan2(dy, dx)), DIRECTION_BINS, -180.0, 180.0),
            'length_px': _counts(lengths, LENGTH_BINS, 0.0, max(longest, 1.0)),
            'across_px': _counts(through, ACROSS_BINS, -max(reach, 1.0), max(reach, 1.0)),
            'peak_px': None if dominant is None else dominant[0],
            'width_px': None if dominant is None else dominant[1]}

"""The pairs of a day that came before any calibration: kept by name (a few hundred bytes
each, the frames are on disk) and processed again once a calibration exists, so the
morning's first pairs get rates too, as PyCam recomputes its buffered images. Their rows
are appended with `late` = 1 beside the first rows, which had none."""
import collections
import logging

from ..images import load_png

log = logging.getLogger('rockit.pycam.processing')
# Live, off unless configured: processing them again holds the processing thread, and the
# pairs it drops meanwhile bias the next flow speeds. A replay of stored data drops none.
DEFAULT_LATE_PAIRS = 0
REPLAY_LATE_PAIRS = 360       # half an hour at 5 s a pair


class LatePairs:
    """Up to `limit` pairs processed without a calibration, oldest dropped first."""

    def __init__(self, limit=DEFAULT_LATE_PAIRS):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f'processing: late_pairs must be a whole number of pairs, 0 or more, not {limit!r}')
        self.pairs = collections.deque(maxlen=limit or None) if limit else None
        self.dropped = 0
        self.recomputed = 0

    def __len__(self):
        return len(self.pairs) if self.pairs is not None else 0

    def keep(self, on, off):
        if self.pairs is None:
            return
        if len(self.pairs) == self.pairs.maxlen:
            self.dropped += 1
        self.pairs.append((on, off))

    def recompute(self, pipeline, writer_for):
        """Each kept pair through pipeline (a fresh one, with the calibration), in time
        order so each has the one before it for its flow; rows flagged late. writer_for(time):
        the PairWriter of that pair's day. Returns the rows written."""
        rows = []
        while self.pairs:
            on, off = self.pairs.popleft()
            try:
                result = pipeline.process(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us,
                                          on.time)
            except (OSError, ValueError) as e:       # a frame removed or cut short since
                log.warning('late pair %s not processed again: %s', on.stamp, e)
                continue
            writer = writer_for(on.time)
            row = writer.files(result)
            row['late'] = 1
            writer.log.append(row)
            rows.append(row)
        self.recomputed += len(rows)
        if rows:
            log.info('%d pair(s) from before the first calibration processed again with it', len(rows))
        return rows

"""Joining the halves of image pairs that two Pis captured, for live processing.

The master saves its own band's half at once and the second Pi's half when it arrives
(at once, or after an outage with the backlog). Continuous halves belong together when
they share a slot (the time in their names); single captures and darks, which each Pi
times itself, when they are of one type within SINGLE_WINDOW_S. A joined pair has its
sensor times compared, each on the clock of its own Pi corrected by that Pi's measured
offset from the master: beyond the tolerance the pair is still delivered (its images are
fine) but counted and logged, since it shows a clock or a camera out of step.

Only the newest halves keep their images in memory; an older one is read back from its
PNG when its partner comes, so a long backlog costs the master no memory.
"""
import dataclasses
import logging
import threading

import cv2

from rockit.common.log import ChangeLog

from ..storage import names
from ..storage.saved import SavedImagePair, read_only

SINGLE_WINDOW_S = 2.0
IMAGES_KEPT = 8            # waiting halves that keep their images in memory
HALVES_KEPT = 20000        # waiting halves at most (about 5.5 hours at 1 Hz); the oldest go


@dataclasses.dataclass
class Half:
    saved: SavedImagePair      # one band's
    band: str
    sensor_time: float         # on the master's clock, Unix seconds (None if unknown)


class PairMatcher:
    def __init__(self, deliver, tolerance_s, log):
        self._deliver = deliver
        self.tolerance_s = tolerance_s
        self._log = log
        self._changes = ChangeLog(log)
        self._lock = threading.Lock()
        self._waiting = []           # Half, oldest first
        self.matched = self.out_of_tolerance = self.dropped = 0
        self.last_difference_ms = None

    def add(self, saved, clock_offset_s=0.0):
        """A half from any thread: its band's one entry in saved, its Pi's clock offset."""
        band, = saved.paths
        sensor = saved.metadata.get(band, {}).get('sensor_time_unix')
        half = Half(saved, band, None if sensor is None else sensor - clock_offset_s)
        with self._lock:
            partner = self._partner(half)
            if partner is None:
                self._keep(half)
                return
            self._waiting.remove(partner)
            difference = None
            if half.sensor_time is not None and partner.sensor_time is not None:
                difference = abs(half.sensor_time - partner.sensor_time)
            self.matched += 1
            self.last_difference_ms = None if difference is None else round(difference * 1000, 1)
            late = difference is not None and difference > self.tolerance_s
            self.out_of_tolerance += late
        if late:
            self._changes('timing', logging.WARNING,
                          f'pair {names.stamp(saved.time)}: sensor times {difference * 1000:.0f} ms apart, '
                          f'beyond the {self.tolerance_s * 1000:.0f} ms tolerance', state='late')
        else:
            self._changes('timing', logging.INFO, 'pairs within the sensor-time tolerance', state='ok')
        self._deliver(_joined(partner, half))

    def _partner(self, half):
        for other in self._waiting:
            if other.band == half.band or other.saved.capture_type != half.saved.capture_type:
                continue
            if half.saved.capture_type == names.CONTINUOUS_TYPE:
                if other.saved.time == half.saved.time:
                    return other
            elif abs((other.saved.time - half.saved.time).total_seconds()) <= SINGLE_WINDOW_S:
                return other
        return None

    def _keep(self, half):
        self._waiting.append(half)
        if len(self._waiting) > HALVES_KEPT:
            self._waiting.pop(0)
            self.dropped += 1
        for old in self._waiting[:-IMAGES_KEPT]:
            if old.saved.images:
                old.saved = dataclasses.replace(old.saved, images={})

    def status(self):
        with self._lock:
            waiting = {}
            for half in self._waiting:
                waiting[half.band] = waiting.get(half.band, 0) + 1
            return {'matched': self.matched, 'out_of_tolerance': self.out_of_tolerance,
                    'tolerance_ms': round(self.tolerance_s * 1000, 1), 'last_difference_ms': self.last_difference_ms,
                    'waiting': waiting, 'dropped': self.dropped}


def _image(half):
    image = half.saved.images.get(half.band)
    if image is None:
        image = read_only(cv2.imread(str(half.saved.paths[half.band]), cv2.IMREAD_UNCHANGED))
    return image


def _joined(first, second):
    """The pair of two halves, at the earlier of their two times (the slot, for continuous ones)."""
    halves = sorted([first, second], key=lambda half: half.band)
    moment = min(first.saved.time, second.saved.time)
    return SavedImagePair(moment, first.saved.capture_type,
                          {half.band: half.saved.paths[half.band] for half in halves},
                          {half.band: _image(half) for half in halves},
                          {half.band: half.saved.metadata.get(half.band, {}) for half in halves})

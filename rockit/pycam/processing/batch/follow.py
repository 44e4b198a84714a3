"""`pycam process --follow`: a folder processed as its pairs arrive, until stopped (Ctrl-C
or SIGTERM), with the outputs of a batch run of the same pairs.

A file is taken once its size has stayed the same over two looks a poll apart and it
reads whole: a frame still being copied in (a transfer, PyCam writing it) is waited for,
never processed half-written. Pairs are processed in time order; one arriving after a
later pair was processed is left out, said once (its flow would need the pair before it).
"""
import signal
import sys
import threading

from ...storage.names import images_in, plume_pairs
from ..images import load_png
from .archive import in_utc


class Arrivals:
    """The folder's complete pairs not yet processed, newest look after newest look."""

    def __init__(self, folder, zone=None):
        self.folder = folder
        self.zone = zone
        self.sizes = {}           # path -> size at the previous look
        self.done = set()         # times processed
        self.told = set()         # paths said to be waited for, or pairs said to be left out
        self.last = None          # time of the newest pair processed

    def _steady(self, path):
        try:
            size = path.stat().st_size
        except OSError:
            return False
        before, self.sizes[path] = self.sizes.get(path), size
        return size > 0 and before == size

    def ready(self, say=print):
        """[(on, off, on frame, off frame)] of the pairs complete since the last look, by time."""
        found = []
        for on, off in plume_pairs(in_utc(n, self.zone) for n in images_in(self.folder)):
            if on.time in self.done:
                continue
            if self.last is not None and on.time <= self.last:
                if on.path not in self.told:
                    self.told.add(on.path)
                    say(f'left out {on.path.name}: it arrived after later pairs were processed')
                continue
            steady = [self._steady(on.path), self._steady(off.path)]
            if not all(steady):
                continue
            frames = []
            for name in (on, off):
                try:
                    frames.append(load_png(name.path))
                except (OSError, ValueError):
                    if name.path not in self.told:
                        self.told.add(name.path)
                        say(f'waiting for {name.path.name}: not readable yet')
                    break
            if len(frames) == 2:
                found.append((on, off, *frames))
        return found

    def processed(self, on):
        self.done.add(on.time)
        self.last = on.time if self.last is None else max(self.last, on.time)


def until_stopped():
    """An Event set by SIGINT or SIGTERM, so the pair under way is finished and written."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    return stopped


def wait_for_a_pair(folder, zone, poll, stopped):
    """Until the folder holds a pair (True), or stopped (False)."""
    while not stopped.is_set():
        if plume_pairs(in_utc(n, zone) for n in images_in(folder)):
            return True
        stopped.wait(poll)
    return False


def follow(run, zone, poll, stopped, progress=None):
    """run (a BatchRun) over its folder's pairs as they arrive; returns the rows written."""
    from ..outputs import PairWriter
    writer = PairWriter(run.out, run.settings, run.calibration)
    writer.write_settings(run.settings, run.inputs)
    arrivals = Arrivals(run.inputs.folder, zone)
    rows = []
    while not stopped.is_set():
        for on, off, on_frame, off_frame in arrivals.ready(lambda text: print(text, flush=True)):
            result = run.pipeline.process(on_frame, off_frame, on.exposure_us, off.exposure_us, on.time)
            rows.append(writer.write(result))
            arrivals.processed(on)
            if progress:
                progress(len(rows) - 1, result)
            if stopped.is_set():
                break
        stopped.wait(poll)
    sys.stdout.flush()
    return rows

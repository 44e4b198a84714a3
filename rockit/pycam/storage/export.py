"""The second Pi's side of a two-Pi instrument: which saved images the master has not yet
written safely, oldest first, and the record of what it has.

Frames stay in this Pi's own store, so a master that is away (a network outage, a reboot)
finds them all when it is back. Image names begin with their UTC second, and the master
acknowledges in the order offered, so the backlog is every image of a later second than the
last acknowledged, plus those of that same second not yet acknowledged (a dark sequence can
save several in one second). Those names are kept in a file beside the date folders,
replaced atomically, so a pycamd killed at any moment resumes where it was. An image is
offered only once its sidecar is in place too (the store renames the PNG first).

What waits is kept in memory: a scan of the folders at start, then each capture as the
store writes it (DataStore.on_saved), so draining a day of backlog costs the same per frame
as keeping up.
"""
import heapq
import itertools
import os
import re
from pathlib import Path

from rockit.common import files

from . import names
from ..errors import NamingError

ACKNOWLEDGED_FILE = '.acknowledged'
_DATE_FOLDER = re.compile(r'\d{4}-\d\d-\d\d')


class FrameExport:
    """The frames not yet acknowledged, kept in memory: found once by a scan when made, then
    told each capture the store writes (written), so a poll costs the same with a day of
    backlog as with none."""

    def __init__(self, root):
        self.root = Path(root)
        self._record = self.root / ACKNOWLEDGED_FILE
        self.stamp, self.acknowledged = '', set()   # the latest second acknowledged, its names
        self._read_record()
        self._queue = []            # heap of (second, arrival, name): the order frames are offered
        self._paths = {}            # name -> path of every frame in the queue
        self._arrival = itertools.count()
        self._scan()

    def _read_record(self):
        try:
            lines = self._record.read_text().split()
        except FileNotFoundError:
            return
        parsed = [_parsed(line) for line in lines]
        if parsed and all(parsed) and len({p.stamp for p in parsed}) == 1:
            self.stamp, self.acknowledged = parsed[0].stamp, set(lines)

    def _waiting(self, name):
        parsed = _parsed(name)
        return parsed is not None and (parsed.stamp > self.stamp or
                                       (parsed.stamp == self.stamp and name not in self.acknowledged))

    def _scan(self):
        """Every image on the disk not yet acknowledged, in the order of its second, then of
        its writing (a dark sequence saves several in one second)."""
        if not self.root.is_dir():
            return
        first_folder = self.stamp[:10]       # the folders before it are acknowledged whole
        folders = [p for p in self.root.iterdir() if _DATE_FOLDER.fullmatch(p.name) and p.name >= first_folder]
        found = []
        for folder in sorted(p for p in folders if p.is_dir()):
            for entry in os.scandir(folder):
                if entry.name.endswith('.png') and self._waiting(entry.name):
                    found.append((entry.name[:17], entry.stat().st_mtime_ns, Path(entry.path)))
        self.written(path for _, _, path in sorted(found))

    def written(self, paths):
        """The store has written paths (whole: each image with its sidecar)."""
        for path in paths:
            name = path.name
            if name.endswith('.png') and name not in self._paths and self._waiting(name):
                self._paths[name] = path
                heapq.heappush(self._queue, (name[:17], next(self._arrival), name))

    def next(self):
        """The path of the oldest frame not acknowledged, or None. An image whose sidecar is
        not there yet (being written, or left by a crash) waits, and all after it."""
        while self._queue:
            name = self._queue[0][2]
            path = self._paths[name]
            if self._waiting(name) and path.exists():
                return path if path.with_name(names.sidecar_name(name)).exists() else None
            heapq.heappop(self._queue)         # acknowledged meanwhile, or deleted from the disk
            del self._paths[name]
        return None

    @property
    def backlog(self):
        return len(self._queue)

    @staticmethod
    def read(path):
        """{'name', 'png', 'sidecar'} of a pending image (bytes as they are stored)."""
        return {'name': path.name, 'png': path.read_bytes(),
                'sidecar': path.with_name(names.sidecar_name(path.name)).read_bytes()}

    def acknowledge(self, name):
        """The master has written name and everything offered before it; False for a name
        that is no image here or of a second before the last acknowledged (nothing changes)."""
        parsed = _parsed(name)
        if parsed is None or parsed.stamp < self.stamp or not (self.root / parsed.stamp[:10] / name).is_file():
            return False
        if not self._waiting(name):
            return True
        names_kept = self.acknowledged | {name} if parsed.stamp == self.stamp else {name}
        files.atomic_write(self._record, ('\n'.join(sorted(names_kept)) + '\n').encode())
        self.stamp, self.acknowledged = parsed.stamp, names_kept
        return True


def _parsed(name):
    try:
        return names.parse_image_name(name)
    except NamingError:
        return None

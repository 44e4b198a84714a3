"""What a second Pi's pycamd serves its master (devices/remote.py): the oldest frame the
master has not yet written, with this Pi's clock, backlog, band status and settings in the
same answer (one round trip a poll), and the master's acknowledgement once it has written
that frame. Frames travel as the stored bytes: the PNG (about 630 kB, uncompressed) and its
JSON sidecar, which the master writes unchanged.

A mixin of the daemon class: it needs self.store, self.groups, self.settings and self.config,
and the daemon adds _frames_written to self.store.on_saved.
"""
import threading
import time

from rockit.common.pyro import command, query

from .codes import CommandStatus
from .storage.export import FrameExport


def _name(daemon, value):
    return None if isinstance(value, str) and value else CommandStatus.InvalidArgument


class FrameExportQueries:
    _export = None
    _export_lock = threading.Lock()

    def _frames(self):
        """The export, made at the first poll: a pycamd no master polls keeps no list."""
        with self._export_lock:
            if self._export is None:
                self._export = FrameExport(self.store.root)
            return self._export

    def _frames_written(self, paths):
        """The store's hook (any device thread): a capture is whole on the disk."""
        with self._export_lock:
            if self._export is not None:
                self._export.written(paths)

    def _clock(self):
        """This Pi's wall clock; the simulation can report it off, as a Pi without NTP is."""
        return time.time() + float(self.config.simulation.get('clock_offset_s', 0.0))

    @query()
    def export_next_frame(self):
        """{'clock', 'backlog', 'frame' (None or {'name', 'png', 'sidecar'}), 'cameras',
        'settings'}: the oldest frame the master lacks and this Pi's state."""
        export = self._frames()
        with self._export_lock:
            frame = None
            while frame is None and export.next() is not None:
                try:
                    frame = export.read(export.next())
                except FileNotFoundError:       # deleted meanwhile: next() drops it
                    continue
            backlog = export.backlog
        cameras = self.groups['cameras'].status() if 'cameras' in self.groups else None
        return {'clock': self._clock(), 'backlog': backlog, 'frame': frame,
                'cameras': cameras, 'settings': self.settings.values()}

    @command(name=_name)
    def acknowledge_frame(self, name):
        """The master has written frame `name` (and every one offered before it)."""
        export = self._frames()
        with self._export_lock:
            done = export.acknowledge(name)
        return CommandStatus.Succeeded if done else CommandStatus.InvalidArgument

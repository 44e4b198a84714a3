"""Room on the data disk: when free space falls under keep_free, whole captures are deleted,
oldest first, until there is keep_free plus a margin again (one log line per clean-up).

Plume (and Test) captures go first. Dark, Clear and calibration-cell captures are what the
Plume images are processed against, so they go only once no Plume capture is left and only
when older than a day. A capture goes whole: both images of a pair with their sidecars, or
a spectrum with its sidecar. With transfer on, a capture not yet copied is never deleted.
"""
import datetime
import os
from collections import defaultdict
from pathlib import Path

from rockit.common.status import iso

from ..errors import NamingError
from ..storage import names

FIRST_KINDS = ('Plume', 'Test')
REFERENCE_AGE = datetime.timedelta(days=1)
MARGIN = 0.1            # a clean-up frees keep_free plus this fraction of it
STUCK_RETRY = datetime.timedelta(minutes=1)   # between searches while nothing may go


def captures_in(folder):
    """{(time, kind, 'images'|'spectrum'): [paths with sidecars]} of one date folder."""
    groups = defaultdict(list)
    for path in Path(folder).iterdir():
        if path.name.startswith('.'):
            continue
        for parse, what in ((names.parse_image_name, 'images'), (names.parse_spectrum_name, 'spectrum')):
            try:
                name = parse(path.name)
            except NamingError:
                continue
            group = groups[(name.time, name.kind, what)]
            group.append(path)
            sidecar = path.with_name(names.sidecar_name(path.name))
            if sidecar.exists():
                group.append(sidecar)
            break
    return groups


class Housekeeping:
    def __init__(self, settings, store, log, may_delete=None, deleted=None):
        self.keep_free = int(settings['keep_free_mb'] * 1e6)
        self.delete_oldest = bool(settings.get('delete_oldest', True))
        self.store, self.log = store, log
        self.may_delete = may_delete or (lambda relative: True)
        self.deleted = deleted or (lambda relatives: None)    # told the files that went
        self.deleted_captures = 0
        self.last_cleanup = None
        self._stuck = False

    def tick(self, now):
        if not self.delete_oldest:
            return
        try:
            free = self.store.free_bytes()
        except OSError:
            return
        if free >= self.keep_free:
            self._stuck = False
            return
        if self._stuck and now - self.last_cleanup < STUCK_RETRY:
            return
        self._clean(now, free)

    def _clean(self, now, free):
        self._free, self._target = free, self.keep_free * (1 + MARGIN)
        self._deleted, self._files, self._kept, self._span = 0, 0, 0, []
        folders = sorted(p for p in self.store.root.glob('????-??-??') if p.is_dir())
        old = now - REFERENCE_AGE
        for may_go in (lambda key: key[1] in FIRST_KINDS, lambda key: key[1] not in FIRST_KINDS and key[0] < old):
            for folder in folders:
                if self._free >= self._target:
                    break
                groups = captures_in(folder) if folder.is_dir() else {}
                for key in sorted((key for key in groups if may_go(key)), key=lambda k: k[0]):
                    if self._free >= self._target:
                        break
                    self._delete(key[0], groups[key])
        free = self.store.free_bytes()
        self.deleted_captures += self._deleted
        self.last_cleanup = now
        note = f', {self._kept} kept until transferred' if self._kept else ''
        if self._deleted:
            self._stuck = False
            self.log.info('storage: deleted %d capture(s) (%d files) taken %s to %s; %.1f MB free%s',
                          self._deleted, self._files, iso(self._span[0]), iso(self._span[-1]), free / 1e6, note)
        elif not self._stuck:
            self._stuck = True
            self.log.warning('storage: %.1f MB free is under %.1f MB and no capture may be deleted%s',
                             free / 1e6, self.keep_free / 1e6, note)
        self._remove_empty_folders(now)

    def _delete(self, moment, paths):
        relatives = [p.relative_to(self.store.root).as_posix() for p in paths]
        if not all(self.may_delete(relative) for relative in relatives):
            self._kept += 1
            return
        for path in paths:
            try:
                size = path.stat().st_size
                os.unlink(path)
            except OSError:
                continue
            self._free += size
            self._files += 1
        self._deleted += 1
        self._span.append(moment)
        self.deleted(relatives)

    def _remove_empty_folders(self, now):
        today = names.date_folder(now)
        for folder in self.store.root.glob('????-??-??'):
            if folder.name != today:
                try:
                    folder.rmdir()
                except OSError:
                    pass

    def status(self):
        return {'keep_free_mb': round(self.keep_free / 1e6, 1), 'delete_oldest': self.delete_oldest,
                'deleted_captures': self.deleted_captures, 'last_cleanup': iso(self.last_cleanup)}

"""Where captures go: <root>/<YYYY-MM-DD>/, each file written atomically.

A capture's files (an image pair or a spectrum, each with its JSON sidecar) are written as
one group (rockit.common.files): if anything fails on the way (disk full, quota, read-only
or unwritable folder) every file of the group is removed again, so the folder holds whole
captures only, and the reason is raised as StorageError for the daemon to stop acquisition
with. Files already there are never replaced. A free-space floor keeps room for the rest
of the system.
"""
import errno
import os
import re
from pathlib import Path

from rockit.common import files as atomic

from . import names
from ..errors import NameTaken, StorageError

_SAFE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,200}')
_DATE_FOLDER = re.compile(r'\d{4}-\d\d-\d\d')
_REASONS = {
    errno.ENOSPC: 'disk full',
    errno.EDQUOT: 'disk quota exceeded',
    errno.EROFS: 'read-only file system',
    errno.EACCES: 'permission denied',
    errno.EPERM: 'permission denied',
    errno.ENOTDIR: 'not a folder',
}


class DataStore:
    def __init__(self, root, floor_bytes):
        self.root = Path(root)
        self.floor_bytes = int(floor_bytes)
        self.on_saved = []      # callables told the paths of each group once it is whole on the disk

    def free_bytes(self):
        """Free bytes on the root's file system (of its nearest existing parent)."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        stats = os.statvfs(path)
        return stats.f_bavail * stats.f_frsize

    def check_space(self, needed=0):
        """Raise StorageError unless needed bytes fit above the free-space floor."""
        try:
            free = self.free_bytes()
        except OSError as e:
            raise StorageError(f'cannot read free space of {self.root}: {_reason(e)}') from None
        if free < self.floor_bytes:
            raise StorageError(f'free space {free / 1e6:.1f} MB is below the floor of '
                               f'{self.floor_bytes / 1e6:.1f} MB on {self.root}')
        if free - needed < self.floor_bytes:
            raise StorageError(f'disk full: {free / 1e6:.1f} MB free on {self.root} cannot take '
                               f'{needed / 1e6:.1f} MB above the floor of {self.floor_bytes / 1e6:.1f} MB')

    def folder(self, moment):
        return self.root / names.date_folder(moment)

    def save(self, moment, files):
        """Write [(name, bytes)] into the date folder of moment as one group; the paths."""
        self.check_space(sum(len(data) for _, data in files))
        folder = self._make_folder(moment)
        finals = [confined(folder, name) for name, _ in files]
        for final in finals:
            if final.exists():
                raise NameTaken(f'{final} exists already')
        try:
            atomic.write_group([(final, data) for final, (_, data) in zip(finals, files)])
        except FileExistsError as e:
            raise NameTaken(str(e)) from None
        except OSError as e:
            raise StorageError(f'cannot write in {folder}: {_reason(e)}') from None
        for saved in self.on_saved:
            saved(finals)
        return finals

    def remove_leftovers(self):
        """Temporary files a crash left behind in the date folders; the number removed."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            if folder.is_dir() and _DATE_FOLDER.fullmatch(folder.name):
                removed += atomic.remove_leftovers(folder)
        return removed

    def _make_folder(self, moment):
        folder = self.folder(moment)
        if folder.is_dir():
            return folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic.sync_folder(folder.parent)
        except OSError as e:
            raise StorageError(f'cannot create {folder}: {_reason(e)}') from None
        return folder


def confined(folder, name):
    """folder/name, refusing any name that could leave folder or hide in it."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or '..' in name:
        raise ValueError(f'unsafe file name {name!r}')
    path = folder / name
    if path.resolve().parent != folder.resolve():
        raise ValueError(f'{name!r} leaves {folder}')
    return path


def _reason(error):
    return _REASONS.get(error.errno, error.strerror or str(error))

"""Room on the data disk. Raw captures are the data; what live processing made from them (a
pair's AA and SO2 arrays and preview, in <products>/<YYYY-MM-DD>/so2/) can be made again
with `pycam process`, so it always goes first.

- Products have a budget of their own (products_mb): over it, the oldest pairs' products
  are deleted until they fit again (checked every PRODUCTS_CHECK).
- When free space falls under keep_free, whole sets are deleted, oldest first, until there
  is keep_free plus a margin again (one log line per clean-up): processing products first
  (all but the newest KEEP_PRODUCTS pairs'), then Plume (and Test) captures but the newest
  keep_recent_captures, then Dark, Clear and calibration-cell captures, which the Plume
  images are processed against, only when older than a day. A capture goes whole: both
  images of a pair with their sidecars, or a spectrum with its sidecar. With transfer on, a
  capture not yet copied is never deleted.

Nothing is followed through a symbolic link: a linked date folder or file may point outside
the data folder, and what is there is not ours to delete.
"""
import datetime
import os
import re
from collections import defaultdict
from pathlib import Path

from rockit.common.status import iso

from ..errors import NamingError
from ..storage import names

FIRST_KINDS = ('Plume', 'Test')
REFERENCE_AGE = datetime.timedelta(days=1)
MARGIN = 0.1            # a clean-up frees keep_free plus this fraction of it
STUCK_RETRY = datetime.timedelta(minutes=1)   # between searches while nothing may go
PRODUCTS_CHECK = datetime.timedelta(seconds=10)
KEEP_RECENT_CAPTURES = 10   # the newest Plume captures (of each instrument) never deleted
KEEP_PRODUCTS = 3           # the newest pairs' products, which viewers read, never deleted
DATE_FOLDER = re.compile(r'\d{4}-\d\d-\d\d')
PRODUCT = re.compile(r'(\d{4}-\d\d-\d\dT\d{6})_(aa|so2)\.(npy|png)')


def _entries(folder):
    """The entries of folder, none through a symbolic link; none if folder is not there."""
    try:
        with os.scandir(folder) as found:
            return [entry for entry in found if not entry.is_symlink()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def date_folders(root):
    """root's <YYYY-MM-DD> folders, oldest first, linked ones left out."""
    return sorted(Path(e.path) for e in _entries(root) if DATE_FOLDER.fullmatch(e.name) and e.is_dir())


def captures_in(folder):
    """{(time, kind, 'images'|'spectrum'): [paths with sidecars]} of one date folder."""
    groups = defaultdict(list)
    for entry in _entries(folder):
        if entry.name.startswith('.') or not entry.is_file():
            continue
        for parse, what in ((names.parse_image_name, 'images'), (names.parse_spectrum_name, 'spectrum')):
            try:
                name = parse(entry.name)
            except NamingError:
                continue
            group = groups[(name.time, name.kind, what)]
            group.append(Path(entry.path))
            sidecar = Path(entry.path).with_name(names.sidecar_name(entry.name))
            if sidecar.is_file() and not sidecar.is_symlink():
                group.append(sidecar)
            break
    return groups


def products_in(root):
    """[(stamp, [(path, bytes)])] of the processing products under root, oldest first."""
    groups = defaultdict(list)
    for day in date_folders(root):
        if (day / 'so2').is_symlink():      # scandir would list the folder it points to
            continue
        for entry in _entries(day / 'so2'):
            match = PRODUCT.fullmatch(entry.name)
            if match and entry.is_file():
                groups[match.group(1)].append((Path(entry.path), entry.stat(follow_symlinks=False).st_size))
    return sorted(groups.items())


class Housekeeping:
    def __init__(self, settings, store, log, may_delete=None, deleted=None, products=None):
        """products: live processing's folder, or None without live processing."""
        self.keep_free = int(settings['keep_free_mb'] * 1e6)
        self.delete_oldest = bool(settings.get('delete_oldest', True))
        budget = settings.get('products_mb')
        self.products_budget = None if budget is None else int(budget * 1e6)
        self.keep_recent = int(settings.get('keep_recent_captures', KEEP_RECENT_CAPTURES))
        self.store, self.log = store, log
        self.products = None if products is None else Path(products)
        self.may_delete = may_delete or (lambda relative: True)
        self.deleted = deleted or (lambda relatives: None)    # told the files that went
        self.deleted_captures = self.deleted_products = 0
        self.products_bytes = None
        self.last_cleanup = self._products_checked = None
        self._stuck = False

    def tick(self, now):
        if self.products is not None and self.products_budget is not None and (
                self._products_checked is None or now - self._products_checked >= PRODUCTS_CHECK):
            self._products_checked = now
            self._trim_products()
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

    def _trim_products(self):
        """The oldest products deleted until the rest fit products_mb less the margin."""
        groups = products_in(self.products)
        total = sum(size for _, files in groups for _, size in files)
        if total > self.products_budget:
            target = self.products_budget * (1 - MARGIN)
            deleted = 0
            for _, files in groups[:-KEEP_PRODUCTS]:
                if total <= target:
                    break
                total -= self._delete_products(files)
                deleted += 1
            if deleted:
                self.log.info('storage: deleted the processing products of %d pair(s) over the budget of %.1f MB',
                              deleted, self.products_budget / 1e6)
        self.products_bytes = total

    def _delete_products(self, files):
        freed = 0
        for path, size in files:
            try:
                os.unlink(path)
            except OSError:
                continue
            freed += size
        self.deleted_products += 1
        return freed

    def _products_share_the_disk(self):
        try:
            return self.products is not None and os.stat(self.products).st_dev == os.stat(self.store.root).st_dev
        except OSError:
            return False

    def _clean(self, now, free):
        self._free, self._target = free, self.keep_free * (1 + MARGIN)
        self._deleted, self._files, self._kept, self._span, products = 0, 0, 0, [], 0
        if self._products_share_the_disk():
            groups = products_in(self.products)
            for _, files in groups[:-KEEP_PRODUCTS]:
                if self._free >= self._target:
                    break
                self._free += self._delete_products(files)
                products += 1
            self.products_bytes = sum(size for _, files in groups[products:] for _, size in files)
            if products:
                self.log.info('storage: deleted the processing products of %d pair(s); %.1f MB free',
                              products, self._free / 1e6)
        folders = date_folders(self.store.root)
        groups = {folder: captures_in(folder) for folder in folders} if self._free < self._target else {}
        newest = self._newest_plume(groups)
        old = now - REFERENCE_AGE
        for may_go in (lambda key: key[1] in FIRST_KINDS and key not in newest,
                       lambda key: key[1] not in FIRST_KINDS and key[0] < old):
            for folder in folders:
                if self._free >= self._target:
                    break
                found = groups.get(folder, {})
                for key in sorted((key for key in found if may_go(key)), key=lambda k: k[0]):
                    if self._free >= self._target:
                        break
                    self._delete(key[0], found[key])
        free = self.store.free_bytes()
        self.deleted_captures += self._deleted
        self.last_cleanup = now
        note = f', {self._kept} kept until transferred' if self._kept else ''
        if self._deleted:
            self._stuck = False
            self.log.info('storage: deleted %d capture(s) (%d files) taken %s to %s; %.1f MB free%s',
                          self._deleted, self._files, iso(self._span[0]), iso(self._span[-1]), free / 1e6, note)
        elif products:
            self._stuck = False
        elif not self._stuck:
            self._stuck = True
            self.log.warning('storage: %.1f MB free is under %.1f MB and no capture may be deleted%s',
                             free / 1e6, self.keep_free / 1e6, note)
        self._remove_empty_folders(now)

    def _newest_plume(self, groups):
        """The keys of the newest keep_recent Plume and Test captures of each kind of data."""
        newest = set()
        for what in ('images', 'spectrum'):
            keys = sorted((key for found in groups.values() for key in found
                           if key[2] == what and key[1] in FIRST_KINDS), key=lambda k: k[0])
            newest.update(keys[len(keys) - self.keep_recent:] if self.keep_recent else ())
        return newest

    def _delete(self, moment, paths):
        relatives = [p.relative_to(self.store.root).as_posix() for p in paths]
        if not all(self.may_delete(relative) for relative in relatives):
            self._kept += 1
            return
        for path in paths:
            try:
                size = os.lstat(path).st_size
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
        for folder in date_folders(self.store.root):
            if folder.name != today:
                try:
                    folder.rmdir()
                except OSError:
                    pass

    def status(self):
        return {'keep_free_mb': round(self.keep_free / 1e6, 1), 'delete_oldest': self.delete_oldest,
                'deleted_captures': self.deleted_captures, 'last_cleanup': iso(self.last_cleanup),
                'products_mb': None if self.products_budget is None else round(self.products_budget / 1e6, 1),
                'products_used_mb': None if self.products_bytes is None else round(self.products_bytes / 1e6, 1),
                'deleted_products': self.deleted_products}

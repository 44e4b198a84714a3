"""A stored archive as `pycam process` finds it: the pairs of a folder and every folder
below it (PyCam files its data under YYYY/MM/DD/HH/), their times in UTC whatever zone
the instrument stamped them in, and the files that look like data but cannot be read,
for a warning instead of silence."""
import dataclasses
import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import MissingInput
from ...storage.names import images_in, plume_pairs, unreadable_in

SHOWN_UNREADABLE = 10     # names a warning lists before it says how many more


class NoUsablePairs(MissingInput):
    """An archive without a single on/off Plume pair: an error, not an empty success."""


def time_zone(name):
    """The IANA zone an archive's names are stamped in (PyCam's `time_zone`), or None for UTC."""
    if name in (None, '', 'UTC'):
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'time_zone: {name!r} is not an IANA time zone name (e.g. America/Santiago, '
                         'Europe/Rome, UTC)') from None


def in_utc(name, zone):
    """An image or spectrum name with its local time stamp read in zone and given in UTC.
    A stamp the clocks skipped or repeated (a daylight-saving change) is read with the
    offset in force before the change."""
    if zone is None:
        return name
    local = name.time.replace(tzinfo=zone)
    return dataclasses.replace(name, time=local.astimezone(datetime.timezone.utc))


def utc_time(name, zone):
    return in_utc(name, zone).time


def archive_pairs(folder, zone=None):
    """The archive's on/off Plume pairs, by UTC time. Raises NoUsablePairs when there is none."""
    pairs = plume_pairs(in_utc(name, zone) for name in images_in(folder))
    if not pairs:
        raise NoUsablePairs(f'{folder}: no on/off Plume pairs in it or the folders below it '
                            '(<time>_fltrA_<gain>[ag]_<exposure>ss_Plume.png and <time>_fltrB_..._Plume.png '
                            'with the same time)')
    return pairs


def unreadable_warning(folders, skip=()):
    """A warning naming the files in folders that look like data but do not parse, with
    their count, or None when every one parsed."""
    found, seen = [], set()
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for path in unreadable_in(folder, skip):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append(path)
    if not found:
        return None
    listed = ', '.join(str(p) for p in found[:SHOWN_UNREADABLE])
    more = f' and {len(found) - SHOWN_UNREADABLE} more' if len(found) > SHOWN_UNREADABLE else ''
    return (f'{len(found)} file{"s" if len(found) != 1 else ""} named like data but not readable as the '
            f'instrument\'s names, left out: {listed}{more}')

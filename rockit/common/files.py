"""Files written whole or not at all, whatever moment a crash or a full disk comes.

Each file is written to a hidden temporary name in its final folder, flushed to the disk
(fsync), renamed into place (a rename within a file system is atomic) and the folder is
synced. A temporary name is never a final one, so whatever a crash leaves behind can be
deleted at the next start (remove_leftovers).

A process killed between the renames of a new group would leave part of it in place: so
before the first rename a hidden list of the group's names is written (synced) in their
folder, and removed after the last; remove_leftovers() removes the files a list names with
it, and the group is gone whole.
"""
import os
import secrets
from contextlib import suppress
from pathlib import Path

TEMP_SUFFIX = '.tmp'
GROUP_SUFFIX = '.group' + TEMP_SUFFIX


def temporary_path(final):
    """A hidden name beside final, unique to this write: .<name>.<random>.tmp"""
    final = Path(final)
    return final.with_name(f'.{final.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}')


def write_group(files, replace=False):
    """Write [(path, content)] as one group: every file complete under its final name, or
    none of them. content is bytes, or a function writing into the open binary file.

    Without replace a final name that exists already is kept and FileExistsError raised.
    Any failure (disk full, quota, permissions) removes what the group had written and
    raises it; with replace the files renamed over their old versions stay, each whole.
    """
    temps, placed, group = [], [], _group_list(files, replace)
    try:
        for path, content in files:
            temps.append(temporary_path(path))
            _write_synced(temps[-1], content)
        if group:
            temps.append(group)
            _write_synced(group, ''.join(f'{Path(path).name}\n' for path, _ in files).encode())
        for temp, (path, _) in zip(temps, files):
            if not replace and Path(path).exists():
                raise FileExistsError(f'{path} exists already')
            os.replace(temp, path)
            placed.append(path)
        for folder in dict.fromkeys(Path(path).parent for path, _ in files):
            sync_folder(folder)
        if group:
            remove_quietly([group])
    except BaseException:
        remove_quietly(temps + ([] if replace else placed))
        raise


def _group_list(files, replace):
    """Where the list of a new group of several files in one folder goes; None when there
    is nothing to undo (one file, or files replacing their old versions)."""
    folders = {Path(path).parent for path, _ in files}
    if replace or len(files) < 2 or len(folders) != 1:
        return None
    return Path(temporary_path(files[0][0])).with_suffix(GROUP_SUFFIX)


def atomic_write(path, content):
    """Write content (bytes, or a function writing into the open file) over path, its
    folder made if need be."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_group([(path, content)], replace=True)


def sync_folder(folder):
    """fsync a folder, so that the names created or renamed in it survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # novm: flags, not a union type
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(paths):
    for path in paths:
        with suppress(OSError):
            os.unlink(path)


def remove_leftovers(folder):
    """Delete the temporary files and unfinished groups a crash left in folder; the number
    of files removed."""
    removed = 0
    for group in Path(folder).glob(f'.*{GROUP_SUFFIX}'):
        # Whole lines only: a torn last line was being written before any rename.
        lines = group.read_text(errors='replace').splitlines(keepends=True)
        named = [Path(folder) / line[:-1] for line in lines if line.endswith('\n') and '/' not in line
                 and not line.startswith('.')]
        removed += sum(path.exists() for path in named)
        remove_quietly(named)
    leftovers = list(Path(folder).glob(f'.*{TEMP_SUFFIX}'))
    remove_quietly(leftovers)
    return removed + len(leftovers)


def _write_synced(path, content):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # novm: flags, not a union type
    with os.fdopen(fd, 'wb') as f:
        if callable(content):
            content(f)
        else:
            f.write(content)
        f.flush()
        os.fsync(f.fileno())

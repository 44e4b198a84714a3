"""Is a pycamd data folder whole? No temporary file left, every sidecar parses and names its
file, every image and spectrum has its sidecar and loads, every CSV parses to full rows."""
import csv
import json
from pathlib import Path

import cv2
import numpy as np


def check_data(root, whole=None):
    """Counts of the files found and of each kind of damage, with examples. whole: a set of
    (path, size) found whole before, not read again, and to which whole ones are added."""
    found = {'files': 0, 'temporary_left': 0, 'unparsable': 0, 'without_sidecar': 0, 'csv_rows': 0}
    damaged = []
    whole = set() if whole is None else whole
    for path in sorted(p for p in Path(root).rglob('*') if p.is_file()):
        found['files'] += 1
        key = (path, path.stat().st_size)
        if key in whole and path.suffix != '.csv':
            continue
        problem = _problem(path, found)
        if problem:
            found[problem] += 1
            damaged.append(f'{problem}: {path.relative_to(root)}')
        else:
            whole.add(key)
    found['damaged'] = damaged
    return found


def _problem(path, found):
    if path.name.startswith('.'):
        return 'temporary_left'
    try:
        if path.suffix == '.json':
            sidecar = json.loads(path.read_text())
            if 'file' in sidecar and not (path.parent / sidecar['file']).is_file():
                return 'unparsable'
        elif path.suffix == '.csv':
            text = path.read_text()
            rows = list(csv.reader(text.splitlines()))
            if not text.endswith('\n') or any(len(row) != len(rows[0]) for row in rows):
                return 'unparsable'
            found['csv_rows'] += len(rows) - 1
        elif path.suffix == '.npy':
            np.load(path)
        elif path.suffix == '.png':
            if cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is None:
                return 'unparsable'
    except (OSError, ValueError):
        return 'unparsable'
    if path.suffix in ('.png', '.npy') and 'processing' not in path.parts and not path.with_suffix('.json').is_file():
        return 'without_sidecar'
    return None

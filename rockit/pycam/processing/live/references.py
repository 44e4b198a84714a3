"""What a restarted pycamd's live processing finds again. The references it needs (dark
frames and spectra, clear sky, calibration cells) in the data folder: without them it would
skip every pair until an operator took darks again; the newest of each is handed to the
processor in the order they were taken, as if they had just been saved. And the temporary
files of a run killed while it wrote, removed at once rather than when that day's next
pair comes (it may never come)."""
from pathlib import Path

from rockit.pycam.storage.names import NamingError, parse_image_name, parse_spectrum_name


def saved_references(data_root):
    """The newest reference files in data_root's date folders, oldest first: a dark frame
    per band and exposure, a dark spectrum per integration time, a clear-sky frame per
    band, a cell frame per band and cell."""
    newest = {}
    for path in sorted(Path(data_root).glob('????-??-??/*')):
        if path.name.startswith('.'):
            continue
        key, name = _reference(path)
        if key is not None and (key not in newest or newest[key].time <= name.time):
            newest[key] = name
    return [name.path for name in sorted(newest.values(), key=lambda name: name.time)]


def _reference(path):
    try:
        if path.suffix == '.png':
            name = parse_image_name(path)
            if name.kind == 'Dark':
                return ('dark', name.filter, name.exposure_us), name
            if name.kind == 'Clear' or name.cell_ppmm is not None:
                return (name.kind, name.filter), name
        elif path.suffix == '.npy':
            name = parse_spectrum_name(path)
            if name.kind == 'Dark':
                return ('dark spectrum', name.integration_ms), name
    except NamingError:
        pass
    return None, None


def feed(processor, data_root):
    """Hand the saved references to processor; how many."""
    paths = saved_references(data_root)
    for path in paths:
        if path.suffix == '.png':
            processor.submit_image(path)
        else:
            processor.submit_spectrum(path)
    return len(paths)


def remove_unfinished(out_dir):
    """Remove the temporary files in out_dir and its day and image folders."""
    from ..outputs import remove_leftovers
    out_dir = Path(out_dir)
    for folder in [out_dir, *(p for p in out_dir.glob('*') if p.is_dir()), *out_dir.glob('*/so2')]:
        remove_leftovers(folder)

"""The instrument's file names, written by acquisition and read by processing (and by the
field's processing tools): everything processing needs to know about a frame (time, band,
gain, exposure, what was in front of the lens) is in its name.

    <YYYY-MM-DDTHHMMSS>_fltrA|fltrB_<gain>ag_<measured exposure us>ss_<type>[_darkcorr].png
    <YYYY-MM-DDTHHMMSS>_<integration ms>ss_<co-adds>coadd_<type>.npy

PyCam itself has written the gain without `ag` since late 2024, as the camera reports it
(`1.0`, `1.1228070259094238`), and may file its data under `YYYY/MM/DD/HH/` folders: both
are read, and the folders searched recursively. Times we write are UTC; a PyCam archive's
may be local (processing/batch/archive.py converts them). Types: Plume, Dark, Clear, Test, and <N>ppmm for a calibration cell of
N ppm.m. The type is the only part a client chooses, so it is held to a strict pattern
here, and nothing else a client sends ever becomes part of a path.
"""
import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import NamingError
from ..instrument import BAND_ROLE, OFF_BAND, ON_BAND

TIME_FORMAT = '%Y-%m-%dT%H%M%S'
DATE_FORMAT = '%Y-%m-%d'
CAPTURE_TYPE = re.compile(r'(Test|Dark|Clear|Plume|[0-9]{1,5}ppmm)')
CONTINUOUS_TYPE = 'Plume'
TEST_TYPE = 'Test'


def valid_capture_type(value):
    return isinstance(value, str) and CAPTURE_TYPE.fullmatch(value) is not None


def stamp(moment):
    return moment.astimezone(datetime.timezone.utc).strftime(TIME_FORMAT)


def date_folder(moment):
    return moment.astimezone(datetime.timezone.utc).strftime(DATE_FORMAT)


def gain_text(gain):
    """1 -> '1', 1.5 -> '1.5' (the instrument writes 1ag)."""
    return f'{float(gain):g}'


def image_name(moment, band, gain, exposure_us, capture_type):
    if band not in BAND_ROLE or not valid_capture_type(capture_type):
        raise ValueError(f'no image name for band {band!r}, type {capture_type!r}')
    return f'{stamp(moment)}_{band}_{gain_text(gain)}ag_{int(exposure_us)}ss_{capture_type}.png'


def spectrum_name(moment, integration_ms, coadds, capture_type):
    if not valid_capture_type(capture_type):
        raise ValueError(f'no spectrum name for type {capture_type!r}')
    return f'{stamp(moment)}_{int(integration_ms)}ss_{int(coadds)}coadd_{capture_type}.npy'


def sidecar_name(name):
    """The JSON file holding a data file's full metadata."""
    return name.rsplit('.', 1)[0] + '.json'


_IMAGE = re.compile(
    r'^(?P<time>\d{4}-\d{2}-\d{2}T\d{6})_(?P<filter>' + '|'.join(BAND_ROLE) + r')_(?P<gain>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?:ag)?_'
    r'(?P<exposure>\d+)ss_(?P<type>[A-Za-z]+|\d+ppmm)(?P<darkcorr>_darkcorr)?\.png$')
_SPECTRUM = re.compile(
    r'^(?P<time>\d{4}-\d{2}-\d{2}T\d{6})_(?P<integration>\d+)ss_(?P<coadds>\d+)coadd_'
    r'(?P<type>[A-Za-z]+|\d+ppmm)\.npy$')
_CELL = re.compile(r'^(\d+)ppmm$')
# What an instrument's data file is named like, closely enough that one failing to parse
# is worth a warning rather than silence: a time stamp first, or a filter or co-add field.
_LOOKS_LIKE_DATA = re.compile(r'^\d{4}-?\d{2}-?\d{2}T?\d{4}|_fltr[AB]_|\d+coadd_')
DATA_SUFFIXES = ('.png', '.npy')


def _time(text):
    return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)


def _cell(kind):
    match = _CELL.match(kind)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ImageName:
    path: Path
    time: datetime.datetime
    filter: str            # fltrA (on-band, 310 nm) or fltrB (off-band, 330 nm)
    gain: float
    exposure_us: int       # the camera's measured exposure
    kind: str              # Plume, Dark, Clear, Test or <N>ppmm
    darkcorr: bool         # saved already dark-corrected by the original software

    @property
    def band(self):
        return BAND_ROLE[self.filter]

    @property
    def cell_ppmm(self):
        """The calibration cell's column in ppm.m, or None when no cell was in front."""
        return _cell(self.kind)

    @property
    def stamp(self):
        return self.time.strftime(TIME_FORMAT)


@dataclass(frozen=True)
class SpectrumName:
    path: Path
    time: datetime.datetime
    integration_ms: int
    coadds: int
    kind: str

    @property
    def stamp(self):
        return self.time.strftime(TIME_FORMAT)


def _parse(path, pattern, form):
    """(path, match, time) of a name that fits pattern, else NamingError naming form."""
    path = Path(path)
    match = pattern.match(path.name)
    if not match:
        raise NamingError(f'{path.name}: not {form}')
    try:
        return path, match, _time(match['time'])
    except ValueError as e:
        raise NamingError(f'{path.name}: {e}') from None


def parse_image_name(path):
    path, match, time = _parse(path, _IMAGE, '<time>_<fltrA|fltrB>_<gain>[ag]_<exposure>ss_<type>.png')
    return ImageName(path, time, match['filter'], float(match['gain']), int(match['exposure']),
                     match['type'], bool(match['darkcorr']))


def parse_spectrum_name(path):
    path, match, time = _parse(path, _SPECTRUM, '<time>_<ms>ss_<N>coadd_<type>.npy')
    return SpectrumName(path, time, int(match['integration']), int(match['coadds']), match['type'])


def _named_in(folder, pattern, parse):
    """The parsed names of the files in folder and the folders below it matching pattern;
    files whose names are not the instrument's are skipped (unreadable_in lists those that
    look like data)."""
    for path in Path(folder).rglob(pattern):
        try:
            yield parse(path)
        except NamingError:
            continue


def looks_like_data(path):
    """A .png or .npy named like the instrument's data, parsed or not."""
    path = Path(path)
    return path.suffix in DATA_SUFFIXES and _LOOKS_LIKE_DATA.search(path.name) is not None


def unreadable_in(folder, skip=()):
    """The files in folder and below it that look like data but whose names do not parse,
    by path: what a run would otherwise pass over without a word. skip: folders left out
    (a run's own output folder inside the archive)."""
    skip = [Path(s).resolve() for s in skip]
    found = []
    for path in Path(folder).rglob('*'):
        if not looks_like_data(path) or any(s == path.resolve() or s in path.resolve().parents for s in skip):
            continue
        parse = parse_image_name if path.suffix == '.png' else parse_spectrum_name
        try:
            parse(path)
        except NamingError:
            found.append(path)
    return sorted(found)


def images_in(folder, kind=None, darkcorr=False):
    """The instrument's images in a folder and below it, by time then filter; names that
    are not the instrument's are ignored, and so are `_darkcorr` copies unless asked for."""
    found = [name for name in _named_in(folder, '*.png', parse_image_name)
             if name.darkcorr == darkcorr and (kind is None or name.kind == kind)]
    return sorted(found, key=lambda n: (n.time, n.filter))


def cell_images_in(folder):
    """Calibration cell images: {ppm.m: [ImageName, ...]}."""
    cells = {}
    for name in images_in(folder):
        if name.cell_ppmm is not None:
            cells.setdefault(name.cell_ppmm, []).append(name)
    return dict(sorted(cells.items()))


def spectra_in(folder, kind=None):
    found = [name for name in _named_in(folder, '*.npy', parse_spectrum_name) if kind is None or name.kind == kind]
    return sorted(found, key=lambda n: n.time)


def plume_pairs(names):
    """On/off Plume frames taken in the same slot: [(on, off), ...] by time.

    The camera pair is triggered on a shared wall-clock grid, so a pair has the same time
    stamp; an on-band frame whose off-band partner missed its slot is left out.
    """
    by_time = {}
    for name in names:
        if name.kind == 'Plume' and not name.darkcorr:
            by_time.setdefault(name.time, {})[name.filter] = name
    return [(frames[ON_BAND], frames[OFF_BAND]) for time, frames in sorted(by_time.items())
            if ON_BAND in frames and OFF_BAND in frames]

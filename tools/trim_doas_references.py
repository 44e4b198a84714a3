"""Builds rockit/pycam/references/, the DOAS references pycam ships, from the published files
in ../shared/data/pycam/spectra/reference/.

Each file keeps its own `#` header and its data lines as they are (no value is rewritten),
cut to TRIM_NM: the fit reads the fit window (308-318 nm) plus its shift/stretch and
convolution padding and one more nanometre each side (306-320 nm), and the rest leaves room
for a site that moves its window. The line shapes are small and ship whole. A first `#`
line says what was cut and from where.

Run from the project root: .venv/bin/python tools/trim_doas_references.py [REFERENCE_DIR]
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the project (or beside the folder of worktrees it sits in).
SOURCE = next((p / 'shared/data/pycam/spectra/reference' for p in ROOT.parents
               if (p / 'shared/data/pycam/spectra/reference').is_dir()), None)
OUTPUT = ROOT / 'rockit' / 'pycam' / 'references'
TRIM_NM = (285.0, 335.0)
TRIMMED = ['SO2_293K.txt', 'O3_223K_Serdyuchenko.txt', 'Ring.txt', 'sao2010_solar.txt']
WHOLE = ['2019-07-03_302nm_ILS.txt', '2019-07-03_313nm_ILS.txt']


def trimmed_lines(text, low, high):
    """The comment lines, and the data lines whose wavelength is inside [low, high]."""
    for line in text.splitlines(keepends=True):
        fields = line.split()
        if line.startswith('#'):
            yield line
        elif fields and low <= float(fields[0]) <= high:
            yield line


def main(source=SOURCE):
    if source is None:
        sys.exit('no ../shared/data/pycam/spectra/reference: give the folder of the published files')
    source = Path(source)
    low, high = TRIM_NM
    for name in TRIMMED:
        lines = list(trimmed_lines((source / name).read_text(), low, high))
        note = f'# {low:g}-{high:g} nm of {name} as published (see README.md)\n'
        (OUTPUT / name).write_text(note + ''.join(lines))
        print(f'{name}: {sum(not line.startswith("#") for line in lines)} rows')
    for name in WHOLE:
        (OUTPUT / name).write_text((source / name).read_text())
        print(f'{name}: whole')


if __name__ == '__main__':
    main(*sys.argv[1:])

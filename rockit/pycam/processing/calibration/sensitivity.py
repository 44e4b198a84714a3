"""Optional per-pixel sensitivity correction of AA images, from a calibration cell.

The filters' pass bands shift with the angle of incidence, so the same SO2 column gives
more AA towards the edges of the frame than at its centre, where the cell calibration
takes its AA. A cell fills the whole field of view with one column, so its AA image, as a
ratio to its AA at the centre, is each pixel's sensitivity relative to the centre. Plume AA
images divided by it can then go through the centre's calibration curve at every pixel.

The ratio is smoothed by a low-order polynomial surface: the sensitivity changes slowly
across the frame, while a single cell image carries pixel noise, dust and the NaN border
the registration leaves; the surface is finite everywhere.
"""
from dataclasses import dataclass

import numpy as np

from .columns import clear_sky_rates, cell_aa_image, disk_mask
from ..errors import CalibrationError
from ..registration import Registration
from ...storage.names import cell_images_in

SURFACE_DEGREE = 4      # terms x^i y^j with i + j <= 4: degree 3 misses the dip at the centre
FIT_STEP = 4            # the surface is fitted on every 4th pixel each way: plenty for 15 terms
CENTRE_RADIUS = 30      # px: the disk cell_absorbances takes the calibration AA in
CELL_CHOICES = ('smallest', 'second_smallest')   # or a column in ppm.m: the cell closest to it
DEFAULT_CELL = 'smallest'


def check_cell_choice(choice):
    """'smallest', 'second_smallest' or a positive column (ppm.m); else a ValueError naming it."""
    if choice in CELL_CHOICES:
        return choice
    if isinstance(choice, (int, float)) and not isinstance(choice, bool) and choice > 0:
        return float(choice)
    raise ValueError(f'the sensitivity cell must be {" or ".join(CELL_CHOICES)} or a column in ppm.m above 0, '
                     f'not {choice!r}')


def chosen_cell(columns, choice=DEFAULT_CELL):
    """The cell the mask is made from, among the cells with SO2: the smallest (pyplis's,
    the cell closest to 0: plume AA lies on the near-linear part of the curve, where the
    fullest cell's sensitivity does not hold), the second smallest (PyCam's), or the one
    closest to a column (pyplis's cell_cd_closest)."""
    filled = sorted(c for c in columns if c > 0)
    if not filled:
        raise CalibrationError('no calibration cell with SO2 (<time>_<filter>_<gain>ag_<exposure>ss_<N>ppmm.png)')
    choice = check_cell_choice(choice)
    if choice == 'smallest':
        return filled[0]
    if choice == 'second_smallest':
        if len(filled) < 2:
            raise CalibrationError(f'a second smallest cell is needed, found only {filled[0]:g} ppm.m')
        return filled[1]
    return min(filled, key=lambda c: abs(c - choice))


@dataclass
class SensitivityMask:
    """mask: float32, on-band grid, 1 at the centre; AA / mask is the AA the centre's
    calibration curve applies to."""
    mask: np.ndarray
    source: str = ''
    cell_ppmm: float = 0.0

    def apply(self, aa):
        if aa.shape != self.mask.shape:
            raise ValueError(f'sensitivity mask is {self.mask.shape[1]}x{self.mask.shape[0]} px, '
                             f'the AA image {aa.shape[1]}x{aa.shape[0]}')
        return (aa / self.mask).astype(np.float32, copy=False)

    def describe(self):
        return {'source': self.source, 'cell_ppmm': self.cell_ppmm,
                'range': [float(self.mask.min()), float(self.mask.max())]}


def polynomial_surface(image, degree=SURFACE_DEGREE, step=FIT_STEP):
    """Least-squares polynomial surface through the finite pixels of every step-th row and
    column, evaluated on the whole grid."""
    h, w = image.shape
    yy, xx = np.mgrid[0:h:step, 0:w:step]
    sample = image[::step, ::step]
    keep = np.isfinite(sample)
    if keep.sum() < 4 * (degree + 1) * (degree + 2) // 2:
        raise CalibrationError('too few finite pixels in the cell image for a sensitivity mask')
    powers = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]

    def terms(x, y):        # coordinates scaled to -1..1 keep the least squares well conditioned
        x, y = 2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1
        return np.stack([x ** i * y ** j for i, j in powers], axis=-1)

    coeffs, *_ = np.linalg.lstsq(terms(xx[keep], yy[keep]), sample[keep].astype(float), rcond=None)
    full_y, full_x = np.mgrid[0:h, 0:w]
    return terms(full_x.astype(float), full_y.astype(float)) @ coeffs


def sensitivity_from_aa(cell_aa, radius=CENTRE_RADIUS):
    """The smoothed cell AA image as a ratio to its mean in the disk at the centre."""
    surface = polynomial_surface(cell_aa)
    h, w = cell_aa.shape
    centre = float(surface[disk_mask(surface.shape, w // 2, h // 2, radius)].mean())
    if not centre > 0:
        raise CalibrationError(f'the cell\'s AA at the centre is {centre:.4g}: a cell with SO2 is needed')
    mask = (surface / centre).astype(np.float32)
    if not mask.min() > 0:
        raise CalibrationError('the cell\'s AA image does not give a sensitivity above 0 everywhere')
    return mask


def mean_cell_aa(folder, darks, registration=None, cell=DEFAULT_CELL, clear_folder=None):
    """(mean AA image of the cell `cell` chooses (see chosen_cell), that cell's column).
    The empty cell's mean AA image, when there is one, is taken off: the windows' own
    offset is not SO2."""
    registration = registration or Registration()
    cells = cell_images_in(folder)
    try:
        ppmm = chosen_cell(cells, cell)
    except CalibrationError as e:
        raise CalibrationError(f'{folder}: {e}') from None
    clear = clear_sky_rates(clear_folder or folder, darks)
    clear_off = registration.apply(clear['off'])

    def mean_image(names):
        on = [n for n in names if n.band == 'on']
        off = [n for n in names if n.band == 'off']
        if not on or not off:
            raise CalibrationError(f'{folder}: a cell needs both on- and off-band frames')
        return np.mean([cell_aa_image(a, b, clear['on'], clear_off, darks, registration)
                        for a, b in zip(on, off)], axis=0)

    aa = mean_image(cells[ppmm])
    if 0 in cells:
        aa = aa - mean_image(cells[0])
    return aa, ppmm


def sensitivity_mask(folder, darks, registration=None, cell=DEFAULT_CELL, clear_folder=None):
    """The SensitivityMask of a calibration run's folder (its darks, clear sky and cells)."""
    aa, ppmm = mean_cell_aa(folder, darks, registration, cell, clear_folder)
    return SensitivityMask(sensitivity_from_aa(aa), str(folder), ppmm)


def mask_of_folder(folder, registration=None, cell=DEFAULT_CELL):
    """The mask of a calibration run's folder of cell frames, using its own darks and clear
    sky; a calibration file stands for the folder it is in."""
    from pathlib import Path
    from ..images import DarkLibrary
    folder = Path(folder)
    folder = folder.parent if folder.is_file() else folder
    if not folder.is_dir():
        raise CalibrationError(f'{folder}: no such folder')
    return sensitivity_mask(folder, DarkLibrary.from_folder(folder), registration, cell)

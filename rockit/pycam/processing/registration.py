"""Step 3: the off-band camera's view mapped onto the on-band camera's.

The two cameras sit side by side, so the same patch of sky lands on different pixels; an
apparent absorbance is only meaningful between pixels that saw the same sky. The mapping is
a 2x3 affine warp in OpenCV's convention (as `villarrica_cv_registration.npy` stores it),
applied with WARP_INVERSE_MAP; pixels the off-band camera never saw become NaN. ECC finds
the warp when none is stored: it is invariant to the gain and offset between the bands.
"""
from pathlib import Path

import cv2
import numpy as np

from .errors import RegistrationError
IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], np.float32)


class Registration:
    """An affine warp taking off-band pixels onto the on-band grid."""

    def __init__(self, warp=IDENTITY, source='identity'):
        warp = np.asarray(warp, np.float32)
        if warp.shape != (2, 3) or not np.all(np.isfinite(warp)):
            raise RegistrationError(f'a registration is a finite 2x3 affine warp, got shape {warp.shape}')
        self.warp = warp
        self.source = source

    @classmethod
    def load(cls, path):
        path = Path(path)
        try:
            return cls(np.load(path, allow_pickle=False), source=str(path))
        except (OSError, ValueError) as e:
            raise RegistrationError(f'{path}: {e}') from None

    def save(self, path):
        from rockit.common.files import atomic_write
        atomic_write(path, lambda f: np.save(f, self.warp, allow_pickle=False))

    def apply(self, image, border=np.nan):
        """The off-band image resampled onto the on-band grid (bilinear)."""
        h, w = image.shape
        return cv2.warpAffine(image, self.warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=float(border))

    @property
    def translation(self):
        return float(self.warp[0, 2]), float(self.warp[1, 2])


def _normalised(image):
    """A finite float32 copy with the scene's contrast, for ECC."""
    image = np.nan_to_num(np.asarray(image, np.float32), nan=float(np.nanmedian(image)))
    return (image - image.mean()) / (image.std() or 1.0)


def find_registration(on_image, off_image, initial=None, motion=cv2.MOTION_EUCLIDEAN,
                      iterations=200, epsilon=1e-6, blur=5):
    """The warp that best aligns off_image to on_image by ECC maximisation.

    Large offsets between the cameras (tens of pixels) need a start near the answer, so the
    search first runs at quarter and half resolution, each level seeding the next. It needs
    structure in the scene (a skyline, a plume): on a featureless clear sky it finds nothing
    reliable. A rotation plus shift (Euclidean) is the default: the two cameras share one
    mount and lens type, and the extra freedom of a full affine warp mostly fits noise.
    """
    template, moving = _normalised(on_image), _normalised(off_image)
    warp = np.array(IDENTITY if initial is None else initial, np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, epsilon)
    for level in (2, 1, 0):
        scale = 2 ** level
        t = cv2.resize(template, None, fx=1 / scale, fy=1 / scale, interpolation=cv2.INTER_AREA)
        m = cv2.resize(moving, None, fx=1 / scale, fy=1 / scale, interpolation=cv2.INTER_AREA)
        scaled = warp.copy()
        scaled[:, 2] /= scale
        try:
            _, scaled = cv2.findTransformECC(t, m, scaled, motion, criteria, None, blur)
        except cv2.error as e:
            raise RegistrationError(f'ECC did not converge: {e}') from None
        warp = scaled.copy()
        warp[:, 2] *= scale
    return Registration(warp, source='ECC')

"""Step 4: apparent absorbance AA = tau_on - tau_off.

SO2 absorbs at 310 nm (on-band) and hardly at 330 nm (off-band), while aerosol, ash and
condensed water dim both bands alike: the difference keeps the SO2 and cancels the rest.
The sky region is then set to AA = 0, which removes the sky's drift since the clear-sky
frames were taken; a sky gradient, when configured, is taken off after.
"""
import numpy as np

from .background import optical_depth, sky_statistics


def apparent_absorbance(tau_on, tau_off, sky=None):
    aa = np.asarray(tau_on - tau_off, np.float32)
    if sky is not None:
        aa -= np.float32(sky.mean(aa))
    return aa


class AbsorbanceImager:
    """Steps 2-4 for one pair: counts per second in, AA image (on-band grid) out.

    The off-band frame is registered in intensity space, like the clear-sky off-band frame
    it is divided by, so both optical depths refer to the same sky. With clear-sky frames,
    AA = ln(I0_on I_off / (I_on I0_off)) is one logarithm of a precomputed background
    ratio times the frame ratio: the live path's cheapest form of the same quantity.

    With a light-dilution correction (dilution.py), both bands' intensities are corrected
    first, against their background scaled to the frame's sky region; the coefficients it
    used are kept in `dilution_used`.
    """

    def __init__(self, background, registration, gradient=None, dilution=None):
        self.background = background
        self.registration = registration
        self.gradient = gradient      # a background.SkyGradient, or None
        self.dilution = dilution      # a dilution.DilutionCorrection, or None
        self.dilution_used = None
        self.last_background = None   # the last pair's sky figures (_background_figures)
        self._ratio = None
        if getattr(background, 'kind', '') == 'clear sky':
            with np.errstate(divide='ignore', invalid='ignore'):
                self._ratio = background.on / background.off

    def __call__(self, on, off):
        off = self.registration.apply(off)
        sky = self.background.sky
        if self.dilution is not None:
            on, off, self.dilution_used = self.dilution(on, off, self._sky_background('on', on),
                                                        self._sky_background('off', off))
        if self._ratio is not None:
            with np.errstate(divide='ignore', invalid='ignore'):
                aa = np.log(self._ratio * off / on)
        else:
            tau_on = optical_depth(self.background.intensity('on', on), on)
            tau_off = optical_depth(self.background.intensity('off', off), off)
            aa = apparent_absorbance(tau_on, tau_off)
        offset = sky.mean(aa)
        aa -= np.float32(offset)
        gradient = None
        if self.gradient is not None:
            aa, gradient = self.gradient.remove(aa)
        self.last_background = self._background_figures(on, off, aa, offset, gradient)
        return aa

    def _background_figures(self, on, off, aa, offset, gradient):
        """What the background made of this pair, for an operator: the sky region's counts
        per second in each band and its AA after the offset, the offset taken off, the sky
        gradient's and a surface fit's coefficients (a few patch statistics: cheap)."""
        sky = self.background.sky
        return {'kind': self.background.kind, 'sky_region': sky.as_list(), 'shape': list(aa.shape),
                'on': sky_statistics(sky, on), 'off': sky_statistics(sky, off), 'aa': sky_statistics(sky, aa),
                'offset_aa': float(offset), 'gradient': gradient,
                'gradient_order': None if self.gradient is None else self.gradient.order,
                'surface': dict(getattr(self.background, 'coefficients', {})) or None}

    def _sky_background(self, band, image):
        """The band's plume-free sky in this frame: its background, brought to the frame's
        brightness in the sky region."""
        background = self.background.intensity(band, image)
        if np.ndim(background) == 0:
            return background
        sky = self.background.sky
        return background * np.float32(sky.mean(image) / sky.mean(background))

"""The spectrum plot draws the DOAS fit only when there is one."""
import io

import numpy as np
from matplotlib.colors import to_rgb

from rockit.web import plots


def _pixels_of(png, colour):
    import matplotlib.image
    image = matplotlib.image.imread(io.BytesIO(png))[..., :3]
    return int(np.sum(np.all(np.abs(image - np.array(to_rgb(colour))) < 0.02, axis=-1)))


def test_the_spectrum_plot_shows_the_doas_fit_below_the_spectrum():
    wavelengths = np.linspace(280, 420, 2048)
    counts = 1000 + 500 * np.sin(wavelengths / 3)
    window = (wavelengths >= 310) & (wavelengths <= 320)
    fit = {'spectrum': np.array('2024-05-01T120000_100ss_1coadd_Plume.npy'), 'column': np.float64(1.2e18),
           'error': np.float64(3e16), 'wavelengths': wavelengths[window], 'measured': counts[window],
           'fitted': counts[window] * 1.01}
    plain = plots.spectrum(np.array([wavelengths, counts]), 'plume', None)
    with_fit = plots.spectrum(np.array([wavelengths, counts]), 'plume', fit)
    assert _pixels_of(plain, plots.FIT_COLOUR) == 0
    assert _pixels_of(with_fit, plots.FIT_COLOUR) > 100
    assert int.from_bytes(with_fit[16:20], 'big') == plots.WIDTH

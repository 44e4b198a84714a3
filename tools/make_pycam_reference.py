"""Builds rockit/pycam/simulator/data/flame_s_reference.npz, the small reference the simulated
spectrometer renders its spectra from, so that the simulator needs nothing outside the
package at run time.

From ../shared/data/pycam/spectra/: the Flame-S wavelength calibration (a recorded
spectrum's first row), the high-resolution solar spectrum and the ozone and SO2
cross-sections, each convolved with the spectrometer's measured line shape (302 nm, the
one the DOAS fit uses) and sampled at its 2048 pixels; the instrument's response (counts per unit of solar flux) is
the recorded spectra's mean over the model, smoothed hard so that no plume structure
survives in it.

Run from the project root: .venv/bin/python tools/make_pycam_reference.py [SHARED_PYCAM_DIR]
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / 'rockit' / 'pycam' / 'simulator' / 'data' / 'flame_s_reference.npz'
STEP_NM = 0.01                  # the grid the convolutions run on
OZONE_COLUMN = 300 * 2.687e16   # molecules/cm^2 (300 DU), a typical total ozone column
PEAK_COUNTS_PER_MS = 1000.0     # the clear sky's brightest pixel at brightness 1
RESPONSE_SMOOTHING_NM = 6.0


def read_columns(path):
    return np.loadtxt(path, comments='#', usecols=(0, 1)).T


def line_shape(path):
    """The instrument line shape on STEP_NM, centred on its peak, with unit area."""
    offset, value = read_columns(path)
    centre = offset[np.argmax(value)]
    half = max(centre - offset[0], offset[-1] - centre)
    grid = np.arange(-half, half + STEP_NM / 2, STEP_NM)
    shape = np.interp(grid + centre, offset, value, left=0.0, right=0.0)
    return shape / shape.sum()


def convolved(grid, wavelengths, values, kernel, pixels):
    on_grid = np.interp(grid, wavelengths, values)
    return np.interp(pixels, grid, np.convolve(on_grid, kernel, mode='same'))


def gaussian_smooth(values, sigma_pixels):
    radius = int(4 * sigma_pixels)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma_pixels) ** 2)
    padded = np.pad(values, radius, mode='edge')
    return np.convolve(padded, kernel / kernel.sum(), mode='valid')


def main(argv):
    shared = Path(argv[0]) if argv else ROOT.parent / 'shared' / 'data' / 'pycam'
    spectra = shared / 'spectra'
    reference = spectra / 'reference'
    recorded = sorted((spectra / 'plume_2019-05-29').glob('*.npy'))
    dark = np.load(next(p for p in recorded if p.stem.endswith('_Dark')))
    plume = np.mean([np.load(p)[1] for p in recorded if p.stem.endswith('_Plume')], axis=0)
    pixels = dark[0]

    grid = np.arange(pixels[0] - 5, pixels[-1] + 5, STEP_NM)
    kernel = line_shape(reference / '2019-07-03_302nm_ILS.txt')
    solar_wl, solar = read_columns(reference / 'sao2010_solar.txt')
    ozone_wl, ozone = read_columns(reference / 'O3_223K_Serdyuchenko.txt')
    so2_wl, so2 = read_columns(reference / 'SO2_293K.txt')
    sky = solar * np.exp(-np.interp(solar_wl, ozone_wl, ozone) * OZONE_COLUMN)
    model = convolved(grid, solar_wl, sky, kernel, pixels)
    so2_pixels = convolved(grid, so2_wl, so2, kernel, pixels)

    # Counts per unit modelled flux, where there is light enough to say (saturated pixels
    # and the ozone cut-off excluded), smoothed and extended flat beyond.
    measured = plume - dark[1]
    usable = (plume < 60000) & (model > model.max() * 1e-3) & (measured > 50)
    ratio = np.where(usable, measured / np.where(usable, model, 1.0), np.nan)
    index = np.arange(pixels.size)
    ratio = np.interp(index, index[usable], ratio[usable])
    response = gaussian_smooth(ratio, RESPONSE_SMOOTHING_NM / np.median(np.diff(pixels)))
    clear = model * response
    clear *= PEAK_COUNTS_PER_MS / clear.max()

    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUTPUT, wavelengths=pixels.astype(np.float64),
                        clear_counts_per_ms=clear.astype(np.float32),
                        so2_cross_section=so2_pixels.astype(np.float32),
                        dark_counts=np.float32(np.median(dark[1])))
    print(f'{OUTPUT.relative_to(ROOT)}: {OUTPUT.stat().st_size} bytes')


if __name__ == '__main__':
    main(sys.argv[1:])

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


def test_the_calibration_plot_shows_the_cells_only_when_there_are_cells():
    curve = {'model': 'poly2', 'unit': 'ppmm', 'method': 'cell', 'r2': 0.998, 'points': 3,
             'created': '2026-12-07T14:36:09Z', 'aa': list(np.linspace(0, 1.2, 50)),
             'column': list(1200 * np.linspace(0, 1.2, 50))}
    cells = dict(curve, cells={'304': [0.3, 0.01], '1257': [1.0, 0.02], '0': [0.0, 0.01]})
    without, with_cells = plots.calibration(dict(curve, cells={})), plots.calibration(cells)
    assert _pixels_of(without, 'tab:red') > 100 and _pixels_of(without, 'tab:blue') == 0
    assert _pixels_of(with_cells, 'tab:blue') > 30
    assert int.from_bytes(with_cells[16:20], 'big') == plots.WIDTH
    assert _pixels_of(with_cells, plots.DOAS_POINTS_COLOUR) == 0


def test_the_calibration_plot_shows_the_doas_points_a_doas_curve_was_fitted_to():
    aa = np.linspace(0.1, 0.6, 40)
    curve = {'model': 'linear', 'unit': 'molecules/cm^2', 'method': 'doas', 'r2': 0.95, 'points': 40,
             'created': '2026-12-07T14:36:09Z', 'cells': {}, 'aa': list(np.linspace(0, 1.0, 50)),
             'column': list(5e18 * np.linspace(0, 1.0, 50)),
             'doas_points': [[a, 5e18 * a * 1.05, 1e17] for a in aa] + [[None, 1e18, None], [0.2, 1e18, None]]}
    assert _pixels_of(plots.calibration(dict(curve, doas_points=[])), plots.DOAS_POINTS_COLOUR) == 0
    assert _pixels_of(plots.calibration(curve), plots.DOAS_POINTS_COLOUR) > 100


def test_the_so2_image_shows_the_sky_region_and_the_spectrometer_view_where_processing_has_them():
    image = np.zeros((120, 160), np.float32)
    line = {'x': [40, 40], 'y': [10, 100], 'name': 'line'}
    plain = plots.so2_image(image, 4, line, 'aa')
    marked = plots.so2_image(image, 4, line, 'aa', [500, 20, 600, 80], {'x': 300, 'y': 200, 'radius': 60})
    assert _pixels_of(plain, plots.VIEW_COLOUR) == 0
    assert _pixels_of(marked, plots.VIEW_COLOUR) > 100
    assert _pixels_of(marked, plots.SKY_COLOUR) > _pixels_of(plain, plots.SKY_COLOUR) + 30


def test_the_day_plot_shows_each_lines_rate_beside_the_total():
    rows = [{'time': f'2024-05-01T12:00:{s:02d}Z', 'emission_rate_kg_s': '3.0', 'emission_rate_err_kg_s': '0.3',
             'emission_rate_kg_s_north': '1.0', 'emission_rate_kg_s_south': '2.0'} for s in range(5)]
    columns = [{'time': '2024-05-01T12:00:02Z', 'so2_molecules_cm2': '1e18'}]
    top = plots.day_figure('2024-05-01', rows, columns).axes[0]
    labels = [line.get_label() for line in top.get_lines()]
    assert labels == ['total emission rate', 'line north', 'line south']
    assert list(top.get_lines()[2].get_ydata()) == [2.0] * 5
    single = plots.day_figure('2024-05-01', [{k: v for k, v in row.items() if k.count('_') < 4} for row in rows], columns)
    assert [line.get_label() for line in single.axes[0].get_lines()] == ['total emission rate']


def test_the_so2_image_shows_every_integration_line():
    image = np.zeros((120, 160), np.float32)
    first = {'x': [40, 40], 'y': [10, 100], 'name': 'one'}
    second = {'x': [300, 500], 'y': [300, 300], 'name': 'two'}
    one = plots.so2_image(image, 4, [first], 'aa')
    both = plots.so2_image(image, 4, [first, second], 'aa')
    assert _pixels_of(both, '#ff0000') > _pixels_of(one, '#ff0000') + 100

"""What processing leaves on disk, written so that a crash at any moment leaves every image
file either as it was or complete (rockit.common.files).

Per pair: `<time>_aa.npy` (float32 apparent absorbance, NaN where no data), a preview
`<time>_aa.png` (8-bit colour map with a colour bar) and, once calibrated, `<time>_so2.npy`
(float32 SO2 column, ppm.m). Per run: `emission_rates.csv`, one row per pair, appended
(rockit.common.csvlog: a crash loses at most the row being written); `valid_fraction` is
the share of the line's pixels that had data; `late` is 1 on a live row processed again
once a calibration existed (live/late.py), after the first row of that pair, which had none.
"""
from pathlib import Path

import cv2
import numpy as np

from rockit.common.csvlog import CsvLog
from rockit.common.files import atomic_write, remove_leftovers, write_group

from .output_names import CSV_NAME, DOAS_CSV_NAME, IMAGES_FOLDER, SETTINGS_NAME

CSV_COLUMNS = ['time', 'aa_file', 'so2_file', 'emission_rate_kg_s', 'emission_rate_err_kg_s', 'plume_speed_m_s',
               'plume_speed_err_m_s', 'line_column_kg_m', 'line_mean_aa', 'valid_fraction', 'calibration', 'late']

DILUTION_COLUMNS = ['dilution_on_per_km', 'dilution_off_per_km']   # the extinction each pair was corrected with


def npy(array):
    """What writes array into an open file as float32 .npy (for rockit.common.files)."""
    return lambda f: np.save(f, np.asarray(array, np.float32), allow_pickle=False)


def preview(image, vmin, vmax, label='AA', colormap=cv2.COLORMAP_VIRIDIS):
    """An 8-bit BGR rendering of a float image with a labelled colour bar at the right.

    Drawn with OpenCV rather than matplotlib: it takes about a millisecond, which matters
    on the Pi, and NaN pixels (no data) show black.
    """
    h, w = image.shape
    span = (vmax - vmin) or 1.0
    scaled = np.clip((np.nan_to_num(image, nan=vmin) - vmin) * (255.0 / span), 0, 255).astype(np.uint8)
    picture = cv2.applyColorMap(scaled, colormap)
    picture[np.isnan(image)] = 0
    bar_width, margin, text_width = 16, 8, 64
    canvas = np.full((h, w + margin + bar_width + text_width, 3), 255, np.uint8)
    canvas[:, :w] = picture
    ramp = np.linspace(255, 0, h - 2 * margin).astype(np.uint8)[:, None].repeat(bar_width, axis=1)
    canvas[margin:h - margin, w + margin:w + margin + bar_width] = cv2.applyColorMap(ramp, colormap)
    font, x = cv2.FONT_HERSHEY_SIMPLEX, w + margin + bar_width + 4
    for value, y in ((vmax, margin + 8), ((vmin + vmax) / 2, h // 2 + 4), (vmin, h - margin)):
        cv2.putText(canvas, f'{value:.2f}', (x, y), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, label, (x, margin + 40), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def preview_png(image, vmin, vmax, label='AA'):
    ok, encoded = cv2.imencode('.png', preview(image, vmin, vmax, label))
    if not ok:
        raise OSError('PNG encoding of the preview failed')
    return encoded.tobytes()


class PairWriter:
    """Writes a pair's outputs: `<out>/so2/<time>_aa.npy`, `<time>_aa.png`, `<time>_so2.npy`
    and its row in `<out>/emission_rates.csv`, the row last, so a row never names a file that
    is not complete on disk."""

    def __init__(self, out, settings, calibration=None, save_images=True, tidy=True):
        """tidy: remove what a crash left; False for the helpers of a parallel run, which
        would remove each other's files in the writing."""
        self.out = Path(out)
        self.images = self.out / IMAGES_FOLDER
        self.save_images = save_images
        self.images.mkdir(parents=True, exist_ok=True)
        if tidy:
            remove_leftovers(self.out)
            remove_leftovers(self.images)
        self.settings = settings
        self.calibration = calibration
        lines = settings.lines if settings is not None else []
        extra = [f'emission_rate_kg_s_{line.name}' for line in lines] if len(lines) > 1 else []
        self.dilution = getattr(settings, 'dilution', None) is not None
        if self.dilution:
            extra += DILUTION_COLUMNS
        self.log = CsvLog(self.out / CSV_NAME, CSV_COLUMNS + extra)

    def write_settings(self, settings, inputs=None):
        import json
        described = settings.describe()
        if inputs is not None:
            described['inputs'] = {'folder': str(inputs.folder), 'darks': str(inputs.darks),
                                   'clear': None if inputs.clear is None else str(inputs.clear),
                                   'calibration': None if inputs.calibration is None else str(inputs.calibration)}
        if self.calibration is not None:
            described['calibration'] = self.calibration.to_dict()
        atomic_write(self.out / SETTINGS_NAME, (json.dumps(described, indent=2) + '\n').encode())

    def write(self, result):
        """The pair's files, then its row."""
        row = self.files(result)
        self.log.append(row)
        return row

    def files(self, result):
        """The pair's image files; returns its CSV row (not yet appended)."""
        row = result.row()
        if self.dilution:
            row.update(result.dilution_row())
        if self.save_images:
            stamp = result.time.strftime('%Y-%m-%dT%H%M%S')
            low, high = self.settings.preview_range
            files = {'aa_file': (f'{stamp}_aa.npy', npy(result.aa)),
                     'preview': (f'{stamp}_aa.png', preview_png(result.aa, low, high))}
            if result.so2 is not None:
                files['so2_file'] = (f'{stamp}_so2.npy', npy(result.so2))
            # Each file whole, and the folder synced once for the three.
            write_group([(self.images / name, content) for name, content in files.values()], replace=True)
            row.update({column: f'{IMAGES_FOLDER}/{name}' for column, (name, _) in files.items()
                        if column != 'preview'})
        row['calibration'] = self.calibration.method if self.calibration is not None else ''
        return row


DOAS_COLUMNS = ['time', 'spectrum', 'so2_molecules_cm2', 'so2_err_molecules_cm2', 'so2_ppmm', 'shift_nm',
                'stretch_nm', 'residual_rms', 'fit_converged', 'saturated',
                'so2_corrected_molecules_cm2', 'so2_corrected_err_molecules_cm2', 'so2_corrected_ppmm',
                'light_dilution_factor', 'light_dilution_factor_err', 'so2_window1_molecules_cm2',
                'so2_window2_molecules_cm2', 'dilution_note']


def doas_row(time, spectrum, result, units, dilution=None):
    """A DOAS fit's row of doas_columns.csv (columns in ppm.m at the run's temperature),
    with its light dilution correction (doas/dilution.py) when there is one."""
    row = {'time': time.strftime('%Y-%m-%dT%H:%M:%SZ'), 'spectrum': spectrum, 'so2_molecules_cm2': result.column,
           'so2_err_molecules_cm2': result.error, 'so2_ppmm': units.to_ppmm(result.column),
           'shift_nm': result.shift, 'stretch_nm': result.stretch, 'residual_rms': result.residual_rms,
           'fit_converged': int(bool(result.success)), 'saturated': int(bool(result.saturated))}
    if dilution is not None:
        row.update({'so2_corrected_molecules_cm2': dilution.column, 'so2_corrected_err_molecules_cm2': dilution.error,
                    'so2_corrected_ppmm': units.to_ppmm(dilution.column), 'light_dilution_factor': dilution.ldf,
                    'light_dilution_factor_err': dilution.ldf_error,
                    'so2_window1_molecules_cm2': dilution.window_columns[0],
                    'so2_window2_molecules_cm2': dilution.window_columns[1], 'dilution_note': dilution.reason})
    return row


def doas_fit_npz(spectrum, result):
    """What writes the newest DOAS fit into an open file: the spectrum's name, its column
    and error (molecules/cm^2), and over the fit window the wavelengths, the corrected
    counts and the model fitted to them."""
    return lambda f: np.savez(f, spectrum=np.array(spectrum), column=np.float64(result.column),
                              error=np.float64(result.error), wavelengths=result.wavelengths,
                              measured=result.measured, fitted=result.fitted)


def doas_log(folder):
    return CsvLog(Path(folder) / DOAS_CSV_NAME, DOAS_COLUMNS)

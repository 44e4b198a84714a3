"""What pycamd has made, for viewers such as rockit-web: the latest SO2 (AA) image, the
day's emission-rate rows, the latest plume spectrum and the latest DOAS fit, previews
of the newest raw frames, and processing's diagnostics (background, flow, view search).

Pyro carries bytes, not arrays, so arrays travel as .npy bytes, and an image is thinned
to fit well inside Pyro's message limit. Everything is read from the files processing and
storage already wrote, so a viewer never waits on acquisition or processing.
"""
import io
from pathlib import Path

import numpy as np

from rockit.common.arguments import Choice, Integer
from rockit.common.csvlog import CsvLog
from rockit.common.pyro import MAX_MESSAGE_SIZE, query

from .instrument import BANDS
from .processing.output_names import CSV_NAME, DOAS_CSV_NAME, DOAS_FIT_NAME, SETTINGS_NAME
from .storage.names import NamingError, parse_image_name, parse_spectrum_name

IMAGE_BYTES = MAX_MESSAGE_SIZE // 3   # an AA image thinned to at most this many bytes
MAX_ROWS = 3000                        # emission-rate rows returned, the newest
CSV_CHUNK = MAX_MESSAGE_SIZE // 2      # bytes of a day's CSV file per answer
PLOT_POINTS = 600                      # DOAS calibration points shown, evenly picked
DAY_CSVS = {'emission_rates': CSV_NAME, 'doas_columns': DOAS_CSV_NAME}


def _newest_folder(root):
    """The newest <YYYY-MM-DD> folder under root, or None."""
    try:
        days = sorted(p for p in Path(root).iterdir() if p.is_dir() and p.name[:2] == '20')
    except OSError:
        return None
    return days[-1] if days else None


def _days(root):
    """The names of the <YYYY-MM-DD> folders under root, oldest first."""
    try:
        return sorted(p.name for p in Path(root).iterdir() if p.is_dir() and p.name[:2] == '20')
    except OSError:
        return []


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def thinned(image, limit=IMAGE_BYTES):
    """image (float32) with every step-th row and column, step the smallest that fits limit."""
    step = 1
    while image[::step, ::step].nbytes > limit:
        step += 1
    return np.ascontiguousarray(image[::step, ::step], np.float32), step


class Products:
    """Queries a daemon with self.processor (or None), self.store and self.config mixes in."""

    def _processing_day(self):
        out_dir = getattr(self.processor, 'out_dir', None)
        return _newest_folder(out_dir) if out_dir else None

    def _rows(self):
        day = self._processing_day()
        if day is None:
            return day, []
        return day, CsvLog(day / CSV_NAME, ()).rows()

    def _product_days(self):
        out_dir = getattr(self.processor, 'out_dir', None)
        return _days(out_dir) if out_dir else []

    @query()
    def product_days(self):
        """The days processing has results for, oldest first."""
        return self._product_days()

    @query(day=Choice(lambda daemon: daemon._product_days()), name=Choice(DAY_CSVS), offset=Integer(0))
    def day_csv(self, day, name, offset=0):
        """Part of a day's emission_rates or doas_columns CSV file from byte offset:
        {'day', 'name', 'bytes', 'next', 'size'}; next is None at its end. Read in parts,
        since a day at one pair a second outgrows one Pyro message."""
        path = Path(self.processor.out_dir) / day / DAY_CSVS[name]
        try:
            with open(path, 'rb') as file:
                size = file.seek(0, 2)
                file.seek(offset)
                data = file.read(CSV_CHUNK)
        except FileNotFoundError:
            size, data = 0, b''
        end = offset + len(data)
        return {'day': day, 'name': name, 'bytes': data, 'next': end if end < size else None, 'size': size}

    @query()
    def emission_rates(self):
        """The newest day's emission-rate rows (CSV columns as text), the last MAX_ROWS."""
        day, rows = self._rows()
        return {'day': day.name if day else None, 'rows': rows[-MAX_ROWS:]}

    @query()
    def latest_so2_image(self):
        """The newest AA image as .npy bytes, thinned by 'step', with the integration lines
        processing uses ('line' the first) and the sky region [x0, y0, x1, y1] in full-image
        pixels; None before the first processed pair."""
        day, rows = self._rows()
        named = [row['aa_file'] for row in rows if row.get('aa_file')]
        if not named:
            return None
        image, step = thinned(np.load(day / named[-1], allow_pickle=False))
        geometry = self.current_geometry() or {}
        lines = geometry.get('integration_line') or []
        return {'name': Path(named[-1]).name, 'npy': _npy_bytes(image), 'step': step,
                'line': lines[0] if lines else None, 'lines': lines, 'sky_region': geometry.get('sky_region')}

    @query()
    def latest_spectrum(self):
        """The newest Plume spectrum as .npy bytes of (wavelengths, counts); None if none."""
        day = _newest_folder(self.store.root)
        if day is None:
            return None
        names = []
        for path in day.glob('*_Plume.npy'):
            try:
                names.append(parse_spectrum_name(path))
            except NamingError:
                continue
        if not names:
            return None
        newest = max(names, key=lambda name: name.time)
        return {'name': newest.path.name, 'npy': newest.path.read_bytes()}

    def _last_frames(self):
        """{band: file name} of the frames acquisition saved last, as its status says (a
        band on a second Pi is a group of its own)."""
        names = {}
        for group_name, group in self.groups.items():
            part = group.status()
            for band in BANDS:
                state = part if group_name == band else part.get(band)
                if isinstance(state, dict) and state.get('last_file'):
                    names[band] = state['last_file']
        return names

    @query()
    def latest_frames(self):
        """The newest frame of each band as a small PNG (previews.py): {band: {'name',
        'png', 'saturated'}}, bands without a frame yet left out."""
        from . import previews      # OpenCV only for the viewers that ask
        found = {}
        for band, name in self._last_frames().items():
            try:
                path = self.store.folder(parse_image_name(name).time) / name
            except NamingError:
                continue
            preview = previews.band_preview(path)
            if preview is not None:
                found[band] = preview
        return found

    @query()
    def calibration_curve(self):
        """The calibration live processing applies, for a plot: {'model', 'unit', 'method',
        'r2', 'points', 'created', 'source', 'cells' {column: [AA, scatter]}, 'doas_points'
        [[AA, column, error], ...] (at most PLOT_POINTS of a DOAS calibration's), 'aa',
        'column'} with the fitted curve sampled over the AA it was fitted on; None before one."""
        import json
        from .processing.calibration.models import evaluate
        day = self._processing_day()
        try:
            cal = json.loads((day / SETTINGS_NAME).read_text())['calibration'] if day else None
        except (FileNotFoundError, KeyError, ValueError):
            return None
        if not isinstance(cal, dict) or not cal.get('coeffs'):
            return None
        cells = {str(k): [float(v), float((cal.get('cell_scatter') or {}).get(k) or 0.0)]
                 for k, v in (cal.get('cells') or {}).items()}
        points = []
        if cal.get('method') == 'doas' and hasattr(self.processor, 'doas_points'):
            points = self.processor.doas_points()
            points = [points[i] for i in np.linspace(0, len(points) - 1, PLOT_POINTS).astype(int)] \
                if len(points) > PLOT_POINTS else points
        top = max([1.0] + [aa + 0.1 for aa, _ in cells.values()] + [p[0] + 0.1 for p in points])
        aa = np.linspace(0.0, top, 50)
        model = cal.get('model', 'linear')
        return {'model': model, 'unit': cal.get('unit'), 'method': cal.get('method'), 'r2': cal.get('r2'),
                'points': cal.get('points'), 'created': cal.get('created'), 'source': cal.get('source'),
                'cells': cells, 'doas_points': points, 'aa': aa.tolist(),
                'column': evaluate(model, cal['coeffs'], aa).tolist()}

    @query()
    def diagnostics(self):
        """What processing made of the last pair and the last field-of-view search, as its
        thread kept them: {'background', 'flow', 'fov', 'fov_search'} (see
        LiveProcessor.diagnostics), the correlation map as .npy bytes; None without live
        processing."""
        if self.processor is None or not hasattr(self.processor, 'diagnostics'):
            return None
        found = self.processor.diagnostics()
        fov = found.get('fov')
        if fov is not None and fov.get('map') is not None:
            found['fov'] = {**fov, 'map': _npy_bytes(fov['map'])}
        return found

    @query()
    def latest_doas_fit(self):
        """The newest live DOAS fit as .npz bytes (spectrum, column, error, wavelengths,
        measured, fitted: see processing.outputs.doas_fit_npz); None without live DOAS."""
        day = self._processing_day()
        try:
            return {'day': day.name, 'npz': (day / DOAS_FIT_NAME).read_bytes()} if day else None
        except FileNotFoundError:
            return None

"""pycamd's processing: each saved Plume pair and spectrum in, emission rates out, on a
thread of its own so acquisition never waits for it.

A processor that falls behind (a slow Pi, a burst of pairs) keeps only the newest pair
waiting and counts the ones it dropped: a live emission rate a minute late is worth less
than one now, and stored pairs can always be reprocessed with `pycam process`.
Reference frames (Dark, Clear, <N>ppmm) are never dropped: they change how every later
pair is processed. Test frames are ignored.

Importing this module costs nothing: numpy, OpenCV and the pipeline are loaded by the
worker thread, so pycamd starts as fast without processing as with it.
"""
import collections
import datetime
import logging
import math
import threading
import time
from pathlib import Path

from ..storage.names import NamingError, parse_image_name, parse_spectrum_name

log = logging.getLogger('rockit.pycam.processing')
REFERENCE_BACKLOG = 1000
CELL_SESSION_GAP_S = 1800    # cell frames further apart than this belong to different runs


def _plain(value):
    """JSON/serpent-safe: NaN and infinities become None, numpy scalars Python floats."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def settings_from_config(config, base=None):
    """ProcessingSettings from pycamd's config keys (all optional):

    sky_region [x0, y0, x1, y1]; integration_line (line file path, or {"x": [x0, x1],
    "y": [y0, y1], "orientation": "left"}); registration (.npy path or a 2x3 list);
    plume_distance_m, pixel_size_m, focal_length_m (all three for emission rates);
    reference_temperature_k (default 273.15); flow_margin_px. The processor itself also
    reads background: 'clear' (default: Clear captures once there are some) or 'sky' (the
    sky region of each frame, e.g. when Clear captures cannot avoid the plume).
    """
    from .background import SkyRegion
    from .calibration import ColumnUnits
    from .emission import CameraGeometry, IntegrationLine
    from .pipeline import ProcessingSettings
    from .registration import Registration
    import numpy as np
    settings = base or ProcessingSettings()
    if config.get('sky_region'):
        settings.sky = SkyRegion(*[int(v) for v in config['sky_region']])
    line = config.get('integration_line')
    if isinstance(line, dict):
        settings.line = IntegrationLine(line['x'][0], line['y'][0], line['x'][1], line['y'][1],
                                        line.get('orientation', 'left'), line.get('name', ''))
    elif line:
        settings.line = IntegrationLine.load(line)
    warp = config.get('registration')
    if isinstance(warp, (list, tuple)):
        settings.registration = Registration(np.array(warp, np.float32), source='config')
    elif warp:
        settings.registration = Registration.load(warp)
    if config.get('plume_distance_m'):
        settings.geometry = CameraGeometry(float(config['plume_distance_m']),
                                           float(config.get('pixel_size_m', 5.6e-6)),
                                           float(config.get('focal_length_m', 9.0e-3)))
    settings.units = ColumnUnits(float(config.get('reference_temperature_k', 273.15)))
    if config.get('flow_margin_px'):
        settings.flow_margin = int(config['flow_margin_px'])
    return settings


class LiveProcessor:
    """Processes what pycamd saves, in the background.

    out_dir: where results go, in date folders: <out_dir>/<YYYY-MM-DD>/emission_rates.csv
    and so2/<time>_aa.npy|png. config: pycamd's processing keys (see settings_from_config),
    or a ready ProcessingSettings. calibration: a calibration.json to start with (cell
    frames captured later replace it). doas_references: the DOAS reference folder; without
    it spectra are counted but not fitted. doas_fov: [x, y, radius] of the spectrometer's
    view in on-band pixels, to pair DOAS columns with AA for a DOAS calibration. save_aa:
    write each pair's AA array and preview (1.2 MB a pair) or only its CSV row.

    pycamd calls the processor itself with each saved capture (see rockit/pycam/storage/saved.py)
    and calls status() and close(); submit_pair, submit_image and submit_spectrum are the
    same hook by file paths.
    """

    def __init__(self, out_dir, config=None, calibration=None, doas_references=None, doas_fov=None,
                 min_doas_points=10, save_aa=True):
        self.out_dir = Path(out_dir)
        self.save_aa = save_aa
        self._config = config or {}
        self._calibration_path = calibration
        self._doas_references = doas_references
        self._doas_fov = doas_fov
        self._min_doas_points = min_doas_points
        self._lock = threading.Condition()
        self._pair = None                 # the newest pair waiting
        self._spectrum = None             # the newest Plume spectrum waiting
        self._references = collections.deque()
        self._stop = False
        self._busy = False
        self._thread = None
        self._status = {
            'running': False, 'pairs_received': 0, 'pairs_processed': 0, 'pairs_skipped': 0,
            'pairs_failed': 0, 'spectra_received': 0, 'spectra_processed': 0, 'spectra_skipped': 0,
            'last_pair_time': None, 'emission_rate_kg_s': None, 'emission_rate_err_kg_s': None,
            'plume_speed_m_s': None, 'plume_speed_err_m_s': None, 'line_column_kg_m': None,
            'line_mean_aa': None, 'processing_ms': None, 'doas_column': None, 'doas_error': None,
            'doas_time': None, 'doas_points': 0, 'background': 'none', 'darks': 0,
            'calibration': {'state': 'none'}, 'last_error': None,
        }

    # -- called by pycamd (any thread; never blocks on processing) --------------------

    def start(self):
        with self._lock:
            if self._thread and self._thread.is_alive():
                return self
            self._stop = False
            self._thread = threading.Thread(target=self._run, name='pycam-processing', daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout=10):
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._thread:
            self._thread.join(timeout)

    def submit_pair(self, on_path, on_meta, off_path, off_meta, on_image=None, off_image=None):
        """A saved on-band (fltrA) and off-band (fltrB) Plume pair of the same slot.

        Everything processing needs (time, exposure, type) is read from the instrument's
        file names; the metadata dicts are accepted for the record. The frames are read from
        the files unless given (uint16 arrays, as saved). Test frames and any other type
        than Plume are ignored here (see submit_image). Returns whether the pair was taken.
        """
        try:
            on, off = parse_image_name(on_path), parse_image_name(off_path)
        except NamingError as e:
            self._error(f'pair not processed: {e}')
            return False
        if on.kind != 'Plume' or off.kind != 'Plume' or on.band != 'on' or off.band != 'off':
            return False
        with self._lock:
            self._status['pairs_received'] += 1
            if self._pair is not None:
                self._status['pairs_skipped'] += 1
            self._pair = (on, dict(on_meta or {}), off, dict(off_meta or {}), on_image, off_image)
            self._lock.notify_all()
        return True

    def submit_image(self, path, meta=None):
        """A saved single frame: Dark, Clear and <N>ppmm frames update the processing;
        Plume frames should come in pairs (submit_pair) and Test frames are ignored."""
        try:
            name = parse_image_name(path)
        except NamingError as e:
            self._error(f'frame not used: {e}')
            return False
        if name.kind not in ('Dark', 'Clear') and name.cell_ppmm is None:
            return False
        self._queue_reference(('image', name))
        return True

    def submit_spectrum(self, path, meta=None):
        """A saved spectrum: Dark spectra are kept for the fits, the newest Plume spectrum is
        fitted when the processor is free."""
        try:
            name = parse_spectrum_name(path)
        except NamingError as e:
            self._error(f'spectrum not used: {e}')
            return False
        if name.kind == 'Dark':
            self._queue_reference(('dark spectrum', name))
            return True
        if name.kind != 'Plume':
            return False
        with self._lock:
            self._status['spectra_received'] += 1
            if self._spectrum is not None:
                self._status['spectra_skipped'] += 1
            self._spectrum = name
            self._lock.notify_all()
        return True

    def __call__(self, saved):
        """pycamd's hook: a SavedImagePair or SavedSpectrum (rockit/pycam/storage/saved.py)."""
        if self._thread is None:
            self.start()
        paths = getattr(saved, 'paths', None)
        if paths is None:
            return self.submit_spectrum(saved.path, getattr(saved, 'metadata', {}))
        metadata = getattr(saved, 'metadata', {}) or {}
        if saved.capture_type == 'Plume':
            images = getattr(saved, 'images', {}) or {}
            return self.submit_pair(paths['fltrA'], metadata.get('fltrA'), paths['fltrB'], metadata.get('fltrB'),
                                    images.get('fltrA'), images.get('fltrB'))
        return all([self.submit_image(path, metadata.get(band)) for band, path in sorted(paths.items())])

    def close(self):
        self.stop()

    def status(self):
        """Plain dict for report_status(): latest results, calibration state, counters."""
        with self._lock:
            status = dict(self._status)
            status['calibration'] = dict(self._status['calibration'])
            status['running'] = bool(self._thread and self._thread.is_alive())
            status['pairs_waiting'] = int(self._pair is not None)
        return status

    def wait_idle(self, timeout=10):
        """Until nothing is waiting or being processed (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pair or self._spectrum or self._references or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    # -- the worker ------------------------------------------------------------------

    def _queue_reference(self, item):
        with self._lock:
            if len(self._references) >= REFERENCE_BACKLOG:
                self._references.popleft()
            self._references.append(item)
            self._lock.notify_all()

    def _error(self, message):
        log.warning('%s', message)
        with self._lock:
            self._status['last_error'] = message

    def _run(self):
        try:
            self._state = _WorkerState(self)
        except Exception as e:  # a broken config must not take the daemon down
            self._error(f'processing not started: {e}')
            return
        while True:
            with self._lock:
                while not (self._stop or self._references or self._pair or self._spectrum):
                    self._lock.wait()
                if self._stop:
                    return
                if self._references:
                    job = ('reference', self._references.popleft())
                elif self._pair:
                    job, self._pair = ('pair', self._pair), None
                else:
                    job, self._spectrum = ('spectrum', self._spectrum), None
                self._busy = True
            try:
                getattr(self._state, job[0])(job[1])
            except Exception as e:  # one bad file must not stop processing
                self._error(f'{job[0]} not processed: {type(e).__name__}: {e}')
                if job[0] == 'pair':
                    with self._lock:
                        self._status['pairs_failed'] += 1
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()

    def _publish(self, **values):
        with self._lock:
            self._status.update(values)


class _WorkerState:
    """What the worker thread holds: the pipeline and everything it was built from."""

    def __init__(self, processor):
        import numpy as np
        from .calibration import Calibration
        from .images import DarkLibrary
        from .pipeline import ProcessingSettings
        self.np = np
        self.p = processor
        config = processor._config
        self.settings = config if isinstance(config, ProcessingSettings) else settings_from_config(config)
        self.darks = DarkLibrary()
        self.clear = {}            # band -> (ImageName, raw frame)
        self.cells = {}            # ppm.m -> [ImageName, ...] of the latest calibration run
        self.cells_time = None
        self.calibration = Calibration.load(processor._calibration_path) if processor._calibration_path else None
        self.pipeline = None
        self.writer = None
        self.writer_day = None
        self.dark_spectra = {}     # integration ms -> counts
        self.doas_fitter = None
        self.doas_points = []      # (AA in the spectrometer's view, column, error)
        self.last_aa = None        # (time, AA image)
        self._publish_calibration()

    # references

    def reference(self, item):
        kind, name = item
        if kind == 'dark spectrum':
            from .doas import load_spectrum
            self.dark_spectra[name.integration_ms] = load_spectrum(name.path)[1]
            return
        from .images import load_png
        frame = load_png(name.path)
        if name.kind == 'Dark':
            self.darks.add(name.band, name.exposure_us, frame)
            self.p._publish(darks=len(self.darks))
        elif name.kind == 'Clear':
            self.clear[name.band] = (name, frame)
        else:
            if self.cells_time is not None and (name.time - self.cells_time).total_seconds() > CELL_SESSION_GAP_S:
                self.cells = {}        # a new calibration run: never mix cells of two runs
            self.cells_time = name.time
            self.cells.setdefault(name.cell_ppmm, []).append(name)
            self._refit_cells()
        self.pipeline = None       # rebuilt with the new references for the next pair

    def _clear_rates(self):
        from .images import counts_per_second
        if set(self.clear) < {'on', 'off'}:
            return None
        rates = {}
        for band, (name, frame) in self.clear.items():
            rates[band] = counts_per_second(frame, self.darks.match(band, name.exposure_us).frame, name.exposure_us)
        return rates

    def _refit_cells(self):
        from .calibration import cell_absorbances, fit_cells
        usable = {c: names for c, names in self.cells.items() if {n.band for n in names} >= {'on', 'off'}}
        rates = self._clear_rates()
        if len(usable) < 2 or rates is None:
            return
        frames, region = cell_absorbances(usable, rates, self.darks, self.settings.registration)
        self.calibration = fit_cells(frames, region, 'live cell captures')
        self.calibration.save(self.p.out_dir / 'calibration.json')
        self._publish_calibration()

    def _publish_calibration(self):
        cal = self.calibration
        state = {'state': 'none'} if cal is None else {
            'state': cal.method, 'slope': _plain(cal.slope), 'intercept': _plain(cal.intercept),
            'r2': _plain(cal.r2), 'unit': cal.unit, 'created': cal.created}
        self.p._publish(calibration=state)

    def _build_pipeline(self):
        from .pipeline import LivePipeline
        from .background import ClearSkyBackground, SkyRegionBackground
        if not {'on', 'off'} <= self.darks.bands():
            raise LookupError('no dark frames for both cameras yet: capture Dark frames (pycam darks)')
        use_clear = not (isinstance(self.p._config, dict) and self.p._config.get('background') == 'sky')
        rates = self._clear_rates() if use_clear else None
        s = self.settings
        background = (SkyRegionBackground(s.sky) if rates is None else
                      ClearSkyBackground(rates['on'], s.registration.apply(rates['off']), s.sky))
        previous = self.pipeline
        self.pipeline = LivePipeline(s, self.darks, background, self.calibration)
        if previous is not None:
            self.pipeline._previous = previous._previous
        self.p._publish(background=background.kind)

    # pairs

    def pair(self, job):
        from .images import load_png
        from .outputs import PairWriter
        on, on_meta, off, off_meta, on_image, off_image = job
        started = time.perf_counter()
        if self.pipeline is None:
            self._build_pipeline()
        on_raw = load_png(on.path) if on_image is None else self.np.asarray(on_image, self.np.float32)
        off_raw = load_png(off.path) if off_image is None else self.np.asarray(off_image, self.np.float32)
        result = self.pipeline.process(on_raw, off_raw, on.exposure_us, off.exposure_us, on.time)
        day = on.time.strftime('%Y-%m-%d')
        if self.writer is None or self.writer_day != day:
            self.writer = PairWriter(self.p.out_dir / day, self.settings, self.calibration, self.p.save_aa)
            self.writer.write_settings(self.settings)
            self.writer_day = day
        self.writer.calibration = self.calibration
        self.writer.write(result)
        self.last_aa = (on.time, result.aa)
        elapsed = (time.perf_counter() - started) * 1000
        with self.p._lock:
            self.p._status['pairs_processed'] += 1
        self.p._publish(last_pair_time=on.time.strftime('%Y-%m-%dT%H:%M:%SZ'),
                        emission_rate_kg_s=_plain(result.emission_rate_kg_s),
                        emission_rate_err_kg_s=_plain(result.emission_rate_err_kg_s),
                        plume_speed_m_s=_plain(result.speed_m_s), plume_speed_err_m_s=_plain(result.speed_err_m_s),
                        line_column_kg_m=_plain(result.line_column_kg_m), line_mean_aa=_plain(result.line_mean_aa),
                        processing_ms=round(elapsed, 1))

    # spectra

    def spectrum(self, name):
        from .doas import DoasFitter, DoasReferences, load_spectrum
        if self.p._doas_references is None:
            return
        if self.doas_fitter is None:
            self.doas_fitter = DoasFitter(DoasReferences.load(self.p._doas_references))
        dark = self.dark_spectra.get(name.integration_ms)
        if dark is None:
            raise LookupError(f'no dark spectrum at {name.integration_ms} ms yet: capture a Dark spectrum')
        wavelengths, counts = load_spectrum(name.path)
        result = self.doas_fitter.fit(wavelengths, counts, dark)
        with self.p._lock:
            self.p._status['spectra_processed'] += 1
        self.p._publish(doas_column=_plain(result.column), doas_error=_plain(result.error),
                        doas_time=name.time.strftime('%Y-%m-%dT%H:%M:%SZ'))
        self._doas_point(name.time, result)

    def _doas_point(self, when, result):
        """Pair a DOAS column with the AA in the spectrometer's view taken within a few
        seconds, and refit the DOAS calibration once enough points span a range of AA."""
        from .calibration import aa_in_field_of_view, doas_calibration
        fov = self.p._doas_fov
        if fov is None or self.last_aa is None or not result.success:
            return
        aa_time, aa = self.last_aa
        if abs((aa_time - when).total_seconds()) > 5:
            return
        self.doas_points.append((aa_in_field_of_view(aa, *fov), result.column, result.error))
        self.p._publish(doas_points=len(self.doas_points))
        replaceable = self.calibration is None or self.calibration.method == 'doas'
        if len(self.doas_points) >= self.p._min_doas_points and replaceable:
            values = self.np.array(self.doas_points)
            if self.np.ptp(values[:, 0]) > 0.02:
                self.calibration = doas_calibration(values[:, 0], values[:, 1], values[:, 2])
                self.calibration.created = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
                self._publish_calibration()
                self.pipeline = None

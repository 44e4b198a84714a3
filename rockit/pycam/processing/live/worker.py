"""What pycamd's processing thread holds and does: references (darks, clear sky, cells)
kept, the pipeline built from them, each pair turned into outputs and status, and the
spectra handed to the DOAS side (doas.py). Runs only on the processing thread, so
numpy and OpenCV load there and nothing here needs a lock of its own.
"""
import datetime
import logging
import math
import time

import numpy as np

from ..background import background_for
from ..calibration.columns import Calibration, cell_absorbances, fit_cells
from ..errors import CalibrationError
from ..calibration.models import PARAMETERS
from ..images import DarkLibrary, counts_per_second, load_png
from .late import DEFAULT_LATE_PAIRS, REPLAY_LATE_PAIRS, LatePairs
from .settings import apply_geometry, light_dilution, live_limits, settings_from_config
from ..outputs import PairWriter
from ..pipeline import LivePipeline, ProcessingSettings

log = logging.getLogger('rockit.pycam.processing')
CELL_SESSION_GAP_S = 1800    # cell frames further apart than this belong to different runs
CELL_CALIBRATION_FILE = 'calibration.json'


def plain(value):
    """JSON/serpent-safe: NaN and infinities become None, numpy scalars Python floats."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class LiveWorker:
    """The pipeline and everything it was built from."""

    def __init__(self, processor):
        self.p = processor
        config = processor._config
        self.settings = config if isinstance(config, ProcessingSettings) else settings_from_config(config)
        if self.settings.geometry is None:
            log.warning('live processing: %s', self.settings.geometry_notes[-1])
        self.p._publish(geometry=(self.settings.geometry_notes or ['none'])[-1])
        self.darks = DarkLibrary()
        self.clear = {}            # band -> (ImageName, raw frame)
        self.cells = {}            # ppm.m -> [ImageName, ...] of the latest calibration run
        self.cells_time = None
        self.pipeline = None
        self.writer = None
        self.writer_day = None
        self.last_aa = None        # (time, AA image)
        self._last_histogram = None  # the flow histogram last kept for diagnostics
        self.limits = live_limits(config if isinstance(config, dict) else {})
        dilution = light_dilution(config) if isinstance(config, dict) else processor._light_dilution
        pycam_outputs = config.get('pycam_outputs') if isinstance(config, dict) else processor._pycam_outputs
        self.clock = None          # the newest data time seen: calibrations age by it
        self.streaming = False     # a pair or spectrum has come
        self.doas = None
        if processor._doas_references is not None:
            from .doas import LiveDoas
            self.doas = LiveDoas(processor._doas_references, processor.out_dir, self.settings, self._publish_doas,
                                 processor._doas_fov, self.limits['doas_window_s'], processor._min_doas_points,
                                 self.limits['doas_pairing_s'], dilution, pycam_outputs)
        self.late = LatePairs(config.get('late_pairs', DEFAULT_LATE_PAIRS) if isinstance(config, dict)
                              else REPLAY_LATE_PAIRS)
        self._publish_late()
        self.pycam_files = None     # PyCam's emission-rate files, when the config asks for them
        if pycam_outputs:
            from ..pycam_outputs import PycamEmissionFiles
            self.pycam_files = PycamEmissionFiles(processor.out_dir, self.settings, fresh=False)
        self.calibration = None
        self.waiting = None        # why the cells captured have not given a calibration yet
        self.candidates = self._first_calibrations(processor._calibration_path)
        self._choose_calibration()

    def _first_calibrations(self, configured):
        """{'configured', 'cell', 'doas': Calibration or None}: the configured calibration, and
        the cell and DOAS calibrations saved before a restart (used while within their age)."""
        if configured:
            return {'configured': Calibration.load(configured), 'cell': None, 'doas': None}
        cells, saved = self.p.out_dir / CELL_CALIBRATION_FILE, None
        if cells.is_file():
            try:
                saved = Calibration.load(cells)
            except CalibrationError as e:
                log.warning('saved cell calibration not used: %s', e)
        return {'configured': None, 'cell': saved, 'doas': self.doas.saved_calibration() if self.doas else None}

    def _now(self):
        return self.clock or datetime.datetime.now(datetime.timezone.utc)

    def _see(self, when, reference=False):
        """Data taken at `when` has come: the clock calibrations age by moves on. Darks,
        clear sky and cells move it only until the first pair or spectrum, which sets it:
        an archive replayed (batch/replay.py) gives them first, whenever they were taken."""
        if reference and self.streaming:
            return
        if not reference and not self.streaming:
            self.streaming, self.clock = True, when
        elif self.clock is None or when > self.clock:
            self.clock = when

    def _age_s(self, calibration):
        taken = calibration.data_time()
        return None if taken is None else max((self._now() - taken).total_seconds(), 0.0)

    def _expired(self, kind, calibration):
        """A live cell or DOAS calibration older than its limit (a configured one never is)."""
        limit = self.limits.get(f'{calibration.method}_calibration_max_age_s')
        age = self._age_s(calibration)
        return kind != 'configured' and limit is not None and age is not None and age > limit

    def _choose_calibration(self):
        """The newest calibration within its age limit: a DOAS calibration never outranks
        newer cells, nor cells a newer DOAS calibration; an expired one is never used. The
        pairs kept while there was none are processed again with the one adopted."""
        usable = [(c.data_time() or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc), c)
                  for kind, c in self.candidates.items() if c is not None and not self._expired(kind, c)]
        chosen = max(usable, key=lambda u: u[0])[1] if usable else None
        adopted = chosen is not self.calibration
        if adopted:
            self.calibration = chosen
            if self.pipeline is not None:
                # Swapped in, not rebuilt: the speed's history (the cross-correlation
                # window) must outlive a new calibration.
                self.pipeline.calibration = chosen
        self._publish_calibration()
        if adopted and chosen is not None:
            self._recompute_late()

    # references

    def reference(self, item):
        kind, name = item
        if kind == 'fov search':
            if self.doas is not None:
                self.doas.request_search()
            return
        if kind == 'geometry':
            self._set_geometry(name)
            return
        if kind == 'dark spectrum':
            if self.doas:
                self.doas.dark(name)
            return
        self._see(name.time, reference=True)
        self._choose_calibration()        # a saved one may be within its age by this data's time
        frame = load_png(name.path)
        if name.kind == 'Dark':
            self.darks.add(name.band, name.exposure_us, frame)
            self.p._publish(darks=len(self.darks))
        elif name.kind == 'Clear':
            self.clear[name.band] = (name, frame)
        else:
            self.pipeline = None   # late pairs recomputed with a new cell calibration see this frame's references
            if self.cells_time is not None and (name.time - self.cells_time).total_seconds() > CELL_SESSION_GAP_S:
                self.cells = {}        # a new calibration run: never mix cells of two runs
            self.cells_time = name.time
            self.cells.setdefault(name.cell_ppmm, []).append(name)
            self._refit_cells()
        self.pipeline = None       # rebuilt with the new references for the next pair
        self._recompute_late()

    def _set_geometry(self, changes):
        """An operator's lines, sky region or view: the pipeline and the day's writer are made
        again with them (the run's settings file says them; the CSV's columns follow the lines)."""
        apply_geometry(self.settings, changes)
        if 'doas_fov' in changes and self.doas is not None:
            self.doas.set_view(changes['doas_fov'])
        self.pipeline, self.writer = None, None
        if self.pycam_files is not None:
            from ..pycam_outputs import PycamEmissionFiles
            self.pycam_files = PycamEmissionFiles(self.p.out_dir, self.settings, fresh=False)
        log.info('live processing: %s set', ', '.join(sorted(changes)))

    def _clear_rates(self):
        if set(self.clear) < {'on', 'off'}:
            return None
        return {band: counts_per_second(frame, self.darks.match(band, name.exposure_us).frame, name.exposure_us)
                for band, (name, frame) in self.clear.items()}

    def _refit_cells(self):
        usable = {c: names for c, names in self.cells.items() if {n.band for n in names} >= {'on', 'off'}}
        rates = self._clear_rates()
        if len(usable) < PARAMETERS[self.settings.calibration_model] or rates is None:
            # More cells of this run may still come; until then status says what is missing.
            model, needed = self.settings.calibration_model, PARAMETERS[self.settings.calibration_model]
            self.waiting = (f'a {model} calibration needs {needed} cell captures with both cameras, '
                            f'0 ppm.m among them; so far {", ".join(map(str, sorted(usable))) or "none"}'
                            + ('' if rates is not None else '; and Clear frames of both cameras'))
            self._publish_calibration()
            return
        self.waiting = None
        frames, region = cell_absorbances(usable, rates, self.darks, self.settings.registration)
        calibration = fit_cells(frames, region, 'live cell captures', self.settings.calibration_model)
        calibration.measured = self.cells_time.strftime('%Y-%m-%dT%H:%M:%SZ')
        calibration.save(self.p.out_dir / CELL_CALIBRATION_FILE)
        self.candidates['cell'] = calibration
        self._choose_calibration()

    def _publish_calibration(self):
        cal = self.calibration
        state = {'state': 'none', **({'waiting': self.waiting} if self.waiting else {})} if cal is None else {
            'state': cal.method, 'model': cal.model, 'slope': plain(cal.slope), 'intercept': plain(cal.intercept),
            'r2': plain(cal.r2), 'unit': cal.unit, 'created': cal.created, 'measured': cal.measured,
            'age_s': plain(self._age_s(cal)), 'max_age_s': self.limits.get(f'{cal.method}_calibration_max_age_s')}
        expired = sorted(c.method for kind, c in self.candidates.items() if c is not None and self._expired(kind, c))
        if expired:
            state['expired'] = expired
        self.p._publish(calibration=state)

    def _build_pipeline(self):
        if not {'on', 'off'} <= self.darks.bands():
            raise LookupError('no dark frames for both cameras yet: capture Dark frames (pycam darks)')
        s = self.settings
        background = background_for(s, self._clear_rates() if s.background == 'clear' else None)
        # The last AA image is the worker's, not the pipeline's: a new calibration or
        # reference rebuilds the pipeline, and the next pair's flow still needs it.
        self.pipeline = LivePipeline(s, self.darks, background, self.calibration, previous=self.last_aa)
        self.p._publish(background=background.kind)

    # pairs

    def pair(self, job):
        on, on_meta, off, off_meta, on_image, off_image = job
        started = time.perf_counter()
        self._see(on.time)
        self._choose_calibration()        # the one in use may have expired by this pair's time
        if self.pipeline is None:
            self._build_pipeline()
        on_raw = load_png(on.path) if on_image is None else np.asarray(on_image, np.float32)
        off_raw = load_png(off.path) if off_image is None else np.asarray(off_image, np.float32)
        result = self.pipeline.process(on_raw, off_raw, on.exposure_us, off.exposure_us, on.time)
        self._writer_for(on.time).write(result)
        if self.pycam_files is not None:
            self.pycam_files.append(result)
        if self.calibration is None:
            self.late.keep(on, off)
            self._publish_late()
        self.last_aa = (on.time, result.aa)
        self._keep_diagnostics(on.time)
        elapsed = (time.perf_counter() - started) * 1000
        if self.doas is not None:
            self._doas_calibrated(self.doas.image(on.time, result.aa))
        with self.p._lock:
            self.p._status['pairs_processed'] += 1
        self.p._publish(last_pair_time=on.time.strftime('%Y-%m-%dT%H:%M:%SZ'),
                        emission_rate_kg_s=plain(result.emission_rate_kg_s),
                        emission_rate_err_kg_s=plain(result.emission_rate_err_kg_s),
                        plume_speed_m_s=plain(result.speed_m_s), plume_speed_err_m_s=plain(result.speed_err_m_s),
                        line_column_kg_m=plain(result.line_column_kg_m), line_mean_aa=plain(result.line_mean_aa),
                        valid_fraction=plain(result.valid_fraction), processing_ms=round(elapsed, 1),
                        dilution=self._dilution_status(result))

    def _keep_diagnostics(self, when):
        """The background's and the first line's flow figures of this pair (already
        computed by the pipeline), for pycamd's diagnostics query."""
        at = when.strftime('%Y-%m-%dT%H:%M:%SZ')
        found = {}
        background = self.pipeline.absorbance.last_background
        if background is not None:
            found['background'] = {'at': at, **background}
        histogram = self.pipeline.flow_histogram()
        if histogram is not None and histogram is not self._last_histogram:
            found['flow'] = {'at': at, 'line': self.settings.lines[0].name or 'line1', 'mode': self.settings.speed_mode,
                             **histogram}
        self._last_histogram = histogram
        with self.p._lock:
            self.p._diagnostics.update(found)

    def _dilution_status(self, result):
        """The extinction per km the pair was corrected with, how it was had (fixed, this
        pair's terrain fit with its quality, or the last good fit when this one failed)."""
        correction = self.settings.dilution
        if correction is None:
            return None
        used = result.dilution or {}
        fits = correction.last_fit or {}
        return {'on_per_km': plain(used.get('on', float('nan'))), 'off_per_km': plain(used.get('off', float('nan'))),
                'plume_distance_m': correction.distance_m,
                'source': 'fixed' if correction.per_km is not None else 'terrain fit' if fits else 'last terrain fit',
                'fit': {band: {'per_km_err': plain(fit.per_km_err), 'r2': plain(fit.r2)} for band, fit in fits.items()}
                or None}

    def _writer_for(self, when):
        day = when.strftime('%Y-%m-%d')
        if self.writer is None or self.writer_day != day:
            self.writer = PairWriter(self.p.out_dir / day, self.settings, self.calibration, self.p.save_aa)
            self.writer.write_settings(self.settings)
            self.writer_day = day
        if self.writer.calibration is not self.calibration:
            self.writer.calibration = self.calibration
            self.writer.write_settings(self.settings)     # the run's settings name the calibration in use
        return self.writer

    def _recompute_late(self):
        """The pairs kept from before the first calibration, processed again now there is one."""
        if self.calibration is None or not len(self.late):
            return
        if self.pipeline is None:
            self._build_pipeline()
        fresh = LivePipeline(self.settings, self.darks, self.pipeline.absorbance.background, self.calibration)
        self.late.recompute(fresh, self._writer_for)
        self._publish_late()

    def _publish_late(self):
        self.p._publish(late_pairs_waiting=len(self.late), late_pairs_recomputed=self.late.recomputed,
                        late_pairs_dropped=self.late.dropped)

    # spectra

    def spectrum(self, name):
        if self.doas is None:
            return
        self._see(name.time)
        calibration = self.doas.spectrum(name)
        with self.p._lock:
            self.p._status['spectra_processed'] += 1
        self._doas_calibrated(calibration)

    def _doas_calibrated(self, calibration):
        if calibration is not None:
            self.candidates['doas'] = calibration
            self._choose_calibration()

    def _publish_doas(self, **values):
        self.p._publish(**{k: plain(v) if isinstance(v, float) else v for k, v in values.items()})

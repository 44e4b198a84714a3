"""What pycamd's processing thread holds and does: references (darks, clear sky, cells)
kept, the pipeline built from them, each pair turned into outputs and status, and the
spectra handed to the DOAS side (doas.py). Runs only on the processing thread, so
numpy and OpenCV load there and nothing here needs a lock of its own.
"""
import logging
import math
import time

import numpy as np

from ..background import ClearSkyBackground, SkyRegionBackground
from ..calibration.columns import Calibration, cell_absorbances, fit_cells
from ..errors import CalibrationError
from ..calibration.models import PARAMETERS
from ..images import DarkLibrary, counts_per_second, load_png
from .late import DEFAULT_LATE_PAIRS, LatePairs
from .settings import settings_from_config
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
        self.doas = None
        if processor._doas_references is not None:
            from .doas import LiveDoas
            config = config if isinstance(config, dict) else {}
            self.doas = LiveDoas(processor._doas_references, processor.out_dir, self.settings, self._publish_doas,
                                 processor._doas_fov, config.get('doas_window_s', 1800), processor._min_doas_points)
        self.calibration = self._first_calibration(processor._calibration_path)
        self.late = LatePairs(config.get('late_pairs', DEFAULT_LATE_PAIRS) if isinstance(config, dict)
                              else DEFAULT_LATE_PAIRS)
        self._publish_late()
        self.pycam_files = None     # PyCam's emission-rate files, when the config asks for them
        if isinstance(config, dict) and config.get('pycam_outputs'):
            from ..pycam_outputs import PycamEmissionFiles
            self.pycam_files = PycamEmissionFiles(processor.out_dir, self.settings, fresh=False)
        self._publish_calibration()

    def _first_calibration(self, configured):
        """The configured calibration, else the one saved before a restart (DOAS first: it
        is the one that replaces cells live)."""
        if configured:
            return Calibration.load(configured)
        saved = self.doas.saved_calibration() if self.doas else None
        cells = self.p.out_dir / CELL_CALIBRATION_FILE
        if saved is None and cells.is_file():
            try:
                saved = Calibration.load(cells)
            except CalibrationError as e:
                log.warning('saved cell calibration not used: %s', e)
        return saved

    # references

    def reference(self, item):
        kind, name = item
        if kind == 'dark spectrum':
            if self.doas:
                self.doas.dark(name)
            return
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
        self._recompute_late()

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
            self._publish_calibration(f'a {model} calibration needs {needed} cell captures with both cameras, '
                                      f'0 ppm.m among them; so far {", ".join(map(str, sorted(usable))) or "none"}'
                                      + ('' if rates is not None else '; and Clear frames of both cameras'))
            return
        if self.calibration is not None and self.calibration.method == 'doas':
            return                 # the plume's own light path calibrates; cells are the fallback
        frames, region = cell_absorbances(usable, rates, self.darks, self.settings.registration)
        self.calibration = fit_cells(frames, region, 'live cell captures', self.settings.calibration_model)
        self.calibration.save(self.p.out_dir / CELL_CALIBRATION_FILE)
        self._publish_calibration()

    def _publish_calibration(self, waiting=None):
        """waiting: why cells captured have not given a calibration yet (none in use)."""
        cal = self.calibration
        state = {'state': 'none', **({'waiting': waiting} if waiting else {})} if cal is None else {
            'state': cal.method, 'model': cal.model, 'slope': plain(cal.slope), 'intercept': plain(cal.intercept),
            'r2': plain(cal.r2), 'unit': cal.unit, 'created': cal.created}
        self.p._publish(calibration=state)

    def _build_pipeline(self):
        if not {'on', 'off'} <= self.darks.bands():
            raise LookupError('no dark frames for both cameras yet: capture Dark frames (pycam darks)')
        use_clear = not (isinstance(self.p._config, dict) and self.p._config.get('background') == 'sky')
        rates = self._clear_rates() if use_clear else None
        s = self.settings
        background = (SkyRegionBackground(s.sky) if rates is None else
                      ClearSkyBackground(rates['on'], s.registration.apply(rates['off']), s.sky))
        # The last AA image is the worker's, not the pipeline's: a new calibration or
        # reference rebuilds the pipeline, and the next pair's flow still needs it.
        self.pipeline = LivePipeline(s, self.darks, background, self.calibration, previous=self.last_aa)
        self.p._publish(background=background.kind)

    # pairs

    def pair(self, job):
        on, on_meta, off, off_meta, on_image, off_image = job
        started = time.perf_counter()
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
        elapsed = (time.perf_counter() - started) * 1000
        with self.p._lock:
            self.p._status['pairs_processed'] += 1
        self.p._publish(last_pair_time=on.time.strftime('%Y-%m-%dT%H:%M:%SZ'),
                        emission_rate_kg_s=plain(result.emission_rate_kg_s),
                        emission_rate_err_kg_s=plain(result.emission_rate_err_kg_s),
                        plume_speed_m_s=plain(result.speed_m_s), plume_speed_err_m_s=plain(result.speed_err_m_s),
                        line_column_kg_m=plain(result.line_column_kg_m), line_mean_aa=plain(result.line_mean_aa),
                        valid_fraction=plain(result.valid_fraction), processing_ms=round(elapsed, 1))

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
        calibration = self.doas.spectrum(name, self.last_aa)
        with self.p._lock:
            self.p._status['spectra_processed'] += 1
        if calibration is not None:
            self.calibration = calibration
            self._publish_calibration()
            if self.pipeline is not None:
                # Swapped in, not rebuilt: a refit comes with every spectrum, and the speed's
                # history (the cross-correlation window) must outlive it.
                self.pipeline.calibration = calibration
            self._recompute_late()

    def _publish_doas(self, **values):
        self.p._publish(**{k: plain(v) if isinstance(v, float) else v for k, v in values.items()})

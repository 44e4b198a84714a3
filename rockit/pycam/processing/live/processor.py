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
import logging
import math
import threading
import time
from pathlib import Path

from ...instrument import OFF_BAND, ON_BAND
from ...errors import NamingError
from ...storage.names import parse_image_name, parse_spectrum_name

log = logging.getLogger('rockit.pycam.processing')
REFERENCE_BACKLOG = 1000


class LiveProcessor:
    """Processes what pycamd saves, in the background.

    out_dir: where results go, in date folders: <out_dir>/<YYYY-MM-DD>/emission_rates.csv
    and so2/<time>_aa.npy|png. config: pycamd's processing keys (see settings_from_config),
    or a ready ProcessingSettings. calibration: a calibration.json to start with (cell
    frames captured later replace it). doas_references: the DOAS reference folder; without
    it spectra are counted but not fitted. doas_fov: [x, y, radius] of the spectrometer's
    view in on-band pixels, to pair DOAS columns with AA for a DOAS calibration. save_aa:
    write each pair's AA array and preview (1.2 MB a pair) or only its CSV row.
    light_dilution: the spectrometer's correction (DilutionSettings), and pycam_outputs:
    PyCam's emission-rate files too, when config is a ready ProcessingSettings (a config
    dict has its own keys for both).

    pycamd calls the processor itself with each saved capture (see rockit/pycam/storage/saved.py)
    and calls status() and close(); submit_pair, submit_image and submit_spectrum are the
    same hook by file paths.
    """

    def __init__(self, out_dir, config=None, calibration=None, doas_references=None, doas_fov=None,
                 min_doas_points=10, save_aa=True, light_dilution=None, pycam_outputs=False):
        self.out_dir = Path(out_dir)
        self.save_aa = save_aa
        self._config = config or {}
        self._calibration_path = calibration
        self._doas_references = doas_references
        self._doas_fov = doas_fov
        self._min_doas_points = min_doas_points
        self._light_dilution = light_dilution   # with ready ProcessingSettings (a replay); a config has its keys
        self._pycam_outputs = pycam_outputs
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
            'doas_time': None, 'doas_points': 0, 'doas_fov': None, 'doas_fov_searches': 0, 'valid_fraction': None, 'geometry': None,
            'background': 'none', 'darks': 0, 'dilution': None,
            'calibration': {'state': 'none'}, 'last_error': None,
        }
        self._diagnostics = {'background': None, 'flow': None}   # the last pair's, replaced whole

    # -- called by pycamd (any thread; never blocks on processing) --------------------

    def start(self):
        with self._lock:
            if self._thread and self._thread.is_alive():
                return self
            self._stop = False
            self._busy = True          # until the worker has loaded what it starts from
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

    def request_fov_search(self):
        """Search for the spectrometer's field of view again with the next pairings (one
        found by a search is otherwise kept until a refit over it is refused). Returns why
        there is nothing to search for, or '' once the search is queued."""
        if self._doas_references is None:
            return 'no DOAS references: spectra are not fitted, so there is no view to find'
        if self._doas_fov is not None:
            return 'the field of view is fixed (processing doas_fov, or set with pycam geometry), not searched for'
        self._queue_reference(('fov search', None))
        return ''

    def set_geometry(self, changes):
        """Integration lines, sky region and view {integration_line, sky_region, doas_fov}
        (any of them, checked: ../../image_geometry.py) used from the next pair on, before
        any pair waiting. A view given is fixed as a configured one is; None has it searched for."""
        with self._lock:
            if 'doas_fov' in changes:
                self._doas_fov = changes['doas_fov']
        self._queue_reference(('geometry', dict(changes)))

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
            return self.submit_pair(paths[ON_BAND], metadata.get(ON_BAND), paths[OFF_BAND], metadata.get(OFF_BAND),
                                    images.get(ON_BAND), images.get(OFF_BAND))
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

    def diagnostics(self):
        """What the last pair and the last field-of-view search made, as the processing
        thread left them (nothing computed here): {'background', 'flow', 'fov'}, each None
        before its first, else with 'at' (the data's time). 'fov' holds the correlation
        map (float32, binned) and the view found or the reason none was; 'fov_search' says
        whether this processor searches at all (DOAS on, no configured view)."""
        with self._lock:
            found = dict(self._diagnostics)
        doas = getattr(getattr(self, '_state', None), 'doas', None)
        found['fov'] = getattr(doas, 'last_search', None)
        found['fov_search'] = self._doas_references is not None and self._doas_fov is None
        return found

    def doas_points(self):
        """[[AA, column, error], ...] (molecules/cm^2) the adopted DOAS calibration was fitted
        to, for a plot (a point without an AA or a column was not: left out; an error without
        a value is None); [] before one. Kept in memory only: written with each refit, up to
        1800 points a second would wear an SD card."""
        doas = getattr(getattr(self, '_state', None), 'doas', None)
        return [[aa, column, error if math.isfinite(error) else None]
                for aa, column, error in getattr(doas, 'fitted_points', ())
                if math.isfinite(aa) and math.isfinite(column)]

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
            from .worker import LiveWorker
            self._state = LiveWorker(self)
        except Exception as e:  # a broken config must not take the daemon down
            self._error(f'processing not started: {e}')
            return
        finally:
            with self._lock:
                self._busy = False
                self._lock.notify_all()
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

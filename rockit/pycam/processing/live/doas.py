"""pycamd's spectrometer side of processing, on the processing thread: each Plume spectrum
fitted by DOAS and logged, paired with the AA image taken with it, and the pairs of the
last `window_s` (PyCam keeps 30 minutes) fitted into the DOAS calibration, which is saved
and taken up again after a restart.

Where the spectrometer looks in the image is configured (`doas_fov`) or found from the
data (../doas/fov.py): until it is found, each pairing keeps a binned AA image, and the search
runs again every few pairings, so the view follows the data.
"""
import collections
import datetime
import logging

import numpy as np

from rockit.common.files import atomic_write

from ..doas import fov as fov_search
from ..calibration.columns import Calibration, aa_in_field_of_view, doas_calibration
from ..errors import CalibrationError
from ..doas.fit import DoasFitter, DoasReferences, load_spectrum
from ..output_names import DOAS_CALIBRATION_NAME, DOAS_FIT_NAME
from ..outputs import doas_fit_npz, doas_log, doas_row

log = logging.getLogger('rockit.pycam.processing')
DOAS_CALIBRATION_FILE = DOAS_CALIBRATION_NAME
PAIRING_S = 5.0            # a spectrum pairs with an AA image taken this close to it
MIN_AA_SPREAD = 0.02       # the points must span this much AA to fit a line through them
SEARCH_SAMPLES = 240       # binned AA images kept for the search (about 19 MB at 648 x 486)
SEARCH_EVERY = 10          # pairings between searches
MIN_SEARCH_CORRELATION = 0.5


class LiveDoas:
    """DOAS columns in, DOAS calibrations out; publish(**status) reports as it goes."""

    def __init__(self, references, out_dir, settings, publish, fov=None, window_s=1800, min_points=10):
        self.out_dir = out_dir
        self.settings = settings
        self.publish = publish
        self.references = references
        self.fitter = None
        self.dark_spectra = {}     # integration ms -> counts
        self._substituted = set()  # integration times told to be using another's dark
        self.fov = fov_search.FieldOfView(*[float(v) for v in fov], correlation=float('nan')) if fov else None
        self.fov_source = 'configured' if fov else None
        self.window_s = float(window_s)
        self.min_points = int(min_points)
        self.points = collections.deque()     # (time, AA in the view, column, error)
        self.samples = collections.deque(maxlen=SEARCH_SAMPLES)   # (time, binned AA, column, error)
        self._since_search = 0
        self._log, self._log_day = None, None
        self._publish_fov()

    def saved_calibration(self):
        """The DOAS calibration saved before a restart, if any."""
        path = self.out_dir / DOAS_CALIBRATION_FILE
        if not path.is_file():
            return None
        try:
            return Calibration.load(path)
        except CalibrationError as e:
            log.warning('saved DOAS calibration not used: %s', e)
            return None

    def dark(self, name):
        self.dark_spectra[name.integration_ms] = load_spectrum(name.path)[1]

    def spectrum(self, name, last_aa):
        """Fit one Plume spectrum; returns a new DOAS calibration or None."""
        if self.fitter is None:
            self.fitter = DoasFitter(DoasReferences.load(self.references))
        dark = self._dark_for(name.integration_ms)
        result = self.fitter.fit(*load_spectrum(name.path), dark)
        self._write(name, result)
        self.publish(doas_column=result.column, doas_error=result.error,
                     doas_time=name.time.strftime('%Y-%m-%dT%H:%M:%SZ'))
        if not result.success or last_aa is None or abs((last_aa[0] - name.time).total_seconds()) > PAIRING_S:
            return None
        return self._pair(name.time, last_aa[1], result.column, result.error)

    def _dark_for(self, integration_ms):
        """The dark at this integration time, else the nearest one (said once per time):
        the Flame-S's dark is mostly its offset, which does not change with integration."""
        if integration_ms in self.dark_spectra:
            return self.dark_spectra[integration_ms]
        if not self.dark_spectra:
            raise LookupError(f'no dark spectrum yet (at {integration_ms} ms): capture a Dark spectrum')
        nearest = min(self.dark_spectra, key=lambda ms: abs(ms - integration_ms))
        if integration_ms not in self._substituted:
            self._substituted.add(integration_ms)
            log.warning('no dark spectrum at %d ms: using the nearest, %d ms', integration_ms, nearest)
        return self.dark_spectra[nearest]

    def _write(self, name, result):
        """The fit's row, and the fit itself (the newest only) for viewers to draw."""
        day = name.time.strftime('%Y-%m-%d')
        if self._log_day != day:
            self._log, self._log_day = doas_log(self.out_dir / day), day
        atomic_write(self.out_dir / day / DOAS_FIT_NAME, doas_fit_npz(name.path.name, result))
        self._log.append(doas_row(name.time, name.path.name, result, self.settings.units))

    def _pair(self, when, aa, column, error):
        if self.fov_source != 'configured':
            self.samples.append((when, fov_search.binned(aa), column, error))
            self._since_search += 1
            if self._since_search >= SEARCH_EVERY and len(self.samples) >= fov_search.MIN_SAMPLES:
                self._search()
        if self.fov is not None:
            self.points.append((when, aa_in_field_of_view(aa, self.fov.x, self.fov.y, self.fov.radius), column, error))
        while self.points and (when - self.points[0][0]).total_seconds() > self.window_s:
            self.points.popleft()
        self.publish(doas_points=len(self.points))
        return self._refit()

    def _search(self):
        self._since_search = 0
        recent = [s for s in self.samples if (self.samples[-1][0] - s[0]).total_seconds() <= self.window_s]
        try:
            found = fov_search.search([s[1] for s in recent], [s[2] for s in recent])
        except fov_search.FovError:
            return
        if found.correlation < MIN_SEARCH_CORRELATION or found == self.fov:
            return
        self.fov, self.fov_source = found, 'search'
        # The points so far move to the new view, read from the binned images kept.
        factor = fov_search.BINNING
        self.points = collections.deque(
            (when, aa_in_field_of_view(small, (found.x - (factor - 1) / 2) / factor,
                                       (found.y - (factor - 1) / 2) / factor, max(found.radius / factor, 0.5)),
             column, error) for when, small, column, error in recent)
        log.info('spectrometer field of view found at (%.0f, %.0f), radius %.0f px, r = %.2f',
                 found.x, found.y, found.radius, found.correlation)
        self._publish_fov()

    def _refit(self):
        if len(self.points) < self.min_points:
            return None
        values = np.array([p[1:] for p in self.points], float)
        if np.ptp(values[:, 0]) <= MIN_AA_SPREAD:
            return None
        calibration = doas_calibration(values[:, 0], values[:, 1], values[:, 2], self.settings.doas_calibration_model)
        calibration.created = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        calibration.region = [self.fov.x, self.fov.y, self.fov.radius]
        calibration.source = f'DOAS, {len(self.points)} points over the last {self.window_s:g} s'
        calibration.save(self.out_dir / DOAS_CALIBRATION_FILE)
        return calibration

    def _publish_fov(self):
        self.publish(doas_fov=None if self.fov is None else {
            'x': round(self.fov.x, 1), 'y': round(self.fov.y, 1), 'radius': round(self.fov.radius, 1),
            'source': self.fov_source})

"""pycamd's spectrometer side of processing, on the processing thread: each Plume spectrum
fitted by DOAS and logged, paired with the AA in its field of view at the spectrum's own
time (interpolated between the AA images before and after it, as PyCam pairs them, when
one of them is within `pairing_s`), and the pairs of the last `window_s` (PyCam keeps 30
minutes) fitted into the DOAS calibration, which is saved and taken up again after a
restart. A refit is adopted only when the AA and the columns correlate beyond chance
(counting the samples autocorrelated series are worth) with a positive slope and an r2
of at least MIN_R2.

With light dilution on (`light_dilution`, ../doas/dilution.py) each spectrum is also
fitted in the two dilution windows: its corrected column and light dilution factor go into
doas_columns.csv and status, and the calibration is fitted to the corrected columns. A
spectrum whose columns are within noise of zero (clear sky) has no dilution to correct:
its own column goes into the calibration, as the anchor at low AA; one off the grid is
left out.
The grid is made from the first spectrum and kept in light_dilution_grid.npz.

Where the spectrometer looks in the image is configured (`doas_fov`) or found from the
data (../doas/fov.py): until it is found, each pairing keeps a binned AA image and the
search runs every few pairings; once found, it runs again only when the view is lost (a
refit over it is refused) or on request. An operator may set the view (set_view): it is
then fixed as a configured one is, until the operator asks for a search again.
"""
import collections
import datetime
import logging
import math

import numpy as np

from rockit.common.files import atomic_write

from ..doas import fov as fov_search
from ..calibration.columns import Calibration, aa_in_field_of_view, doas_calibration
from ..errors import CalibrationError
from ..doas.fit import DoasFitter, DoasReferences, load_spectrum
from ..errors import DoasError
from ..output_names import DILUTION_GRID_NAME, DOAS_CALIBRATION_NAME, DOAS_FIT_NAME
from ..outputs import doas_fit_npz, doas_log, doas_row

log = logging.getLogger('rockit.pycam.processing')
DOAS_CALIBRATION_FILE = DOAS_CALIBRATION_NAME
PAIRING_S = 2.0            # a spectrum pairs with the AA when an image is this close to it
MIN_AA_SPREAD = 0.02       # the points must span this much AA to fit a line through them
MIN_R2 = 0.5               # a refit explaining less of the columns' scatter is not adopted
SEARCH_SAMPLES = 240       # binned AA images kept for the search (about 19 MB at 648 x 486)
SEARCH_EVERY = 10          # pairings between searches while no view is found
FIXED = ('configured', 'set')   # views never searched for: the config's, and one an operator set
PENDING_SPECTRA = 50       # fitted spectra waiting for the AA image after them


def iso(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


class LiveDoas:
    """DOAS columns in, DOAS calibrations out; publish(**status) reports as it goes."""

    def __init__(self, references, out_dir, settings, publish, fov=None, window_s=1800, min_points=10,
                 pairing_s=PAIRING_S, dilution=None, pycam_outputs=False):
        self.out_dir = out_dir
        self.settings = settings
        self.publish = publish
        self.references = references
        self.fitter = None
        self.dilution = dilution     # DilutionSettings, or None: no correction
        self.correction = None
        self.pycam_results = None
        if pycam_outputs:          # PyCam's doas_results files beside ours
            from ..pycam_outputs import PycamDoasResults
            self.pycam_results = PycamDoasResults(out_dir)
        self.dark_spectra = {}     # integration ms -> counts
        self._substituted = set()  # integration times told to be using another's dark
        self.fov = fov_search.FieldOfView(*[float(v) for v in fov], correlation=float('nan')) if fov else None
        self.fov_source = 'configured' if fov else None
        self.window_s = float(window_s)
        self.min_points = int(min_points)
        self.pairing_s = float(pairing_s)
        self.points = collections.deque()     # (time, AA in the view, column, error)
        self.fitted_points = ()    # [AA, column, error] of the adopted calibration, replaced whole (for plots)
        self.last_search = None    # the last search's correlation map and outcome, replaced whole (for plots)
        self.samples = collections.deque(maxlen=SEARCH_SAMPLES)   # (time, binned AA, column, error)
        self.images = collections.deque(maxlen=2)                 # (time, AA image): the last two
        self.pending = collections.deque(maxlen=PENDING_SPECTRA)  # (time, column, error) awaiting an image
        self._since_search = 0
        self._searches = 0
        self._search_due = fov is None
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

    def request_search(self):
        """Search for the field of view again at the next pairing (a fixed one stays)."""
        if self.fov_source not in FIXED:
            self._search_due = True
            self._since_search = SEARCH_EVERY

    def set_view(self, view):
        """An operator's view [x, y, radius], fixed from now on, the points so far read
        again in it from the binned images kept; None: searched for from the next pairing."""
        if view is None:
            self.fov, self.fov_source = None, None
            self.points = collections.deque()
            self._search_due, self._since_search = True, SEARCH_EVERY
        else:
            self.fov = fov_search.FieldOfView(*[float(v) for v in view], correlation=float('nan'))
            self.fov_source, self._search_due = 'set', False
            self.points = self._points_in(self.fov, self.samples)
        self.publish(doas_points=len(self.points))
        self._publish_fov()

    def image(self, when, aa):
        """A new AA image: the spectra waiting for it are paired. A new calibration or None."""
        self.images.append((when, aa))
        return self._pair_waiting()

    def spectrum(self, name):
        """Fit one Plume spectrum and pair it once the AA around its time is known; returns
        a new DOAS calibration or None."""
        if self.fitter is None:
            self.fitter = DoasFitter(DoasReferences.load(self.references))
        dark = self._dark_for(name.integration_ms)
        spectrum = load_spectrum(name.path)
        result = self.fitter.fit(*spectrum, dark)
        diluted = self._corrected(spectrum, dark) if self.dilution else None
        self._write(name, result, diluted)
        self.publish(doas_column=result.column, doas_error=result.error, doas_time=iso(name.time))
        column, error = result.column, result.error
        if diluted is not None:
            self.publish(doas_corrected_column=diluted.column, doas_corrected_error=diluted.error,
                         doas_ldf=diluted.ldf, doas_ldf_error=diluted.ldf_error, doas_dilution_note=diluted.reason)
            if diluted.corrected or not diluted.within_noise:
                column, error = diluted.column, diluted.error
        if not (result.success and math.isfinite(column)):
            return None
        self.pending.append((name.time, column, error))
        return self._pair_waiting()

    def _corrected(self, spectrum, dark):
        """The spectrum's light dilution correction (the grid made from the first one)."""
        from ..doas.dilution import DilutionCorrection, DilutionResult
        if self.correction is None:
            self.correction = DilutionCorrection(self.references, self.dilution, self.out_dir / DILUTION_GRID_NAME)
        try:
            return self.correction.correct(*spectrum, dark)
        except DoasError as e:
            nan = math.nan
            return DilutionResult(nan, nan, nan, nan, (nan, nan), (nan, nan), str(e))

    def _pair_waiting(self):
        calibration, waiting = None, collections.deque(maxlen=PENDING_SPECTRA)
        for when, column, error in self.pending:
            aa = self._aa_at(when)
            if aa is False:
                waiting.append((when, column, error))
            elif aa is not None:
                calibration = self._pair(when, aa, column, error) or calibration
        self.pending = waiting
        return calibration

    def _aa_at(self, when):
        """The AA image at `when`: interpolated between the images before and after it, or
        the nearer alone when there is no other side; None when no image is within
        pairing_s, False while the image after it may still come."""
        if not self.images:
            return False
        after = [(t, aa) for t, aa in self.images if t >= when]
        before = [(t, aa) for t, aa in self.images if t <= when]
        if not after:
            return False
        near = [(abs((t - when).total_seconds()), t, aa) for t, aa in self.images]
        if min(near, key=lambda n: n[0])[0] > self.pairing_s:
            return None
        if not before:
            return after[0][1]
        (t0, a0), (t1, a1) = before[-1], after[0]
        if t1 == t0:
            return a0
        w = (when - t0).total_seconds() / (t1 - t0).total_seconds()
        return a0 if w == 0 else a1 if w == 1 else (1 - w) * a0 + w * a1

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

    def _write(self, name, result, diluted=None):
        """The fit's row, and the fit itself (the newest only) for viewers to draw."""
        day = name.time.strftime('%Y-%m-%d')
        if self._log_day != day:
            self._log, self._log_day = doas_log(self.out_dir / day), day
        atomic_write(self.out_dir / day / DOAS_FIT_NAME, doas_fit_npz(name.path.name, result))
        self._log.append(doas_row(name.time, name.path.name, result, self.settings.units, diluted))
        if self.pycam_results is not None:
            self.pycam_results.append(name.time, result, diluted)

    def _pair(self, when, aa, column, error):
        if self.fov_source not in FIXED:
            self.samples.append((when, fov_search.binned(aa), column, error))
            self._since_search += 1
            if self._search_due and self._since_search >= SEARCH_EVERY and len(self.samples) >= fov_search.MIN_SAMPLES:
                self._search()
        if self.fov is not None:
            self.points.append((when, aa_in_field_of_view(aa, self.fov.x, self.fov.y, self.fov.radius), column, error))
        while self.points and (when - self.points[0][0]).total_seconds() > self.window_s:
            self.points.popleft()
        self.publish(doas_points=len(self.points))
        return self._refit()

    def _search(self):
        self._since_search = 0
        self._searches += 1
        self.publish(doas_fov_searches=self._searches)
        recent = [s for s in self.samples if (self.samples[-1][0] - s[0]).total_seconds() <= self.window_s]
        images, columns = [s[1] for s in recent], [s[2] for s in recent]
        outcome = {'at': iso(self.samples[-1][0]), 'samples': len(recent), 'binning': fov_search.BINNING,
                   'map': None, 'view': None, 'reason': None}
        try:
            outcome['map'] = fov_search.correlation_map(images, columns).astype(np.float32)
            found = fov_search.search(images, columns, r=outcome['map'])
        except fov_search.FovError as e:
            self.last_search = {**outcome, 'reason': str(e)}
            return
        self.last_search = {**outcome, 'view': found.as_json()}
        self._search_due = False
        if found.same_view(self.fov):
            return
        self.fov, self.fov_source = found, 'search'
        self.points = self._points_in(found, recent)
        log.info('spectrometer field of view found at (%.0f, %.0f), radius %.0f px, r = %.2f',
                 found.x, found.y, found.radius, found.correlation)
        self._publish_fov()

    @staticmethod
    def _points_in(view, samples):
        """The points of the samples kept, moved to a new view: read from their binned images."""
        factor = fov_search.BINNING
        return collections.deque(
            (when, aa_in_field_of_view(small, (view.x - (factor - 1) / 2) / factor,
                                       (view.y - (factor - 1) / 2) / factor, max(view.radius / factor, 0.5)),
             column, error) for when, small, column, error in samples)

    def _refit(self):
        if len(self.points) < self.min_points:
            return None
        values = np.array([p[1:] for p in self.points], float)
        if not np.ptp(values[:, 0]) > MIN_AA_SPREAD:
            return self._refused(f'the AA in the view spans {np.ptp(values[:, 0]):.3f}, under {MIN_AA_SPREAD}')
        try:
            calibration = doas_calibration(values[:, 0], values[:, 1], values[:, 2],
                                           self.settings.doas_calibration_model,
                                           through_origin=not self.settings.doas_calibration_offset)
        except CalibrationError as e:
            return self._refused(str(e))
        refused = refusal(calibration, values[:, 0], values[:, 1])
        if refused:
            return self._refused(refused)
        calibration.created = iso(datetime.datetime.now(datetime.timezone.utc))
        calibration.measured = iso(self.points[-1][0])
        calibration.region = [self.fov.x, self.fov.y, self.fov.radius]
        calibration.keep_offset = self.settings.doas_calibration_offset
        calibration.source = f'DOAS, {len(self.points)} points over the last {self.window_s:g} s'
        self.fitted_points = tuple(map(tuple, values.tolist()))
        calibration.save(self.out_dir / DOAS_CALIBRATION_FILE)
        self.publish(doas_refit='adopted')
        return calibration

    def _refused(self, reason):
        """A refit not adopted: said in status; a searched view that no longer gives one is lost."""
        self.publish(doas_refit=f'refused: {reason}')
        if self.fov_source == 'search' and not self._search_due:
            log.info('DOAS refit refused (%s): searching for the field of view again', reason)
            self.request_search()
        return None

    def _publish_fov(self):
        self.publish(doas_fov=None if self.fov is None else {
            'x': round(self.fov.x, 1), 'y': round(self.fov.y, 1), 'radius': round(self.fov.radius, 1),
            'source': self.fov_source})


def refusal(calibration, aa, columns):
    """Why a DOAS calibration fitted to these points is not to be used, or '' if it is:
    the columns must rise with the AA over the points' range, the curve explain at least
    MIN_R2 of their scatter, and the correlation be beyond chance at fov.CHANCE, counting
    the samples the two autocorrelated series are worth (in time order)."""
    from ..calibration.models import derivative
    slopes = derivative(calibration.model, calibration.coeffs, np.array([aa.min(), aa.max()]))
    if not np.all(slopes > 0):
        return 'the columns do not rise with the AA'
    if not calibration.r2 >= MIN_R2:
        return f'r2 {calibration.r2:.2f} below {MIN_R2}'
    r = float(np.corrcoef(aa, columns)[0, 1])
    n_eff = float(fov_search.effective_samples(len(aa), fov_search.lag1_autocorrelation(aa),
                                               fov_search.lag1_autocorrelation(columns)))
    odds = float(fov_search.chance_odds(r, n_eff))
    if not (math.isfinite(odds) and odds < fov_search.CHANCE):
        return f'r = {r:.2f} over {len(aa)} points (worth {n_eff:.0f}) is within chance'
    return ''

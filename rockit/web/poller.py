"""One poller per daemon, shared by every browser: a Watcher asks for the daemon's status
at most once per interval; pages only ever read what the poller kept, so fifty open pages
cost a daemon no more Pyro calls than one. A pycamd is asked for its products (images,
rates, spectra) in turns, one turn in the same Pyro batch as each status: one call per
interval, each product every len(PRODUCT_TURNS) intervals, each answer well under Pyro's
message size.

Plots are drawn here too, on the poller's thread and only when their data changed, so a
page asking for a PNG gets finished bytes at once.
"""
import collections
import io
import time
from pathlib import Path

import Pyro4
import serpent

from rockit.common import pyro
from rockit.common.watcher import Watcher

from . import kinds, plots
from .chiller_log import ChillerLog

# What a pycamd is asked with each status, turn by turn. In a batch, a failed query (a
# pycamd older than it) leaves those after it unasked: the older queries go first.
PRODUCT_TURNS = (('latest_so2_image',), ('emission_rates',), ('latest_frames',),
                 ('calibration_curve', 'diagnostics'), ('latest_spectrum', 'latest_doas_fit'))
CHILLER_PLOT_INTERVAL = 10.0
CHILLER_KEYS = ('water_temp', 'return_temp', 'ambient_temp', 'setpoint_temp')
CHILLER_SAVE_INTERVAL = 60.0     # s between writes of the chiller's readings to disk


def _bytes(value):
    return serpent.tobytes(value) if isinstance(value, dict) else value


def _npy(value):
    import numpy as np
    return np.load(io.BytesIO(_bytes(value)), allow_pickle=False)




class Poller:
    def __init__(self, address, config, log):
        self.name, self.address = address.name, address
        self.log = log
        self.kind = kinds.UNKNOWN
        self.pngs = {}                 # plot name -> PNG bytes
        self.versions = {}             # plot name -> what it was drawn from (changes with it)
        self.history = collections.deque()   # chiller: (time, {key: °C})
        self.frames = {}               # pycamd: band -> {'name', 'saturated'} of its newest frame preview
        self.calibration = None        # pycamd: the calibration processing applies, without its curve
        self.diagnostics = None        # pycamd: its processing's diagnostics, without their arrays
        self._history_s = config.history_hours * 3600
        self._turn = 0
        self._chiller_plot_at = 0.0
        self._chiller_log = ChillerLog(Path(config.history_dir) / address.name, self._history_s, log) \
            if config.history_dir else None
        self._unsaved, self._saved_at = [], time.time()
        if self._chiller_log:
            self.history.extend(self._chiller_log.load(time.time()))
            if self.history:        # drawn at once: the plot is there while the chiller is not
                self._draw('chiller', 'loaded', plots.chiller_history, list(self.history))
        self.watcher = Watcher(address, self._ask, label=address.name, interval=config.poll_interval,
                               timeout=min(address.timeout, 5.0), log=log)

    @property
    def latest(self):
        return self.watcher.latest

    def learn_kind(self, proxy=None):
        """The daemon's kind, asked of it (its methods) unless known already: a command can
        come before the first poll has answered."""
        if self.kind is kinds.UNKNOWN:
            if proxy is None:
                with pyro.connect(self.address) as proxy:
                    return self.learn_kind(proxy)
            proxy._pyroBind()
            self.kind = kinds.kind_of(proxy._pyroMethods)
        return self.kind

    def _ask(self, proxy):
        self.learn_kind(proxy)
        if self.kind.name == 'pycam':
            return self._ask_with_products(proxy)
        status = proxy.report_status()
        if self.kind.name == 'chiller':
            self._keep_chiller(time.time(), status)
        return status

    def _ask_with_products(self, proxy):
        turn = PRODUCT_TURNS[self._turn % len(PRODUCT_TURNS)]
        self._turn += 1
        batch = Pyro4.batch(proxy)
        batch.report_status()
        for query in turn:
            getattr(batch, query)()
        answers = batch()
        status = next(answers)
        replies = {}
        try:
            for query in turn:
                replies[query] = next(answers)
        except Exception as e:   # e.g. a pycamd without this query: its status still counts
            self.log.debug('%s: no %s: %s', self.name, query, e)
        try:
            self._keep_products(replies, status)
        except Exception:
            self.log.exception('%s: cannot keep its products', self.name)
        return status

    def _draw(self, name, version, draw, *args):
        if self.versions.get(name) == version:
            return
        try:
            self.pngs[name] = draw(*args)
            self.versions[name] = version
        except Exception:
            self.log.exception('%s: cannot draw %s', self.name, name)

    def _keep_chiller(self, now, status):
        if isinstance(status, dict) and status.get('water_temp') is not None:
            reading = (now, {key: status.get(key) for key in CHILLER_KEYS})
            self.history.append(reading)
            if self._chiller_log:
                self._unsaved.append(reading)
        if self._unsaved and now - self._saved_at >= CHILLER_SAVE_INTERVAL:
            self.save_history(now)
        while self.history and self.history[0][0] < now - self._history_s:
            self.history.popleft()
        if self.history and now - self._chiller_plot_at >= CHILLER_PLOT_INTERVAL:
            self._chiller_plot_at = now
            self._draw('chiller', now, plots.chiller_history, list(self.history))

    def save_history(self, now=None):
        """Write the chiller readings not yet on disk (also when rockit-web stops)."""
        if self._chiller_log and self._unsaved:
            self._chiller_log.append(self._unsaved, now or time.time())
        self._unsaved, self._saved_at = [], now or time.time()

    def _keep_products(self, replies, status):
        image = replies.get('latest_so2_image')
        if isinstance(image, dict):
            processing = status.get('processing') if isinstance(status, dict) else None
            view = processing.get('doas_fov') if isinstance(processing, dict) else None
            lines = image.get('lines') or image.get('line')     # a pycamd before `lines` gives one
            self._draw('so2', (image['name'], str(view), str(lines), str(image.get('sky_region'))), plots.so2_image,
                       _npy(image['npy']), image['step'], lines, image['name'], image.get('sky_region'), view)
        rates = replies.get('emission_rates')
        if isinstance(rates, dict) and rates['rows']:
            rows = rates['rows']
            self._draw('emission', (rates['day'], len(rows), rows[-1].get('time')), plots.emission_rates, rows)
        self._keep_frames(replies.get('latest_frames'))
        self._keep_calibration(replies.get('calibration_curve'))
        self._keep_diagnostics(replies.get('diagnostics'))
        spectrum, fit = replies.get('latest_spectrum'), replies.get('latest_doas_fit')
        if isinstance(spectrum, dict):
            fit = dict(_npy(fit['npz'])) if isinstance(fit, dict) else None
            self._draw('spectrum', (spectrum['name'], fit and str(fit['spectrum'])), plots.spectrum,
                       _npy(spectrum['npy']), spectrum['name'], fit)

    def _keep_frames(self, frames):
        """The newest raw frames' PNG previews as they come (pycamd drew them)."""
        for band, frame in (frames or {}).items():
            name = f'frame-{band}'
            if self.versions.get(name) != frame['name']:
                self.pngs[name] = _bytes(frame['png'])
                self.versions[name] = frame['name']
            self.frames[band] = {'name': frame['name'], 'saturated': frame['saturated']}

    def _keep_calibration(self, curve):
        if isinstance(curve, dict):
            self.calibration = {key: curve.get(key) for key in ('model', 'unit', 'method', 'r2', 'points', 'created',
                                                                 'source')}
            self._draw('calibration', tuple(sorted(self.calibration.items(), key=str)) + (str(curve['cells']),),
                       plots.calibration, curve)

    def _keep_diagnostics(self, found):
        """Processing's last view search, background and flow, drawn when they change; what
        the page writes beside them kept without the arrays."""
        if not isinstance(found, dict):
            return
        fov, background, flow = found.get('fov'), found.get('background'), found.get('flow')
        self.diagnostics = {
            'fov_search': bool(found.get('fov_search')),
            'fov': fov and {key: fov.get(key) for key in ('at', 'view', 'reason', 'samples')},
            'background': background, 'flow': flow and {key: flow.get(key) for key in (
                'at', 'line', 'mode', 'vectors', 'of', 'peak_px', 'width_px')}}
        if fov and fov.get('map') is not None:
            self._draw('fov', (fov['at'], str(fov['view'])), plots.fov_correlation, _npy(fov['map']), fov['binning'],
                       fov['view'], fov['at'])
        if background:
            self._draw('background', background['at'], plots.background, background)
        if flow:
            self._draw('flow', flow['at'], plots.flow_histogram, flow)

    def view(self):
        """What /api/<daemon>/status answers: state and reason, the last status the daemon
        gave (kept while it does not answer, with answered_at saying when), plot versions."""
        observation = self.latest
        status = observation.value if isinstance(observation.value, dict) else None
        if observation.error is not None:
            state, reason = 'OFFLINE', observation.error
        elif status is None:
            state, reason = 'OFFLINE', f'unexpected answer {observation.value!r}'
        else:
            state = status.get('status_label') or ('ONLINE' if status.get('status') else 'OFFLINE')
            reason = status.get('offline_reason') if state == 'OFFLINE' else None
        return {'name': self.name, 'kind': self.kind.name, 'state': state, 'reason': reason,
                'online': state != 'OFFLINE', 'answered_at': observation.at, 'status': status,
                'plots': {name: str(hash(version)) for name, version in dict(self.versions).items()},
                'frames': dict(self.frames), 'calibration': self.calibration, 'diagnostics': self.diagnostics}

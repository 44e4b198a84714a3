"""A calibration cell session: which cells each camera has seen, so an operator with one
cell, moving it from lens to lens, sees what is still to capture. Captures further apart
than SESSION_GAP_S start a new session (as live processing never mixes cells of two runs)."""
import datetime
import threading

SESSION_GAP_S = 1800
BANDS = ('on', 'off')


class CellSession:
    def __init__(self):
        self._lock = threading.Lock()
        self._seen = {}            # ppm.m -> {'on': frames, 'off': frames}
        self._last = None

    def record(self, ppmm, bands, moment=None):
        moment = moment or datetime.datetime.now(datetime.timezone.utc)
        with self._lock:
            if self._last is not None and (moment - self._last).total_seconds() > SESSION_GAP_S:
                self._seen = {}
            self._last = moment
            counts = self._seen.setdefault(int(ppmm), dict.fromkeys(BANDS, 0))
            for band in bands:
                counts[band] += 1

    def status(self):
        """{'cells': {'<N>': {'on': n, 'off': n}}, 'missing': ['<N> ppm.m off-band', ...],
        'complete': every cell seen by both cameras, an empty (0 ppm.m) cell among them}."""
        with self._lock:
            seen = {str(ppmm): dict(counts) for ppmm, counts in sorted(self._seen.items())}
            last = self._last
        missing = [f'{ppmm} ppm.m {band}-band' for ppmm, counts in seen.items() for band in BANDS
                   if not counts[band]]
        if seen and '0' not in seen:
            missing.append('the empty (0 ppm.m) cell')
        return {'cells': seen, 'missing': missing, 'complete': bool(seen) and not missing,
                'last': last.strftime('%Y-%m-%dT%H:%M:%SZ') if last else None}

"""`pycam process --calibration doas`: an archive calibrated from its own spectra, by
replaying it through pycamd's live processing (live/processor.py) in time order. The
spectra are fitted by DOAS, the field of view searched for (or given), the calibration
refitted over the same rolling window as live, and each pair calibrated with the
calibration of its time, so the rows are the ones pycamd would have written live (its
pairs before the first calibration included, processed again once there is one).

Dark frames, Dark spectra and Clear frames go in first (a station takes them when it can,
not always before the plume); cells, pairs and Plume spectra follow in time order, a
pair before a spectrum of the same second, as pycamd saves them. Outputs are live's:
`<out>/<YYYY-MM-DD>/emission_rates.csv`, `doas_columns.csv`, `so2/`, and
`<out>/doas_calibration.json`.
"""
import math
from types import SimpleNamespace

from ...storage.names import images_in, plume_pairs, spectra_in
from .archive import in_utc

ORDER = {'pair': 0, 'cell': 0, 'spectrum': 1}


def archive_events(folder, zone=None, darks=None, clear=None):
    """[(kind, item)] in the order live would have seen them; kinds: reference, dark spectrum,
    cell, pair, spectrum. clear: a folder of Clear frames, 'sky' for none, None for the archive's."""
    utc = [in_utc(n, zone) for n in images_in(folder)]
    first = [('reference', n) for n in (images_in(darks) if darks else utc) if n.kind == 'Dark']
    first += [('dark spectrum', in_utc(n, zone)) for n in spectra_in(folder, kind='Dark')]
    if clear != 'sky':
        first += [('reference', n) for n in (images_in(clear) if clear else utc) if n.kind == 'Clear']
    timed = [(n.time, 'cell', n) for n in utc if n.cell_ppmm is not None]
    timed += [(on.time, 'pair', (on, off)) for on, off in plume_pairs(utc)]
    timed += [(n.time, 'spectrum', n) for n in (in_utc(s, zone) for s in spectra_in(folder, kind='Plume'))]
    timed.sort(key=lambda event: (event[0], ORDER[event[1]]))
    return first + [(kind, item) for _, kind, item in timed]


def replay(events, out, settings, references, fov=None, min_points=10, progress=None):
    """Feeds events to a live processor writing to out; progress(index, result) after each
    pair, result having the fields `pycam process` shows. Returns the processor's status."""
    from ..live.processor import LiveProcessor
    processor = LiveProcessor(out, settings, doas_references=references, doas_fov=fov,
                              min_doas_points=min_points).start()
    try:
        done = 0
        for kind, item in events:
            if kind in ('reference', 'cell'):
                processor.submit_image(item.path)
            elif kind == 'dark spectrum' or kind == 'spectrum':
                processor.submit_spectrum(item.path)
            else:
                processor.submit_pair(item[0].path, {}, item[1].path, {})
            while not processor.wait_idle(600):
                pass
            if kind == 'pair' and progress is not None:
                progress(done, _shown(processor.status(), item[0].time))
                done += 1
        return processor.status()
    finally:
        processor.stop()


def _shown(status, when):
    def number(key):
        value = status.get(key)
        return math.nan if value is None else value
    return SimpleNamespace(time=when, emission_rate_kg_s=number('emission_rate_kg_s'),
                           emission_rate_err_kg_s=number('emission_rate_err_kg_s'), speed_m_s=number('plume_speed_m_s'),
                           line_mean_aa=number('line_mean_aa'), so2=status['calibration']['state'] != 'none' or None)

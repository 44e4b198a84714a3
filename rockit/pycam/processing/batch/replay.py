"""`pycam process --calibration doas`: an archive calibrated from its own spectra, by
replaying it through pycamd's live processing (live/processor.py, reached through the
package's replay_processor) in time order. The
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


def replay(events, out, settings, references, fov=None, min_points=10, progress=None, dilution=None,
           pycam_outputs=False):
    """Feeds events to a live processor writing to out; progress(index, result) after each
    pair, result having the fields `pycam process` shows; dilution: the spectrometer's light
    dilution correction (DilutionSettings) or None; pycam_outputs: PyCam's emission-rate
    files too. Returns the processor's status."""
    from .. import replay_processor
    processor = replay_processor(out, settings, references, fov, min_points, dilution, pycam_outputs)
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


def by_day(events):
    """{YYYY-MM-DD: events} of each UTC day, each with every dark, Dark spectrum and Clear
    frame first: the days can then be replayed apart, in parallel."""
    first = [event for event in events if event[0] in ('reference', 'dark spectrum')]
    days = {}
    for kind, item in events[len(first):]:
        when = item[0].time if kind == 'pair' else item.time
        days.setdefault(when.strftime('%Y-%m-%d'), []).append((kind, item))
    return {day: first + timed for day, timed in sorted(days.items())}


def replay_day(day, events, out, settings, references, fov=None, min_points=10, dilution=None,
               pycam_outputs=False):
    """One day replayed by itself, from no calibration, into <out>/<day>/ (a folder of its
    own while it runs, so days in parallel never read each other's saved calibration).
    Returns (status, the DOAS calibration it ended with as JSON text, or None)."""
    import shutil
    from pathlib import Path
    from ..output_names import DOAS_CALIBRATION_NAME
    out = Path(out)
    work = out / f'.replay-{day}'
    shutil.rmtree(work, ignore_errors=True)
    try:
        status = replay(events, work, settings, references, fov, min_points, dilution=dilution,
                        pycam_outputs=pycam_outputs)
        target = out / day
        if (work / day).is_dir():
            shutil.rmtree(target, ignore_errors=True)
            (work / day).rename(target)
        for line in work.glob('line_*'):        # PyCam's files: one per day, so each day's own
            (out / line.name).mkdir(exist_ok=True)
            for path in line.iterdir():
                path.replace(out / line.name / path.name)
        for path in work.glob('doas_results_*.csv'):
            path.replace(out / path.name)
        saved = work / DOAS_CALIBRATION_NAME
        return status, saved.read_text() if saved.is_file() else None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def replay_days(days, out, settings, references, fov=None, min_points=10, jobs=1, cluster=None, say=print,
                dilution=None, pycam_outputs=False):
    """Each day by itself, `jobs` at once in processes (or on a Dask cluster's workers);
    the last day's DOAS calibration is kept as <out>/doas_calibration.json. Returns the
    days' statuses, by day."""
    from pathlib import Path
    from rockit.common.files import atomic_write
    from ..output_names import DOAS_CALIBRATION_NAME
    arguments = [(day, events, str(out), settings, references, fov, min_points, dilution, pycam_outputs)
                 for day, events in days.items()]
    if cluster is not None:
        futures = [cluster.submit(replay_day, *a, pure=False) for a in arguments]
        results = (future.result() for future in futures)
    else:
        import concurrent.futures
        import multiprocessing
        context = multiprocessing.get_context('fork' if 'fork' in multiprocessing.get_all_start_methods() else None)
        pool = concurrent.futures.ProcessPoolExecutor(max(1, min(jobs, len(arguments))), mp_context=context)
        results = pool.map(replay_day, *zip(*arguments))
    statuses, last = {}, None
    try:
        for day, (status, calibration) in zip(days, results):
            statuses[day] = status
            last = calibration or last
            say(f"{day}: {status['pairs_processed']} pairs, calibration {status['calibration']['state']}, "
                f"{status['late_pairs_recomputed']} again once calibrated, {status['pairs_failed']} failed")
    finally:
        if cluster is None:
            pool.shutdown(cancel_futures=True)
    if last is not None:
        atomic_write(Path(out) / DOAS_CALIBRATION_NAME, last.encode())
    return statuses

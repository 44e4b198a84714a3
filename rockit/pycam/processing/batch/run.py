"""Stored pairs processed like the live path: where a run's darks, clear sky and
calibration come from, and `BatchRun`, which drives the pipeline over a folder's pairs and
writes the outputs pycamd writes live."""
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from ..background import background_for
from ..calibration.columns import CALIBRATION_FILE, clear_sky_rates, find_calibration
from ..errors import CalibrationError, MissingInput
from ..images import DarkLibrary, load_png
from ..pipeline import LivePipeline
from ...storage.names import cell_images_in, images_in
from .archive import archive_pairs


def build_background(settings, darks, clear_folder=None):
    """Clear-sky background from a folder of Clear frames, or the sky region when None; or
    the surface fit when the settings ask for it."""
    if clear_folder is None or settings.background != 'clear':
        return background_for(settings)
    try:
        rates = clear_sky_rates(clear_folder, darks)
    except CalibrationError as e:
        raise MissingInput(str(e)) from None
    return background_for(settings, rates)


@dataclass
class BatchInputs:
    folder: Path
    pairs: list
    darks: Path
    clear: Path = None             # None: the sky region stands in for clear sky
    calibration: Path = None
    notes: list = field(default_factory=list)   # what was found where, for the user


HOW_TO_NAME = {
    'darks': 'dark frames named <time>_<fltrA|fltrB>_<gain>[ag]_<exposure us>ss_Dark.png for both cameras '
             '(in the folder, or name a folder with --darks)',
    'clear': 'clear-sky frames named <time>_<fltrA|fltrB>_<gain>[ag]_<exposure us>ss_Clear.png for both cameras '
             '(in the folder, or name a folder with --clear; --clear sky uses the sky region instead)',
    'calibration': 'a calibration: calibration.json from `pycam calibrate`, or cell frames named '
                   '<time>_<fltrA|fltrB>_<gain>[ag]_<exposure us>ss_<N>ppmm.png (in the folder, or name '
                   'a folder or file with --calibration)',
}


def _has_both_bands(folder, kind):
    return {n.band for n in images_in(folder, kind=kind)} >= {'on', 'off'}


def _has_calibration(path):
    if path.is_file():
        return True
    return path.is_dir() and ((path / CALIBRATION_FILE).is_file() or bool(cell_images_in(path)))


def find_inputs(folder, darks=None, clear=None, calibration=None, need_calibration=True, zone=None):
    """Where this run's darks, clear sky and calibration come from: named, or in the folder.
    Raises MissingInput naming everything missing and how to provide it (NoUsablePairs when
    the folder holds no pair). zone: the ZoneInfo the names are stamped in, None for UTC."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingInput(f'{folder}: no such folder')
    pairs = archive_pairs(folder, zone)
    missing, notes = [], []
    dark_folder = Path(darks) if darks else folder
    if not _has_both_bands(dark_folder, 'Dark'):
        missing.append(('darks', f'no dark frames for both cameras in {dark_folder}'))
    clear_folder = None
    if clear == 'sky':
        notes.append('background: the sky region of each frame (no clear-sky frames)')
    else:
        clear_folder = Path(clear) if clear else folder
        if not _has_both_bands(clear_folder, 'Clear'):
            missing.append(('clear', f'no clear-sky frames for both cameras in {clear_folder}'))
    cal = Path(calibration) if calibration else folder
    if need_calibration and not _has_calibration(cal):
        missing.append(('calibration', f'no calibration in {cal}'))
    if missing:
        lines = [f'{what}: {why}; needs {HOW_TO_NAME[what]}' for what, why in missing]
        raise MissingInput('cannot process ' + str(folder) + ':\n  ' + '\n  '.join(lines))
    return BatchInputs(folder, pairs, dark_folder, clear_folder, cal, notes)


class BatchRun:
    """A folder of stored pairs processed like the live path, outputs written as it goes."""

    def __init__(self, inputs, out, settings, darks=None):
        self.inputs = inputs
        self.cluster = None     # a distributed.Client: its workers process the runs (cluster.py)
        self.out = Path(out)
        self.settings = settings
        self.darks = darks if darks is not None else DarkLibrary.from_folder(inputs.darks)
        self.calibration = find_calibration(inputs.calibration, self.darks, inputs.clear or inputs.calibration,
                                            settings.registration, settings.calibration_model)
        background = build_background(settings, self.darks, inputs.clear)
        self.pipeline = LivePipeline(settings, self.darks, background, self.calibration)

    def __len__(self):
        return len(self.inputs.pairs)

    def run(self, progress=None, jobs=1):
        """Process every pair; progress(index, result) after each, in time order. Returns
        the results' rows (the images are written, not kept).

        jobs > 1 splits the pairs into that many runs of consecutive pairs, processed in
        parallel processes; each run starts with the pair before it (and for
        cross-correlation speeds the window before it), processed only for the flow, so
        the rows are exactly those of one job. The CSV is written here, in time order.
        """
        from ..outputs import PairWriter
        writer = PairWriter(self.out, self.settings, self.calibration)
        writer.write_settings(self.settings, self.inputs)
        rows = []
        for done in self._results(writer, jobs):
            writer.log.append(*(row for row, _ in done))      # a chunk's rows in one write
            for row, result in done:
                rows.append(row)
                if progress:
                    progress(len(rows) - 1, result)
        return rows

    def _results(self, writer, jobs):
        """Lists of (row, result) in time order: one pair at a time with one job, each
        process's (or cluster worker's) chunk at once with several."""
        pairs = self.inputs.pairs
        overlap = self.settings.cc_window if self.settings.speed_mode == 'cross-correlation' else 1
        jobs = max(1, min(int(jobs), len(pairs) // (overlap + 1)))
        if jobs == 1 and self.cluster is None:
            yield from ([done] for done in process_pairs(self.pipeline, writer, pairs))
            return
        for on, off in pairs:       # dark substitutions are said here, once, not in each process
            self.darks.match('on', on.exposure_us), self.darks.match('off', off.exposure_us)
        bounds = [round(i * len(pairs) / jobs) for i in range(jobs + 1)]
        chunks = [(self.inputs, self.out, self.settings, self.calibration, max(0, start - overlap), stop,
                   start - max(0, start - overlap), set(self.darks.substitutions))
                  for start, stop in zip(bounds, bounds[1:])]
        if self.cluster is not None:
            from .cluster import gathered
            yield from gathered(self.cluster, process_chunk, chunks, self.out)
            return
        import concurrent.futures
        import multiprocessing
        context = multiprocessing.get_context('fork' if 'fork' in multiprocessing.get_all_start_methods() else None)
        # The parent's darks and background go to each process as it starts (forked: not
        # even pickled) instead of each process reading and averaging the frames again.
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_adopt,
                                                    initargs=(self.darks, self.pipeline.absorbance.background,
                                                              os.getpid())) as pool:
            for chunk in [pool.submit(process_chunk, *chunk) for chunk in chunks]:
                yield chunk.result()


def process_pairs(pipeline, writer, pairs, skip=0):
    """(row, result without its images) for each pair after the first `skip`, which are
    processed only to give the flow its previous image."""
    for index, (on, off) in enumerate(pairs):
        result = pipeline.process(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us, on.time)
        if index < skip:
            continue
        row = writer.files(result)
        result.aa = result.so2 = None
        yield row, result


_adopted = {}     # darks and background handed over by the parent as this process started
PR_SET_PDEATHSIG = 1      # prctl(2)


def _adopt(darks, background, parent):
    _end_with(parent)
    _adopted.update(darks=darks, background=background)


def _end_with(parent):
    """Have the kernel end this process when `parent` ends, even killed (SIGKILL leaves it
    no time to stop its pool): else the workers would wait for work for ever. Linux only."""
    try:
        import ctypes
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:      # it ended before the request was made
        os._exit(1)


def process_chunk(inputs, out, settings, calibration, start, stop, skip, substitutions=()):
    """One process's share of a batch: pairs[start:stop], the first `skip` only for the
    flow. Everything it needs not handed over when the process started is rebuilt from
    the inputs, so it runs in any process (a Dask worker calls it the same way);
    substitutions: the dark substitutions already reported."""
    from ..outputs import PairWriter
    if _adopted:
        darks, background = _adopted['darks'], _adopted['background']
    else:
        darks = DarkLibrary.from_folder(inputs.darks)
        background = build_background(settings, darks, inputs.clear)
    darks.substitutions.update(substitutions)
    pipeline = LivePipeline(settings, darks, background, calibration)
    writer = PairWriter(out, settings, calibration, tidy=False)
    return list(process_pairs(pipeline, writer, inputs.pairs[start:stop], skip))

"""pycam processing: time per on/off pair for the whole live pipeline (steps 1-7: load,
dark correction, background, registration, AA, calibration, plume speed, emission rate) at
648x486 on the Villarrica data, against the same pipeline built from pyplis's classes in
the same run (Img, PlumeBackgroundModel, CellCalibData, OptflowFarneback at full
resolution, LineOnImage, det_emission_rate), and the agreement of the plume speed along the
integration line with full-resolution Farneback."""
import os
import statistics
import sys
import time

from harness import ROOT, summary

sys.path.insert(0, str(ROOT / 'tests' / 'pycam'))

ROUNDS = 4


def _pyplis_pair(reference, pyplis, darks, on, off):
    """Steps 1-7 from pyplis calls: images loaded and dark-corrected as pyplis Img objects."""
    rates = []
    for name in (on, off):
        img = pyplis.Img(str(name.path))
        img.subtract_dark_image(pyplis.Img(darks.match(name.band, name.exposure_us).frame.astype(float)))
        img.img = img.img * (1e6 / name.exposure_us)
        rates.append(img.img)
    return reference.process(on.time, rates[0], rates[1])


def run():
    import logging
    import numpy as np
    import pyplis
    logging.getLogger('pyplis').setLevel(logging.ERROR)              # its per-call notices
    logging.getLogger('rockit.pycam.processing').setLevel(logging.ERROR)
    from processing_harness import CAL_1, SEQ_1, PyplisPipeline, villarrica_settings
    from rockit.pycam.processing.calibration.columns import MOLECULES, cell_calibration, clear_sky_rates
    from rockit.pycam.processing.motion.flow import LineFlow, bytescale, contrast_range, farneback, normal_displacement
    from rockit.pycam.processing.images import DarkLibrary
    from rockit.pycam.storage.names import images_in, plume_pairs
    from rockit.pycam.processing.outputs import PairWriter
    from rockit.pycam.processing.batch.run import build_background
    from rockit.pycam.processing.pipeline import LivePipeline
    from harness import WORK

    settings = villarrica_settings()
    darks = DarkLibrary.from_folder(CAL_1)
    calibration = cell_calibration(CAL_1, darks, registration=settings.registration)
    background = build_background(settings, darks, CAL_1)
    pairs = plume_pairs(images_in(SEQ_1))
    clear = clear_sky_rates(CAL_1, darks)

    times = {'live': [], 'live+outputs': [], 'pyplis': [], 'pyplis flow': [], 'live flow': []}
    deviations = []
    for round_number in range(ROUNDS):
        live = LivePipeline(settings, darks, background, calibration)
        writer = PairWriter(WORK / f'pycam-out-{round_number}', settings, calibration)
        outputs_live = LivePipeline(settings, darks, background, calibration)
        for on, off in pairs:
            start = time.perf_counter()
            result = live.process_files(on.path, off.path)
            times['live'].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            writer.write(outputs_live.process_files(on.path, off.path))
            times['live+outputs'].append((time.perf_counter() - start) * 1000)
            del result

    # The pyplis path with the contrast the live path uses, so both flows see the same bytes.
    aas = [LivePipeline(settings, darks, background, calibration).absorbance_image(
        *_raw(on, off))[0] for on, off in pairs]
    flow = LineFlow(settings.line, aas[0].shape, settings.flow_margin)
    for round_number in range(ROUNDS):
        for index, (on, off) in enumerate(pairs):
            if index == 0:
                continue
            first, following = aas[index - 1], aas[index]
            start = time.perf_counter()
            crop, _, (low, high) = flow(first, following)
            times['live flow'].append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            pyplis.OptflowFarneback(first_img=pyplis.Img(np.nan_to_num(first, nan=low).astype(float)),
                                    next_img=pyplis.Img(np.nan_to_num(following, nan=low).astype(float)),
                                    i_min=low, i_max=high, auto_update=False)
            times['pyplis flow'].append((time.perf_counter() - start) * 1000)
            if round_number == 0:
                full = normal_displacement(farneback(bytescale(first, low, high), bytescale(following, low, high)),
                                           settings.line)
                weights = np.clip(np.nan_to_num(settings.line.profile(following)), 0, None)
                deviations.append(np.sum(weights * crop) / np.sum(weights * full))
        for index, (on, off) in enumerate(pairs):
            low, high = contrast_range(aas[max(index - 1, 0)], flow.box)
            if index == 0:
                reference = PyplisPipeline(clear['on'], clear['off'], settings.registration.warp,
                                           settings.sky.as_list(), settings.line,
                                           settings.units.to_molecules(calibration.slope), settings.geometry.pixel_m,
                                           (low, high), calibration.column_error(0.0, settings.units, MOLECULES))
            reference.contrast = (low, high)
            start = time.perf_counter()
            _pyplis_pair(reference, pyplis, darks, on, off)
            times['pyplis'].append((time.perf_counter() - start) * 1000)

    # The first pair of each round has no flow to compute: time the pairs that do.
    flowing = {name: [t for i, t in enumerate(values) if i % len(pairs)] for name, values in times.items()
               if name in ('live', 'live+outputs', 'pyplis')}
    rows = {name: summary(values) for name, values in flowing.items()}
    rows.update({name: summary(times[name]) for name in ('pyplis flow', 'live flow')})
    base = rows['pyplis']['median']
    table = [
        ('pyplis-only pipeline per pair (steps 1-7, full-resolution Farneback)', rows['pyplis'], None),
        ('live pipeline per pair (steps 1-7)', rows['live'], True),
        ('live pipeline + outputs (AA and SO2 .npy, preview PNG, CSV row; fsync each)', rows['live+outputs'], True),
        ('pyplis OptflowFarneback, full frame', rows['pyplis flow'], True),
        ('live flow: Farneback on the line crop', rows['live flow'], True),
    ]
    result = [(name, r['median'], r['p99'], r['n'], r['median'] / base if ratio else None) for name, r, ratio in table]
    off_by = [abs(1 - d) * 100 for d in deviations]
    result.append(('speed along the line, live vs full-res Farneback: abs(1 - live/full) in % (median, max)',
                   float(statistics.median(off_by)), float(max(off_by)), len(off_by),
                   float(statistics.median(deviations))))
    return result + _batch_rows(settings, darks)


BATCH_COPIES = 12    # Seq_1's pairs this many times over (links, later times): 120 pairs
BATCH_ROUNDS = 7     # the machine is shared: the ratio is the median of the rounds'


def _batch_rows(settings, darks):
    """A whole batch (Seq_1's pairs, Cal_1's references, outputs written) with --jobs 1 and
    --jobs 2: a batch long enough that each process's start (reading darks and clear sky)
    is small beside its share of the pairs, as in a day's archive."""
    import datetime
    from harness import WORK
    from processing_harness import CAL_1, SEQ_1
    from rockit.pycam.processing.batch.run import BatchRun, find_inputs
    from rockit.pycam.storage.names import images_in
    folder = WORK / 'pycam-batch-pairs'
    folder.mkdir(exist_ok=True)
    for copy in range(BATCH_COPIES):
        for name in images_in(SEQ_1, kind='Plume'):
            moved = name.time + datetime.timedelta(minutes=2 * copy)
            target = folder / name.path.name.replace(name.time.strftime('%Y-%m-%dT%H%M%S'),
                                                     moved.strftime('%Y-%m-%dT%H%M%S'))
            if not target.exists():
                target.symlink_to(name.path)
    inputs = find_inputs(folder, CAL_1, CAL_1, CAL_1)
    times, tables, ratios, loads = {1: [], 2: []}, {}, [], [os.getloadavg()[0]]
    for round_number in range(BATCH_ROUNDS):
        for jobs in ((1, 2) if round_number % 2 == 0 else (2, 1)):     # turns, so drift hits both
            out = WORK / f'pycam-batch-{jobs}-{round_number}'
            run = BatchRun(inputs, out, settings, darks)
            start = time.perf_counter()
            run.run(jobs=jobs)
            times[jobs].append((time.perf_counter() - start) * 1000)
            tables[jobs] = (out / 'emission_rates.csv').read_text()
        ratios.append(times[2][-1] / times[1][-1])
        loads.append(os.getloadavg()[0])
    one, two = summary(times[1]), summary(times[2])
    same = 'identical' if tables[1] == tables[2] else 'DIFFERENT'
    return [(f'pycam process, {len(inputs.pairs)} pairs, --jobs 1 (whole batch)', one['median'], one['p99'],
             one['n'], None),
            (f'pycam process, --jobs 2 (rows {same} to --jobs 1; 1-min load average {min(loads):.2f}-'
             f'{max(loads):.2f} on {os.cpu_count()} cores)', two['median'], two['p99'], two['n'],
             statistics.median(ratios), '--jobs 1', (min(ratios), max(ratios)))]


def _raw(on, off):
    from rockit.pycam.processing.images import load_png
    return load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us


if __name__ == '__main__':
    for row in run():
        print(row)

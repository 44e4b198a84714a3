"""pycam light dilution: the live pipeline's cost per on/off pair (load, steps 1-7) on the
simulator's diluted day (a plume at 8 km, ridges at 1.2-9 km), without the correction, with
fixed coefficients, and with the coefficients fitted to the terrain in every pair. The
three take turns pair by pair, in an order that changes each round, so drift on a shared
machine hits all alike; and the correction's own step on a pair's two 648 x 486 images."""
import os
import statistics
import sys
import time

from harness import ROOT, WORK, summary

sys.path.insert(0, str(ROOT / 'tests' / 'pycam'))

PAIRS = 12
ROUNDS = 5


def run():
    import logging
    logging.getLogger('rockit.pycam.processing').setLevel(logging.ERROR)
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.batch.run import build_background, find_inputs
    from rockit.pycam.processing.calibration.columns import cell_calibration
    from rockit.pycam.processing.dilution import DilutionCorrection, TerrainFeature
    from rockit.pycam.processing.emission import CameraGeometry, IntegrationLine
    from rockit.pycam.processing.images import DarkLibrary
    from rockit.pycam.processing.pipeline import LivePipeline, ProcessingSettings
    from rockit.pycam.simulator.sequence import SequencePlan, write_sequence

    folder = WORK / 'pycam-dilution-day'
    truth = write_sequence(folder, SequencePlan(pairs=PAIRS, distance_m=8000.0, extinction_per_km=0.06,
                                                spectra=False, columns=False))
    dilution = truth['dilution']
    geometry = truth['geometry']
    line = truth['line']
    settings = {
        'off': None,
        'fixed coefficients': DilutionCorrection(8000.0, per_km={'on': dilution['extinction_per_km']['fltrA'],
                                                                 'off': dilution['extinction_per_km']['fltrB']}),
        'fitted to terrain': DilutionCorrection(8000.0, terrain=tuple(
            TerrainFeature(*t['line'], t['distance_m']) for t in dilution['terrain']),
            ambient_region=SkyRegion(*dilution['ambient_region'])),
    }
    inputs = find_inputs(folder)
    darks = DarkLibrary.from_folder(folder)
    pipelines = {}
    for name, correction in settings.items():
        s = ProcessingSettings(line=IntegrationLine(line['x'][0], line['y'][0], line['x'][1], line['y'][1], 'left'),
                               geometry=CameraGeometry(geometry['distance_m'], geometry['pixel_size_m'],
                                                       geometry['focal_length_m']), dilution=correction)
        calibration = cell_calibration(folder, darks, registration=s.registration)
        pipelines[name] = (s, darks, build_background(s, darks, inputs.clear), calibration)
    times = {name: [] for name in settings}
    ratios = {name: [] for name in settings if name != 'off'}
    names = list(settings)
    loads = [os.getloadavg()[0]]
    for round_number in range(ROUNDS):
        live = {name: LivePipeline(*parts) for name, parts in pipelines.items()}
        order = names[round_number % 3:] + names[:round_number % 3]
        this_round = {name: [] for name in names}
        for on, off in inputs.pairs:
            for name in order:
                start = time.perf_counter()
                live[name].process_files(on.path, off.path)
                this_round[name].append((time.perf_counter() - start) * 1000)
        for name in names:
            times[name] += this_round[name][1:]        # the first pair has no flow to compute
        for name in ratios:
            ratios[name].append(statistics.median(this_round[name][1:]) / statistics.median(this_round['off'][1:]))
        loads.append(os.getloadavg()[0])
    rows = []
    for name in names:
        r = summary(times[name])
        if name == 'off':
            rows.append((f'live pair, {name} (1-min load average {min(loads):.1f}-{max(loads):.1f} on '
                         f'{os.cpu_count()} cores)', r['median'], r['p99'], r['n'], None))
        else:
            rows.append((f'live pair, dilution correction {name}', r['median'], r['p99'], r['n'],
                         statistics.median(ratios[name]), 'live pair, off', (min(ratios[name]), max(ratios[name]))))
    return rows + _step_rows(settings, pipelines, inputs)


def _step_rows(settings, pipelines, inputs):
    """The correction alone: both bands' intensities (counts per second) corrected, the
    coefficients fixed or fitted to the terrain first."""
    from rockit.pycam.processing.images import counts_per_second, load_png
    _, darks, background, _ = pipelines['off']
    on_name, off_name = inputs.pairs[1]
    on = counts_per_second(load_png(on_name.path), darks.match('on', on_name.exposure_us).frame, on_name.exposure_us)
    off = counts_per_second(load_png(off_name.path), darks.match('off', off_name.exposure_us).frame,
                            off_name.exposure_us)
    rows = []
    for name in ('fixed coefficients', 'fitted to terrain'):
        correction, values = settings[name], []
        for _ in range(ROUNDS * 20):
            start = time.perf_counter()
            correction(on, off, background.on, background.off)
            values.append((time.perf_counter() - start) * 1000)
        r = summary(values)
        rows.append((f'the correction step alone, {name}', r['median'], r['p99'], r['n'], None))
    return rows


if __name__ == '__main__':
    for row in run():
        print(row)

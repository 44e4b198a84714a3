"""`pycam process --calibration doas`: an archive calibrated by its own spectra gives the
rows pycamd's live processing gives the same data, pair by pair."""
import csv
import json
import shutil

import pytest

from processing_harness import REFERENCES, SPECTRA, needs_spectra, run_offline_process, write_line, write_synthetic_day
from rockit.pycam.processing.live.processor import LiveProcessor
from rockit.pycam.processing.live.late import REPLAY_LATE_PAIRS
from rockit.pycam.storage.names import images_in, plume_pairs, spectra_in

CONFIG = {'sky_region': [5, 0, 155, 6], 'integration_line': {'x': [80, 80], 'y': [15, 105], 'orientation': 'left'},
          'plume_distance_m': 4000, 'focal_length_m': 9e-3, 'reference_temperature_k': 273.15}
SCENE = ['--sky', '5,0,155,6', '--registration', 'identity', '--distance', 4000, '--focal-length', 9]


# The stored Plume spectra, in time order: six of clear sky, then four through the plume
# (about 1900 ppm.m). The images' plume thickens with them, so the columns rise with the AA
# and a DOAS calibration is adopted.
SPECTRA_PLUME = [0.1] * 6 + [1.0] * 4


def _day_with_spectra(day, start=None):
    """A synthetic day whose spectrometer saves a Plume spectrum with each pair."""
    times = write_synthetic_day(day, pairs=10, cells=(), drift_px=3, start=start, scales=SPECTRA_PLUME)
    shutil.copy(next(SPECTRA.glob('*_Dark.npy')), day / f'{times[0]:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Dark.npy')
    for when, plume in zip(times, sorted(SPECTRA.glob('*_Plume.npy'))):
        shutil.copy(plume, day / f'{when:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Plume.npy')


def _live(day, out):
    # live with its late pairs on, as a replay of stored data has them
    config = dict(CONFIG, late_pairs=REPLAY_LATE_PAIRS)
    processor = LiveProcessor(out, config, doas_references=REFERENCES, doas_fov=[80, 45, 2], min_doas_points=3).start()
    try:
        for name in images_in(day):
            if name.kind != 'Plume':
                processor.submit_image(name.path)
        processor.submit_spectrum(spectra_in(day, kind='Dark')[0].path)
        for (on, off), spectrum in zip(plume_pairs(images_in(day)), spectra_in(day, kind='Plume')):
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(30)
            processor.submit_spectrum(spectrum.path)
            assert processor.wait_idle(30)
        return processor.status()
    finally:
        processor.stop()


def _rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


@needs_spectra
def test_doas_calibrated_archive_gives_the_rows_of_live(tmp_path):
    day = tmp_path / 'day'
    _day_with_spectra(day)
    live = _live(day, tmp_path / 'live')
    assert live['calibration']['state'] == 'doas' and live['pairs_failed'] == 0
    line = write_line(tmp_path / 'line.txt')
    done = run_offline_process('process', day, '--out', tmp_path / 'batch', '--calibration', 'doas', '--doas-fov',
                               '80,45,2', '--min-doas-points', 3, '--line', line, *SCENE, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '10 pairs' in done.stdout and '10 spectra' in done.stdout
    wanted = _rows(tmp_path / 'live' / '2024-05-01' / 'emission_rates.csv')
    got = _rows(tmp_path / 'batch' / '2024-05-01' / 'emission_rates.csv')
    assert got == wanted
    doas = [r for r in got if r['calibration'] == 'doas' and r['emission_rate_kg_s']]
    assert len(doas) >= 6 and all(float(r['emission_rate_kg_s']) > 0 for r in doas), 'rates from its own spectra'
    assert any(r['late'] == '1' for r in got), 'the pairs before the first calibration, again with it'
    assert _rows(tmp_path / 'batch' / '2024-05-01' / 'doas_columns.csv') == _rows(
        tmp_path / 'live' / '2024-05-01' / 'doas_columns.csv')


def test_doas_calibration_needs_spectra(tmp_path):
    write_synthetic_day(tmp_path / 'day', pairs=3, cells=())
    done = run_offline_process('process', tmp_path / 'day', '--out', tmp_path / 'out', '--calibration', 'doas',
                               '--line', write_line(tmp_path / 'line.txt'), *SCENE)
    assert done.returncode == 1 and 'no Plume spectra' in done.stderr
    done = run_offline_process('process', tmp_path / 'day', '--out', tmp_path / 'out', '--calibration', 'doas',
                               '--doas-fov', '80,45')
    assert done.returncode == 2 and 'x,y,radius' in done.stderr


@needs_spectra
def test_days_in_parallel_are_each_the_day_replayed_by_itself(tmp_path):
    import datetime
    archive = tmp_path / 'archive'
    days = {'2024-05-01': archive / 'a', '2024-05-02': archive / 'b'}
    for day, folder in days.items():
        _day_with_spectra(folder, start=datetime.datetime.fromisoformat(f'{day}T12:00:00'))
    line = write_line(tmp_path / 'line.txt')
    common = ['--calibration', 'doas', '--doas-fov', '80,45,2', '--min-doas-points', 3, '--line', line, *SCENE]
    done = run_offline_process('process', archive, '--out', tmp_path / 'jobs', '--jobs', 2, *common, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '2 days' in done.stdout
    for day, folder in days.items():
        alone = run_offline_process('process', folder, '--out', tmp_path / day, *common, timeout=300)
        assert alone.returncode == 0, alone.stderr
        assert _rows(tmp_path / 'jobs' / day / 'emission_rates.csv') == _rows(
            tmp_path / day / day / 'emission_rates.csv')
    assert not list((tmp_path / 'jobs').glob('.replay-*')), 'no working folder left behind'
    kept, last = (json.loads(path.read_text()) for path in (tmp_path / 'jobs' / 'doas_calibration.json',
                                                            tmp_path / '2024-05-02' / 'doas_calibration.json'))
    kept.pop('created'), last.pop('created')
    assert kept == last, "the last day's calibration is kept"



@needs_spectra
def test_days_on_a_dask_cluster(tmp_path):
    import datetime
    import distributed
    archive = tmp_path / 'archive'
    for day in ('2024-05-01', '2024-05-02'):
        _day_with_spectra(archive / day, start=datetime.datetime.fromisoformat(f'{day}T12:00:00'))
    line = write_line(tmp_path / 'line.txt')
    common = ['--calibration', 'doas', '--doas-fov', '80,45,2', '--min-doas-points', 3, '--line', line, *SCENE]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1',
                                  scheduler_port=0, dashboard_address='127.0.0.1:0') as cluster:
        done = run_offline_process('process', archive, '--out', tmp_path / 'cluster', '--scheduler',
                                   cluster.scheduler_address, *common, timeout=300)
    assert done.returncode == 0, done.stderr
    local = run_offline_process('process', archive, '--out', tmp_path / 'local', '--jobs', 2, *common, timeout=300)
    assert local.returncode == 0, local.stderr
    for day in ('2024-05-01', '2024-05-02'):
        rows = _rows(tmp_path / 'cluster' / day / 'emission_rates.csv')
        assert rows and rows == _rows(tmp_path / 'local' / day / 'emission_rates.csv')


@needs_spectra
def test_a_replay_with_light_dilution_corrects_each_spectrum_as_pycam_doas_does(tmp_path):
    day = tmp_path / 'day'
    _day_with_spectra(day)
    line = write_line(tmp_path / 'line.txt')
    grid = ['--light-dilution', '--dilution-grid-size', '1.2e19,8,0.9,6']
    done = run_offline_process('process', day, '--out', tmp_path / 'batch', '--calibration', 'doas', '--doas-fov',
                               '80,45,2', '--min-doas-points', 3, '--line', line, *SCENE, *grid, timeout=300)
    assert done.returncode == 0 and 'columns corrected for light dilution' in done.stdout, done.stderr
    replayed = _rows(tmp_path / 'batch' / '2024-05-01' / 'doas_columns.csv')
    alone = run_offline_process('doas', day, *grid, '--out', tmp_path / 'alone', timeout=300)
    assert alone.returncode == 0, alone.stderr
    fitted = {row['spectrum']: row for row in _rows(tmp_path / 'alone' / 'doas_columns.csv')}
    assert len(replayed) == len(fitted) == 10
    for row in replayed:
        for key in ('so2_corrected_molecules_cm2', 'light_dilution_factor', 'so2_window1_molecules_cm2'):
            assert row[key] == fitted[row['spectrum']][key], key

    refused = run_offline_process('process', day, '--out', tmp_path / 'cells', '--line', line, *SCENE, *grid)
    assert refused.returncode != 0 and '--light-dilution corrects' in refused.stderr


@needs_spectra
def test_a_replay_writes_pycams_emission_files_when_asked_by_itself_and_day_by_day(tmp_path):
    day = tmp_path / 'day'
    _day_with_spectra(day)
    line = write_line(tmp_path / 'line.txt')
    for out, jobs in (('one', 1), ('days', 2)):
        done = run_offline_process('process', day, '--out', tmp_path / out, '--calibration', 'doas', '--doas-fov',
                                   '80,45,2', '--min-doas-points', 3, '--line', line, *SCENE, '--pycam-outputs',
                                   '--jobs', jobs, timeout=300)
        assert done.returncode == 0, done.stderr
        rows = _rows(tmp_path / out / '2024-05-01' / 'emission_rates.csv')
        ours = {r['time'].replace('T', ' ').rstrip('Z') for r in rows
                if r['calibration'] == 'doas' and r['emission_rate_kg_s']}
        files = list((tmp_path / out / 'line_0').glob('20240501_EmissionRates_*.txt'))
        assert len(files) == 1, out
        theirs = {row.split(',')[0] for row in files[0].read_text().splitlines()[1:]}
        assert ours and ours <= theirs, (out, ours - theirs)
        doas = list((tmp_path / out).glob('doas_results_2024-05-01T*.csv'))
        assert len(doas) == 1, out
        columns = _rows(tmp_path / out / '2024-05-01' / 'doas_columns.csv')
        results = _rows(doas[0])
        assert [r['Time'] for r in results] == [r['time'].replace('T', ' ').rstrip('Z') for r in columns]
        assert [float(r['Column density']) for r in results] == pytest.approx(
            [float(r['so2_molecules_cm2']) for r in columns], rel=1e-5)

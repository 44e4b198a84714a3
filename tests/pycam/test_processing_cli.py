"""pycam process | doas | calibrate, as a user runs them: on the Villarrica data and the
2019-05-29 spectra, without a daemon or a config."""
import csv
import json
import shutil

import numpy as np
import pytest

from processing_harness import CAL_1, SEQ_1, SPECTRA, needs_data, needs_spectra, run_offline, run_offline_process
from rockit.common.cli import Command
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH
from rockit.pycam.processing.batch import cli as offline


def test_commands_plug_into_the_cli_table():
    assert set(offline.COMMANDS) == {'process', 'doas', 'calibrate', 'fov', 'dilution'}
    assert all(isinstance(c, Command) and c.usage and c.help for c in offline.COMMANDS.values())


@needs_data
def test_process_villarrica_seq_1_with_cal_1(tmp_path):
    before = sorted(p.name for p in CAL_1.iterdir())
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path, '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', CAL_1, '--distance', 6000, '--focal-length', 7.3)
    assert code == 0, err
    assert 'poly2' in out and '7.30 mm lens' in out
    assert 'nearest' in err, 'the off-band dark of another exposure is used, and said so'
    assert '10 pairs' in out and 'villarrica_pcs_line_1.txt' in out and 'villarrica_cv_registration.npy' in out
    rows = list(csv.DictReader((tmp_path / 'emission_rates.csv').read_text().splitlines()))
    assert len(rows) == 10
    assert rows[0]['emission_rate_kg_s'] == '', 'no speed for the first pair'
    rates = [float(r['emission_rate_kg_s']) for r in rows[1:]]
    assert all(0 < r < 50 for r in rates)
    assert all(float(r['plume_speed_m_s']) > 0 for r in rows[1:]), 'the plume flows out through the line'
    for row in rows:
        aa = np.load(tmp_path / row['aa_file'])
        assert aa.shape == (IMAGE_HEIGHT, IMAGE_WIDTH) and aa.dtype == np.float32
        assert (tmp_path / row['aa_file'].replace('.npy', '.png')).is_file()
        so2 = np.load(tmp_path / row['so2_file'])
        assert so2.shape == (486, 648) and so2.dtype == np.float32
        assert 0 < float(row['valid_fraction']) <= 1
    described = json.loads((tmp_path / 'processing.json').read_text())
    assert described['calibration']['method'] == 'cell' and described['calibration']['model'] == 'poly2'
    assert described['calibration_model'] == 'poly2' and described['reference_temperature_k'] == 273.15
    assert sorted(p.name for p in CAL_1.iterdir()) == before, 'the data folders are only read'


@needs_data
def test_without_geometry_images_are_written_and_rates_left_empty(tmp_path):
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path, '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', CAL_1)
    assert code == 0, err
    assert out.count('no distance to the plume and no focal length') == 2, 'said among the inputs and at the end'
    rows = list(csv.DictReader((tmp_path / 'emission_rates.csv').read_text().splitlines()))
    assert len(rows) == 10 and all(r['emission_rate_kg_s'] == '' and r['line_column_kg_m'] == '' for r in rows)
    assert len(list((tmp_path / 'so2').glob('*_so2.npy'))) == 10


@needs_data
@pytest.mark.parametrize('flag, value, says', [('--focal-length', 0.009, 'a focal length of 0.009 mm'),
                                               ('--pixel-size', 5.6e-6, 'a pixel size of 5.6e-06 um'),
                                               ('--distance', 5, 'a distance of 5 m')])
def test_a_geometry_in_the_wrong_unit_is_refused_before_anything_is_written(tmp_path, flag, value, says):
    """Metres where the CLI takes millimetres (the config's focal_length_m) would make every
    rate a million times too small; the command says so and writes nothing."""
    given = {'--distance': 5000, '--focal-length': 9, '--pixel-size': 5.6, flag: value}
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                               '--calibration', CAL_1, *[v for item in given.items() for v in item])
    assert code != 0 and says in err and 'not plausible' in err and 'wrong unit' in err
    assert not (tmp_path / 'out').exists()


@needs_data
def test_distance_from_a_cam_geom_file(tmp_path):
    geometry = tmp_path / 'villarrica_26-03-2018.txt'
    geometry.write_text('# Geometry setup file\nvolcano=Villarrica\nlat=-39.377400\nlon=-71.946386\n'
                        'altitude=1170\nelev=10.0\nazim=172.0\nsource_lat=-39.42\nsource_lon=-71.93\n')
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', CAL_1, '--geometry', geometry, '--fov', 28)
    assert code == 0, err
    assert 'plume 4962 m away (along the view' in out and 'from a 28 deg field of view' in out
    rows = list(csv.DictReader((tmp_path / 'out' / 'emission_rates.csv').read_text().splitlines()))
    assert all(float(r['emission_rate_kg_s']) > 0 for r in rows[1:])
    geometry.write_text('lat=-39.3774\nlon=-71.946386\nazim=352\nsource_lat=-39.42\nsource_lon=-71.93\n')
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out2', '--darks', CAL_1, '--clear', CAL_1,
                               '--calibration', CAL_1, '--geometry', geometry, '--fov', 28)
    assert code != 0 and 'behind the camera' in err


@needs_data
def test_aa_in_the_plume_exceeds_the_clear_sky_region(tmp_path):
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path, '--darks', CAL_1, '--clear', CAL_1,
                               '--calibration', CAL_1)
    assert code == 0, err
    for path in sorted((tmp_path / 'so2').glob('*_aa.npy')):
        aa = np.load(path)
        sky = aa[20:70, 550:600]
        plume = aa[130:190, 310:370]         # the plume's core above the summit, on the line
        assert abs(np.nanmean(sky)) < 1e-3 and np.nanstd(sky) < 0.02
        assert np.nanmean(plume) > max(0.05, np.nanmean(sky) + 5 * np.nanstd(sky))


@needs_data
def test_process_refuses_without_darks_and_says_how_to_name_them(tmp_path):
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path)
    assert code != 0
    assert 'darks' in err and '_Dark.png' in err and '--darks' in err
    assert 'clear' in err and '_Clear.png' in err and 'calibration' in err and 'ppmm.png' in err
    assert not (tmp_path / 'emission_rates.csv').exists()
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path, '--darks', SEQ_1, '--clear', CAL_1,
                               '--calibration', CAL_1)
    assert code != 0 and 'no dark frames' in err and 'clear' not in err.split('darks:')[0]


def test_process_usage_errors():
    code, _, err = run_offline('process', '/nowhere')
    assert code == 2 and '--out' in err
    code, _, err = run_offline('process', '/nowhere', '--out', '/tmp/x', '--distance', 'far')
    assert code == 2 and 'distance' in err


@needs_data
def test_calibrate_prints_json_and_saves_beside_the_cells(tmp_path):
    run = tmp_path / 'Cal_1'
    shutil.copytree(CAL_1, run)
    run.chmod(0o755)                     # an instrument's own, writable folder
    code, out, err = run_offline('calibrate', run, '--json')
    assert code == 0, err
    fitted = json.loads(out)
    assert set(fitted) == {'model', 'coeffs', 'slope', 'intercept', 'r2', 'cells', 'fitted'}
    assert fitted['model'] == 'poly2' and list(fitted['cells']) == ['0', '304', '1257']
    assert fitted['cells']['0'] < fitted['cells']['304'] < fitted['cells']['1257']
    for cell, column in fitted['fitted'].items():
        assert column == pytest.approx(float(cell), abs=1.0), 'each cell reads back through the applied curve'
    assert json.loads((run / 'calibration.json').read_text())['coeffs'] == pytest.approx(fitted['coeffs'])
    code, out, err = run_offline('calibrate', run, '--json', '--model', 'linear', '--save', tmp_path / 'line.json')
    line = json.loads(out)
    assert code == 0 and line['model'] == 'linear' and abs(line['fitted']['0']) > 100
    code, _, err = run_offline('calibrate', run, '--model', 'cubic')
    assert code == 2 and 'cubic' in err
    assert json.loads((run / 'calibration.json').read_text())['slope'] == pytest.approx(fitted['slope'])

    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', run)
    assert code == 0, err
    assert f'{fitted["coeffs"][0]:.5g}' in out, 'the saved calibration is the one used'
    assert len((tmp_path / 'out' / 'emission_rates.csv').read_text().splitlines()) == 11


@needs_data
def test_calibrate_leaves_a_read_only_folder_alone_unless_told_where(tmp_path):
    run = tmp_path / 'Cal_1'
    shutil.copytree(CAL_1, run)
    run.chmod(0o555)                     # published read-only, even to root
    try:
        code, out, err = run_offline('calibrate', run)
        assert code == 0 and 'r2' in out and '1257 ppm.m cell' in out
        assert 'not saved' in err and '--save' in err and not (run / 'calibration.json').exists()
        code, out, err = run_offline('calibrate', run, '--save', tmp_path / 'villarrica.json')
        assert code == 0 and (tmp_path / 'villarrica.json').is_file()
    finally:
        run.chmod(0o755)


@needs_spectra
def test_doas_json_columns_for_every_plume_spectrum():
    code, out, err = run_offline('doas', SPECTRA, '--json')
    assert code == 0, err
    results = json.loads(out)
    assert len(results) == 12 and all(name.endswith('_Plume.npy') for name in results)
    assert all(set(r) == {'column', 'error'} and r['error'] > 0 for r in results.values())
    code, out, _ = run_offline('doas', SPECTRA)
    assert code == 0 and 'ppm.m' in out and len(out.strip().splitlines()) == 13


@needs_spectra
def test_doas_out_writes_the_columns_table(tmp_path):
    code, out, err = run_offline('doas', SPECTRA, '--out', tmp_path, '--temperature', 293.15)
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / 'doas_columns.csv').read_text().splitlines()))
    assert [r['spectrum'] for r in rows] == sorted(p.name for p in SPECTRA.glob('*_Plume.npy'))
    assert rows[0]['time'] == '2019-05-29T12:44:01Z'
    for row in rows:
        assert float(row['so2_ppmm']) == pytest.approx(float(row['so2_molecules_cm2']) / 2.504e15, rel=2e-3)
    code, _, _ = run_offline('doas', SPECTRA, '--out', tmp_path)
    assert code == 0 and len((tmp_path / 'doas_columns.csv').read_text().splitlines()) == 13, 'rewritten, not doubled'


def test_doas_refuses_a_folder_without_spectra(tmp_path):
    code, _, err = run_offline('doas', tmp_path)           # the shipped references, no spectra
    assert code != 0 and 'no Plume spectra' in err


def test_doas_refuses_a_reference_folder_missing_a_file(tmp_path):
    code, _, err = run_offline('doas', tmp_path, '--references', tmp_path)
    assert code != 0 and 'missing reference files' in err and 'SO2_293K.txt' in err


@needs_data
def test_standalone_entry_point(tmp_path):
    done = run_offline_process('calibrate', CAL_1, '--save', tmp_path / 'c.json')
    assert done.returncode == 0, done.stderr
    assert 'saved' in done.stdout
    done = run_offline_process('nonsense')
    assert done.returncode == 2 and 'process' in done.stderr


@needs_data
@pytest.mark.parametrize('speed', ['flow', 'cross-correlation'])
def test_parallel_jobs_write_exactly_the_rows_of_one(tmp_path, speed):
    common = ['process', SEQ_1, '--darks', CAL_1, '--clear', CAL_1, '--calibration', CAL_1, '--distance', 5000,
              '--focal-length', 7.3, '--speed', speed, '--cc-separation', 4]
    code, _, err = run_offline(*common, '--out', tmp_path / 'one', '--jobs', 1)
    assert code == 0, err
    code, _, err = run_offline(*common, '--out', tmp_path / 'two', '--jobs', 2)
    assert code == 0, err
    one = (tmp_path / 'one' / 'emission_rates.csv').read_text()
    assert (tmp_path / 'two' / 'emission_rates.csv').read_text() == one
    assert len(one.splitlines()) == 11
    for name in ('2018-03-26T144416_aa.npy', '2018-03-26T144520_so2.npy'):
        assert np.array_equal(np.load(tmp_path / 'one' / 'so2' / name), np.load(tmp_path / 'two' / 'so2' / name),
                              equal_nan=True)


def test_jobs_must_be_positive():
    code, _, err = run_offline('process', '/nowhere', '--out', '/tmp/x', '--jobs', 0)
    assert code == 2 and '--jobs' in err

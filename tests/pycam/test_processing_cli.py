"""pycam process | doas | calibrate, as a user runs them: on the Villarrica data and the
2019-05-29 spectra, without a daemon or a config."""
import csv
import json
import shutil

import numpy as np
import pytest

from processing_harness import CAL_1, SEQ_1, SPECTRA, needs_data, needs_spectra, run_offline, run_offline_process
from rockit.common.cli import Command
from rockit.pycam.processing import cli as offline


def test_commands_plug_into_the_cli_table():
    assert set(offline.COMMANDS) == {'process', 'doas', 'calibrate'}
    assert all(isinstance(c, Command) and c.usage and c.help for c in offline.COMMANDS.values())


@needs_data
def test_process_villarrica_seq_1_with_cal_1(tmp_path):
    before = sorted(p.name for p in CAL_1.iterdir())
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path, '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', CAL_1, '--distance', 6000)
    assert code == 0, err
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
        assert aa.shape == (486, 648) and aa.dtype == np.float32
        assert (tmp_path / row['aa_file'].replace('.npy', '.png')).is_file()
    assert json.loads((tmp_path / 'processing.json').read_text())['calibration']['method'] == 'cell'
    assert sorted(p.name for p in CAL_1.iterdir()) == before, 'the data folders are only read'


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
    assert set(fitted) == {'slope', 'intercept', 'r2', 'cells'}
    assert list(fitted['cells']) == ['0', '304', '1257']
    assert fitted['cells']['0'] < fitted['cells']['304'] < fitted['cells']['1257']
    assert json.loads((run / 'calibration.json').read_text())['slope'] == pytest.approx(fitted['slope'])

    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', run)
    assert code == 0, err
    assert f'{fitted["slope"]:.4g}' in out, 'the saved calibration is the one used'
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


def test_doas_refuses_a_folder_without_spectra(tmp_path):
    code, _, err = run_offline('doas', tmp_path)
    assert code != 0 and 'reference' in err


@needs_data
def test_standalone_entry_point(tmp_path):
    done = run_offline_process('calibrate', CAL_1, '--save', tmp_path / 'c.json')
    assert done.returncode == 0, done.stderr
    assert 'saved' in done.stdout
    done = run_offline_process('nonsense')
    assert done.returncode == 2 and 'process' in done.stderr

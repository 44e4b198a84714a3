"""--pycam-outputs: PyCam's own output files beside ours, in its names and columns, read
back as PyCam's scripts read them (pandas)."""
import csv
import datetime

import pandas as pd
import pytest

from processing_harness import (CAL_1, LINE_FILE, SEQ_1, SPECTRA, WARP_FILE, needs_data, needs_spectra, run_offline,
                                run_offline_process)

EMISSION_HEADER = ('datetime,flux_(kg/s),flux_err,velo_eff_(m/s),velo_eff_err,frac_optflow_ok,frac_optflow_ok_ica,'
                   'ICA_mass_(kg/m)')


def _rows(path):
    return list(csv.DictReader(path.read_text().splitlines()))


@needs_data
def test_emission_rates_in_pycams_files(tmp_path):
    second = tmp_path / 'line_2.txt'
    second.write_text('x=250,380\ny=250,115\norientation=left\n')
    done = run_offline_process('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                               '--calibration', CAL_1, '--line', LINE_FILE, '--line', second, '--registration',
                               WARP_FILE, '--distance', 6000, '--focal-length', 7.3, '--speed', 'histogram',
                               '--pycam-outputs', '--jobs', 2)
    assert done.returncode == 0, done.stderr
    ours = _rows(tmp_path / 'out' / 'emission_rates.csv')
    files = {line: tmp_path / 'out' / f'line_{line}' / '20180326_EmissionRates_flow_histo.txt'
             for line in ('0', '1', 'total')}
    for line, path in files.items():
        assert path.read_text().splitlines()[0] == EMISSION_HEADER, line
        table = pd.read_csv(path, index_col=0)
        assert len(table) == 10
        assert [datetime.datetime.strptime(t, '%Y-%m-%d %H:%M:%S') for t in table.index] == [
            datetime.datetime.strptime(r['time'], '%Y-%m-%dT%H:%M:%SZ') for r in ours]
    total = pd.read_csv(files['total'], index_col=0)
    for row, (_, pycam) in zip(ours[1:], list(total.iterrows())[1:]):     # ours: 6 digits, PyCam's: 3 decimals
        assert pycam['flux_(kg/s)'] == pytest.approx(float(row['emission_rate_kg_s']), abs=6e-4)
        assert pycam['velo_eff_(m/s)'] == pytest.approx(float(row['plume_speed_m_s']), abs=6e-4)
        assert pycam['ICA_mass_(kg/m)'] == pytest.approx(float(row['line_column_kg_m']), abs=6e-4)
        assert pycam['flux_err'] > 0
    values = [v for line in files['total'].read_text().splitlines()[1:] for v in line.split(',')[1:] if v]
    assert values and all(len(v.split('.')[1]) <= 3 for v in values), 'rounded to 3 decimals, as PyCam writes'
    per_line = sum(pd.read_csv(files[line], index_col=0)['flux_(kg/s)'].fillna(0) for line in ('0', '1'))
    assert per_line.to_numpy() == pytest.approx(total['flux_(kg/s)'].fillna(0).to_numpy(), abs=2e-3)
    assert pd.isna(total['frac_optflow_ok']).all(), 'what we do not measure is left empty'

    again = run_offline_process('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                                '--calibration', CAL_1, '--line', LINE_FILE, '--registration', WARP_FILE,
                                '--distance', 6000, '--speed', 'histogram', '--focal-length', 7.3, '--pycam-outputs')
    assert again.returncode == 0, again.stderr
    assert len(pd.read_csv(files['total'], index_col=0)) == 10, 'a rerun rewrites its days, never doubles them'


def test_pycam_outputs_are_off_unless_asked(tmp_path):
    code, _, err = run_offline('doas', tmp_path, '--pycam-outputs')
    assert code == 2 and '--out' in err


@needs_spectra
def test_doas_results_in_pycams_file(tmp_path):
    code, _, err = run_offline('doas', SPECTRA, '--out', tmp_path, '--pycam-outputs')
    assert code == 0, err
    ours = _rows(tmp_path / 'doas_columns.csv')
    path = tmp_path / 'doas_results_2019-05-29T124401.csv'
    assert path.read_text().splitlines()[0] == 'Time,Column density,CD error,LDF'
    table = pd.read_csv(path)            # as PyCam's load_results reads it
    assert len(table) == len(ours) == 12
    for (_, pycam), row in zip(table.iterrows(), ours):
        assert datetime.datetime.strptime(pycam['Time'], '%Y-%m-%d %H:%M:%S') == datetime.datetime.strptime(
            row['time'], '%Y-%m-%dT%H:%M:%SZ')
        assert pycam['Column density'] == pytest.approx(float(row['so2_molecules_cm2']), rel=1e-5)
        assert pycam['CD error'] == pytest.approx(float(row['so2_err_molecules_cm2']), rel=1e-5)
    assert table['LDF'].isna().all()


def test_live_writes_pycams_emission_files_when_configured(tmp_path):
    from processing_harness import write_synthetic_day
    from rockit.pycam.processing.live.processor import LiveProcessor
    from rockit.pycam.storage.names import images_in, plume_pairs
    write_synthetic_day(tmp_path / 'day', pairs=4)
    config = {'sky_region': [5, 0, 155, 6], 'integration_line': {'x': [80, 80], 'y': [15, 105]},
              'plume_distance_m': 4000, 'focal_length_m': 9e-3, 'pycam_outputs': True}
    processor = LiveProcessor(tmp_path / 'out', config).start()
    try:
        for name in images_in(tmp_path / 'day'):
            if name.kind != 'Plume':
                processor.submit_image(name.path, {})
        for on, off in plume_pairs(images_in(tmp_path / 'day')):
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(20)
    finally:
        processor.stop()
    ours = _rows(tmp_path / 'out' / '2024-05-01' / 'emission_rates.csv')
    for line in ('0', 'total'):
        path = tmp_path / 'out' / f'line_{line}' / '20240501_EmissionRates_flow_raw.txt'
        assert path.read_text().splitlines()[0] == EMISSION_HEADER
        table = pd.read_csv(path, index_col=0)
        assert list(table.index) == [r['time'].replace('T', ' ').rstrip('Z') for r in ours]
        assert (table['flux_(kg/s)'].iloc[1:] > 0).all()

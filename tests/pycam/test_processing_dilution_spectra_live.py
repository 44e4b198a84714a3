"""The light dilution correction in pycamd's live DOAS and in `pycam doas`: the corrected
column and the dilution factor reach doas_columns.csv and status, the DOAS calibration is
fitted to the corrected columns, and the keys that turn it on are checked by name."""
import datetime
import json
import math

import numpy as np
import pytest

from processing_harness import REFERENCES, run_offline_process
from rockit.common.csvlog import CsvLog
from rockit.pycam.processing.calibration.columns import ColumnUnits
from rockit.pycam.processing.live.doas import LiveDoas
from rockit.pycam.processing.live.settings import light_dilution
from rockit.pycam.processing.pipeline import ProcessingSettings
from rockit.pycam.simulator.scene import PlumeScene
from rockit.pycam.simulator.spectrometer import MOLECULES_PER_PPMM, SimulatedSpectrometer
from rockit.pycam.storage.names import parse_spectrum_name, spectrum_name
from rockit.pycam.processing.doas.dilution import DilutionGrid
from rockit.pycam.processing.doas.fit import plume_spectra
from test_processing_dilution_spectra import COADDS, DISTANCE_M, EXTINCTION_PER_KM, INTEGRATION_MS, SETTINGS, VIEW

GRID = {'so2_max': SETTINGS.so2_max, 'so2_points': SETTINGS.so2_points, 'ldf_max': SETTINGS.ldf_max,
        'ldf_points': SETTINGS.ldf_points}
CONFIG = {'light_dilution': True, 'light_dilution_grid': GRID}
START = datetime.datetime(2026, 1, 15, 14, 0, 0, tzinfo=datetime.timezone.utc)
LDF = 1 - math.exp(-EXTINCTION_PER_KM * DISTANCE_M / 1000)
AA_PER_COLUMN = 1e-19        # the AA images say the true column: AA 1 is 1e19 molecules/cm^2


@pytest.fixture(scope='module')
def day(tmp_path_factory):
    """A Dark and 8 co-added Plume spectra of a plume 8 km away, 20 s apart (the plume's
    texture gives them different columns); their true columns."""
    folder = tmp_path_factory.mktemp('spectra')
    scene = PlumeScene(extinction_per_km=EXTINCTION_PER_KM, plume_distance_m=DISTANCE_M)
    spectrometer = SimulatedSpectrometer(scene, VIEW, seed=11)
    spectrometer.integration_time_micros(INTEGRATION_MS * 1000)

    def save(kind, t, counts):
        moment = START + datetime.timedelta(seconds=t)
        np.save(folder / spectrum_name(moment, INTEGRATION_MS, COADDS, kind),
                np.array([spectrometer.wavelengths(), counts]))

    spectrometer.mimic_operator('Dark')
    save('Dark', -5, np.mean([spectrometer.render(0) for _ in range(COADDS)], axis=0))
    spectrometer.mimic_operator('Plume')
    truth = {}
    for t in range(0, 160, 20):
        save('Plume', t, np.mean([spectrometer.render(t) for _ in range(COADDS)], axis=0))
        truth[START + datetime.timedelta(seconds=t)] = spectrometer.plume_column(t) * MOLECULES_PER_PPMM
    return folder, truth


@pytest.fixture(scope='module')
def grid(day, tmp_path_factory):
    """The grid file made from the first spectrum, as pycamd and `pycam doas` make it: made
    once here and handed to each test, which reads it rather than making its own."""
    folder, _ = day
    path = tmp_path_factory.mktemp('grid') / 'light_dilution_grid.npz'
    _, wavelengths, counts, dark = next(plume_spectra(folder))
    DilutionGrid.cached(path, REFERENCES, SETTINGS, wavelengths, counts, dark)
    return path.read_bytes()


def test_live_rows_status_and_calibration_carry_the_corrected_columns(day, grid, tmp_path):
    folder, truth = day
    (tmp_path / 'light_dilution_grid.npz').write_bytes(grid)
    status = {}
    doas = LiveDoas(REFERENCES, tmp_path, ProcessingSettings(), status.update, fov=[5, 5, 3], min_points=5,
                    dilution=light_dilution(CONFIG))
    doas.dark(parse_spectrum_name(next(folder.glob('*_Dark.npy'))))
    calibration = None
    for path in sorted(folder.glob('*_Plume.npy')):
        name = parse_spectrum_name(path)
        doas.spectrum(name)
        aa = np.full((10, 10), truth[name.time] * AA_PER_COLUMN)
        calibration = doas.image(name.time + datetime.timedelta(seconds=0.5), aa) or calibration

    rows = CsvLog(tmp_path / '2026-01-15' / 'doas_columns.csv', ()).rows()
    assert len(rows) == len(truth)
    for row in rows:
        true = truth[parse_spectrum_name(folder / row['spectrum']).time]
        assert float(row['so2_molecules_cm2']) < 0.7 * true          # the dilution's bias
        assert float(row['so2_corrected_molecules_cm2']) == pytest.approx(true, rel=0.25), row
        assert float(row['light_dilution_factor']) == pytest.approx(LDF, abs=0.1)
        assert float(row['so2_corrected_ppmm']) == pytest.approx(
            ColumnUnits(273.15).to_ppmm(float(row['so2_corrected_molecules_cm2'])), rel=1e-5)
    assert status['doas_corrected_column'] == pytest.approx(float(rows[-1]['so2_corrected_molecules_cm2']), rel=1e-5)
    assert status['doas_ldf'] == pytest.approx(float(rows[-1]['light_dilution_factor']), rel=1e-5)
    assert status['doas_corrected_error'] > 0 and status['doas_ldf_error'] > 0
    assert status['doas_dilution_note'] == ''
    assert (tmp_path / 'light_dilution_grid.npz').read_bytes() == grid, 'the kept grid is used as it is'

    # Fitted to the corrected columns: AA 1 reads the true 1e19, where the uncorrected
    # columns would make it 30 % or more short.
    assert calibration is not None, status.get('doas_refit')
    assert calibration.column(1.0, ColumnUnits(273.15)) == pytest.approx(1 / AA_PER_COLUMN, rel=0.10)


def test_without_light_dilution_the_rows_leave_the_correction_empty(day, tmp_path):
    folder, truth = day
    status = {}
    doas = LiveDoas(REFERENCES, tmp_path, ProcessingSettings(), status.update, fov=[5, 5, 3],
                    dilution=light_dilution({}))
    doas.dark(parse_spectrum_name(next(folder.glob('*_Dark.npy'))))
    doas.spectrum(parse_spectrum_name(next(folder.glob('*_Plume.npy'))))
    row = CsvLog(tmp_path / '2026-01-15' / 'doas_columns.csv', ()).rows()[0]
    assert row['so2_molecules_cm2'] and row['so2_corrected_molecules_cm2'] == '' and row['light_dilution_factor'] == ''
    assert 'doas_corrected_column' not in status
    assert not (tmp_path / 'light_dilution_grid.npz').exists()


@pytest.mark.parametrize('config, message', [
    ({'light_dilution': 'yes'}, 'processing: light_dilution must be true or false'),
    ({'light_dilution': True, 'light_dilution_windows': [[306, 316]]}, 'processing: light_dilution_windows'),
    ({'light_dilution': True, 'light_dilution_grid': {'ldf_max': 2}}, 'processing: light_dilution_grid: ldf_max'),
    ({'light_dilution_grid': {'so2_points': 1}}, 'processing: light_dilution_grid: so2_points'),
])
def test_bad_light_dilution_keys_are_refused_naming_the_key(config, message):
    with pytest.raises(ValueError, match=message):
        light_dilution(config)


@pytest.mark.parametrize('processing, message', [
    ({'light_dilution': 1}, 'processing.light_dilution'),
    ({'light_dilution_grid': {'ldf_max': 1.5}}, 'processing.light_dilution_grid.ldf_max'),
    ({'light_dilution_windows': [[306, 316]]}, 'processing.light_dilution_windows'),
])
def test_pycamd_config_refuses_a_bad_light_dilution_key(test_registry, tmp_path, processing, message):
    from pycam_harness import config_for
    from rockit.common.config import ConfigError
    from rockit.pycam.config import PycamConfig
    test_registry.add('pycam_dilution')
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps(config_for('pycam_dilution', tmp_path / 'data', processing=processing)))
    with pytest.raises(ConfigError, match=message):
        PycamConfig.load(path)


def test_pycam_doas_light_dilution_flag(day, grid, tmp_path):
    folder, truth = day
    kept = tmp_path / 'grid.npz'
    kept.write_bytes(grid)
    size = f'{SETTINGS.so2_max:g},{SETTINGS.so2_points},{SETTINGS.ldf_max:g},{SETTINGS.ldf_points}'
    done = run_offline_process('doas', folder, '--light-dilution', '--dilution-grid', kept,
                               '--dilution-grid-size', size, '--json', '--out', tmp_path / 'out')
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for name, result in results.items():
        true = truth[parse_spectrum_name(folder / name).time]
        assert result['column'] < 0.7 * true
        assert result['light_dilution']['column'] == pytest.approx(true, rel=0.25)
        assert result['light_dilution']['ldf'] == pytest.approx(LDF, abs=0.1)
    assert kept.read_bytes() == grid
    rows = CsvLog(tmp_path / 'out' / 'doas_columns.csv', ()).rows()
    assert all(math.isfinite(float(r['so2_corrected_molecules_cm2'])) for r in rows)


@pytest.mark.parametrize('args, message', [
    (['--dilution-grid-size', '8e18,12,0.8'], '--dilution-grid-size'),
    (['--dilution-grid-size', '8e18,12,1.5,9'], 'ldf_max'),
    (['--dilution-windows', '316,306,312,322'], '--dilution-windows'),
])
def test_pycam_doas_refuses_bad_light_dilution_flags(day, args, message):
    folder, _ = day
    done = run_offline_process('doas', folder, '--light-dilution', *args)
    assert done.returncode != 0
    assert message in done.stderr + done.stdout

"""Light dilution on the simulator: a plume 8 km away behind air whose extinction makes the
uncorrected `pycam process` rate at least 30 % low, and terrain (ridges at 1.2-9 km) seen
through the same air. The correction, with each band's extinction fitted to the terrain in
every pair (or given fixed), brings the rate within 10 % of the truth; without dilution it
changes the rate by less than 2 %. Its inputs are refused with messages that say why.
"""
import csv
import json

import numpy as np
import pytest

from processing_harness import process_simulated, run_offline_process
from rockit.pycam.simulator import truth as simulated
from rockit.pycam.simulator.scene import GROUND_RADIANCE, HORIZON, PlumeScene
from rockit.pycam.simulator.sequence import SequencePlan, write_sequence

PAIRS = 4
DISTANCE_M = 8000.0
EXTINCTION = 0.06      # per km at 310 nm: 38 % of the on-band's plume light is lost on the way


def _day(tmp_path_factory, extinction):
    folder = tmp_path_factory.mktemp(f'dilution{extinction:g}') / 'day'
    truth = write_sequence(folder, SequencePlan(pairs=PAIRS, distance_m=DISTANCE_M, extinction_per_km=extinction,
                                                spectra=False))
    return folder, truth


@pytest.fixture(scope='module')
def diluted(tmp_path_factory):
    return _day(tmp_path_factory, EXTINCTION)


@pytest.fixture(scope='module')
def clear_air(tmp_path_factory):
    return _day(tmp_path_factory, 0.0)


def terrain_flags(truth):
    dilution = truth['dilution']
    flags = []
    for feature in dilution['terrain']:
        flags += ['--terrain', ','.join(f'{v:g}' for v in [*feature['line'], feature['distance_m']])]
    return flags + ['--ambient-region', ','.join(str(v) for v in dilution['ambient_region'])]


def process(day, out, *extra):
    folder, truth = day
    done = process_simulated(folder, truth, out, *extra)
    with open(out / 'emission_rates.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    return simulated.compare(out, folder), rows, done.stdout


def test_the_terrain_is_diluted_by_the_law_and_its_truth_is_written(diluted):
    folder, truth = diluted
    stored = json.loads((folder / 'truth.json').read_text())['dilution']
    distances = np.load(folder / 'truth.npz')['terrain_distance_m']
    assert np.isnan(distances[:HORIZON]).all() and np.isfinite(distances[HORIZON:]).all()
    scene = PlumeScene(extinction_per_km=EXTINCTION, plume_distance_m=DISTANCE_M)
    assert stored['extinction_per_km'] == {'fltrA': pytest.approx(0.06), 'fltrB': pytest.approx(0.06 * (310 / 330) ** 4)}
    assert stored['plume_distance_m'] == DISTANCE_M
    ambient = scene.radiance()[HORIZON - 1, scene.radiance().shape[1] // 2]
    for feature in stored['terrain']:
        x0, y, x1, _ = feature['line']
        assert set(distances[y, x0:x1 + 1].tolist()) == {feature['distance_m']}
        f = np.exp(-stored['extinction_per_km']['fltrB'] * feature['distance_m'] / 1000)
        assert scene.radiance()[y, x0:x1 + 1].mean() == pytest.approx(GROUND_RADIANCE * f + ambient * (1 - f), rel=1e-4)
    assert len({feature['distance_m'] for feature in stored['terrain']}) >= 3


def test_without_dilution_the_flank_is_as_before():
    scene = PlumeScene()
    assert (scene.radiance()[HORIZON:] == np.float32(GROUND_RADIANCE)).all()


def test_terrain_fitted_correction_brings_a_diluted_rate_to_the_truth(diluted, tmp_path):
    plain, _, _ = process(diluted, tmp_path / 'plain')
    corrected, rows, stdout = process(diluted, tmp_path / 'corrected', *terrain_flags(diluted[1]))
    true = diluted[1]['dilution']['extinction_per_km']
    fitted = {band: np.mean([float(r[f'dilution_{band}_per_km']) for r in rows]) for band in ('on', 'off')}
    print(f'uncorrected {plain["mean_rate_error"]:+.4f}, corrected {corrected["mean_rate_error"]:+.4f}; extinction '
          f'fitted {fitted["on"]:.5f}/{fitted["off"]:.5f}, true {true["fltrA"]:.5f}/{true["fltrB"]:.5f} per km')
    assert plain['mean_rate_error'] <= -0.30
    assert abs(corrected['mean_rate_error']) < 0.10
    assert fitted['on'] == pytest.approx(true['fltrA'], rel=0.05)
    assert fitted['off'] == pytest.approx(true['fltrB'], rel=0.05)
    assert 'light dilution: plume at 8000 m, extinction fitted' in stdout
    settings = json.loads((tmp_path / 'corrected' / 'processing.json').read_text())
    assert settings['dilution']['plume_distance_m'] == DISTANCE_M


def test_fixed_coefficients_correct_the_same_way(diluted, tmp_path):
    true = diluted[1]['dilution']['extinction_per_km']
    corrected, rows, _ = process(diluted, tmp_path / 'fixed', '--extinction', f'{true["fltrA"]},{true["fltrB"]}')
    assert abs(corrected['mean_rate_error']) < 0.10
    assert [float(r['dilution_on_per_km']) for r in rows] == [pytest.approx(true['fltrA'])] * PAIRS


def test_without_dilution_the_correction_changes_the_rate_by_less_than_2_percent(clear_air, tmp_path):
    plain, plain_rows, _ = process(clear_air, tmp_path / 'plain')
    corrected, rows, _ = process(clear_air, tmp_path / 'corrected', *terrain_flags(clear_air[1]))
    assert 'dilution_on_per_km' not in plain_rows[0]
    change = (1 + corrected['mean_rate_error']) / (1 + plain['mean_rate_error']) - 1
    print(f'no dilution: the correction changes the rate by {change:+.5f}')
    assert abs(change) < 0.02
    assert all(float(r['dilution_on_per_km']) < 0.002 for r in rows)


@pytest.mark.parametrize('flags, message', [
    (['--terrain', '20,417,480,417,9000', '--terrain', '20,431,480,431,6000', '--ambient-region', '300,398,360,408'],
     'terrain at 3 distances at least'),
    (['--terrain', '20,417,480,417,-9000'], 'the distance must be above 0 m'),
    (['--terrain', '20,417,9000,5'], 'expected x,y,distance_m'),
    (['--terrain', '20,417,480,417,9000'], '--terrain needs --ambient-region'),
    (['--extinction', '0.06'], "--extinction '0.06': expected ON,OFF"),
    (['--extinction', '0.06,-1'], 'the off-band extinction must be a number of at least 0'),
    (['--extinction', '0.06,0.04', '--terrain', '20,417,9000'], 'not both'),
    (['--ambient-region', '300,398,360,408'], 'need --terrain or --extinction'),
    (['--extinction', '0.06,0.04', '--dilution-distance', '0'], 'the plume distance must be above 0 m'),
])
def test_bad_dilution_flags_are_refused_with_a_reason(diluted, tmp_path, flags, message):
    folder, _ = diluted
    done = run_offline_process('process', folder, '--out', tmp_path / 'out', '--registration', 'identity',
                               '--distance', 8000, '--focal-length', 9, '--jobs', 1, *flags)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    assert not (tmp_path / 'out' / 'emission_rates.csv').exists()


def test_the_dilution_command_estimates_the_coefficients_with_their_fit_quality(diluted):
    folder, truth = diluted
    done = run_offline_process('dilution', folder, *terrain_flags(truth), '--registration', 'identity', '--json')
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    true = truth['dilution']['extinction_per_km']
    print(f'pycam dilution: on {report["on"]["per_km"]:.5f} +- {report["on"]["per_km_err"]:.5f} (true '
          f'{true["fltrA"]:.5f}), off {report["off"]["per_km"]:.5f} +- {report["off"]["per_km_err"]:.5f} (true '
          f'{true["fltrB"]:.5f}), r2 {report["on"]["r2"]:.6f}/{report["off"]["r2"]:.6f}')
    assert report['pairs'] == PAIRS and report['on']['points'] == 5
    for band, truth_band in (('on', 'fltrA'), ('off', 'fltrB')):
        assert report[band]['per_km'] == pytest.approx(true[truth_band], rel=0.02)
        assert report[band]['r2'] > 0.999 and report[band]['per_km_err'] < 0.001


@pytest.mark.parametrize('flags, message', [
    (['--terrain', '20,417,480,417,9000', '--ambient-region', '300,398,360,408'], 'terrain points or lines at least'),
    (['--terrain', '20,417,480,417,9000', '--terrain', '20,431,480,431,6000', '--terrain', '20,445,480,445,4000',
      '--ambient-region', '20,440,60,450'], 'is not darker than the ambient light'),
    (['--terrain', '20,417,480,417,9000', '--terrain', '20,431,480,431,6000', '--terrain', '20,445,480,445,4000',
      '--ambient-region', '300,398,360,408', '--pairs', '0'], '--pairs must be at least 1'),
    (['--terrain', '20,417,480,417,9000', '--terrain', '20,431,480,431,6000', '--terrain', '20,445,480,700,4000',
      '--ambient-region', '300,398,360,408'], 'lies outside the 648x486 image'),
])
def test_the_dilution_command_says_why_it_cannot_fit(diluted, flags, message):
    folder, _ = diluted
    done = run_offline_process('dilution', folder, '--registration', 'identity', *flags)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def live_config(truth, **dilution):
    dilution_truth = truth['dilution']
    geometry = truth['geometry']
    x0, y0, x1, y1 = truth['line']['x'][0], truth['line']['y'][0], truth['line']['x'][1], truth['line']['y'][1]
    return {'integration_line': {'x': [x0, x1], 'y': [y0, y1], 'orientation': 'left'},
            'plume_distance_m': geometry['distance_m'], 'focal_length_m': geometry['focal_length_m'],
            'pixel_size_m': geometry['pixel_size_m'], 'registration': [[1, 0, 0], [0, 1, 0]], **dilution}


def test_live_processing_corrects_with_terrain_from_its_config_and_says_so(diluted, tmp_path):
    from rockit.pycam.processing.live.processor import LiveProcessor
    from rockit.pycam.storage.names import images_in, plume_pairs
    folder, truth = diluted
    terrain = [{'line': feature['line'], 'distance_m': feature['distance_m']} for feature in truth['dilution']['terrain']]
    config = live_config(truth, dilution_terrain=terrain, dilution_ambient_region=truth['dilution']['ambient_region'])
    processor = LiveProcessor(tmp_path / 'out', config).start()
    try:
        for name in images_in(folder):
            if name.kind != 'Plume':
                processor.submit_image(name.path, {'type': name.kind})
        for on, off in plume_pairs(images_in(folder)):
            assert processor.submit_pair(on.path, {'exposure_us': on.exposure_us}, off.path, {})
            assert processor.wait_idle(30)
        status = processor.status()
    finally:
        processor.stop()
    assert status['pairs_processed'] == PAIRS and status['pairs_failed'] == 0, status
    true = truth['dilution']['extinction_per_km']
    fit = status['dilution'].pop('fit')
    assert status['dilution'] == {'on_per_km': pytest.approx(true['fltrA'], rel=0.05),
                                  'off_per_km': pytest.approx(true['fltrB'], rel=0.05),
                                  'plume_distance_m': DISTANCE_M, 'source': 'terrain fit'}
    assert fit['on']['r2'] > 0.999 and 0 < fit['off']['per_km_err'] < 0.001
    with open(tmp_path / 'out' / '2026-01-15' / 'emission_rates.csv', newline='') as f:
        rows = [row for row in csv.DictReader(f)]
    assert [float(r['dilution_off_per_km']) for r in rows] == [pytest.approx(true['fltrB'], rel=0.05)] * PAIRS
    rates = [float(r['emission_rate_kg_s']) for r in rows if r['emission_rate_kg_s']]
    true_rates = [p['emission_rate_kg_s'] for p in truth['pairs'][1:]]
    assert sum(rates) / sum(true_rates) - 1 == pytest.approx(0, abs=0.10)


@pytest.mark.parametrize('keys, message', [
    ({'dilution_ambient_region': [1, 2, 3, 4]}, 'dilution_ambient_region: no use without dilution_terrain'),
    ({'dilution_extinction_per_km': {'on': 0.06}}, 'dilution_extinction_per_km: needs {"on": <per km>'),
    ({'dilution_extinction_per_km': {'on': 0.06, 'off': -1}}, 'dilution_extinction_per_km: the off-band extinction'),
    ({'dilution_terrain': [{'line': [1, 2, 3], 'distance_m': 5}] * 3}, 'dilution_terrain: each item needs "line"'),
    ({'dilution_terrain': [{'point': [1, 2], 'distance_m': 5}] * 3, 'dilution_ambient_region': [1, 2, 3, 4]},
     'dilution_terrain: a dilution correction needs fixed coefficients for both bands, or terrain at 3 distances'),
    ({'dilution_terrain': [{'point': [1, 2], 'distance_m': d} for d in (1e3, 2e3, 3e3)]},
     'dilution_ambient_region: needs [x0, y0, x1, y1]'),
    ({'dilution_terrain': [{'point': [1, 2], 'distance_m': d} for d in (1e3, -2e3, 3e3)],
      'dilution_ambient_region': [1, 2, 3, 4]}, 'dilution_terrain: terrain 1,2,-2000: the distance must be above 0 m'),
    ({'dilution_extinction_per_km': {'on': 0.06, 'off': 0.04}, 'dilution_distance_m': 0},
     'dilution_distance_m must be above 0 m'),
    ({'dilution_extinction_per_km': {'on': 0.06, 'off': 0.04}, 'dilution_terrain': []}, 'not both'),
])
def test_live_dilution_keys_are_checked_naming_the_key(keys, message):
    from rockit.pycam.processing.live.settings import settings_from_config
    config = {'plume_distance_m': 8000, 'focal_length_m': 9e-3, **keys}
    with pytest.raises(ValueError) as caught:
        settings_from_config(config)
    assert str(caught.value).startswith('processing: ') and message in str(caught.value), str(caught.value)


def test_live_dilution_needs_a_plume_distance():
    from rockit.pycam.processing.live.settings import settings_from_config
    with pytest.raises(ValueError, match="processing: light dilution needs the plume's distance"):
        settings_from_config({'dilution_extinction_per_km': {'on': 0.06, 'off': 0.04}})
    settings = settings_from_config({'dilution_extinction_per_km': {'on': 0.06, 'off': 0.04}, 'dilution_distance_m': 7e3})
    assert settings.dilution.per_km == {'on': 0.06, 'off': 0.04} and settings.dilution.distance_m == 7e3


def test_the_sequence_command_takes_a_plume_distance_and_refuses_nonsense(tmp_path):
    import subprocess
    import sys
    from processing_harness import ROOT
    command = [sys.executable, '-m', 'rockit.pycam.simulator.sequence']
    for bad in (['--distance', '0'], ['--extinction', '-0.1']):
        done = subprocess.run(command + [str(tmp_path / 'bad'), '--pairs', '1', *bad], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 2 and '--distance must be above 0 m and --extinction not below 0' in done.stderr
    assert not (tmp_path / 'bad' / 'truth.json').exists()
    done = subprocess.run(command + [str(tmp_path / 'day'), '--pairs', '1', '--no-spectra', '--no-columns',
                                     '--distance', '8000', '--extinction', '0.05'],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    stored = json.loads((tmp_path / 'day' / 'truth.json').read_text())
    assert stored['dilution']['plume_distance_m'] == 8000 and stored['geometry']['distance_m'] == 8000
    assert stored['dilution']['extinction_per_km']['fltrA'] == pytest.approx(0.05)

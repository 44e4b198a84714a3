"""The backgrounds (clear sky, sky region, a surface fitted without a clear frame) and the
sky-gradient correction, held to a simulated sequence's truth: the simulated on-band sky
darkens towards the horizon (AA +0.05 from top to horizon, as Villarrica's), which the
clear-sky ratio cancels and one sky patch does not. Their config keys and flags refuse
what they cannot use, naming the key."""
import json
import shutil

import pytest

from processing_harness import run_offline
from rockit.pycam.processing.live.settings import settings_from_config
from rockit.pycam.simulator import truth as simulated
from rockit.pycam.simulator.sequence import SequencePlan, write_sequence

PAIRS = 6
GRADIENT_STRIP = '600,20,640,400'     # right of the vent: sky from top to horizon
SURFACE = ('--surface-region', '570,0,648,400', '--surface-region', '0,0,648,20')


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    folder = tmp_path_factory.mktemp('backgrounds') / 'day'
    write_sequence(folder, SequencePlan(pairs=PAIRS, spectra=False))
    return folder


def process(folder, out, *extra):
    code, stdout, stderr = run_offline('process', folder, '--out', out, '--registration', 'identity',
                                       '--distance', 3000, '--focal-length', 9, '--jobs', 1, *extra)
    assert code == 0, stderr
    return simulated.compare(out, folder), stdout


def test_one_sky_patch_leaves_the_sky_gradient_which_the_gradient_fit_takes_off(sequence, tmp_path):
    patch, _ = process(sequence, tmp_path / 'patch', '--clear', 'sky')
    assert patch['sky_worst_block_ppmm'] > 20           # the gradient, 0.05 AA from top to horizon
    for order in ('linear', 'quadratic'):
        fitted, stdout = process(sequence, tmp_path / order, '--clear', 'sky', '--sky-gradient', order,
                                 '--gradient-region', GRADIENT_STRIP)
        assert f'sky gradient: {order}' in stdout
        assert fitted['sky_worst_block_ppmm'] <= 3.0, (order, fitted)
        assert abs(fitted['mean_rate_error']) < 0.10, (order, fitted)


def test_a_surface_fit_needs_no_clear_frame(sequence, tmp_path):
    # The plume's day without clear-sky frames; the cells calibrated against their own.
    folder = tmp_path / 'no_clear'
    shutil.copytree(sequence, folder, ignore=shutil.ignore_patterns('*_Clear.png', '*ppmm.png'))
    code, _, stderr = run_offline('process', folder, '--out', tmp_path / 'x', '--registration', 'identity',
                                  '--calibration', sequence)
    assert code != 0 and 'clear-sky frames' in stderr
    result, stdout = process(folder, tmp_path / 'surface', '--calibration', sequence, '--background', 'surface',
                             '--surface-order', '1', *SURFACE)
    assert 'a surface of order 1 fitted to' in stdout
    assert result['sky_worst_block_ppmm'] <= 3.0, result
    assert abs(result['mean_rate_error']) < 0.10, result


def test_background_flags_refuse_what_they_cannot_use(sequence, tmp_path):
    code, _, stderr = run_offline('process', sequence, '--out', tmp_path / 'a', '--registration', 'identity',
                                  '--sky-gradient', 'linear')
    assert code != 0 and '--gradient-region' in stderr
    code, _, stderr = run_offline('process', sequence, '--out', tmp_path / 'b', '--registration', 'identity',
                                  '--background', 'surface', '--surface-order', '7')
    assert code != 0 and '--surface-order must be 1-4' in stderr


@pytest.mark.parametrize('config, named', [
    ({'background': 'ground'}, 'background'),
    ({'sky_gradient': 'cubic'}, 'sky_gradient'),
    ({'sky_gradient': 'linear'}, 'sky_gradient_region'),
    ({'sky_gradient': 'linear', 'sky_gradient_region': [600, 400, 640, 20]}, 'sky_gradient_region'),
    ({'background': 'surface', 'surface_regions': [[0, 0, 10]]}, 'surface_regions'),
    ({'background': 'surface', 'surface_order': 5}, 'surface_order'),
])
def test_background_config_keys_are_checked_and_named(config, named):
    with pytest.raises(ValueError, match=named):
        settings_from_config(config)


def test_background_config_keys_reach_the_settings():
    settings = settings_from_config({'background': 'surface', 'surface_regions': [[570, 0, 648, 400]],
                                     'surface_order': 3, 'sky_gradient': 'quadratic',
                                     'sky_gradient_region': [600, 20, 640, 400]})
    assert settings.background == 'surface' and settings.surface_order == 3
    assert [r.as_list() for r in settings.surface_regions] == [[570, 0, 648, 400]]
    assert settings.sky_gradient.order == 2 and settings.sky_gradient.region.as_list() == [600, 20, 640, 400]
    described = settings.describe()
    assert described['background'] == 'surface' and described['sky_gradient'] == {'region': [600, 20, 640, 400],
                                                                                   'order': 2}


@pytest.mark.parametrize('processing, named', [
    ({'background': 'ground'}, 'processing.background'),
    ({'surface_order': 0}, 'processing.surface_order'),
    ({'sky_gradient_region': [1, 2, 3]}, 'processing.sky_gradient_region'),
    ({'min_column': -1}, 'processing.min_column'),
    ({'speed_mode': 'global', 'global_speed_m_s': 0}, 'processing.global_speed_m_s'),
    ({'distance_per_pixel': 'yes'}, 'processing.distance_per_pixel'),
    ({'dilution_extinction_per_km': {'on': 0.06}}, 'processing.dilution_extinction_per_km'),
    ({'dilution_extinction_per_km': {'on': 0.06, 'off': -0.1}}, 'processing.dilution_extinction_per_km'),
    ({'dilution_terrain': [{'point': [1, 2], 'distance_m': 900}]}, 'processing.dilution_terrain'),
    ({'dilution_ambient_region': [1, 2, 3]}, 'processing.dilution_ambient_region'),
    ({'dilution_distance_m': 0}, 'processing.dilution_distance_m'),
])
def test_pycamds_config_schema_names_a_bad_processing_key(tmp_path, test_registry, processing, named):
    from pycam_harness import config_for
    from rockit.common.errors import ConfigError
    from rockit.pycam.config import PycamConfig
    test_registry.add('pycam_schema')
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps(config_for('pycam_schema', tmp_path / 'data', processing=processing)))
    with pytest.raises(ConfigError, match=named.replace('.', r'\.')):
        PycamConfig.load(path)

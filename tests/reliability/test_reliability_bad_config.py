"""Every daemon refuses a bad config the same way: exit code 2, one readable line per
problem naming the key, never a traceback. The mistakes are generated from each daemon's
own schema (every required key missing in turn, every key given a value of the wrong
type, an unknown key), so a key added to a schema is covered without touching this file.
"""
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from support import ROOT
from reliability_harness import DAEMONS, PYCAMD
from rockit.common import log
from rockit.pycam.settings import SettingsCheck

WRONG_TYPE = {'string': 42, 'integer': 'many', 'number': 'warm', 'boolean': 'yes', 'array': 'one', 'object': ['a']}


def wrong_values(schema):
    """Values of the wrong type for a key of this schema, with what JSON lets slip through:
    a fraction where a whole number belongs, NaN where a number does."""
    if 'enum' in schema:
        return [42]
    kind = schema['type']
    extra = {'integer': [2.5, 2.0], 'number': [float('nan'), float('inf')]}.get(kind, [])
    return [WRONG_TYPE[kind]] + extra


def mistakes(spec, valid):
    properties = spec.config_class.SCHEMA['properties']
    for key in spec.config_class.SCHEMA['required']:
        yield key, {k: v for k, v in valid.items() if k != key}
    for key, schema in properties.items():
        for value in wrong_values(schema):
            yield key, {**valid, key: value}
    yield 'colour', {**valid, 'colour': 'blue'}


@pytest.fixture
def refused(tmp_path, monkeypatch, capsys):
    """refused(spec, data) -> the problem lines the daemon printed, having checked that it
    refused the config with exit code 2 and no traceback."""
    def accepted(*_args, **_kwargs):
        raise AssertionError('the daemon accepted the config')
    monkeypatch.setattr(log, 'configure', accepted)   # the first thing a daemon does with a good config

    def run(spec, data):
        path = tmp_path / f'{spec.name}.json'
        path.write_text(json.dumps(data))
        assert spec.main([str(path)]) == 2
        out, err = capsys.readouterr()
        assert 'Traceback' not in err and out == ''
        header, *lines = err.splitlines()
        assert header == f'error: {path}: invalid config', err
        return [line.strip() for line in lines]
    return run


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_the_valid_config_is_valid(spec, test_registry, tmp_path):
    path = tmp_path / 'good.json'
    path.write_text(json.dumps(spec.config(test_registry)))
    spec.config_class.load(path)


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_each_mistake_is_one_line_naming_the_key(spec, test_registry, refused):
    for key, data in mistakes(spec, spec.config(test_registry)):
        lines = refused(spec, data)
        assert len(lines) == 1 and lines[0].startswith((f'{key}:', f'{key}.', f'{key}[')), (key, data.get(key), lines)


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_the_executable_exits_2_without_a_traceback(spec, test_registry, tmp_path):
    data = spec.config(test_registry)
    key = spec.config_class.SCHEMA['required'][-1]
    data[key] = float('nan') if spec.config_class.SCHEMA['properties'][key].get('type') == 'number' else None
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(data))
    result = subprocess.run([sys.executable, str(ROOT / spec.name), str(path)], capture_output=True, text=True,
                            timeout=10)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[1].strip().startswith(f'{key}:') and 'Traceback' not in result.stderr


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_a_key_holding_a_line_break_is_still_one_line(spec, test_registry, refused):
    assert refused(spec, {**spec.config(test_registry), 'col\nour': 1}) == ['col\\nour: unknown key']


# pycamd: a config seeds the settings an operator changes with set_settings, so it must not
# start the daemon with a value set_settings refuses. A frame rate of 1e-12 Hz got through
# (the schema only asked for more than 0): continuous acquisition then aimed at a slot in
# the year 33658, the spectrometer's thread died on the wait and report_status failed.
@pytest.mark.parametrize('rate', [1e-12, 0.0009])
def test_pycamd_refuses_a_starting_frame_rate_set_settings_would_refuse(rate, test_registry, refused):
    lines = refused(PYCAMD, {**PYCAMD.config(test_registry), 'frame_rate': rate})
    assert len(lines) == 1 and lines[0].startswith('frame_rate:'), lines


@pytest.mark.parametrize('rate', [0.001, 1.0])
def test_pycamd_starting_settings_are_ones_set_settings_accepts(rate, test_registry, tmp_path):
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps({**PYCAMD.config(test_registry), 'frame_rate': rate}))
    config = PYCAMD.config_class.load(path)
    daemon = SimpleNamespace(config=config, devices=config.devices)
    assert SettingsCheck()(daemon, config.initial_settings()) is None

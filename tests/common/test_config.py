"""Config errors: one readable line per problem, naming the key."""
import json

import pytest

from rockit.common import config

SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['daemon', 'channels', 'control_machines'],
    'properties': {
        'daemon': config.DAEMON,
        'control_machines': config.MACHINES,
        'channels': {'type': 'integer', 'minimum': 1, 'maximum': 9},
        'delay': {'type': 'number', 'exclusiveMinimum': 0},
        'probes': {'type': 'object', 'additionalProperties': {
            'type': 'object', 'required': ['address'], 'properties': {'address': {'type': 'string'}}}},
    },
}
GOOD = {'daemon': 'localhost_test', 'channels': 2, 'control_machines': ['LocalHost']}


def load(tmp_path, data):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return config.load(path, SCHEMA)


def problems_of(tmp_path, data):
    with pytest.raises(config.ConfigError) as error:
        load(tmp_path, data)
    return str(error.value).splitlines()[1:]


def test_good_config_loads(tmp_path, test_registry):
    assert load(tmp_path, GOOD) == GOOD


@pytest.mark.parametrize('change, expected', [
    ({'channels': 0}, 'channels: 0 is less than the minimum of 1'),
    ({'channels': 10}, 'channels: 10 is greater than the maximum of 9'),
    ({'channels': 'two'}, "channels: 'two' is not of type 'integer'"),
    ({'channels': 1.5}, "channels: 1.5 is not of type 'integer'"),
    ({'delay': 0}, 'delay: 0 is less than or equal to the minimum of 0'),
    ({'colour': 'red'}, 'colour: unknown key'),
    ({'daemon': 'no_such_daemon'}, "daemon: 'no_such_daemon' is not a daemon in the registry"),
    ({'control_machines': ['LocalHost', 'Atlantis']}, "control_machines[1]: 'Atlantis' is not a machine in the registry"),
    ({'probes': {'a': {}}}, 'probes.a.address: required key is missing'),
])
def test_each_problem_names_its_key(tmp_path, test_registry, change, expected):
    assert problems_of(tmp_path, {**GOOD, **change}) == ['  ' + expected]


def test_every_problem_is_reported_at_once(tmp_path, test_registry):
    found = problems_of(tmp_path, {'channels': 0, 'extra': 1})
    assert found == ['  channels: 0 is less than the minimum of 1', '  control_machines: required key is missing',
                     '  daemon: required key is missing', '  extra: unknown key']


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(config.ConfigError) as error:
        config.load(tmp_path / 'absent.json', SCHEMA)
    assert str(error.value) == f'{tmp_path / "absent.json"}: No such file or directory'


def test_invalid_json_is_one_line_with_its_position(tmp_path):
    with pytest.raises(config.ConfigError) as error:
        load(tmp_path, '{\n  "channels": 2,\n}')
    assert '\n' not in str(error.value)
    assert 'invalid JSON at line 3 column 1' in str(error.value)


def test_top_level_must_be_an_object(tmp_path):
    with pytest.raises(config.ConfigError, match='expected a JSON object'):
        load(tmp_path, '[1, 2]')

"""Property-based fuzzing of what reads untrusted input and is not fuzzed by the daemons'
own tests (their protocol parsers are: tests/focuser/test_focuser_protocol.py,
tests/chiller/test_chiller_protocol.py):

- a daemon's handling of whatever its device replies: any bytes must end as DeviceError
  (the device goes OFFLINE with a reason); anything else would kill the device thread;
- loading a config: any JSON is loaded or refused with ConfigError, one line per problem;
- a CLI's command line: any words get a status code, never an exception.
"""
import copy
import json
import logging

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from reliability_harness import CHILLERD, DAEMONS, FOCUSD
from rockit.chiller import protocol as chiller_protocol
from rockit.common.config import ConfigError
from rockit.common.errors import DeviceError

BY_NAME = {spec.name: spec for spec in DAEMONS}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


class ScriptedLink:
    """Stands in for SerialLink: answers each request with the next scripted reply (its
    terminator already stripped, as SerialLink returns it), then times out."""

    def __init__(self, replies):
        self.replies = list(replies)

    def open(self):
        pass

    def close(self):
        pass

    def request(self, data, terminator):
        if not self.replies:
            raise DeviceError(f'no reply to {data!r}')
        return self.replies.pop(0)


def loaded_config(spec, test_registry, tmp_path, **changes):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps({**spec.config(test_registry), **changes}))
    return spec.config_class.load(path)


# Fixtures run once per test, not once per example: they hold what every example shares.
@pytest.fixture
def focuser_config(test_registry, tmp_path):
    return loaded_config(FOCUSD, test_registry, tmp_path)


@pytest.fixture
def chiller_config(test_registry, tmp_path):
    return loaded_config(CHILLERD, test_registry, tmp_path, initial_mode='automatic')


@pytest.fixture
def valid_config(name, test_registry):
    return BY_NAME[name].config(test_registry)


@pytest.fixture
def cli_config(name, valid_config, tmp_path, monkeypatch):
    path = tmp_path / 'cli.json'
    path.write_text(json.dumps(valid_config))
    monkeypatch.setenv(BY_NAME[name].cli.env_var, str(path))


def near_focuser_replies():
    status = st.from_regex(rb'\A(T[1-3]=[+-][0-9]{6},C[1-3]=[+-][0-9]{6},?){1,3}\Z')
    return st.lists(st.one_of(st.binary(max_size=60), status, st.sampled_from([b'0', b'1', b'$', b'?', b'FAILED']),
                              st.from_regex(rb'\A-?[0-9]{1,4}\.[0-9]{1,4}\Z')), max_size=8)


def near_chiller_replies():
    frames = st.builds(lambda cid, payload, error: chiller_protocol.encode_response(cid, payload, error)[:-1],
                       st.sampled_from(sorted(chiller_protocol.REQUEST_DATA_LENGTH)),
                       st.text(alphabet='0123456789+-CH%', max_size=7), st.integers(0, 9))
    return st.lists(st.one_of(frames, st.binary(max_size=40)), max_size=12)


@FUZZ
@given(replies=near_focuser_replies())
@example(replies=[b'T1=+000001,C1=+000000,T2=+000000,C2=+000000', b'1', b'9999.9999', b'12.5'])
def test_any_focuser_reply_ends_as_device_error(focuser_config, replies):
    daemon = FOCUSD.daemon_class(focuser_config, logging.getLogger('fuzz'))
    daemon.link = ScriptedLink(replies)
    try:
        daemon.open_device()
        daemon.poll()
        daemon.make_safe()
    except DeviceError:
        pass


def chiller_frame(command_id, payload):
    return chiller_protocol.encode_response(command_id, payload)[:-1]


@FUZZ
@given(replies=near_chiller_replies())
@example(replies=[chiller_frame(cid, payload) for cid, payload in (
    ('01', '1000'), ('03', '+0150'), ('04', '+0200'), ('07', '+0200'), ('08', '+0200'), ('13', '000%C'),
    ('18', '000000'), ('20', '0000'))])   # one whole query cycle
def test_any_chiller_reply_ends_as_device_error(chiller_config, replies):
    daemon = CHILLERD.daemon_class(chiller_config, logging.getLogger('fuzz'))
    daemon._thermometer = daemon._power = None   # no interlock daemons in this test
    daemon.link = ScriptedLink(replies)
    try:
        daemon.open_device()
        daemon.poll()
    except DeviceError:
        pass


@FUZZ
@pytest.mark.parametrize('name', BY_NAME)
@given(data=st.data())
def test_any_config_is_loaded_or_refused_with_config_error(name, valid_config, tmp_path, data):
    spec = BY_NAME[name]
    config = copy.deepcopy(valid_config)
    keys = sorted(spec.config_class.SCHEMA['properties']) + ['colour']
    for key in data.draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        config[key] = data.draw(json_values)
    for key in data.draw(st.lists(st.sampled_from(sorted(config)), max_size=2, unique=True)):
        config.pop(key, None)
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(config))
    try:
        spec.config_class.load(path)
    except ConfigError as e:
        header, *problems = str(e).splitlines()
        assert header.endswith('invalid config') and problems, str(e)
        assert all(line.startswith('  ') and ': ' in line for line in problems), problems


@FUZZ
@pytest.mark.parametrize('name', BY_NAME)
@given(words=st.lists(st.one_of(st.text(max_size=10), st.sampled_from(['set', 'mode', 'setpoint', 'fans', 'stop',
                                                                      'status', 'json', '1', '-5', 'nan', '--help'])),
                      max_size=4))
def test_any_command_line_gets_a_status_code(name, cli_config, capsys, words):
    code = BY_NAME[name].cli.module.main(words)   # no daemon listens: valid commands are Unreachable
    assert isinstance(code, int)
    capsys.readouterr()

"""A config no daemon can mean (an integer of thousands of digits, lists nested 100,000
deep, a string no log line can hold, a key given twice) is a config error like any other: each daemon exits 2
naming the key as a schema problem, instead of exiting 1 with a traceback that systemd would restart for ever."""
import json
import subprocess
import sys

import pytest

from rockit.common import config
from support import ROOT

HUGE = {'huge integer': ('9' * 5000, 'log_name: an integer of 5000 digits is beyond 64 bits'),
        'deep nesting': ('[' * 100000 + ']' * 100000, 'log_name[0][0][0]...: nested deeper than 64 levels'),
        'half a surrogate pair': ('"x\\ud800"', 'log_name: a \\u escape of half a UTF-16 surrogate pair is not text'),
        'a key given twice': ('"one", "log_name": "two"', 'log_name: given twice (only one value can be meant)')}
DAEMONS = ['focusd', 'chillerd', 'camvirtd', 'pycamd', 'rockit-web']


def with_value(example, raw):
    """The example config's text with log_name's value replaced by raw JSON text."""
    data = json.loads((ROOT / 'config' / example / 'test.json').read_text())
    data['log_name'] = 'VALUE'
    return json.dumps(data).replace('"VALUE"', raw)


@pytest.mark.parametrize('case', sorted(HUGE))
@pytest.mark.parametrize('executable', DAEMONS)
def test_each_daemon_exits_2_naming_the_key(tmp_path, executable, case):
    raw, problem = HUGE[case]
    path = tmp_path / 'config.json'
    path.write_text(with_value(executable, raw))
    done = subprocess.run([sys.executable, str(ROOT / executable), str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and 'Traceback' not in done.stderr, done.stderr[-2000:]
    assert lines[0].endswith(f'{path}: invalid config') and lines[1] == f'  {problem}'


def load_text(tmp_path, text):
    path = tmp_path / 'config.json'
    path.write_text(text)
    return config.read_json(path)


def test_integers_that_fit_64_bits_are_read(tmp_path):
    text = json.dumps({'low': -2 ** 63, 'high': 2 ** 63 - 1, 'float': 1e300})
    assert load_text(tmp_path, text) == {'low': -2 ** 63, 'high': 2 ** 63 - 1, 'float': 1e300}


@pytest.mark.parametrize('value', [2 ** 63, -2 ** 63 - 1, 10 ** 40])
def test_an_integer_beyond_64_bits_names_its_key(tmp_path, value):
    with pytest.raises(config.ConfigError) as error:
        load_text(tmp_path, json.dumps({'a': {'b': [1, value]}}))
    assert str(error.value).endswith(f'a.b[1]: an integer of {len(str(abs(value)))} digits is beyond 64 bits')


def test_nesting_to_the_limit_is_read_and_past_it_names_where(tmp_path):
    nested = 'x'
    for _ in range(63):
        nested = [nested]
    assert load_text(tmp_path, json.dumps({'ok': nested}))['ok'] == nested
    text = '{"a": 1, "b\\"c": {"d": [0, ' + '[' * 70 + ']' * 70 + ']}}'
    with pytest.raises(config.ConfigError) as error:
        load_text(tmp_path, text)
    assert str(error.value).endswith('b"c.d[1][0]...: nested deeper than 64 levels')


def test_brackets_inside_strings_do_not_count(tmp_path):
    assert load_text(tmp_path, json.dumps({'text': '[' * 1000 + '{' * 1000}))['text'] == '[' * 1000 + '{' * 1000


@pytest.mark.parametrize('tail', ['', '\\'])
def test_a_truncated_string_of_escaped_quotes_is_an_error_not_a_hang(tmp_path, tail):
    """A file cut short inside a string of 100,000 escaped quotes: the nesting scan reads it
    in one pass (it used to retry the string from each quote in it, for hours), and the
    daemon exits 2 saying where the JSON breaks."""
    path = tmp_path / 'config.json'
    path.write_text('{"log_name": "' + '\\"' * 100000 + tail)
    done = subprocess.run([sys.executable, str(ROOT / 'focusd'), str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().endswith(f'{path}: invalid JSON at line 1 column 14: Unterminated string '
                                        'starting at'), done.stderr[-2000:]


def test_a_key_or_string_holding_half_a_surrogate_pair_names_where(tmp_path):
    assert load_text(tmp_path, '{"a": ["\\ud83d\\ude00"]}') == {'a': ['\U0001f600']}   # a whole pair is text
    for text, where in [('{"a": {"b": [1, "\\udc00"]}}', 'a.b[1]'), ('{"a": {"\\ud800": 1}}', 'a.\\ud800')]:
        with pytest.raises(config.ConfigError) as error:
            load_text(tmp_path, text)
        assert str(error.value).endswith(f'{where}: a \\u escape of half a UTF-16 surrogate pair is not text')


def test_a_key_given_twice_is_named_wherever_it_is(tmp_path):
    with pytest.raises(config.ConfigError) as error:
        load_text(tmp_path, '{"a": [{"b": 1}, {"c": 2, "d": {"e": 3, "e": 4}}], "f": 5}')
    assert str(error.value).endswith('a[1].d.e: given twice (only one value can be meant)')
    assert load_text(tmp_path, '{"a": {"e": 3}, "b": {"e": 4}}') == {'a': {'e': 3}, 'b': {'e': 4}}

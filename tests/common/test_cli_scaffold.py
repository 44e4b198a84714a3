"""The CLI runner's config discovery and dispatch (the per-daemon CLIs are tested end to end)."""
import pytest

from rockit.common import cli
from rockit.common.codes import CommandStatus
from rockit.common.config import ConfigError


def test_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv('FOCUSD_CONFIG_PATH', str(tmp_path / 'mine.json'))
    assert cli.find_config('focusd', 'FOCUSD_CONFIG_PATH') == str(tmp_path / 'mine.json')


def test_the_single_json_in_the_daemon_folder_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv('FOCUSD_CONFIG_PATH', raising=False)
    monkeypatch.setattr(cli, 'CONFIG_ROOT', tmp_path)
    (tmp_path / 'focusd').mkdir()
    (tmp_path / 'focusd' / 'clasp.json').write_text('{}')
    assert cli.find_config('focusd', 'FOCUSD_CONFIG_PATH') == str(tmp_path / 'focusd' / 'clasp.json')


@pytest.mark.parametrize('files, expected', [([], 'no config in'), (['a.json', 'b.json'], '2 configs in')])
def test_no_or_several_configs_is_a_clear_error(tmp_path, monkeypatch, files, expected):
    monkeypatch.delenv('FOCUSD_CONFIG_PATH', raising=False)
    monkeypatch.setattr(cli, 'CONFIG_ROOT', tmp_path)
    (tmp_path / 'focusd').mkdir()
    for name in files:
        (tmp_path / 'focusd' / name).write_text('{}')
    with pytest.raises(ConfigError) as error:
        cli.find_config('focusd', 'FOCUSD_CONFIG_PATH')
    assert expected in str(error.value) and 'set FOCUSD_CONFIG_PATH' in str(error.value)


def test_commands_run_with_the_config_and_their_code_is_returned(tmp_path, monkeypatch, test_registry, capsys):
    path = tmp_path / 'config.json'
    path.write_text('{"daemon": "localhost_test", "channels": 3}')
    monkeypatch.setenv('X_CONFIG_PATH', str(path))
    commands = {'count': cli.Command(lambda client, args: print(client.config['channels']) or 0),
                'fail': cli.Command(lambda client, args: CommandStatus.Blocked)}
    assert cli.dispatch('x', commands, CommandStatus, 'xd', 'X_CONFIG_PATH', ['count']) == 0
    assert capsys.readouterr().out == '3\n'
    assert cli.dispatch('x', commands, CommandStatus, 'xd', 'X_CONFIG_PATH', ['fail']) == CommandStatus.Blocked
    assert capsys.readouterr().err == 'error: another command is already running\n'


def test_a_config_naming_an_unknown_daemon_is_one_line(tmp_path, monkeypatch, test_registry, capsys):
    path = tmp_path / 'config.json'
    path.write_text('{"daemon": "nowhere"}')
    monkeypatch.setenv('X_CONFIG_PATH', str(path))
    commands = {'status': cli.Command(lambda client, args: 0)}
    assert cli.dispatch('x', commands, CommandStatus, 'xd', 'X_CONFIG_PATH', ['status']) == 1
    assert capsys.readouterr().err.startswith("x: error: unknown daemon 'nowhere'")

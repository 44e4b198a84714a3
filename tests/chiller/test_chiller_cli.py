"""The chiller CLI as a subprocess against a real chillerd on an emulated T257P."""
import json
import subprocess
import sys

from support import ROOT, exit_code, run_cli
from rockit.chiller import cli, errors, protocol
from rockit.chiller.codes import ChillerMode, CommandStatus

USAGE_ERROR = exit_code(CommandStatus.UsageError)


def test_status_prints_state_mode_temperatures_tec_and_alarms(chiller):
    chiller.model.raise_alarm(1)
    chiller.model.raise_alarm(6)
    chiller.model.raise_warning(3)
    chiller.wait_status(lambda s: s['warnings'], 'flags seen')
    result = chiller.cli('status')
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:-1] == [
        'Chiller is IDLE in MANUAL mode',
        'Water: 20.0 \u00b0C (setpoint 15.0 \u00b0C, return 20.0 \u00b0C)',
        'Ambient: 20.0 \u00b0C',
        'TEC power: 0%',
        'Alarms: 1, 6',
        'Warnings: 3',
    ]
    assert lines[-1].startswith('Updated: 20') and lines[-1].endswith('Z')


def test_json_mode_enable_disable_and_automatic_refusal(chiller):
    data = json.loads(chiller.cli('json').stdout)
    assert (data['status'], data['status_label'], data['mode'], data['setpoint_temp']) == (1, 'IDLE', 0, 15.0)
    assert chiller.cli('enable').returncode == 0 and chiller.model.running
    assert chiller.cli('disable').returncode == 0 and not chiller.model.running
    assert chiller.cli('mode', 'auto').returncode == 0
    result = chiller.cli('enable')
    assert result.returncode == CommandStatus.ModeIsAutomatic
    assert result.stderr.strip() == \
        'error: chiller is in automatic mode (switch to manual mode first: chiller mode manual)'
    assert chiller.cli('status').stdout.startswith('Chiller is IDLE in AUTOMATIC mode')
    assert chiller.cli('mode', 'manual').returncode == 0
    assert chiller.status()['mode'] == ChillerMode.Manual
    assert chiller.cli('enable').returncode == 0 and chiller.model.running
    result = chiller.cli('status')
    assert result.stdout.splitlines()[0] == 'Chiller is COOLING in MANUAL mode'
    assert 'TEC power: 100%' in result.stdout.splitlines()


def test_setpoint_and_its_errors(chiller):
    assert chiller.cli('setpoint', '12.5').returncode == 0 and chiller.model.setpoint == 12.5
    result = chiller.cli('setpoint', '-3')
    assert result.returncode == CommandStatus.SetpointOutsideLimits
    assert result.stderr.strip() == 'error: setpoint outside the chiller range (5 to 40 \u00b0C)'
    chiller.model.reply_errors[protocol.SET_SETPOINT] = errors.ERROR_BOUNDS
    result = chiller.cli('setpoint', '20')
    assert result.returncode == CommandStatus.ChillerRejectedValue
    assert result.stderr.strip() == 'error: chiller refused the value as out of bounds'
    assert chiller.model.setpoint == 12.5


def test_usage_errors_print_usage_and_send_nothing(chiller):
    for args in (['setpoint'], ['setpoint', 1, 2], ['mode'], ['mode', 'fast'], ['enable', 'now'],
                 ['disable', 'x'], ['status', 'now'], ['json', 'x'], ['frobnicate'], []):
        result = chiller.cli(*args)
        assert result.returncode == USAGE_ERROR, args
        assert 'usage' in result.stderr, args
    for value in ('warm', 'nan', 'inf'):
        result = chiller.cli('setpoint', value)
        assert result.returncode == USAGE_ERROR
        assert f"setpoint must be a temperature in \u00b0C, not '{value}'" in result.stderr
    assert chiller.requests(protocol.SET_SETPOINT) == [] and chiller.requests(protocol.SET_RUN) == []
    help_text = chiller.cli('--help')
    assert help_text.returncode == 0 and 'mode auto|manual' in help_text.stdout


def test_offline_status_kill_init_and_an_unreachable_daemon(chiller):
    assert chiller.cli('kill').returncode == 0
    result = chiller.cli('status')
    assert result.returncode == 0
    assert result.stdout.startswith('Chiller is OFFLINE in MANUAL mode (disconnected by operator)')
    result = chiller.cli('enable')
    assert (result.returncode, result.stderr.strip()) == (CommandStatus.NotConnected, 'error: chiller is not connected')
    assert chiller.cli('init').returncode == 0
    assert chiller.cli('init').returncode == CommandStatus.NotDisconnected
    chiller.daemon.stop()
    result = chiller.cli('status')
    assert result.returncode == exit_code(CommandStatus.Unreachable)
    assert result.stderr.strip() == 'error: unable to communicate with chiller daemon'


def test_config_discovery_errors_are_one_line(tmp_path):
    result = run_cli('chiller', 'status', config_env='CHILLERD_CONFIG_PATH', config_path=tmp_path / 'absent.json')
    assert result.returncode == 1
    assert result.stderr.strip() == f'chiller: error: {tmp_path / "absent.json"}: No such file or directory'


class FakeClient:
    """Just enough of rockit.common.cli.Client to render a given status."""

    def __init__(self, status):
        self._status = status

    def status(self):
        return self._status


def rendered(monkeypatch, status):
    shown = []
    monkeypatch.setattr(cli, 'show', shown.append)
    assert cli.status(FakeClient(status), []) == 0
    return shown[0].splitlines()


ONLINE = {'date': '2025-01-01T00:00:00Z', 'mode': 1, 'status': 3, 'status_label': 'HEATING',
          'setpoint_temp': 15.0, 'water_temp': 9.5, 'return_temp': 9.9, 'ambient_temp': -2.0, 'tec_power': 88,
          'alarms': [2, 9], 'warnings': []}


def test_status_markup_shows_alarms_in_red_and_the_interlocks(monkeypatch):
    lines = rendered(monkeypatch, {**ONLINE, 'dome_temp': None, 'antifreeze_enabled': True,
                                   'channels_enabled': False, 'cooling_requested_by': ['antifreeze'],
                                   'interlock_faults': {'dome temperature': 'dome did not answer'}})
    assert lines[0] == 'Chiller is [bold yellow]HEATING[/bold yellow] in [bold]AUTOMATIC[/bold] mode'
    assert 'TEC power: 88% heating' in lines
    assert 'Dome: [red]no valid reading[/red]; antifreeze [bold cyan]ON[/bold cyan]' in lines
    assert 'Camera power: off' in lines
    assert '[red]Dome temperature unusable: dome did not answer[/red]' in lines
    assert 'Alarms: [bold red]2, 9[/bold red]' in lines and 'Warnings: none' in lines


def test_offline_status_markup(monkeypatch):
    lines = rendered(monkeypatch, {'date': '2025-01-01T00:00:00Z', 'mode': 0, 'status': 0,
                                   'status_label': 'OFFLINE', 'offline_reason': 'reply checksum mismatch'})
    assert lines == ['Chiller is [bold red]OFFLINE[/bold red] in [bold]MANUAL[/bold] mode (reply checksum mismatch)',
                     'Updated: 2025-01-01T00:00:00Z']


def test_the_cli_does_not_load_jsonschema():
    """The CLI reads the few keys it needs; the daemon validated the config at start."""
    code = 'import sys; import rockit.chiller.cli; print("jsonschema" in sys.modules)'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == 'False', result.stderr


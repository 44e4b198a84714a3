"""The focus CLI as a subprocess against a real focusd on an emulated controller."""
import json
import signal
import subprocess
import sys

from support import ROOT, exit_code, run_cli, wait_until
from rockit.focuser.multichannel.codes import CommandStatus


def test_status_prints_positions_fans_and_labelled_temperatures(focuser):
    focuser.call('set_focus', 2, 300)
    result = focuser.cli('status')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'Focuser is ONLINE; fans are OFF',
        'Channel 1: 0 steps',
        'Channel 2: 300 steps',
        'Primary Mirror: 12.5 \u00b0C',
        'Tube: no reading (below 0 C, which the firmware misprints)',
    ]


def test_set_offset_stop_zero_fans(focuser):
    assert focuser.cli('set', 1, 400).returncode == 0
    assert focuser.model.position(1) == 400
    assert focuser.cli('offset', 1, -150).returncode == 0
    assert focuser.model.position(1) == 250
    assert focuser.cli('zero', 1).returncode == 0
    assert focuser.model.position(1) == 0
    assert focuser.cli('stop', 2).returncode == 0
    assert focuser.cli('fans', 'enable').returncode == 0 and focuser.model.fans
    assert focuser.cli('fans', 'disable').returncode == 0 and not focuser.model.fans


def test_json_and_list_channels(focuser):
    out = focuser.cli('json').stdout
    assert out.count('\n') == 1                  # one line, as the reference focus prints it
    data = json.loads(out)
    assert data['status'] == 1 and data['current_steps_2'] == 0
    assert focuser.cli('list-channels').stdout.split() == ['1', '2']


def test_single_channel_short_forms(make_focuser):
    focuser = make_focuser(channels=1)
    assert focuser.cli('set', 120).returncode == 0
    assert focuser.model.position(1) == 120
    assert focuser.cli('offset', -20).returncode == 0
    assert focuser.cli('stop').returncode == 0
    assert focuser.cli('zero').returncode == 0 and focuser.model.position(1) == 0
    assert focuser.cli('list-channels').stdout.split() == ['1']


def test_codes_become_messages_and_exit_status(focuser):
    result = focuser.cli('set', 3, 10)
    assert (result.returncode, result.stderr.strip()) == (CommandStatus.InvalidChannel, 'error: invalid channel')
    result = focuser.cli('set', 1, 1000000)
    assert result.returncode == CommandStatus.PositionOutsideLimits
    assert result.stderr.strip() == 'error: requested position outside channel range'
    assert focuser.cli('init').returncode == CommandStatus.NotDisconnected
    assert focuser.cli('kill').returncode == 0
    result = focuser.cli('status')
    assert result.returncode == 0 and result.stdout.startswith('Focuser is OFFLINE (disconnected by operator)')
    assert focuser.cli('set', 1, 5).returncode == CommandStatus.NotConnected
    assert focuser.cli('init').returncode == 0


def test_usage_errors_print_usage_and_exit_non_zero(focuser):
    usage_error = exit_code(CommandStatus.UsageError)
    for args in (['set', 1200], ['set'], ['set', 1, 2, 3], ['fans'], ['fans', 'maybe'], ['status', 'now'],
                 ['frobnicate'], []):
        result = focuser.cli(*args)
        assert result.returncode == usage_error, args
        assert 'usage' in result.stderr, args
    result = focuser.cli('set', 1, 'far')
    assert result.returncode == usage_error and "steps must be a whole number, not 'far'" in result.stderr
    assert focuser.model.position(1) == 0 and focuser.set_requests() == []
    help_text = focuser.cli('--help')
    assert help_text.returncode == 0 and 'fans enable|disable' in help_text.stdout


def test_ctrl_c_during_a_move_stops_that_channel(make_focuser):
    focuser = make_focuser(speed=300, move_timeout=600)   # the 20 s move never times out on a busy machine
    # Ctrl-C as on a terminal, whatever the test runner inherited: a shell without job
    # control starts background jobs with SIGINT ignored, and Python then keeps it ignored.
    process = subprocess.Popen([sys.executable, str(ROOT / 'focus'), 'set', '1', '6000'], text=True,
                               env={**__import__('os').environ, 'FOCUSD_CONFIG_PATH': str(focuser.daemon.config_path)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_until(lambda: focuser.model.position(1) > 100, message='move under way')
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)   # a ceiling: an ignored Ctrl-C ends as a finished move, code 0
    assert process.returncode == exit_code(CommandStatus.TerminatedByUser), stderr
    assert 'terminated by user' in stderr
    wait_until(lambda: not focuser.model.is_moving(1), message='channel stopped')
    assert focuser.model.position(1) < 6000


def test_an_unreachable_daemon_is_code_minus_101(focuser):
    focuser.daemon.stop()
    result = focuser.cli('status')
    assert result.returncode == exit_code(CommandStatus.Unreachable)
    assert result.stderr.strip() == 'error: unable to communicate with focus daemon'


def test_config_discovery_errors_are_one_line(tmp_path):
    result = run_cli('focus', 'status', config_env='FOCUSD_CONFIG_PATH', config_path=tmp_path / 'absent.json')
    assert result.returncode == 1
    assert result.stderr.strip() == f'focus: error: {tmp_path / "absent.json"}: No such file or directory'

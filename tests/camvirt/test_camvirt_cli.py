"""The camvirt command line, run as a subprocess against a real camvirtd."""
import json
import threading

from camvirt_harness import call, wait_for_status
from support import ROOT, exit_code, run_cli
from rockit.camvirt.codes import CommandStatus

ENV = 'CAMVIRTD_CONFIG_PATH'


def camvirt_cli(setup, *args):
    return run_cli('camvirt', *args, config_env=ENV, config_path=setup.process.config_path)


def test_status_json_init_and_kill(camvirt, camera_servers):
    setup = camvirt({'cam1': True, 'cam2': False})
    for address in setup.cameras.values():
        camera_servers(address)
    wait_for_status(setup, lambda s: s['domains']['cam1']['cameras']['cam1'], 'cam1 to answer')

    result = camvirt_cli(setup, 'status')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f'libvirt is ONLINE ({setup.config["libvirt_uri"]})',
        'cam1: RUNNING; camera cam1 answers',
        'cam2: SHUTOFF; camera cam2 does not answer',
    ]

    result = camvirt_cli(setup, 'json')
    assert result.returncode == 0
    assert json.loads(result.stdout)['domains']['cam2'] == {'state': 'SHUTOFF', 'cameras': {'cam2': False}}

    result = camvirt_cli(setup, 'init')
    assert (result.returncode, result.stderr) == (0, '')
    assert 'cam2: RUNNING; camera cam2 answers' in camvirt_cli(setup, 'status').stdout

    result = camvirt_cli(setup, 'kill')
    assert (result.returncode, result.stderr) == (0, '')
    lines = camvirt_cli(setup, 'status').stdout.splitlines()
    assert lines[1:] == [
        'cam1: SHUTOFF; camera cam1 does not answer',
        'cam2: SHUTOFF; camera cam2 does not answer',
        'last initialize: cam1 ready, cam2 ready',
        'last shutdown: cam1 graceful (plain shutdown), cam2 graceful (plain shutdown)',
    ]


def test_failures_print_their_message_and_exit_with_the_code(camvirt, camera_servers):
    setup = camvirt({'cam1': False}, domains={'cam1': ['cam1'], 'cam9': ['cam9']}, initialize_timeout=20)
    assert 'cam9: MISSING (not defined in libvirt)' in camvirt_cli(setup, 'status').stdout.splitlines()

    # A command while another runs: Blocked, and the status names the running one.
    result = {}
    first = threading.Thread(target=lambda: result.update(code=call(setup, 'initialize')))
    first.start()
    try:
        wait_for_status(setup, lambda s: s['command'] == 'initialize', 'initialize to run')
        blocked = camvirt_cli(setup, 'kill')
        status_lines = camvirt_cli(setup, 'status').stdout.splitlines()
    finally:
        camera_servers(setup.cameras['cam1'])
        first.join(25)
    assert (blocked.returncode, blocked.stderr.strip()) == (2, 'error: another command is already running')
    assert 'initialize is running' in status_lines

    # cam1 comes up but cam9 cannot: Failed.
    assert result == {'code': CommandStatus.Failed}
    failed = camvirt_cli(setup, 'init')
    assert (failed.returncode, failed.stderr.strip()) == (CommandStatus.Failed, 'error: command failed')
    assert 'last initialize: cam1 ready, cam9 missing' in camvirt_cli(setup, 'status').stdout.splitlines()


def test_usage_and_unreachable_daemon(tmp_path, test_registry):
    test_registry.add('test_camvirt')
    test_registry.add('test_cam1')
    config = tmp_path / 'camvirtd.json'
    config.write_text(json.dumps({
        'daemon': 'test_camvirt', 'log_name': 'camvirtd@test', 'control_machines': ['LocalHost'],
        'initialize_timeout': 5, 'shutdown_timeout': 5, 'domains': {'cam1': {'cam1': 'test_cam1'}}}))

    result = run_cli('camvirt', 'status', config_env=ENV, config_path=config)
    assert result.returncode == exit_code(CommandStatus.Unreachable)
    assert result.stderr.strip() == 'error: unable to communicate with camvirt daemon'

    result = run_cli('camvirt', 'init', 'now', config_env=ENV, config_path=config)
    assert result.returncode == exit_code(CommandStatus.UsageError)
    assert result.stderr.strip() == 'usage: camvirt init'

    result = run_cli('camvirt', 'reboot', config_env=ENV, config_path=config)
    assert result.returncode == exit_code(CommandStatus.UsageError)
    assert "unknown command 'reboot'" in result.stderr and 'init' in result.stderr and 'kill' in result.stderr

    result = run_cli('camvirt', 'status', config_env=ENV, config_path=tmp_path / 'absent.json')
    assert result.returncode == 1
    assert 'absent.json' in result.stderr


def test_executables_are_thin_launchers():
    for name, module in (('camvirtd', 'rockit.camvirt.daemon'), ('camvirt', 'rockit.camvirt.cli')):
        lines = (ROOT / name).read_text().splitlines()
        assert lines[0] == '#!/usr/bin/env python3' and f"run('{module}')" in lines
        assert (ROOT / name).stat().st_mode & 0o111

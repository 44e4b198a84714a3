"""camvirtd end to end: the real daemon process on libvirt's test driver, small real camera
daemons on loopback, and a real Pyro proxy."""
import logging
import signal
import subprocess
import sys
import threading
import time

import pytest

from camvirt_harness import call, wait_for_status
from support import ROOT, DaemonProcess, connections_from, run_cli
from rockit.camvirt.codes import CommandStatus, LibvirtStatus
from rockit.camvirt.config import CamvirtConfig
from rockit.camvirt.daemon import STAND_IN, CameraVMManager
from rockit.common import pyro

OFF = {'cam1': False, 'cam2': False}
ON = {'cam1': True, 'cam2': True}


def test_initialize_starts_stopped_domains_and_waits_for_their_cameras(camvirt, camera_servers):
    setup = camvirt(OFF)
    for address in setup.cameras.values():
        camera_servers(address)
    assert setup.states() == {'cam1': 'SHUTOFF', 'cam2': 'SHUTOFF'}
    assert call(setup, 'report_camera_status', 'cam1') == STAND_IN == {'state': 0, 'vm_active': False}

    assert call(setup, 'initialize') == CommandStatus.Succeeded

    status = setup.status()
    assert status['status'] == LibvirtStatus.Online and status['command'] is None
    assert status['domains'] == {'cam1': {'state': 'RUNNING', 'cameras': {'cam1': True}},
                                 'cam2': {'state': 'RUNNING', 'cameras': {'cam2': True}}}
    assert status['last_initialize'] == {'cam1': 'ready', 'cam2': 'ready'}
    # The camera daemon's own status passes through, with vm_active added.
    assert call(setup, 'report_camera_status', 'cam2') == {'state': 1, 'camera': 'test_cam2', 'vm_active': True}
    assert 'domain cam1 started' in setup.log()


def test_initialize_fails_cleanly_when_a_camera_never_answers(camvirt, camera_servers):
    setup = camvirt(OFF, initialize_timeout=2)
    camera_servers(setup.cameras['cam1'])   # cam2's daemon never comes up

    started = time.monotonic()
    assert call(setup, 'initialize') == CommandStatus.Failed
    assert time.monotonic() - started < 30    # gave up at initialize_timeout, not the default 60 s

    status = setup.status()
    assert status['last_initialize'] == {'cam1': 'ready', 'cam2': 'cameras not answering'}
    assert status['domains']['cam2'] == {'state': 'RUNNING', 'cameras': {'cam2': False}}
    assert 'domain cam2 did not come up within 2 s: no answer from camera cam2 (test_cam2)' in setup.log()
    # The VM runs but its camera daemon is silent: no pass-through, yet vm_active is true.
    assert call(setup, 'report_camera_status', 'cam2') == {'state': 0, 'vm_active': True}


def test_shutdown_powers_off_through_the_plain_shutdown_fallback(camvirt, camera_servers):
    setup = camvirt(ON)
    camera_servers(setup.cameras['cam1'])
    wait_for_status(setup, lambda s: s['domains']['cam1']['cameras']['cam1'], 'cam1 to answer')
    assert call(setup, 'report_camera_status', 'cam1')['vm_active'] is True

    assert call(setup, 'shutdown') == CommandStatus.Succeeded

    status = setup.status()
    assert {name: d['state'] for name, d in status['domains'].items()} == {'cam1': 'SHUTOFF', 'cam2': 'SHUTOFF'}
    # The test driver refuses the guest agent/ACPI flags; the plain request is what worked.
    assert status['last_shutdown'] == {'cam1': 'graceful (plain shutdown)', 'cam2': 'graceful (plain shutdown)'}
    assert 'falling back to a plain shutdown request' in setup.log()
    assert call(setup, 'report_camera_status', 'cam1') == STAND_IN

    assert call(setup, 'shutdown') == CommandStatus.Succeeded
    assert setup.status()['last_shutdown'] == {'cam1': 'already off', 'cam2': 'already off'}


def test_a_second_command_while_one_runs_is_blocked(camvirt, camera_servers):
    setup = camvirt(OFF, initialize_timeout=20)
    result = {}
    first = threading.Thread(target=lambda: result.update(code=call(setup, 'initialize')))
    first.start()
    try:
        wait_for_status(setup, lambda s: s['command'] == 'initialize'
                        and s['domains']['cam1']['state'] == 'RUNNING', 'initialize to wait for cameras')
        assert call(setup, 'initialize') == CommandStatus.Blocked
        assert call(setup, 'shutdown') == CommandStatus.Blocked
        assert call(setup, 'report_camera_status', 'cam1') == STAND_IN   # a command runs
        assert 'shutdown refused: initialize is running' in setup.log()
    finally:
        for address in setup.cameras.values():   # the cameras come up late
            camera_servers(address)
        first.join(25)
    assert result == {'code': CommandStatus.Succeeded}
    assert setup.status()['command'] is None
    assert call(setup, 'report_camera_status', 'cam1')['vm_active'] is True


def test_an_unknown_camera_id_raises_type_error_in_the_client_as_the_reference_does(camvirt):
    """The reference indexes None for an unknown id; clients that catch that keep working."""
    setup = camvirt(OFF)
    for camera_id in ('cam9', 'CAM1', '', 1, None, ['cam1']):
        with pytest.raises(TypeError, match='unknown camera'):
            call(setup, 'report_camera_status', camera_id)
    assert call(setup, 'report_camera_status', 'cam1') == STAND_IN        # the daemon carries on
    assert call(setup, 'report_camera_status', 'cam1', 'extra') == CommandStatus.InvalidArgument
    assert 'Traceback' not in setup.log()


def test_commands_from_another_machine_are_refused_and_queries_stay_open(camvirt, test_registry):
    setup = camvirt(ON)
    config = CamvirtConfig.load(setup.process.config_path)
    exposed = pyro.exposed_methods(CameraVMManager(config, logging.getLogger('test')))
    commands = sorted(name for name, control in exposed.items() if control)
    assert commands == ['initialize', 'shutdown']
    assert sorted(name for name, control in exposed.items() if not control) == \
        ['report_camera_status', 'report_status']

    with connections_from('127.0.0.2'):
        for name in commands:
            assert call(setup, name) == CommandStatus.InvalidControlIP == 10
        assert setup.states() == {'cam1': 'RUNNING', 'cam2': 'RUNNING'}   # nothing was powered off
        assert call(setup, 'report_camera_status', 'cam1') == {'state': 0, 'vm_active': True}


def test_a_domain_missing_from_libvirt_is_reported_by_name(camvirt, camera_servers):
    setup = camvirt({'cam1': False}, domains={'cam1': ['cam1'], 'cam9': ['cam9']}, initialize_timeout=3)
    camera_servers(setup.cameras['cam1'])
    assert setup.states() == {'cam1': 'SHUTOFF', 'cam9': 'MISSING'}

    assert call(setup, 'initialize') == CommandStatus.Failed
    assert setup.status()['last_initialize'] == {'cam1': 'ready', 'cam9': 'missing'}
    assert call(setup, 'report_camera_status', 'cam9') == STAND_IN

    assert call(setup, 'shutdown') == CommandStatus.Failed
    assert setup.status()['last_shutdown'] == {'cam1': 'graceful (plain shutdown)', 'cam9': 'missing'}
    assert 'domain cam9 is not defined in test://' in setup.log()
    assert setup.process.process.poll() is None


def test_libvirt_unavailable_is_reported_and_reconnected(camvirt, tmp_path):
    setup = camvirt(OFF, libvirt_uri=f'test://{tmp_path}/later/node.xml')
    status = setup.status()
    assert status['status'] == LibvirtStatus.Offline
    status = wait_for_status(setup, lambda s: 'cannot open test://' in s.get('offline_reason', ''),
                             'the first connection attempt to fail')
    assert set(setup.states().values()) == {'UNKNOWN'}
    lines = run_cli('camvirt', 'status', config_env='CAMVIRTD_CONFIG_PATH',
                    config_path=setup.process.config_path).stdout.splitlines()
    assert lines[0].startswith('libvirt is OFFLINE (cannot open test://')
    assert lines[1:] == ['cam1: UNKNOWN; camera cam1 does not answer', 'cam2: UNKNOWN; camera cam2 does not answer']
    assert call(setup, 'report_camera_status', 'cam1') == STAND_IN
    assert call(setup, 'initialize') == CommandStatus.Failed
    assert setup.status()['last_initialize'] == {'cam1': 'libvirt unavailable', 'cam2': 'libvirt unavailable'}

    (tmp_path / 'later').mkdir()
    (tmp_path / 'later' / 'node.xml').write_text((tmp_path / 'node.xml').read_text())
    wait_for_status(setup, lambda s: s['status'] == LibvirtStatus.Online, 'libvirt to reconnect', timeout=60)
    assert setup.states() == {'cam1': 'SHUTOFF', 'cam2': 'SHUTOFF'}


def test_sigterm_during_a_command_stops_the_daemon_promptly(camvirt):
    setup = camvirt(OFF, initialize_timeout=60)
    waiting = threading.Thread(target=lambda: _ignore_errors(call, setup, 'initialize'), daemon=True)
    waiting.start()
    wait_for_status(setup, lambda s: s['command'] == 'initialize', 'initialize to start')
    setup.process.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    setup.process.process.wait(40)
    assert time.monotonic() - started < 40    # not after initialize_timeout's 60 s
    assert 'stopped PYRO:' in setup.log()
    waiting.join(10)


def _ignore_errors(fn, *args):
    try:
        fn(*args)
    except pyro.CommunicationErrors:
        pass


def test_the_shipped_test_config_runs_with_the_camera_stand_ins(test_registry, tmp_path):
    """docs/camvirt.md's local try-out: config/camvirtd/test.json, its node file, and the
    camera stand-ins of rockit.camvirt.emulator, driven by the camvirt CLI."""
    address = test_registry.add('localhost_test3')
    for name in ('localhost_test4', 'localhost_test5'):
        test_registry.add(name)
    config_path = ROOT / 'config/camvirtd/test.json'
    stand_ins = subprocess.Popen([sys.executable, '-m', 'rockit.camvirt.emulator', str(config_path)],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
    process = DaemonProcess('camvirtd', config_path, address, tmp_path / 'test.log')
    try:
        assert stand_ins.stdout.readline().startswith('serving 2 camera stand-ins: cam1 at 127.0.0.1:')
        process.start()
        with process.proxy() as proxy:
            status = proxy.report_status()
        assert status['libvirt_uri'] == f'test://{ROOT}/config/camvirtd/test-node.xml'
        assert {name: d['state'] for name, d in status['domains'].items()} == {'cam1': 'SHUTOFF', 'cam2': 'SHUTOFF'}

        def camvirt(*args):
            return run_cli('camvirt', *args, config_env='CAMVIRTD_CONFIG_PATH', config_path=config_path)
        assert camvirt('init').returncode == 0
        assert camvirt('status').stdout.splitlines()[1:3] == ['cam1: RUNNING; camera cam1 answers',
                                                              'cam2: RUNNING; camera cam2 answers']
        with process.proxy() as proxy:
            assert proxy.report_camera_status('cam2') == {'state': 1, 'camera_id': 'cam2',
                                                          'daemon': 'localhost_test5', 'vm_active': True}
        assert camvirt('kill').returncode == 0
    finally:
        assert process.stop() == 0
        stand_ins.terminate()
        assert stand_ins.wait(5) == 0

"""A camera lost in the middle of continuous acquisition: OFFLINE with the reason, logged
once, reopened with backoff, and acquisition carries on by itself. Frames that stop
arriving, and a camera or the spectrometer unplugged (the simulators' fault switches)."""
import contextlib
import json
import os
import socket

import pytest

from support import run_cli, wait_until
from pycam_harness import config_for, served_in_process
from rockit.common import pyro
from rockit.pycam.codes import CommandStatus


@contextlib.contextmanager
def acquiring(test_registry, tmp_path, name):
    """An in-process pycamd on its simulated cameras, acquiring, a pair saved: (daemon, proxy)."""
    daemon, server, address = served_in_process(test_registry, tmp_path, name, spectrometer=False)
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            assert proxy.start_acquisition() == CommandStatus.Succeeded
            wait_until(lambda: proxy.report_status()['cameras']['captures_saved'] >= 1, timeout=60, message='a pair')
            yield daemon, proxy
    finally:
        server.close()
        daemon.stop()


def test_a_lost_camera_goes_offline_with_its_reason_and_acquisition_resumes(test_registry, tmp_path, caplog):
    with acquiring(test_registry, tmp_path, 'pycam_lost') as (daemon, proxy):
        daemon.groups['cameras'].cameras['fltrB'].device.stop()      # the camera stops answering

        lost = wait_until(lambda: (s := proxy.report_status()['cameras'])['status'] == 0 and s, timeout=60,
                          message='offline')
        assert 'fltrB camera' in lost['offline_reason'] and lost['continuous'] is True
        saved = lost['captures_saved']
        back = wait_until(lambda: (s := proxy.report_status()['cameras'])['captures_saved'] > saved and s,
                          timeout=15, message='captures again')
        assert back['status'] == 1 and back['mode'] == 'continuous'
        assert proxy.stop_acquisition() == CommandStatus.Succeeded
    offline = [r for r in caplog.records if 'device offline' in r.getMessage()]
    assert len(offline) == 1 and offline[0].getMessage().startswith('cameras: ')


def _online_part(proxy, part):
    return proxy.report_status()[part]


def test_frames_that_stop_arriving_take_the_cameras_offline_and_acquisition_resumes(test_registry, tmp_path,
                                                                                 monkeypatch):
    from rockit.pycam.simulator.camera import SimulatedPicamera2
    with acquiring(test_registry, tmp_path, 'pycam_stalled') as (_, proxy):
        monkeypatch.setattr(SimulatedPicamera2, 'frames_stalled', True)   # the camera link hangs
        lost = wait_until(lambda: (s := _online_part(proxy, 'cameras'))['status'] == 0 and s, timeout=60,
                          message='offline after a frame time-out')
        assert 'no frame within' in lost['offline_reason'], lost
        monkeypatch.setattr(SimulatedPicamera2, 'frames_stalled', False)
        saved = _online_part(proxy, 'cameras')['captures_saved']
        back = wait_until(lambda: (s := _online_part(proxy, 'cameras'))['captures_saved'] > saved and s,
                          timeout=20, message='captures again')
        assert back['status'] == 1 and back['mode'] == 'continuous'
        assert proxy.stop_acquisition() == CommandStatus.Succeeded


def test_an_unplugged_camera_and_spectrometer_stay_offline_until_replugged(test_registry, tmp_path, monkeypatch):
    from rockit.pycam.simulator.camera import SimulatedPicamera2
    from rockit.pycam.simulator.spectrometer import SimulatedSpectrometer
    daemon, server, address = served_in_process(test_registry, tmp_path, 'pycam_unplugged')
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            monkeypatch.setattr(SimulatedPicamera2, 'unplugged', {'fltrA'})
            monkeypatch.setattr(SimulatedSpectrometer, 'unplugged', True)
            assert proxy.capture('Test', 'spectrometer') == CommandStatus.Failed
            assert proxy.restart_device('cameras') != CommandStatus.Succeeded
            status = wait_until(lambda: (s := proxy.report_status())['cameras']['status'] == 0
                                and s['spectrometer']['status'] == 0 and s, timeout=15, message='both offline')
            assert 'not found' in status['cameras']['offline_reason'], status['cameras']
            assert 'spectrometer' in status['spectrometer']['offline_reason'], status['spectrometer']
            monkeypatch.setattr(SimulatedPicamera2, 'unplugged', set())
            monkeypatch.setattr(SimulatedSpectrometer, 'unplugged', False)
            wait_until(lambda: proxy.report_status()['status'] == 1, timeout=60, message='both back')
            assert proxy.capture('Test', 'spectrometer') == CommandStatus.Succeeded
    finally:
        server.close()
        daemon.stop()


def test_the_watchdog_restarts_a_silent_device_then_asks_systemd_for_a_restart(test_registry, tmp_path,
                                                                             monkeypatch):
    """Frames that never come back: the device loop's own reopening does not help, so the
    watchdog restarts the cameras once, then asks systemd (on the NOTIFY_SOCKET systemd
    would give it) to restart pycamd; while captures flow it says it is alive."""
    from rockit.pycam.simulator.camera import SimulatedPicamera2
    name = f'rockit-watchdog-{os.getpid()}-{id(tmp_path)}'
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind('\0' + name)
    systemd.settimeout(60)
    monkeypatch.setenv('NOTIFY_SOCKET', '@' + name)
    heard = []

    def hear(message):
        while message not in heard:
            heard.append(systemd.recv(64))
        return True

    daemon, server, address = served_in_process(test_registry, tmp_path, 'pycam_watchdog', spectrometer=False,
                                                watchdog={'no_data_s': 3})
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            assert proxy.start_acquisition() == CommandStatus.Succeeded
            wait_until(lambda: proxy.report_status()['cameras']['captures_saved'] >= 1, timeout=60, message='a pair')
            assert hear(b'WATCHDOG=1')
            assert proxy.report_status()['watchdog'] == {'state': 'watching', 'limit_s': 3.0, 'restarts': 0,
                                                         'last_restart': None}

            monkeypatch.setattr(SimulatedPicamera2, 'frames_stalled', True)   # and they stay away
            restarted = wait_until(lambda: (w := proxy.report_status()['watchdog'])['restarts'] >= 1 and w,
                                   timeout=120, message='the watchdog restarting the cameras')
            assert restarted['last_restart'] is not None
            assert hear(b'WATCHDOG=trigger')
            gave_up = proxy.report_status()['watchdog']
            assert gave_up['state'] == 'asked systemd to restart pycamd (cameras silent)', gave_up
            shown = run_cli('pycam', 'status', config_env='PYCAMD_CONFIG_PATH',
                            config_path=tmp_path / 'pycam_watchdog.json')
            assert 'Watchdog: asked systemd to restart pycamd (cameras silent), ' in shown.stdout, shown.stdout

            monkeypatch.setattr(SimulatedPicamera2, 'frames_stalled', False)  # nobody restarted it: the device again
            wait_until(lambda: proxy.report_status()['watchdog']['state'] == 'watching', timeout=120,
                       message='captures again')
            heard.clear()
            assert hear(b'WATCHDOG=1')
            assert proxy.stop_acquisition() == CommandStatus.Succeeded
    finally:
        server.close()
        daemon.stop()
        systemd.close()


def test_the_watchdog_config_is_checked_by_key(test_registry, tmp_path):
    from rockit.common.errors import ConfigError
    from rockit.pycam.config import PycamConfig
    test_registry.add('pycam_bad')
    for bad, problem in (({'no_data_s': -1}, 'watchdog.no_data_s'), ({'no_data_s': 'soon'}, 'watchdog.no_data_s'),
                         ({'after': 3}, 'watchdog')):
        path = tmp_path / 'pycamd.json'
        path.write_text(json.dumps(config_for('pycam_bad', tmp_path / 'data', watchdog=bad)))
        with pytest.raises(ConfigError, match=problem):
            PycamConfig.load(path)

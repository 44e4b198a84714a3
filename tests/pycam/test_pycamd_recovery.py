"""A camera lost in the middle of continuous acquisition: OFFLINE with the reason, logged
once, reopened with backoff, and acquisition carries on by itself. Frames that stop
arriving, and a camera or the spectrometer unplugged (the simulators' fault switches)."""
import contextlib

from support import wait_until
from pycam_harness import served_in_process
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

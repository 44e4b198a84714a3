"""A camera lost in the middle of continuous acquisition: OFFLINE with the reason, logged
once, reopened with backoff, and acquisition carries on by itself."""
from support import wait_until
from pycam_harness import served_in_process
from rockit.common import pyro
from rockit.pycam.codes import CommandStatus


def test_a_lost_camera_goes_offline_with_its_reason_and_acquisition_resumes(test_registry, tmp_path, caplog):
    daemon, server, address = served_in_process(test_registry, tmp_path, 'pycam_lost', spectrometer=False)
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            assert proxy.start_acquisition() == CommandStatus.Succeeded
            wait_until(lambda: proxy.report_status()['cameras']['captures_saved'] >= 1, timeout=10, message='a pair')
            daemon.groups['cameras'].cameras['fltrB'].device.stop()      # the camera stops answering

            lost = wait_until(lambda: (s := proxy.report_status()['cameras'])['status'] == 0 and s, timeout=10,
                              message='offline')
            assert 'fltrB camera' in lost['offline_reason'] and lost['continuous'] is True
            saved = lost['captures_saved']
            back = wait_until(lambda: (s := proxy.report_status()['cameras'])['captures_saved'] > saved and s,
                              timeout=15, message='captures again')
            assert back['status'] == 1 and back['mode'] == 'continuous'
            assert proxy.stop_acquisition() == CommandStatus.Succeeded
    finally:
        server.close()
        daemon.stop()
    offline = [r for r in caplog.records if 'device offline' in r.getMessage()]
    assert len(offline) == 1 and offline[0].getMessage().startswith('cameras: ')

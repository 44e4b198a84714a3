"""The hook live processing plugs into: each saved capture but Test reaches it, with its
images or spectrum and its files; a processor that fails never stops acquisition."""
import logging

import numpy as np

from support import wait_until
from pycam_harness import served_in_process
from rockit.common import pyro
from rockit.pycam.codes import CommandStatus
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH
from rockit.pycam.storage.saved import SavedImagePair, SavedSpectrum


class Recorder:
    def __init__(self):
        self.received = []

    def __call__(self, saved):
        self.received.append(saved)

    def status(self):
        return {'received': len(self.received)}


def test_saved_captures_reach_the_processor_but_test_captures_never_do(test_registry, tmp_path):
    recorder = Recorder()
    daemon, server, address = served_in_process(test_registry, tmp_path, 'pycam_hook', recorder)
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            assert proxy.capture('Test') == CommandStatus.Succeeded
            assert recorder.received == []
            assert proxy.capture('Dark') == CommandStatus.Succeeded
            assert proxy.start_acquisition() == CommandStatus.Succeeded
            wait_until(lambda: sum(s.capture_type == 'Plume' and isinstance(s, SavedImagePair)
                                   for s in recorder.received) >= 2, timeout=20, message='2 plume pairs')
            assert proxy.stop_acquisition() == CommandStatus.Succeeded
            assert proxy.report_status()['processing']['received'] >= 4
    finally:
        server.close()
        daemon.stop()
    kinds = [(type(s).__name__, s.capture_type) for s in recorder.received]
    assert ('SavedImagePair', 'Dark') in kinds and ('SavedSpectrum', 'Dark') in kinds
    assert not [k for k in kinds if k[1] == 'Test']
    pair = next(s for s in recorder.received if isinstance(s, SavedImagePair) and s.capture_type == 'Plume')
    assert set(pair.images) == set(pair.paths) == {'fltrA', 'fltrB'}
    for band, image in pair.images.items():
        assert image.shape == (IMAGE_HEIGHT, IMAGE_WIDTH) and image.dtype == np.uint16 and not image.flags.writeable
        assert pair.paths[band].exists() and pair.metadata[band]['file'] == pair.paths[band].name
        assert pair.paths[band].name.startswith(pair.time.strftime('%Y-%m-%dT%H%M%S'))
    spectrum = next(s for s in recorder.received if isinstance(s, SavedSpectrum))
    assert spectrum.spectrum.shape == (2, 2048) and spectrum.path.exists()


def test_a_failing_processor_never_stops_acquisition(test_registry, tmp_path, caplog):
    def broken(saved):
        raise RuntimeError('processing bug')

    daemon, server, address = served_in_process(test_registry, tmp_path, 'pycam_broken', broken)
    try:
        with pyro.connect(address) as proxy:
            wait_until(lambda: proxy.report_status()['status'] == 1, message='online')
            with caplog.at_level(logging.ERROR, logger='pycam_broken'):
                assert proxy.capture('Clear') == CommandStatus.Succeeded
                assert proxy.capture('Clear') == CommandStatus.Succeeded
            assert proxy.report_status()['cameras']['captures_saved'] == 2
    finally:
        server.close()
        daemon.stop()
    assert [r.getMessage() for r in caplog.records].count('live processing failed: RuntimeError: processing bug') == 1

"""The two-Pi instrument on loopback: a master pycamd with the on-band camera and a second
pycamd with the off-band camera alone, both real processes on simulated cameras, the
second named in the master's config as the remote fltrB band. The simulated clock offset
(simulation.clock_offset_s) makes the second Pi report its clock that far off, as a Pi
whose clock has drifted does; its captures then meet the master's at the same slot names
but, after correcting for the offset, that far apart in time."""
import json
import signal
from pathlib import Path

import pytest

from pycam_harness import config_for
from rockit.pycam.codes import CommandStatus
from support import connections_from, run_cli, wait_until

DEMO = json.loads((Path(__file__).resolve().parents[2] / 'config' / 'pycamd' / 'test.json').read_text())


@pytest.fixture
def two_pi(test_registry, daemons, tmp_path):
    def make(second_simulation=None, tolerance_ms=None, processing=None):
        master_address = test_registry.add('pycam_master', timeout=30)
        second_address = test_registry.add('pycam_second', timeout=10)
        second = config_for('pycam_second', tmp_path / 'second', spectrometer=False)
        second['cameras'] = {'fltrB': second['cameras']['fltrB']}
        second['simulation'].update(second_simulation or {})
        remote = {'backend': 'remote', 'daemon': 'pycam_second'}
        if tolerance_ms:
            remote['pair_tolerance_ms'] = tolerance_ms
        master = config_for('pycam_master', tmp_path / 'master', spectrometer=False)
        master['cameras']['fltrB'] = remote
        if processing:
            master.update(processing=processing, simulation=dict(DEMO['simulation']))
            second['simulation'].update(DEMO['simulation'])
        second_process = daemons('pycamd', second, second_address)
        master_process = daemons('pycamd', master, master_address)
        return master_process, second_process

    return make


def status(process):
    with process.proxy(30) as proxy:
        return proxy.report_status()


def call(process, method, *args):
    with process.proxy(60) as proxy:
        return getattr(proxy, method)(*args)


def wait_status(process, predicate, timeout=60, message='condition'):
    def check():
        answer = status(process)
        return answer if predicate(answer) else None
    return wait_until(check, timeout, 0.2, message)


def image_names(root, band):
    return sorted(p.name for p in root.glob(f'????-??-??/*_{band}_*.png'))


def stamps(image_names_):
    """The UTC seconds in front of image names."""
    return [name[:17] for name in image_names_]


@pytest.mark.slow
def test_pairs_are_stored_on_the_master_and_a_killed_second_pi_loses_no_frame(two_pi, tmp_path):
    master, second = two_pi(processing=DEMO['processing'])
    online = wait_status(master, lambda s: s['status'] == 1, message='both Pis online')
    assert online['fltrB']['camera_on'] == 'pycam_second'
    assert online['settings']['shutter_b'] == 4000      # adopted from the second Pi's config

    # References through the master, each command reaching both Pis, then live emission rates.
    for capture_type in ('Dark', 'Clear', '0ppmm', '304ppmm', '1257ppmm'):
        assert call(master, 'capture', capture_type, 'cameras') == CommandStatus.Succeeded
    assert call(master, 'start_acquisition', 'cameras') == CommandStatus.Succeeded
    live = wait_status(master, lambda s: s['processing']['pairs_processed'] >= 3 and
                       s['processing']['emission_rate_kg_s'] is not None, timeout=30,
                       message='emission rates from joined pairs')['processing']
    assert live['pairs_failed'] == 0 and live['emission_rate_kg_s'] > 0 and live['calibration']['state'] == 'cell'

    # The second Pi dies mid-run and comes back: its backlog follows.
    second.stop(signal.SIGKILL)
    down = wait_status(master, lambda s: s['fltrB']['status'] == 0, timeout=60, message='band offline')
    assert 'pycam_second' in down['fltrB']['offline_reason']
    assert down['cameras']['status'] == 1          # this Pi's camera goes on
    saved_during = down['cameras']['captures_saved']
    second.start()
    wait_status(master, lambda s: s['fltrB']['status'] == 1 and s['fltrB']['mode'] == 'continuous',
                timeout=40, message='band back and capturing')
    assert status(master)['cameras']['captures_saved'] > saved_during
    wait_status(master, lambda s: s['fltrB']['link']['frames_received'] >= 8, timeout=30, message='frames')

    # The master dies instead: the second Pi goes on capturing, and the restarted master
    # takes the backlog.
    master.stop(signal.SIGKILL)
    before = status(second)['cameras']['captures_saved']
    wait_status(second, lambda s: s['cameras']['captures_saved'] >= before + 3, timeout=60,
                message='the second Pi capturing alone')
    master.start()
    wait_status(master, lambda s: s['fltrB']['status'] == 1 and s['fltrB']['link']['frames_received'] >= 3,
                timeout=30, message='the backlog taken')
    assert call(master, 'start_acquisition', 'cameras') == CommandStatus.Succeeded
    wait_status(master, lambda s: s['fltrB']['pairs']['matched'] >= 3, timeout=60, message='pairs again')

    assert call(master, 'stop_acquisition') == CommandStatus.Succeeded
    final = wait_status(master, lambda s: s['fltrB']['mode'] == 'idle' and s['fltrB']['link']['backlog'] == 0,
                        timeout=20, message='second Pi idle, backlog drained')
    # Every frame the second Pi saved is on the master, byte for byte.
    on_second = image_names(tmp_path / 'second', 'fltrB')
    on_master = image_names(tmp_path / 'master', 'fltrB')
    assert on_second and on_master == on_second
    for name in on_second:
        folder = name[:10]
        assert (tmp_path / 'master' / folder / name).read_bytes() == (tmp_path / 'second' / folder / name).read_bytes()
        sidecar = json.loads((tmp_path / 'master' / folder / name.replace('.png', '.json')).read_text())
        assert sidecar['sensor_time_unix'] > 0
    # Continuous captures pair up by slot: those both Pis took have both halves on the master.
    plume_a = set(stamps(n for n in image_names(tmp_path / 'master', 'fltrA') if n.endswith('_Plume.png')))
    plume_b = set(stamps(n for n in on_master if n.endswith('_Plume.png')))
    assert len(plume_a & plume_b) >= 6
    assert plume_b - plume_a     # the second Pi's captures while the master was down
    pairs = final['fltrB']['pairs']
    assert pairs['matched'] >= 3 and pairs['out_of_tolerance'] == 0
    # The same clock: zero, within half a round trip (the midpoint's error), long on a busy machine.
    assert abs(final['fltrB']['link']['clock_offset_s']) < 1.0


def test_a_clock_offset_beyond_the_tolerance_is_reported(two_pi):
    master, second = two_pi(second_simulation={'clock_offset_s': 2.5}, tolerance_ms=400)
    wait_status(master, lambda s: s['status'] == 1, message='both Pis online')
    assert call(master, 'start_acquisition', 'cameras') == CommandStatus.Succeeded
    answer = wait_status(master, lambda s: s['fltrB']['pairs']['out_of_tolerance'] >= 2, timeout=60,
                         message='pairs out of tolerance')
    shown = run_cli('pycam', 'status', config_env='PYCAMD_CONFIG_PATH', config_path=master.config_path)
    call(master, 'stop_acquisition')
    assert shown.returncode == 0, shown.stderr
    assert 'fltrB camera on pycam_second is ONLINE' in shown.stdout and 'beyond 400 ms' in shown.stdout
    link = answer['fltrB']['link']
    assert link['clock_offset_s'] == pytest.approx(2.5, abs=1.0)
    assert answer['fltrB']['pairs']['last_difference_ms'] > 400


def test_the_second_pi_takes_frame_acknowledgements_only_from_its_control_machines(two_pi):
    master, second = two_pi()
    wait_status(master, lambda s: s['status'] == 1, message='both Pis online')
    with connections_from('127.0.0.2'):
        with second.proxy(10) as proxy:
            assert proxy.acknowledge_frame('2030-01-01T000000_fltrB_1ag_4000ss_Plume.png') == \
                CommandStatus.InvalidControlIP
            assert proxy.start_acquisition('cameras') == CommandStatus.InvalidControlIP
    with second.proxy(10) as proxy:
        assert proxy.acknowledge_frame('not-an-image') == CommandStatus.InvalidArgument


def test_the_remote_band_is_set_and_switched_through_the_master(two_pi):
    master, second = two_pi()
    wait_status(master, lambda s: s['status'] == 1, message='both Pis online')
    changes = {'auto_b': False, 'shutter_b': 500, 'gain_b': 1.0, 'frame_rate': 0.5}
    assert call(master, 'set_settings', changes) == CommandStatus.Succeeded
    settings = wait_status(second, lambda s: s['settings']['shutter_b'] == 500, timeout=60,
                           message='the second Pi set')['settings']
    assert {key: settings[key] for key in changes} == changes
    # Auto exposure on again: the second Pi lengthens the short exposure, the master shows it.
    assert call(master, 'set_settings', {'auto_b': True, 'frame_rate': 1.0}) == CommandStatus.Succeeded
    assert call(master, 'capture', 'Clear', 'cameras') == CommandStatus.Succeeded
    moved = wait_status(second, lambda s: s['settings']['shutter_b'] != 500, timeout=60,
                        message='auto exposure on the second Pi')['settings']['shutter_b']
    wait_status(master, lambda s: s['settings']['shutter_b'] == moved and s['fltrB']['shutter_speed'] == moved,
                timeout=10, message='the master showing the exposure chosen')
    # A dark sequence through the master runs on both Pis.
    assert call(master, 'capture_darks', 'cameras') == CommandStatus.Succeeded
    wait_status(master, lambda s: s['fltrB']['mode'] == 'darks' or (s['fltrB']['last_darks'] or {}).get('total'),
                timeout=10, message='darks on the second Pi')
    assert call(master, 'stop_acquisition') == CommandStatus.Succeeded
    wait_status(second, lambda s: s['cameras']['mode'] == 'idle', timeout=60, message='the second Pi stopped')

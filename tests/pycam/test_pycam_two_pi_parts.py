"""The parts of the two-Pi instrument that need no second process: the configs of both Pis
(each mistake named by its key) and the second Pi's record of what the master has."""
import json
import os

import pytest

from pycam_harness import config_for
from rockit.common.errors import ConfigError
from rockit.pycam.config import PycamConfig
from rockit.pycam.storage.export import ACKNOWLEDGED_FILE, FrameExport


def load(tmp_path, data):
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps(data))
    return PycamConfig.load(path)


@pytest.fixture
def master(tmp_path, test_registry):
    test_registry.add('pycam_second')
    test_registry.add('pycam_master')
    data = config_for('pycam_master', tmp_path / 'data', spectrometer=False)
    data['cameras']['fltrB'] = {'backend': 'remote', 'daemon': 'pycam_second', 'pair_tolerance_ms': 250}
    return data


def test_a_master_and_a_second_pi_config_load(tmp_path, master):
    config = load(tmp_path, master)
    assert list(config.remote_cameras) == ['fltrB'] and list(config.local_cameras) == ['fltrA']
    assert config.remote_cameras['fltrB'].pair_tolerance_ms == 250 and not config.single_band
    assert 'shutter_b' not in config.initial_settings() and config.initial_settings()['shutter_a'] == 32000
    second = config_for('pycam_second', tmp_path / 'second', spectrometer=False)
    second['cameras'].pop('fltrA')
    config = load(tmp_path, second)
    assert config.single_band and list(config.local_cameras) == ['fltrB']


@pytest.mark.parametrize('change, expected', [
    (lambda c: c['cameras']['fltrB'].pop('daemon'), "cameras.fltrB.daemon: required with backend 'remote'"),
    (lambda c: c['cameras']['fltrB'].update(daemon='nobody'), 'cameras.fltrB.daemon'),
    (lambda c: c['cameras']['fltrB'].update(shutter_speed=4000), 'cameras.fltrB.shutter_speed: set on the second'),
    (lambda c: c['cameras']['fltrB'].update(pair_tolerance_ms=0), 'cameras.fltrB.pair_tolerance_ms'),
    (lambda c: c['cameras']['fltrA'].update(daemon='pycam_second'), "cameras.fltrA.daemon: only with backend"),
    (lambda c: c['cameras']['fltrA'].pop('camera_num'), "cameras.fltrA.camera_num: required with backend"),
    (lambda c: c['cameras'].pop('fltrA'), "cameras: a 'remote' band needs the other band on this Pi"),
    (lambda c: c['cameras'].clear(), 'cameras'),
    (lambda c: c.update(simulation={'clock_offset_s': 'late'}), 'simulation.clock_offset_s'),
])
def test_each_mistake_in_a_two_pi_config_names_its_key(tmp_path, master, change, expected):
    change(master)
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, master)
    assert expected in str(raised.value)


def save(root, stamp, kind='Plume', exposure=4000, sidecar=True):
    folder = root / stamp[:10]
    folder.mkdir(parents=True, exist_ok=True)
    name = f'{stamp}_fltrB_1ag_{exposure}ss_{kind}.png'
    (folder / name).write_bytes(b'png ' + name.encode())
    if sidecar:
        (folder / name.replace('.png', '.json')).write_text('{}')
    return name


def drained(export):
    """The names export offers, acknowledging each as the master does."""
    offered = []
    while export.next() is not None:
        offered.append(export.next().name)
        assert export.acknowledge(offered[-1])
    return offered


def test_the_backlog_is_what_the_master_has_not_acknowledged_and_survives_a_restart(tmp_path):
    first = save(tmp_path, '2026-01-01T235959')
    second = save(tmp_path, '2026-01-02T000000')
    (tmp_path / 'processing').mkdir()
    (tmp_path / 'processing' / '2026-01-02T000001_fltrB_1ag_4000ss_Plume.png').write_bytes(b'not a capture')
    export = FrameExport(tmp_path)
    assert export.next().name == first and export.backlog == 2
    assert export.read(export.next()) == {'name': first, 'png': b'png ' + first.encode(), 'sidecar': b'{}'}
    assert export.acknowledge(first)
    again = FrameExport(tmp_path)          # a pycamd killed and started again
    assert again.next().name == second and again.backlog == 1
    assert again.acknowledge(second) and again.next() is None and again.backlog == 0
    assert not again.acknowledge(first)   # an older second: nothing changes
    assert not again.acknowledge('garbage.png')
    assert not again.acknowledge('2030-01-01T000000_fltrB_1ag_4000ss_Plume.png')   # no such image here
    assert (tmp_path / ACKNOWLEDGED_FILE).read_text().split() == [second]


def test_a_dark_sequence_saving_several_images_in_one_second_loses_none(tmp_path):
    export = FrameExport(tmp_path)
    long_exposure = save(tmp_path, '2026-01-02T000005', 'Dark', 500)
    export.written([tmp_path / '2026-01-02' / long_exposure])
    assert export.acknowledge(long_exposure)
    short_name = save(tmp_path, '2026-01-02T000005', 'Dark', 1000)   # sorts before, saved after
    export.written([tmp_path / '2026-01-02' / short_name])
    assert drained(export) == [short_name]
    assert sorted(FrameExport(tmp_path).acknowledged) == sorted([long_exposure, short_name])


def test_an_image_whose_sidecar_is_not_written_yet_waits_with_all_after_it(tmp_path):
    first = save(tmp_path, '2026-01-02T000010', sidecar=False)
    save(tmp_path, '2026-01-02T000011')
    export = FrameExport(tmp_path)
    assert export.next() is None
    (tmp_path / '2026-01-02' / first.replace('.png', '.json')).write_text('{}')
    assert len(drained(export)) == 2


def test_a_damaged_record_starts_over_rather_than_skipping_frames(tmp_path):
    name = save(tmp_path, '2026-01-02T000020')
    (tmp_path / ACKNOWLEDGED_FILE).write_text('half a na')
    assert FrameExport(tmp_path).next().name == name


def test_the_backlog_drains_in_order_across_a_restart_while_new_frames_arrive(tmp_path):
    """Frames written while the master drains (told by the store) join the end of the
    queue; a restart halfway finds the rest on the disk in the same order; none is lost
    or offered twice, and a frame deleted from the disk is skipped."""
    def second(i):
        return f'2026-01-02T{i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}'
    backlog = [save(tmp_path, second(i)) for i in range(0, 400, 4)]
    export = FrameExport(tmp_path)
    offered, arrived = [], []
    for i in range(30):
        offered.append(export.next().name)
        assert export.acknowledge(offered[-1])
        name = save(tmp_path, second(400 + i))
        export.written([tmp_path / '2026-01-02' / name, tmp_path / '2026-01-02' / name.replace('.png', '.json')])
        arrived.append(name)
    gone = tmp_path / '2026-01-02' / backlog[40]
    gone.unlink()
    gone.with_suffix('.json').unlink()
    restarted = FrameExport(tmp_path)
    offered += drained(restarted)
    expected = [name for name in backlog + arrived if name != backlog[40]]
    assert offered == expected
    late = save(tmp_path, second(500))
    restarted.written([tmp_path / '2026-01-02' / late])
    assert drained(restarted) == [late] and restarted.backlog == 0

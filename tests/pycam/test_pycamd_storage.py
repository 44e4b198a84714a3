"""A full or unwritable disk stops acquisition with the reason in status, keeps every file
already written whole, and leaves no partial file; a free-space floor keeps room."""
import subprocess

from pycam_harness import read_png, small_disk
from rockit.pycam.codes import CommandStatus
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH
from rockit.pycam.storage import names


def assert_whole_captures_only(pycam):
    files = pycam.files()
    assert not [p for p in files if p.name.startswith('.')], 'a temporary file was left'
    pngs = [p for p in files if p.suffix == '.png']
    for png in pngs:
        assert png.with_suffix('.json').exists()
        assert read_png(png).shape == (IMAGE_HEIGHT, IMAGE_WIDTH)
    stamps = {}
    for png in pngs:
        parsed = names.parse_image_name(png.name)
        stamps.setdefault((parsed.time, parsed.kind), set()).add(parsed.filter)
    assert all(bands == {'fltrA', 'fltrB'} for bands in stamps.values()), 'half a pair'
    return pngs


def test_a_full_disk_stops_acquisition_and_loses_nothing_already_written(make_pycam, tmp_path):
    with small_disk(tmp_path / 'disk', 'size=3m') as disk:
        pycam = make_pycam(data_root=disk, spectrometer=False)
        assert pycam.call('start_acquisition') == CommandStatus.Succeeded
        status = pycam.wait(lambda s: s['storage']['error'], timeout=60, message='the disk to fill')
        assert 'disk full' in status['storage']['error']
        assert status['cameras']['continuous'] is False and status['cameras']['mode'] == 'idle'
        saved = status['cameras']['captures_saved']
        pngs = assert_whole_captures_only(pycam)
        assert saved >= 1 and len(pngs) == 2 * saved       # every pair reported saved is there, whole
        contents = {p: p.read_bytes() for p in pycam.files()}
        assert pycam.call('start_acquisition') == CommandStatus.StorageUnavailable
        assert pycam.call('capture', 'Test') == CommandStatus.StorageUnavailable
        assert {p: p.read_bytes() for p in pycam.files()} == contents
        assert 'Acquisition stopped: disk full' in pycam.cli('status').stdout

        for path in pngs[:2]:                              # the operator makes room
            path.unlink()
            path.with_suffix('.json').unlink()
        assert pycam.call('capture', 'Test') == CommandStatus.Succeeded
        assert pycam.status()['storage']['error'] is None


def test_a_disk_that_fails_in_the_middle_of_a_pair_leaves_no_part_of_it(make_pycam, tmp_path):
    # Room for bytes but for few files: the file system refuses a file of the third pair
    # (ENOSPC) after its first files were written, whatever the free-space check said.
    with small_disk(tmp_path / 'disk', 'size=20m,nr_inodes=12') as disk:
        pycam = make_pycam(data_root=disk, spectrometer=False)
        assert pycam.call('start_acquisition') == CommandStatus.Succeeded
        status = pycam.wait(lambda s: s['storage']['error'], timeout=60, message='the disk to fail')
        assert status['storage']['error'].startswith('cannot write in') and 'disk full' in status['storage']['error']
        assert status['cameras']['continuous'] is False
        pngs = assert_whole_captures_only(pycam)
        assert len(pngs) == 2 * status['cameras']['captures_saved'] >= 2
        assert 'storage failed, acquisition stopped' in pycam.daemon.output()

        for path in pycam.files():
            path.unlink()
        subprocess.run(['mount', '-o', 'remount,ro', str(disk)], check=True)
        assert pycam.call('capture', 'Clear') == CommandStatus.StorageUnavailable
        assert 'read-only' in pycam.status()['storage']['error']
        assert pycam.files() == []


def test_the_free_space_floor_refuses_acquisition_with_the_reason(make_pycam):
    pycam = make_pycam(free_space_floor_mb=10**12)
    assert pycam.call('start_acquisition') == CommandStatus.StorageUnavailable
    assert pycam.call('capture', 'Test') == CommandStatus.StorageUnavailable
    assert pycam.call('capture_darks') == CommandStatus.StorageUnavailable
    status = pycam.status()
    assert 'below the floor' in status['storage']['error'] and status['cameras']['continuous'] is False
    assert pycam.files() == []

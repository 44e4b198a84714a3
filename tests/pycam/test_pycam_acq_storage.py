"""Storage and naming on their own: atomic groups, no overwrites, confined names, the
instrument's file names, and auto exposure's choice of the next exposure."""
import datetime
import os

import pytest

from rockit.pycam.acquisition import exposure
from rockit.pycam.errors import NameTaken, StorageError
from rockit.pycam.storage import names
from rockit.pycam.storage.store import DataStore, confined

MOMENT = datetime.datetime(2018, 3, 26, 14, 44, 8, 520000, tzinfo=datetime.timezone.utc)


def test_names_follow_the_instruments_convention_and_parse_back():
    name = names.image_name(MOMENT, 'fltrA', 1.0, 1399829, 'Plume')
    assert name == '2018-03-26T144408_fltrA_1ag_1399829ss_Plume.png'
    parsed = names.parse_image_name(name)
    assert (parsed.time, parsed.filter, parsed.gain, parsed.exposure_us, parsed.kind) == \
        (MOMENT.replace(microsecond=0), 'fltrA', 1.0, 1399829, 'Plume')
    assert names.image_name(MOMENT, 'fltrB', 2.5, 99957, '304ppmm') == \
        '2018-03-26T144408_fltrB_2.5ag_99957ss_304ppmm.png'
    spectrum = names.spectrum_name(MOMENT, 1000, 1, 'Dark')
    assert spectrum == '2018-03-26T144408_1000ss_1coadd_Dark.npy'
    assert names.parse_spectrum_name(spectrum).integration_ms == 1000
    assert names.sidecar_name(name) == '2018-03-26T144408_fltrA_1ag_1399829ss_Plume.json'


@pytest.mark.parametrize('capture_type', ['../Plume', 'Plume/..', '', 'plume', 'Test.png', '1e3ppmm', '123456ppmm',
                                          'Dark ', None, 5, 'Clear\n'])
def test_capture_types_outside_the_pattern_are_refused(capture_type):
    assert not names.valid_capture_type(capture_type)
    with pytest.raises(ValueError):
        names.image_name(MOMENT, 'fltrA', 1, 1000, capture_type)


@pytest.mark.parametrize('name', ['../x.png', '/etc/passwd', '.hidden', 'a/b.png', '..', 'x\0y', 'a' * 300])
def test_file_names_cannot_leave_their_folder(tmp_path, name):
    with pytest.raises(ValueError):
        confined(tmp_path, name)


def test_a_group_lands_whole_in_its_date_folder_with_no_temporary_left(tmp_path):
    store = DataStore(tmp_path / 'data', 0)
    paths = store.save(MOMENT, [('a.png', b'1' * 1000), ('a.json', b'{}')])
    assert [p.parent.name for p in paths] == ['2018-03-26', '2018-03-26']
    assert sorted(os.listdir(tmp_path / 'data' / '2018-03-26')) == ['a.json', 'a.png']
    assert paths[0].read_bytes() == b'1' * 1000


def test_an_existing_file_is_never_replaced(tmp_path):
    store = DataStore(tmp_path, 0)
    store.save(MOMENT, [('a.png', b'first')])
    with pytest.raises(NameTaken):
        store.save(MOMENT, [('b.png', b'b'), ('a.png', b'second')])
    folder = store.folder(MOMENT)
    assert (folder / 'a.png').read_bytes() == b'first'
    assert sorted(os.listdir(folder)) == ['a.png']


def test_the_free_space_floor_refuses_before_writing(tmp_path):
    store = DataStore(tmp_path, 10**15)
    with pytest.raises(StorageError, match='below the floor'):
        store.save(MOMENT, [('a.png', b'x')])
    assert not store.folder(MOMENT).exists()


def test_an_unwritable_root_is_a_storage_error(tmp_path):
    (tmp_path / 'file').write_text('not a folder')
    store = DataStore(tmp_path / 'file' / 'data', 0)
    with pytest.raises(StorageError, match='cannot create'):
        store.save(MOMENT, [('a.png', b'x')])


def test_leftovers_of_a_crash_are_removed(tmp_path):
    store = DataStore(tmp_path, 0)
    store.save(MOMENT, [('a.png', b'x')])
    leftover = store.folder(MOMENT) / '.b.png.123.tmp'
    leftover.write_bytes(b'half')
    assert store.remove_leftovers() == 1
    assert sorted(os.listdir(store.folder(MOMENT))) == ['a.png']


KILLED_AT_RENAME = """
import os, signal, sys, datetime
from rockit.pycam.storage import store
renames = []
def replace(source, target, _replace=os.replace):
    if len(renames) == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    renames.append(target)
    _replace(source, target)
os.replace = replace
moment = datetime.datetime(2018, 3, 26, 14, 44, 8, tzinfo=datetime.timezone.utc)
store.DataStore(sys.argv[1], 0).save(moment, [('a.png', b'A'), ('a.json', b'{}'), ('b.png', b'B'), ('b.json', b'{}')])
"""


@pytest.mark.parametrize('renamed', [0, 1, 2, 3])
def test_a_group_cut_by_sigkill_while_renaming_is_removed_whole_at_the_next_start(tmp_path, renamed):
    import signal
    import subprocess
    import sys
    done = subprocess.run([sys.executable, '-c', KILLED_AT_RENAME, str(tmp_path), str(renamed)],
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == -signal.SIGKILL
    folder = DataStore(tmp_path, 0).folder(MOMENT)
    assert len([name for name in os.listdir(folder) if not name.startswith('.')]) == renamed
    store = DataStore(tmp_path, 0)
    assert store.remove_leftovers() == 5   # the group's four files, placed or not, and its list
    assert os.listdir(folder) == []
    store.save(MOMENT, [('a.png', b'A'), ('a.json', b'{}')])   # the names are free again
    assert sorted(os.listdir(folder)) == ['a.json', 'a.png']


SHUTTERS = [500, 1000, 2000, 4000, 8000, 16000]


@pytest.mark.parametrize('current, level, expected', [
    (4000, 0.80, 4000),      # inside the window: unchanged
    (4000, 0.30, 8000),      # too dark: the longest predicted to stay below the top (0.6)
    (4000, 0.10, 16000),
    (4000, 0.95, 2000),      # too bright: predicted 0.475 at 2000 (the list is coarse), not 0.95
    (4000, 1.00, 2000),      # clipped: at least halve
    (500, 1.00, 500),        # nothing shorter
    (16000, 0.05, 16000),    # nothing longer
])
def test_auto_exposure_picks_the_longest_exposure_predicted_not_to_saturate(current, level, expected):
    assert exposure.next_exposure(SHUTTERS, current, level, 0.7, 0.9) == expected


def test_auto_exposure_settles_when_the_list_is_coarser_than_the_window():
    level_per_us = 0.5 / 4000 * 1.3    # no exposure of the list lands inside 0.7-0.9
    current = 4000
    for _ in range(6):
        current = exposure.next_exposure(SHUTTERS, current, min(1.0, level_per_us * current), 0.7, 0.9)
    assert current == exposure.next_exposure(SHUTTERS, current, min(1.0, level_per_us * current), 0.7, 0.9)

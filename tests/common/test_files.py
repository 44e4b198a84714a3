"""Files written whole or not at all (rockit.common.files), on a real file system."""
import os

import pytest

from rockit.common import files


def test_a_group_with_a_taken_name_writes_nothing_and_keeps_the_old_file(tmp_path):
    (tmp_path / 'b').write_bytes(b'old')
    with pytest.raises(FileExistsError):
        files.write_group([(tmp_path / 'a', b'new a'), (tmp_path / 'b', b'new b')])
    assert sorted(os.listdir(tmp_path)) == ['b'] and (tmp_path / 'b').read_bytes() == b'old'


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / 'out' / 'x.json'
    files.atomic_write(target, b'first')

    def half_then_fail(f):
        f.write(b'half')
        raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        files.atomic_write(target, half_then_fail)
    assert target.read_bytes() == b'first' and os.listdir(target.parent) == ['x.json']
    files.atomic_write(target, lambda f: f.write(b'second'))
    assert target.read_bytes() == b'second'


def test_leftovers_are_only_the_temporary_names(tmp_path):
    (tmp_path / 'kept.tmp').write_bytes(b'a final name')
    (tmp_path / '.kept').write_bytes(b'a final name')
    for final in ('a.png', 'b.json'):
        files.temporary_path(tmp_path / final).write_bytes(b'half')
    assert files.remove_leftovers(tmp_path) == 2
    assert sorted(os.listdir(tmp_path)) == ['.kept', 'kept.tmp']

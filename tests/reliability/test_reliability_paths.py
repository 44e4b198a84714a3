"""No file path from a client is used without confining it to the daemon's data folder.

A client's strings reach a daemon only as arguments of its exposed methods, so every
argument of every exposed method (enumerated, as in the bad-argument tests) is given
hostile path-like values, and so are the keys and values of a dict argument (pycamd's
set_settings): climbing out (.., ../../etc/x, deep enough to reach /), absolute paths (into
the test's own tree and /etc), NUL bytes, separators of both kinds, very long names,
Unicode look-alikes, digits and direction marks. Every call is refused with a status code
(or, for an unknown camera id, with the TypeError the daemons in service raise),
reaches no device, and leaves the test's whole tree as it was, the daemon's log aside:
nothing written outside the data folder, and nothing in it either.

pycamd is the daemon that turns a client's string into a path: the capture type is part of
every file name. The types it accepts are checked to land in its date folders only, and
the file-name and storage code are checked to refuse hostile names by themselves, so that
no single check in front of them is all that keeps a file inside the data folder.
"""
import datetime
import inspect
import os
from pathlib import Path

import pytest

from reliability_harness import DAEMONS, PYCAMD, RAISE_FOR_UNKNOWN_ID
from rockit.common import pyro
from rockit.pycam.settings import SETTINGS
from rockit.pycam.storage import names
from rockit.pycam.storage.store import DataStore, confined

OUTSIDE = Path('/etc/x')   # where ../../../.. and the absolute /etc/x would land
# The keys a dict argument knows, each given the hostile values too.
DICT_KEYS = {('pycamd', 'set_settings'): list(SETTINGS)}


def hostile_paths(tree):
    """Strings that would leave, or hide in, whatever folder they were joined to."""
    escape = tree / 'escaped'
    return ['..', '.', '../..', '../../etc/x', '../' * 16 + 'etc/x', str(OUTSIDE), str(escape), f'{escape}/x',
            'Test/../../x', 'Test/', './Test', '..\\..\\x', 'Test\\..', '~/x', '$HOME/x', '%2e%2e%2fx',
            'file:///etc/x', 'Test\x00', '\x00', 'Test\x00/../../x', 'Test\n', ' Test', 'Test ', '', '.Test',
            'x' * 255, 'x' * 4096, 'Test' * 7_000, '1' * 300 + 'ppmm', 'Tést', 'Ｔｅｓｔ', '١٢٣ppmm', '１２ppmm',
            'Test\u2215..\u2215x', 'Test\u202e', '\u2024\u2024']


def hostile_strings(tree):
    """The hostile paths and names that only look like a capture type."""
    return hostile_paths(tree) + ['TEST', 'test', '12345678ppmm', '1.5ppmm', '-1ppmm', '1e3ppmm', 'Plume_x']


def hostile_calls(spec, strings):
    """(method, args, kwargs): each hostile string in every argument of every exposed
    method, and as a key and as a value of a dict argument (under every key it knows)."""
    for name in pyro.exposed_methods(spec.daemon_class):
        valid = list(spec.calls.get(name, ()))
        params = [p for p in inspect.signature(getattr(spec.daemon_class, name)).parameters.values()
                  if p.name != 'self']
        for position in range(len(params)):
            base = valid + [p.default for p in params[len(valid):position + 1]]
            for text in strings:
                args = list(base)
                args[position] = text
                yield name, tuple(args), {}
                if isinstance(base[position], dict):
                    valid_items = base[position]
                    for key in list(valid_items) + DICT_KEYS.get((spec.name, name), []):
                        for replaced in ({key: text}, {key: [text, text]}, {**valid_items, key: text}):
                            args[position] = replaced
                            yield name, tuple(args), {}
                    args[position] = {text: 1}
                    yield name, tuple(args), {}
                    args[position] = {**valid_items, text: 1}
                    yield name, tuple(args), {}
            yield name, tuple(base[:position]), {params[position].name: strings[3]}


def tree_state(root):
    """Every path under root with its size and modification time; daemon logs left out."""
    state = {}
    for path in root.rglob('*'):
        if path.name.endswith('.log'):
            continue
        info = path.lstat()
        state[str(path.relative_to(root))] = None if path.is_dir() else (info.st_size, info.st_mtime_ns)
    return state


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_hostile_paths_in_every_argument_are_refused_and_write_nothing(device, tmp_path):
    spec = device.spec
    strings = hostile_strings(tmp_path)
    outside_before = OUTSIDE.exists()
    before = tree_state(tmp_path)
    sent = len(device.commands_sent())
    calls = 0
    with device.proxy(timeout=30) as proxy:
        for name, args, kwargs in hostile_calls(spec, strings):
            try:
                result = getattr(proxy, name)(*args, **kwargs)
            except TypeError as e:
                assert RAISE_FOR_UNKNOWN_ID.get((spec.name, name)) in str(e), (name, args, kwargs, e)
                calls += 1
                continue
            shown = (name, [repr(a)[:60] for a in args], kwargs, result)
            assert isinstance(result, int) and not isinstance(result, bool) and result != 0, shown
            assert spec.codes.message(result) != f'error: unknown error code {result}', shown
            calls += 1
    assert calls > len(strings)
    assert len(device.commands_sent()) == sent
    assert tree_state(tmp_path) == before
    assert OUTSIDE.exists() == outside_before
    if spec.data_folder:
        folder = spec.data_folder(device)
        assert not folder.exists() or not any(p.is_file() for p in folder.rglob('*'))
    assert device.status()['status'] != 0
    assert 'Traceback' not in device.log(), device.log()


# pycamd: the capture type, the one client string in its file names.
@pytest.mark.parametrize('spec', [PYCAMD], ids=str)
def test_accepted_capture_types_write_in_a_date_folder_of_the_data_folder_only(device, tmp_path):
    folder = device.spec.data_folder(device).resolve()
    before = tree_state(tmp_path)
    assert device.call('capture', 'Test') == 0                              # both kinds of name
    assert device.call('capture', '99999ppmm', 'spectrometer') == 0          # the longest type accepted
    after = tree_state(tmp_path)
    touched = {r for r in after if after[r] != before.get(r, 'new')}
    touched.discard(str(device.model.record_path.relative_to(tmp_path)))   # the test's own device record
    assert len([r for r in touched if after[r] is not None]) == 4 + 2 + 2   # files and their sidecars
    for relative in sorted(touched):
        path = (tmp_path / relative).resolve()
        assert path.is_relative_to(folder), path
        if path.is_file():
            assert path.parent.parent == folder, path
            datetime.datetime.strptime(path.parent.name, names.DATE_FORMAT)


NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def test_the_file_names_refuse_hostile_capture_types_by_themselves(tmp_path):
    for text in hostile_strings(tmp_path) + [None, 5, b'Test', ['Test']]:
        assert not names.valid_capture_type(text), repr(text)
        with pytest.raises(ValueError):
            names.image_name(NOW, 'fltrA', 1, 32000, text)
        with pytest.raises(ValueError):
            names.spectrum_name(NOW, 50, 1, text)


def test_the_store_refuses_hostile_file_names_by_itself(tmp_path):
    root = tmp_path / 'a' / 'b' / 'data'
    store = DataStore(root, 0)
    outside_before = OUTSIDE.exists()
    hostile = hostile_paths(tmp_path) + ['-x', 'a/b', 'a' * 202, None, 5]
    for name in hostile:
        with pytest.raises(ValueError):
            confined(store.folder(NOW), name)
        with pytest.raises(ValueError):
            store.save(NOW, [('fine.json', b'{}'), (name, b'x')])
    # Only the date folder of the attempts, empty: no file anywhere, the good one of each
    # group included (a group is written whole or not at all).
    assert [p for p in tmp_path.rglob('*') if not p.is_dir()] == []
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*')) == \
        ['a', 'a/b', 'a/b/data', f'a/b/data/{names.date_folder(NOW)}']
    assert OUTSIDE.exists() == outside_before
    # A symlink planted in the data folder is not a way out either.
    os.symlink(tmp_path, store.folder(NOW) / 'link')
    with pytest.raises(ValueError):
        confined(store.folder(NOW), 'link')

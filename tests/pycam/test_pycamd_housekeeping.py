"""A small disk filled at 1 Hz: pycamd deletes the oldest Plume captures whole to keep room,
acquisition never stops, the dark, clear and cell captures stay, nothing partial is left,
and nothing goes before rsync has copied it."""
import time

import pytest

from pycam_harness import small_disk
from rockit.pycam.codes import CommandStatus
from rockit.pycam.storage import names

CAPTURES = 48       # Plume pairs while the disk is full: about a minute at 1 Hz
CEILING_S = 300     # for a busy machine


def captures_on_disk(pycam, kind):
    """{name stamp: [files]} of one kind's data files (without sidecars)."""
    found = {}
    for path in pycam.files(f'*_{kind}.*'):
        if path.suffix != '.json':
            found.setdefault(path.name[:17], []).append(path)
    return found


@pytest.mark.slow
@pytest.mark.timeout(CEILING_S + 120)
def test_a_full_disk_loses_the_oldest_plume_captures_and_acquisition_goes_on(make_pycam, tmp_path):
    with small_disk(tmp_path / 'disk', 'size=16m') as disk:
        pycam = make_pycam(data_root=disk, free_space_floor_mb=2, storage={'keep_free_mb': 6, 'delete_oldest': True},
                           health={'log_interval_s': 5},
                           transfer={'destination': str(tmp_path / 'archive'), 'interval_s': 1})
        for kind in ('Dark', 'Clear', '400ppmm'):
            assert pycam.call('capture', kind) == CommandStatus.Succeeded
        references = {p: p.read_bytes() for p in pycam.files() if '_Plume' not in p.name}
        assert pycam.call('start_acquisition') == CommandStatus.Succeeded
        seen, saved_at_start = set(), None
        deadline = time.monotonic() + CEILING_S
        while True:
            status = pycam.status()
            assert status['storage']['error'] is None, status['storage']['error']
            assert status['cameras']['continuous'] and status['spectrometer']['continuous']
            saved_at_start = saved_at_start or status['cameras']['captures_saved']
            seen.update(name[:17] for part in ('cameras', 'spectrometer') for name in status[part]['last_files']
                        if '_Plume' in name)
            if status['cameras']['captures_saved'] - saved_at_start >= CAPTURES and status['storage']['deleted_captures']:
                break
            assert time.monotonic() < deadline, f'{CAPTURES} captures and a cleanup not seen in {CEILING_S} s: {status}'
            time.sleep(0.5)
        assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
        status = pycam.status()
        assert status['storage']['deleted_captures'] > 0 and status['storage']['last_cleanup']
        remaining = captures_on_disk(pycam, 'Plume')
        deleted = seen - set(remaining)
        assert deleted and max(deleted) <= min(remaining), 'a newer Plume capture went before an older one'
        archived = {p.name[:17] for p in (tmp_path / 'archive').glob('*/*_Plume.*')}
        assert deleted <= archived, 'a capture was deleted before it was transferred'
        assert {p: p.read_bytes() for p in references} == references    # dark, clear and cell kept
        files = pycam.files()
        assert not [p for p in files if p.name.startswith('.')], 'a temporary file was left'
        for path in files:
            if path.suffix != '.json':
                assert path.with_name(names.sidecar_name(path.name)).exists(), f'{path.name} lost its sidecar'
        for stamp, paths in remaining.items():
            bands = {p.name.split('_')[1] for p in paths if p.suffix == '.png'}
            assert bands in (set(), {'fltrA', 'fltrB'}), f'half a pair at {stamp}'
        cleanups = [line for line in pycam.daemon.output().splitlines() if 'storage: deleted' in line]
        assert 1 <= len(cleanups) <= status['storage']['deleted_captures']

"""A small disk filled at 1 Hz: pycamd deletes the oldest Plume captures whole to keep room,
acquisition never stops, the dark, clear and cell captures stay, nothing partial is left,
and nothing goes before rsync has copied it. With live processing on, its products go
before any raw capture, and the newest raw pairs stay."""
import json
import time
from pathlib import Path

import pytest

from pycam_harness import small_disk
from rockit.pycam.codes import CommandStatus
from rockit.pycam.storage import names

CAPTURES = 48       # Plume pairs while the disk is full: about a minute at 1 Hz
CEILING_S = 300     # for a busy machine
DEMO = json.loads((Path(__file__).resolve().parents[2] / 'config' / 'pycamd' / 'test.json').read_text())


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
        pycam = make_pycam(data_root=disk, free_space_floor_mb=2, storage={'keep_free_mb': 6, 'delete_oldest': True, 'keep_recent_captures': 3},
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


def products_on_disk(pycam):
    """{stamp: bytes} of live processing's per-pair files."""
    found = {}
    for path in (pycam.data_root / 'processing').glob('*/so2/*'):
        found[path.name[:17]] = found.get(path.name[:17], 0) + path.stat().st_size
    return found


@pytest.mark.slow
@pytest.mark.timeout(CEILING_S + 120)
def test_live_processing_products_go_before_raw_captures_on_a_40_mb_disk(make_pycam, tmp_path):
    """A minute at 1 Hz is four at the field's 0.25 Hz: about 75 MB of captures and as much
    of AA and SO2 arrays on a 40 MB disk."""
    keep_recent = 4
    processing = {key: value for key, value in DEMO['processing'].items() if not key.startswith('doas')}
    with small_disk(tmp_path / 'disk', 'size=40m') as disk:
        pycam = make_pycam(data_root=disk, spectrometer=False, simulation=DEMO['simulation'], processing=processing,
                           free_space_floor_mb=3,
                           storage={'keep_free_mb': 10, 'products_mb': 8, 'keep_recent_captures': keep_recent})
        for kind in ('Dark', 'Clear', '304ppmm', '1257ppmm'):
            assert pycam.call('capture', kind, 'cameras') == CommandStatus.Succeeded
        references = {p: p.read_bytes() for p in pycam.files() if '_Plume' not in p.name}
        assert pycam.call('start_acquisition', 'cameras') == CommandStatus.Succeeded
        seen, saved_at_start, oldest_product = set(), None, None
        deadline = time.monotonic() + CEILING_S
        while True:
            status = pycam.status()
            assert status['storage']['error'] is None, status['storage']['error']
            assert status['cameras']['continuous']
            saved_at_start = saved_at_start or status['cameras']['captures_saved']
            seen.update(name[:17] for name in status['cameras']['last_files'] if '_Plume' in name)
            products = products_on_disk(pycam)
            if products:
                oldest_product = oldest_product or min(products)
            storage = status['storage']
            if (status['cameras']['captures_saved'] - saved_at_start >= CAPTURES and storage['deleted_products']
                    and storage['deleted_captures']):
                break
            assert time.monotonic() < deadline, f'{CAPTURES} captures and both cleanups not seen in {CEILING_S} s: {status}'
            time.sleep(0.5)
        assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
        status = pycam.wait(lambda s: not s['processing']['pairs_waiting'], message='processing idle')
        assert status['processing']['pairs_processed'] >= 10 and status['processing']['pairs_failed'] == 0
        assert status['storage']['deleted_products'] > 0 and status['storage']['deleted_captures'] > 0

        products, remaining = products_on_disk(pycam), captures_on_disk(pycam, 'Plume')
        assert oldest_product not in products, 'the first products were never deleted'
        assert min(products) >= min(remaining), 'a raw capture went while older products stayed'
        assert set(sorted(seen)[-keep_recent:]) <= set(remaining), 'a recent pair went'
        assert len(remaining) >= keep_recent and max(remaining) >= max(seen)
        assert {p: p.read_bytes() for p in references} == references    # dark, clear and cells kept

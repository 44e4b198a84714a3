"""Live: the pairs of a day that came before its first calibration get their rates once
one exists, in rows flagged late, the same rates as had the calibration been there."""
import csv

import pytest

from processing_harness import write_synthetic_day
from rockit.pycam.processing.live.processor import LiveProcessor
from rockit.pycam.storage.names import images_in, plume_pairs

CONFIG = {'sky_region': [5, 0, 155, 6], 'integration_line': {'x': [80, 80], 'y': [15, 105], 'orientation': 'left'},
          'plume_distance_m': 4000, 'focal_length_m': 9e-3, 'reference_temperature_k': 273.15}


def _feed(processor, names):
    for name in names:
        processor.submit_image(name.path, {})
        assert processor.wait_idle(20)


def _pairs(processor, day):
    for on, off in plume_pairs(images_in(day)):
        assert processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(20)


def _rows(out):
    with open(out / '2024-05-01' / 'emission_rates.csv', newline='') as f:
        return list(csv.DictReader(f))


def _run(out, day, cells_first, **config):
    references = [n for n in images_in(day) if n.kind != 'Plume']
    cells = [n for n in references if n.cell_ppmm is not None]
    processor = LiveProcessor(out, dict(CONFIG, **config)).start()
    try:
        _feed(processor, [n for n in references if n.cell_ppmm is None] + (cells if cells_first else []))
        _pairs(processor, day)
        if not cells_first:
            _feed(processor, cells)
        return processor.status(), _rows(out)
    finally:
        processor.stop()


def test_the_first_pairs_get_rates_once_a_calibration_exists(tmp_path):
    day = tmp_path / 'day'
    write_synthetic_day(day, pairs=5)
    _, calibrated = _run(tmp_path / 'calibrated', day, cells_first=True)
    status, rows = _run(tmp_path / 'late', day, cells_first=False, late_pairs=360)
    first, late = rows[:5], rows[5:]
    assert all(r['emission_rate_kg_s'] == '' and r['calibration'] == '' and r['late'] == '' for r in first)
    assert len(late) == 5 and all(r['late'] == '1' and r['calibration'] == 'cell' for r in late)
    assert [r['time'] for r in late] == [r['time'] for r in first]
    assert all(float(r['emission_rate_kg_s']) > 0 for r in late[1:]), 'each after the first has its flow'
    for got, wanted in zip(late, calibrated):
        for column in ('emission_rate_kg_s', 'plume_speed_m_s', 'line_column_kg_m'):
            assert got[column] == wanted[column], (column, got['time'])
        assert got['so2_file'] == wanted['so2_file'] and (tmp_path / 'late' / '2024-05-01' / got['so2_file']).is_file()
    assert status['late_pairs_recomputed'] == 5 and status['late_pairs_waiting'] == 0


def test_the_pairs_kept_are_bounded(tmp_path):
    day = tmp_path / 'day'
    write_synthetic_day(day, pairs=5)
    status, rows = _run(tmp_path / 'late', day, cells_first=False, late_pairs=3)
    late = rows[5:]
    assert [r['time'] for r in late] == [r['time'] for r in rows[2:5]], 'the newest three, in order'
    assert status['late_pairs_dropped'] == 2 and status['late_pairs_recomputed'] == 3
    status, rows = _run(tmp_path / 'none', day, cells_first=False, late_pairs=0)
    assert len(rows) == 5 and status['late_pairs_recomputed'] == 0


@pytest.mark.parametrize('value', [-1, 2.5, 'all', True])
def test_late_pairs_must_be_a_count(tmp_path, value):
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, late_pairs=value)).start()
    try:
        assert processor.wait_idle(20)
        status = processor.status()
    finally:
        processor.stop()
    assert 'late_pairs' in status['last_error'] and repr(value) in status['last_error']


def test_pairs_after_a_calibration_expired_get_rates_from_the_next_one(tmp_path):
    """Once the calibration in use is past its age there is none: the pairs that follow
    are kept, and processed again when newer cells are adopted."""
    import datetime
    first, later = tmp_path / 'first', tmp_path / 'later'
    write_synthetic_day(first, pairs=2)
    times = write_synthetic_day(later, pairs=3, start=datetime.datetime(2024, 5, 1, 12, 40))
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, cell_calibration_max_age_s=60, late_pairs=360)).start()
    try:
        _feed(processor, [n for n in images_in(first) if n.kind != 'Plume'])
        _pairs(processor, first)
        assert processor.status()['calibration']['state'] == 'cell'
        references = [n for n in images_in(later) if n.kind != 'Plume']
        _feed(processor, [n for n in references if n.cell_ppmm is None])
        _pairs(processor, later)
        expired = processor.status()
        _feed(processor, [n for n in references if n.cell_ppmm is not None])
        status = processor.status()
    finally:
        processor.stop()
    assert expired['calibration']['state'] == 'none' and expired['calibration']['expired'] == ['cell']
    assert expired['late_pairs_waiting'] == 3
    assert status['calibration']['state'] == 'cell' and status['calibration']['measured'] == '2024-05-01T12:40:12Z'
    assert status['late_pairs_recomputed'] == 3 and status['late_pairs_waiting'] == 0
    rows = _rows(tmp_path / 'out')
    stamps = [f'{t:%Y-%m-%dT%H:%M:%SZ}' for t in times]
    assert [r['calibration'] for r in rows if r['time'] in stamps and not r['late']] == ['', '', '']
    late = [r for r in rows if r['late'] == '1']
    assert [r['time'] for r in late] == stamps and all(r['calibration'] == 'cell' for r in late)
    assert all(float(r['emission_rate_kg_s']) > 0 for r in late[1:])

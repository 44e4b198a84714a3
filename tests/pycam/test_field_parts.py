"""The field station's parts on their own: the sun against an almanac, fixed schedules,
which captures housekeeping deletes, the health readings, and config errors naming the key."""
import datetime
import json
import logging
import os

import pytest

from rockit.common.config import ConfigError
from rockit.pycam.config import PycamConfig
from rockit.pycam.field import health, schedule
from rockit.pycam.field.housekeeping import Housekeeping
from rockit.pycam.storage import names
from rockit.pycam.storage.store import DataStore

from pycam_harness import config_for

UTC = datetime.timezone.utc


def minutes_apart(a, b):
    return abs((a - b).total_seconds()) / 60


def test_sunrise_and_sunset_in_london_match_the_almanac():
    # The almanac (timeanddate.com, after the US Naval Observatory's algorithm): London, 21 June 2024,
    # sunrise 04:43 BST, sunset 21:21 BST. The schedule uses the apparent (refracted) elevation of
    # the sun's centre, which is -0.27 deg (its semi-diameter) when the upper limb is on the horizon.
    london = schedule.SunSchedule(51.5074, -0.1278, -0.27)
    window = london.window(datetime.datetime(2024, 6, 21, 0, 0, tzinfo=UTC))
    assert not window.acquiring
    assert minutes_apart(window.next_start, datetime.datetime(2024, 6, 21, 3, 43, tzinfo=UTC)) < 2
    assert minutes_apart(window.next_stop, datetime.datetime(2024, 6, 21, 20, 21, tzinfo=UTC)) < 2
    noon = london.window(datetime.datetime(2024, 6, 21, 12, 0, tzinfo=UTC))
    assert noon.acquiring and noon.next_stop == window.next_stop and noon.next_start.date() == datetime.date(2024, 6, 22)


def test_a_higher_elevation_starts_later_and_stops_earlier():
    now = datetime.datetime(2024, 3, 20, 0, 0, tzinfo=UTC)
    low = schedule.SunSchedule(-37.8, 144.96, 0).window(now)
    high = schedule.SunSchedule(-37.8, 144.96, 15).window(now)
    assert high.next_start - low.next_start > datetime.timedelta(minutes=45)


def test_polar_night_has_no_start_and_polar_day_no_stop():
    night = schedule.SunSchedule(78.2, 15.6, 0).window(datetime.datetime(2024, 12, 21, 12, tzinfo=UTC))
    assert (night.acquiring, night.next_start, night.next_stop) == (False, None, None)
    day = schedule.SunSchedule(78.2, 15.6, 0).window(datetime.datetime(2024, 6, 21, 0, tzinfo=UTC))
    assert (day.acquiring, day.next_start, day.next_stop) == (True, None, None)


@pytest.mark.parametrize('hour, acquiring, start, stop', [
    (8, False, (1, 9), (1, 21)), (12, True, (2, 9), (1, 21)), (22, False, (2, 9), (2, 21))])
def test_a_fixed_schedule_between_utc_times(hour, acquiring, start, stop):
    window = schedule.FixedSchedule(datetime.time(9), datetime.time(21)).window(
        datetime.datetime(2026, 12, 1, hour, tzinfo=UTC))
    assert window.acquiring is acquiring
    assert window.next_start == datetime.datetime(2026, 12, start[0], start[1], tzinfo=UTC)
    assert window.next_stop == datetime.datetime(2026, 12, stop[0], stop[1], tzinfo=UTC)


def test_a_fixed_schedule_over_midnight():
    overnight = schedule.FixedSchedule(datetime.time(21), datetime.time(3))
    assert overnight.window(datetime.datetime(2026, 12, 1, 1, tzinfo=UTC)).acquiring
    assert not overnight.window(datetime.datetime(2026, 12, 1, 12, tzinfo=UTC)).acquiring


def write_capture(root, moment, kind, size=100_000):
    folder = root / names.date_folder(moment)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for band in ('fltrA', 'fltrB'):
        written.append(folder / names.image_name(moment, band, 1, 1000, kind))
    written.append(folder / names.spectrum_name(moment, 100, 1, kind))
    for path in list(written):
        path.write_bytes(os.urandom(size))
        sidecar = path.with_name(names.sidecar_name(path.name))
        sidecar.write_text('{}')
        written.append(sidecar)
    return written


class Disk(DataStore):
    """A store whose free space is a budget minus what its folder holds."""

    def __init__(self, root, budget):
        super().__init__(root, 0)
        self.budget = budget

    def free_bytes(self):
        return self.budget - sum(p.stat().st_size for p in self.root.rglob('*') if p.is_file())


def test_housekeeping_deletes_the_oldest_plume_captures_whole_and_keeps_references(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    old = now - datetime.timedelta(days=3)
    reference_old = write_capture(tmp_path, old, 'Dark')
    plume = [write_capture(tmp_path, old + datetime.timedelta(seconds=i), 'Plume') for i in range(5)]
    recent = [write_capture(tmp_path, now - datetime.timedelta(hours=1), kind) for kind in ('Dark', 'Clear', '400ppmm')]
    disk = Disk(tmp_path, budget=3_500_000)      # 9 captures of 300 kB: 0.8 MB free
    keeper = Housekeeping({'keep_free_mb': 1.2, 'keep_recent_captures': 0}, disk, logging.getLogger('hk'))
    keeper.tick(now)
    gone = [group for group in plume if not group[0].exists()]
    assert gone == plume[:2]                       # the two oldest, and only as much as needed
    assert not any(p.exists() for group in gone for p in group)      # whole: images, spectrum, sidecars
    assert all(p.exists() for group in plume[2:] + recent + [reference_old] for p in group)
    assert keeper.status()['deleted_captures'] == 4     # two pairs and their two spectra
    assert len([r for r in caplog.records if 'storage: deleted' in r.getMessage()]) == 1

    disk.budget = 2_000_000                         # no Plume left to give: an old dark goes, recent ones never
    keeper.tick(now)
    assert all(not p.exists() for group in plume for p in group)
    assert not any(p.exists() for p in reference_old)
    assert all(p.exists() for group in recent for p in group)


def test_housekeeping_keeps_what_transfer_has_not_sent(tmp_path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    plume = [write_capture(tmp_path, now - datetime.timedelta(minutes=10 - i), 'Plume') for i in range(4)]
    sent = {p.relative_to(tmp_path).as_posix() for p in plume[1]}
    keeper = Housekeeping({'keep_free_mb': 10, 'keep_recent_captures': 0}, Disk(tmp_path, 1_000_000),
                          logging.getLogger('hk'),
                          may_delete=sent.__contains__)
    keeper.tick(now)
    assert [group[0].exists() for group in plume] == [True, False, True, True]


def write_products(products, moment, size=100_000):
    folder = products / names.date_folder(moment) / 'so2'
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f'{names.stamp(moment)}_{suffix}' for suffix in ('aa.npy', 'aa.png', 'so2.npy')]
    for path in written:
        path.write_bytes(os.urandom(size))
    return written


def test_housekeeping_deletes_processing_products_before_raw_captures_and_keeps_the_newest(tmp_path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    start = now - datetime.timedelta(minutes=30)
    references = [write_capture(tmp_path, start, kind) for kind in ('Dark', 'Clear', '400ppmm')]
    plume = [write_capture(tmp_path, start + datetime.timedelta(seconds=i), 'Plume') for i in range(6)]
    products = [write_products(tmp_path / 'processing', start + datetime.timedelta(seconds=i)) for i in range(6)]
    csv = tmp_path / 'processing' / names.date_folder(start) / 'emission_rates.csv'
    csv.write_text('time\n')
    disk = Disk(tmp_path, budget=6_000_000)    # 9 captures and 6 products of 300 kB: 1.5 MB free
    keeper = Housekeeping({'keep_free_mb': 2, 'keep_recent_captures': 2}, disk, logging.getLogger('hk'),
                          products=tmp_path / 'processing')
    keeper.tick(now)                           # 0.7 MB to find: the three oldest products go, no capture
    assert [group[0].exists() for group in products] == [False, False, False, True, True, True]
    assert all(p.exists() for group in plume + references for p in group) and csv.exists()

    disk.budget = 4_000_000                    # too little even without products: the newest three stay
    keeper.tick(now)
    assert [group[0].exists() for group in products] == [False, False, False, True, True, True]
    assert [group[0].exists() for group in plume] == [False, False, False, False, True, True]
    assert all(p.exists() for group in references for p in group)
    assert keeper.status()['deleted_products'] == 3 and keeper.status()['deleted_captures'] == 8


def test_housekeeping_keeps_processing_products_within_their_budget(tmp_path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    products = [write_products(tmp_path / 'processing', now - datetime.timedelta(seconds=60 - i)) for i in range(10)]
    plume = [write_capture(tmp_path, now - datetime.timedelta(seconds=60 - i), 'Plume') for i in range(3)]
    keeper = Housekeeping({'keep_free_mb': 1, 'delete_oldest': False, 'products_mb': 2}, Disk(tmp_path, 10**9),
                          logging.getLogger('hk'), products=tmp_path / 'processing')
    keeper.tick(now)                           # 3 MB of products: the oldest go until 1.8 MB are left
    assert [group[0].exists() for group in products] == [False] * 4 + [True] * 6
    assert all(not p.exists() for group in products[:4] for p in group)
    assert all(p.exists() for group in plume for p in group)
    assert keeper.status()['products_used_mb'] == 1.8


def test_housekeeping_follows_no_symbolic_link_out_of_the_data_folder(tmp_path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    root, outside = tmp_path / 'data', tmp_path / 'elsewhere'
    then = now - datetime.timedelta(days=3)
    foreign = write_capture(outside, then, 'Plume') + write_products(outside / 'processing', then)
    (root / 'processing').mkdir(parents=True)
    (root / names.date_folder(then)).symlink_to(outside / names.date_folder(then))
    (root / 'processing' / names.date_folder(then)).symlink_to(outside / 'processing' / names.date_folder(then))
    today = write_capture(root, now - datetime.timedelta(minutes=1), 'Plume')
    (today[0].parent / f'{names.stamp(then)}_fltrA_1ag_1000ss_Plume.png').symlink_to(foreign[0])
    keeper = Housekeeping({'keep_free_mb': 10**6, 'keep_recent_captures': 0, 'products_mb': 0.001},
                          Disk(root, 0), logging.getLogger('hk'), products=root / 'processing')
    keeper.tick(now)
    assert all(p.exists() for p in foreign)
    assert not any(p.exists() for p in today)


def test_housekeeping_follows_no_linked_so2_folder_out_of_the_processing_folder(tmp_path):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    then = now - datetime.timedelta(days=3)
    foreign = write_products(tmp_path / 'elsewhere', then)      # product names in a folder not ours
    day = tmp_path / 'data' / 'processing' / names.date_folder(then)
    day.mkdir(parents=True)
    (day / 'so2').symlink_to(foreign[0].parent)
    ours = [write_products(tmp_path / 'data' / 'processing', now - datetime.timedelta(seconds=60 - i))
            for i in range(5)]
    keeper = Housekeeping({'keep_free_mb': 1, 'delete_oldest': False, 'products_mb': 0.001},
                          Disk(tmp_path / 'data', 10**9), logging.getLogger('hk'),
                          products=tmp_path / 'data' / 'processing')
    keeper.tick(now)
    assert all(p.exists() for p in foreign)
    assert [group[0].exists() for group in ours] == [False, False, True, True, True]


def test_health_reads_the_machine():
    reading = health.reading(DataStore('/', 0).free_bytes, datetime.datetime.now(UTC))
    assert reading['disk_free_mb'] > 0 and len(reading['load']) == 3 and reading['uptime_s'] > 0
    sensors = [z for z in health.THERMAL.glob('thermal_zone*') if (z / 'temp').exists()]
    assert (reading['cpu_temperature_c'] is None) == (not sensors)
    assert health.throttle_flags(0x50005) == {
        'raw': '0x50005', 'under_voltage': True, 'frequency_capped': False, 'throttled': True,
        'soft_temperature_limit': False, 'under_voltage_occurred': True, 'frequency_capped_occurred': False,
        'throttled_occurred': True, 'soft_temperature_limit_occurred': False}


@pytest.mark.parametrize('field, message', [
    ({'schedule': {'latitude': 95, 'longitude': 0}}, 'schedule.latitude'),
    ({'schedule': {'latitude': 10}}, 'schedule.longitude: required'),
    ({'schedule': {'start': '09:00'}}, 'schedule.stop: required'),
    ({'schedule': {'start': '25:00', 'stop': '10:00'}}, 'schedule.start'),
    ({'schedule': {'start': '09:00', 'stop': '09:00:00'}}, 'schedule.stop: must differ'),
    ({'schedule': {'latitude': 1, 'longitude': 2, 'start': '09:00', 'stop': '10:00'}}, 'not both'),
    ({'storage': {'keep_free_mb': 50}}, 'storage.keep_free_mb: 50 must be above free_space_floor_mb (100)'),
    ({'storage': {'keep_free_mb': -1}}, 'storage.keep_free_mb'),
    ({'storage': {'delete_oldest': True}}, 'keep_free_mb'),
    ({'transfer': {'interval_s': 5}}, 'destination'),
    ({'transfer': {'destination': '/x', 'ssh_port': 0}}, 'transfer.ssh_port'),
    ({'health': {'log_interval_s': 0}}, 'health.log_interval_s'),
])
def test_bad_field_config_names_the_key(test_registry, tmp_path, field, message):
    test_registry.add('pycam_bad')
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps(config_for('pycam_bad', tmp_path / 'data', free_space_floor_mb=100, **field)))
    with pytest.raises(ConfigError) as error:
        PycamConfig.load(path)
    assert message in str(error.value)


def test_the_field_station_example_config_loads():
    config = PycamConfig.load(os.path.join(os.path.dirname(__file__), '..', '..', 'config', 'pycamd', 'field.json'))
    assert config.schedule['darks_after_stop'] and config.housekeeping['delete_oldest'] and config.transfer

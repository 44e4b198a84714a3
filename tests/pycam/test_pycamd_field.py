"""pycamd at a field station, on the real clock: acquisition follows the sun at a site
where it is up now and one where it is down, an operator's stop holds, darks follow a
scheduled stop, health is in status and in a CSV, and rsync copies the data (or fails
without slowing acquisition)."""
import csv
import datetime
import re

import astral
import astral.sun
import pytest

from rockit.pycam.codes import CommandStatus
from support import free_port, wait_until

UTC = datetime.timezone.utc
ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


def site_longitude(sun_up):
    """The longitude on the equator where the sun is highest (or lowest) now."""
    now = datetime.datetime.now(UTC)
    def elevation(longitude):
        return astral.sun.elevation(astral.Observer(0, longitude), now)
    return (max if sun_up else min)(range(-180, 180, 5), key=elevation)


def parse(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=UTC)


def schedule_applied_after(pycam, moment, seconds=2):
    """The status once the schedule has been applied again, `seconds` after moment (it is
    applied every second): what it decides by then, it has decided on its own."""
    def applied(status):
        checked = status['schedule']['checked']
        return checked and parse(checked) >= moment + datetime.timedelta(seconds=seconds)
    return pycam.wait(applied, timeout=60, message=f'the schedule to be applied after {moment:%H:%M:%S}')


def test_where_the_sun_is_up_acquisition_starts_by_itself_and_an_operator_stop_holds(make_pycam):
    pycam = make_pycam(spectrometer=False, schedule={'latitude': 0, 'longitude': site_longitude(True),
                                                     'sun_elevation_min_deg': 10})
    status = pycam.wait(lambda s: s['cameras']['continuous'] and s['schedule']['state'] == 'acquiring',
                        message='the schedule to start acquisition')
    schedule = status['schedule']
    assert ISO.match(schedule['next_start']) and ISO.match(schedule['next_stop'])
    assert datetime.datetime.now(UTC) < parse(schedule['next_stop']) < parse(schedule['next_start'])
    assert 'Schedule: acquiring' in pycam.cli('status').stdout

    assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
    status = schedule_applied_after(pycam, datetime.datetime.now(UTC))
    assert status['cameras']['continuous'] is False and status['schedule']['state'] == 'manual'
    assert 'holds until the next scheduled start at ' + schedule['next_start'] in pycam.daemon.output()
    assert pycam.call('start_acquisition') == CommandStatus.Succeeded      # the operator may still start
    assert pycam.status()['cameras']['continuous'] is True


def test_where_the_sun_is_down_the_station_waits(make_pycam):
    pycam = make_pycam(spectrometer=False, schedule={'latitude': 0, 'longitude': site_longitude(False)})
    status = schedule_applied_after(pycam, datetime.datetime.now(UTC))
    schedule = status['schedule']
    assert schedule['state'] == 'waiting' and status['cameras']['continuous'] is False
    assert status['health']['uptime_s'] > 0 and not (pycam.data_root / 'health').exists()   # no CSV unasked
    assert datetime.datetime.now(UTC) < parse(schedule['next_start']) < parse(schedule['next_stop'])
    assert pycam.call('start_acquisition') == CommandStatus.Succeeded       # by hand at night
    status = schedule_applied_after(pycam, datetime.datetime.now(UTC))
    assert status['cameras']['continuous'] is True and status['schedule']['state'] == 'manual'


@pytest.mark.slow
def test_darks_follow_a_scheduled_stop(make_pycam):
    now = datetime.datetime.now(UTC)
    stop = (now + datetime.timedelta(seconds=20)).replace(microsecond=0)
    pycam = make_pycam(schedule={'start': (now - datetime.timedelta(hours=1)).strftime('%H:%M:%S'),
                                 'stop': stop.strftime('%H:%M:%S'), 'darks_after_stop': True})
    pycam.wait(lambda s: s['schedule']['state'] == 'acquiring' and s['cameras']['continuous'],
               message='scheduled acquisition')
    status = pycam.wait(lambda s: s['schedule']['state'] == 'darks', timeout=40, message='darks after the stop')
    assert status['cameras']['continuous'] is False and datetime.datetime.now(UTC) >= stop
    status = pycam.wait(lambda s: s['schedule']['state'] == 'waiting', timeout=90, message='the darks to end')
    assert status['cameras']['last_darks']['completed'] and status['spectrometer']['last_darks']['completed']
    assert len(pycam.files('*_Dark.png')) == 2 * status['cameras']['last_darks']['total']
    last_plume = max(p.name for p in pycam.files('*_Plume.png'))[:17]
    first_dark = min(p.name for p in pycam.files('*_Dark.png'))[:17]
    assert last_plume <= first_dark, 'acquisition stopped before the darks began'


def test_health_is_in_status_and_in_a_daily_csv(make_pycam):
    pycam = make_pycam(spectrometer=False, health={'log_interval_s': 1})
    health = pycam.wait(lambda s: s['health'], message='a health reading')['health']
    assert set(health) == {'cpu_temperature_c', 'throttled', 'disk_free_mb', 'load', 'uptime_s'}
    assert health['disk_free_mb'] > 0 and health['uptime_s'] > 0 and len(health['load']) == 3

    def rows():
        paths = sorted((pycam.data_root / 'health').glob('*.csv'))
        return list(csv.DictReader(paths[-1].open())) if paths else []
    logged = wait_until(lambda: len(rows()) >= 3 and rows(), timeout=60, message='three rows of the health log')
    assert float(logged[-1]['disk_free_mb']) > 0
    assert 'Health: CPU' in pycam.cli('status').stdout


def test_rsync_copies_closed_captures_verified_to_a_local_folder(make_pycam, tmp_path):
    destination = tmp_path / 'archive'
    pycam = make_pycam(transfer={'destination': str(destination), 'interval_s': 1})
    for kind in ('Dark', 'Plume', 'Plume'):
        assert pycam.call('capture', kind) == CommandStatus.Succeeded
    files = pycam.files()
    assert len(files) == 18       # three pairs and three spectra, each file with its sidecar

    def copied(status):
        return status['transfer']['pending_files'] == 0 and all(
            (destination / path.parent.name / path.name).exists() for path in files)
    status = pycam.wait(copied, timeout=30, message='the transfer')
    assert ISO.match(status['transfer']['last_success']) and status['transfer']['last_error'] is None
    for path in files:
        assert (destination / path.parent.name / path.name).read_bytes() == path.read_bytes()
    assert not [p for p in destination.rglob('.*')], 'a partial file was left at the destination'
    sent = (pycam.data_root / '.transferred').read_text().split()
    assert sorted(sent) == sorted(f'{p.parent.name}/{p.name}' for p in files)
    assert 'Transfer to ' in pycam.cli('status').stdout


def test_a_dead_destination_reports_an_error_and_never_slows_acquisition(make_pycam, tmp_path):
    blocked = tmp_path / 'a_file'
    blocked.write_text('not a folder')
    local = make_pycam(spectrometer=False, transfer={'destination': str(blocked / 'archive'), 'interval_s': 1})
    remote = make_pycam(spectrometer=False, transfer={'destination': 'pycam@127.0.0.1:/data', 'interval_s': 1,
                                                      'ssh_port': free_port(), 'timeout_s': 5})
    for pycam in (local, remote):
        assert pycam.call('start_acquisition') == CommandStatus.Succeeded
    for pycam in (local, remote):
        status = pycam.wait(lambda s: s['transfer']['last_error'] and s['transfer']['pending_files'],
                            timeout=30, message='the transfer to fail')
        assert 'rsync exit' in status['transfer']['last_error'] and status['transfer']['last_success'] is None
    saved = [pycam.status()['cameras']['captures_saved'] for pycam in (local, remote)]
    for pycam, before in zip((local, remote), saved):
        status = pycam.wait(lambda s: s['cameras']['captures_saved'] >= before + 4, timeout=60,
                            message='acquisition to go on while the transfer fails')
        assert status['cameras']['continuous'] and status['transfer']['last_error']
    assert 'last error: rsync exit' in remote.cli('status').stdout

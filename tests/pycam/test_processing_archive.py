"""A PyCam station's archive as `pycam process` reads it: both generations of PyCam's
names, its YYYY/MM/DD/HH folders, its local time stamps, and files that look like data
but cannot be read, which are named in a warning instead of passed over."""
import csv
import datetime
import shutil
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from processing_harness import (CAL_1, LINE_FILE, SEQ_1, SPECTRA, WARP_FILE, needs_data, needs_spectra, run_offline,
                                run_offline_process)
from rockit.pycam.storage.names import images_in, parse_image_name, plume_pairs, unreadable_in

SANTIAGO = ZoneInfo('America/Santiago')     # UTC-3 in March 2018 (summer time)


@pytest.mark.parametrize('gain', ['1.0', '1.1228070259094238', '2', '16.0', '1e-05'])
def test_todays_pycam_names_without_ag(gain):
    """PyCam has written the camera's AnalogueGain as it comes (str of a float), without
    `ag`, since late 2024."""
    name = parse_image_name(f'/archive/2025/03/26/14/2025-03-26T143238_fltrA_{gain}_10000ss_Plume.png')
    assert (name.band, name.gain, name.exposure_us, name.kind) == ('on', float(gain), 10000, 'Plume')
    assert name.time == datetime.datetime(2025, 3, 26, 14, 32, 38, tzinfo=datetime.timezone.utc)
    assert parse_image_name(f'2025-03-26T143238_fltrB_{gain}_312ss_Dark.png').kind == 'Dark'


def _png(path, value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((4, 6), value, np.uint16))


def test_hour_folders_are_searched_and_unreadable_names_listed(tmp_path):
    for stamp in ('2025-03-26T143238', '2025-03-26T150002'):
        hour = tmp_path / '2025' / '03' / '26' / stamp[11:13]
        _png(hour / f'{stamp}_fltrA_1.0_10000ss_Plume.png')
        _png(hour / f'{stamp}_fltrB_1.0_2000ss_Plume.png')
    broken = [tmp_path / '2025' / '03' / '26' / '15' / '2025-03-26T150006_fltrA_1.0_ss_Plume.png',
              tmp_path / '2025' / '03' / '26' / '15' / '2025-03-26T150006_fltrB_1,0_2000ss_Plume.png',
              tmp_path / '2025-03-26T150010_1000ss_coadd_Plume.npy']
    for path in broken[:2]:
        _png(path)
    np.save(broken[2], np.zeros((2, 4)))
    (tmp_path / 'notes.png').write_bytes(b'not data')      # not named like data: no warning needed
    assert [on.stamp for on, _ in plume_pairs(images_in(tmp_path))] == ['2025-03-26T143238', '2025-03-26T150002']
    assert unreadable_in(tmp_path) == sorted(broken)
    assert unreadable_in(tmp_path, skip=[tmp_path / '2025']) == [broken[2]]


def _pycam_layout(source, archive, zone, gain='1.0'):
    """source's frames as PyCam writes them today: gain without `ag`, local time, in
    YYYY/MM/DD/HH folders of that local time."""
    for path in sorted(source.glob('*.png')):
        name = parse_image_name(path)
        local = name.time.astimezone(zone)
        rest = path.name.split('_', 4)[4]           # after time, filter, gain and exposure
        folder = archive / local.strftime('%Y/%m/%d/%H')
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / f'{local:%Y-%m-%dT%H%M%S}_{name.filter}_{gain}_{name.exposure_us}ss_{rest}')


def _rows(path):
    return list(csv.DictReader(path.read_text().splitlines()))


@needs_data
def test_todays_pycam_archive_gives_the_rows_of_the_old_layout(tmp_path):
    scene = ['--line', LINE_FILE, '--registration', WARP_FILE, '--distance', 6000, '--focal-length', 7.3]
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path / 'old', '--darks', CAL_1, '--clear', CAL_1,
                               '--calibration', CAL_1, *scene)
    assert code == 0, err
    archive = tmp_path / 'archive'
    for source in (SEQ_1, CAL_1):
        _pycam_layout(source, archive, SANTIAGO)
    hour = next(archive.glob('*/*/*/*'))
    broken = [hour / '2018-03-26T113238_fltrA_1.0_ss_Plume.png', hour / '2018-03-26T113242_fltrA_1,0_99957ss_Plume.png']
    for path in broken:
        shutil.copy(next(SEQ_1.glob('*fltrA*')), path)

    done = run_offline_process('process', archive, '--out', tmp_path / 'new', '--time-zone', 'America/Santiago',
                               *scene)
    assert done.returncode == 0, done.stderr
    assert '10 pairs' in done.stdout and 'America/Santiago' in done.stdout
    assert '2 files named like data but not readable' in done.stderr
    assert all(str(path) in done.stderr for path in broken), 'each unreadable file is named'
    old, new = _rows(tmp_path / 'old' / 'emission_rates.csv'), _rows(tmp_path / 'new' / 'emission_rates.csv')
    assert len(new) == 10 and new == old, 'the same rows, times in UTC'
    assert new[0]['time'].startswith('2018-03-26T14'), 'local 11:xx in Santiago is 14:xx UTC'


def test_an_archive_without_a_usable_pair_is_an_error(tmp_path):
    _png(tmp_path / '2025' / '03' / '26' / '14' / '2025-03-26T143238_fltrA_1.0_10000ss_Plume.png')
    _png(tmp_path / '2025' / '03' / '26' / '14' / '2025-03-26T143238_fltrB_1.0_10000_Plume.png')
    done = run_offline_process('process', tmp_path, '--out', tmp_path / 'out', '--clear', 'sky')
    assert done.returncode == 2, done.stderr
    assert 'no on/off Plume pairs' in done.stderr
    assert '1 file named like data but not readable' in done.stderr and '10000_Plume.png' in done.stderr
    assert not (tmp_path / 'out').exists()


def test_a_time_zone_that_is_not_iana_is_refused():
    code, _, err = run_offline('process', '/nowhere', '--out', '/tmp/x', '--time-zone', 'Mars/Olympus')
    assert code == 2 and 'time_zone' in err and 'Mars/Olympus' in err and 'IANA' in err


@needs_spectra
def test_pycams_reference_names_are_accepted(tmp_path):
    from processing_harness import REFERENCES
    pycam = tmp_path / 'calibration'        # as in PyCam's pycam/doas/calibration/
    pycam.mkdir()
    renamed = {'sao2010_solar.txt': 'sao2010.txt', 'O3_223K_Serdyuchenko.txt': 'Serdyuchenko_O3_223K.txt'}
    for path in REFERENCES.glob('*.txt'):
        shutil.copy(path, pycam / renamed.get(path.name, path.name))
    code, ours, err = run_offline('doas', SPECTRA, '--json', '--references', REFERENCES)
    assert code == 0, err
    code, theirs, err = run_offline('doas', SPECTRA, '--json', '--references', pycam)
    assert code == 0, err
    assert theirs == ours


@needs_spectra
def test_doas_columns_of_local_time_names_are_in_utc(tmp_path):
    local = tmp_path / 'spectra'
    shutil.copytree(SPECTRA, local)         # the names read as Rome's summer time, UTC+2
    code, _, err = run_offline('doas', local, '--out', tmp_path / 'out', '--time-zone', 'Europe/Rome',
                               '--pycam-outputs')
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / 'out' / 'doas_columns.csv').read_text().splitlines()))
    assert rows[0]['time'] == '2019-05-29T10:44:01Z' and rows[0]['spectrum'].startswith('2019-05-29T124401')
    assert (tmp_path / 'out' / 'doas_results_2019-05-29T104401.csv').is_file()

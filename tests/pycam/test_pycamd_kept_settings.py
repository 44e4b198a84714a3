"""The operator's settings survive a restart of pycamd (kept_settings.py): set with the real
CLI, the daemon stopped and started again on the same data folder, the settings read back
from its status; what no longer fits the instrument is left out and named; a file that
cannot be read or written never stops the daemon or a command."""
import json

import pytest

from rockit.pycam.codes import CommandStatus
from rockit.pycam.kept_settings import FILE_NAME


def test_settings_set_by_an_operator_survive_a_restart(make_pycam, tmp_path):
    root = tmp_path / 'station'
    first = make_pycam(data_root=root)
    assert first.cli('set', 'shutter_b', '1000', 'auto_b', 'off').returncode == 0
    assert first.cli('set', 'frame_rate', '0.5', 'saturation_rows', '20:300').returncode == 0
    assert first.cli('set', 'gain_a', '99').returncode == CommandStatus.SettingOutsideLimits   # refused: not kept
    first.daemon.stop()
    kept = json.loads((root / FILE_NAME).read_text())
    assert kept == {'auto_b': False, 'shutter_b': 1000, 'frame_rate': 0.5, 'saturation_rows': [20, 300]}

    second = make_pycam(data_root=root)
    status = second.status()
    assert {name: status['settings'][name] for name in kept} == kept
    assert status['settings']['gain_a'] == 1.0
    assert status['kept_settings']['restored'] == kept and status['kept_settings']['ignored'] == {}
    shown = second.cli('status').stdout
    assert 'Settings kept from before the restart: auto_b False, frame_rate 0.5' in shown
    # A later change is kept on top of the restored ones.
    assert second.cli('set', 'gain_a', '4').returncode == 0
    assert json.loads((root / FILE_NAME).read_text()) == {**kept, 'gain_a': 4}


def test_kept_settings_the_instrument_no_longer_takes_are_left_out_and_named(make_pycam, tmp_path):
    root = tmp_path / 'station'
    root.mkdir()
    (root / FILE_NAME).write_text(json.dumps({'shutter_b': 999999, 'auto_b': False, 'warp_speed': 9, 'gain_a': 2,
                                              'spec_coadds': 5}))
    pycam = make_pycam(data_root=root, spectrometer=False)
    status = pycam.status()
    assert status['settings']['gain_a'] == 2.0 and status['settings']['auto_b'] is False
    assert status['settings']['shutter_b'] == 4000                     # the config's
    ignored = status['kept_settings']['ignored']
    assert set(ignored) == {'shutter_b', 'warp_speed', 'spec_coadds'}
    assert 'outside its limits' in ignored['shutter_b'] and 'unknown setting' in ignored['warp_speed']
    assert 'not configured' in ignored['spec_coadds']
    assert 'Kept settings left out: ' in pycam.cli('status').stdout


def test_a_kept_settings_file_that_cannot_be_read_or_written_stops_nothing(make_pycam, tmp_path):
    garbled = tmp_path / 'garbled'
    garbled.mkdir()
    (garbled / FILE_NAME).write_bytes(b'\x00{"frame_rate": 0.5')
    pycam = make_pycam(data_root=garbled, spectrometer=False)
    status = pycam.status()
    assert status['status'] == 1 and status['settings']['frame_rate'] == 1.0
    assert 'not read' in status['kept_settings']['ignored']['*']
    assert pycam.cli('set', 'frame_rate', '0.5').returncode == 0       # written over the garbled one
    assert json.loads((garbled / FILE_NAME).read_text()) == {'frame_rate': 0.5}

    blocked = tmp_path / 'blocked'
    (blocked / FILE_NAME).mkdir(parents=True)                          # a folder where the file goes
    pycam = make_pycam(data_root=blocked, spectrometer=False)
    assert pycam.cli('set', 'frame_rate', '0.5').returncode == 0       # applied, though not kept
    status = pycam.status()
    assert status['settings']['frame_rate'] == 0.5
    assert 'not written' in status['kept_settings']['error']
    assert 'Settings not kept for a restart' in pycam.cli('status').stdout


@pytest.mark.parametrize('text, says', [
    ('{"frame_rate": ' + '[' * 30000 + ']' * 30000 + '}', 'frame_rate[0][0][0]...: nested deeper than 64 levels'),
    ('{"frame_rate": 1' + '0' * 5000 + '}', 'frame_rate: an integer of 5001 digits is beyond 64 bits')])
def test_a_kept_settings_file_no_reader_could_mean_is_left_out_with_where(make_pycam, tmp_path, text, says):
    """Read within the config's JSON bounds: lists nested 30,000 deep ended pycamd's start in a
    RecursionError, at every restart."""
    (tmp_path / FILE_NAME).write_text(text)
    pycam = make_pycam(data_root=tmp_path, spectrometer=False)
    status = pycam.status()
    assert status['status'] == 1 and status['settings']['frame_rate'] == 1.0
    assert status['kept_settings']['ignored']['*'].endswith(f'not read: {says}')

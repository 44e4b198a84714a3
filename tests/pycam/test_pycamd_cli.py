"""pycam, the real CLI as a subprocess, against a real pycamd."""
import json

from support import exit_code, run_cli
from rockit.pycam.codes import CommandStatus


def test_status_json_captures_and_settings_through_the_cli(pycam):
    result = pycam.cli('status')
    assert result.returncode == 0, result.stderr
    assert 'Cameras are ONLINE, idle' in result.stdout and 'Spectrometer is ONLINE, idle' in result.stdout
    assert 'fltrA: auto 32000 us' in result.stdout and 'Storage: ' in result.stdout
    assert json.loads(pycam.cli('json').stdout)['status'] == 1

    assert pycam.cli('capture', 'Test').returncode == 0
    assert '_fltrB_1ag_' in pycam.cli('status').stdout
    refused = pycam.cli('capture', '../../etc/x')
    assert refused.returncode == CommandStatus.InvalidCaptureType
    assert 'capture type must be' in refused.stderr

    assert pycam.cli('set', 'shutter_b', '1000').returncode == CommandStatus.AutoExposureOn
    assert pycam.cli('set', 'shutter_b', '1000', 'auto_b', 'off').returncode == 0
    assert pycam.cli('set', 'gain_a', '99').returncode == CommandStatus.SettingOutsideLimits
    assert pycam.cli('set', 'saturation_rows', '20:300', 'frame_rate', '0.5').returncode == 0
    listing = pycam.cli('settings').stdout
    assert 'shutter_b' in listing and '1000' in listing and '20:300' in listing
    for bad in (['set', 'nonsense', '1'], ['set', 'auto_a', 'maybe'], ['set', 'gain_a'], ['capture'],
                ['start', 'telescope'], ['restart']):
        result = pycam.cli(*bad)
        assert result.returncode == exit_code(CommandStatus.UsageError), bad
        assert result.stderr


def test_start_stop_darks_restart_kill_and_init_through_the_cli(pycam):
    assert pycam.cli('start', 'spectrometer').returncode == 0
    assert 'Spectrometer is ONLINE, continuous' in pycam.cli('status').stdout
    assert pycam.cli('capture', 'Test', 'spectrometer').returncode == CommandStatus.AcquisitionRunning
    assert pycam.cli('stop').returncode == 0
    assert pycam.cli('set', 'spec_coadds', '3').returncode == 0
    assert pycam.cli('capture', 'Clear', 'spectrometer').returncode == 0
    assert len(pycam.files('*_3coadd_Clear.npy')) == 1
    assert pycam.cli('darks', 'spectrometer').returncode == 0
    assert pycam.cli('restart', 'cameras').returncode == 0
    assert pycam.cli('kill').returncode == 0
    assert 'Cameras are OFFLINE (disconnected by operator)' in pycam.cli('status').stdout
    assert pycam.cli('kill').returncode == CommandStatus.NotConnected
    assert pycam.cli('init').returncode == 0
    assert 'Cameras are ONLINE' in pycam.cli('status').stdout


def test_without_a_daemon_the_cli_says_so(test_registry, tmp_path):
    test_registry.add('pycam_nobody', timeout=1)
    config = tmp_path / 'pycamd.json'
    config.write_text(json.dumps({'daemon': 'pycam_nobody'}))
    result = run_cli('pycam', 'status', config_env='PYCAMD_CONFIG_PATH', config_path=config)
    assert result.returncode == exit_code(CommandStatus.Unreachable)
    assert 'unable to communicate with pycam daemon' in result.stderr


def test_help_lists_the_commands(tmp_path):
    result = run_cli('pycam', 'help', config_env='PYCAMD_CONFIG_PATH', config_path=tmp_path / 'none.json')
    assert result.returncode == 0
    for command in ('status', 'json', 'start', 'stop', 'capture', 'darks', 'set', 'init', 'kill'):
        assert f'\n  {command} ' in result.stdout, command
    assert run_cli('pycam').returncode == exit_code(CommandStatus.UsageError)


def test_search_fov_is_refused_where_there_is_no_view_to_search_for(make_pycam):
    """Without live processing, with a configured view, or without DOAS references there
    is nothing to search: refused with a code that says which, and nothing is searched."""
    from pathlib import Path
    demo = json.loads((Path(__file__).resolve().parents[2] / 'config' / 'pycamd' / 'test.json').read_text())
    acquiring = make_pycam(spectrometer=False)
    refused = acquiring.cli('search-fov')
    assert refused.returncode == CommandStatus.DeviceNotConfigured, refused.stderr
    assert 'not configured' in refused.stderr
    assert acquiring.cli('search-fov', 'now').returncode == exit_code(CommandStatus.UsageError)

    for processing in (dict(demo['processing'], doas_fov=[330, 238, 5]), dict(demo['processing'], doas_references=None)):
        pycam = make_pycam(processing=processing)
        refused = pycam.cli('search-fov')
        assert refused.returncode == CommandStatus.NothingToSearch, refused.stderr
        assert 'no field of view to search for' in refused.stderr
        assert pycam.status()['processing']['doas_fov_searches'] == 0

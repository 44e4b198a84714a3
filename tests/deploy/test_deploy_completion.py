"""Bash completion: each script is sourced in bash and its completion function called with
COMP_WORDS and COMP_CWORD set, as bash does on <Tab>."""
import importlib
import os
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIS = {'focus': 'rockit.focuser.multichannel.cli', 'chiller': 'rockit.chiller.cli',
        'camvirt': 'rockit.camvirt.cli', 'pycam': 'rockit.pycam.cli'}


def complete(cli, *words, env=None):
    """What <Tab> offers after `cli words...` (the last word is the one being completed)."""
    command = [str(ROOT / cli), *words]
    script = (f'source {shlex.quote(str(ROOT / "completion" / cli))}\n'
              f'function=$(complete -p {cli} | sed -n "s/.*-F \\([^ ]*\\) .*/\\1/p")\n'
              f'COMP_WORDS=({shlex.join(command)}); COMP_CWORD={len(words)}\n'
              '"$function"; printf "%s\\n" "${COMPREPLY[@]}"\n')
    result = subprocess.run(['bash', '--norc', '--noprofile', '-c', script], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=30)
    assert result.returncode == 0, result.stderr
    return sorted(line for line in result.stdout.splitlines() if line)


def available_clis():
    return [cli for cli in CLIS if (ROOT / cli).exists()]


@pytest.mark.parametrize('cli', available_clis())
def test_completes_every_command(cli):
    module = importlib.import_module(CLIS[cli])
    commands = set(module.COMMANDS) | {'json'} | set(getattr(module, 'offline_commands', dict)())
    assert complete(cli, '') == sorted(commands)


def test_completes_a_command_prefix():
    assert complete('focus', 's') == ['set', 'status', 'stop']
    assert complete('chiller', 'se') == ['setpoint']


@pytest.mark.parametrize('command', ['set', 'offset', 'stop', 'zero'])
def test_focus_completes_channels_from_list_channels(command):
    env = {'FOCUSD_CONFIG_PATH': str(ROOT / 'config/focusd/test.json')}
    assert complete('focus', command, '', env=env) == ['1', '2']


def test_focus_offers_no_channel_on_a_single_channel_focuser():
    env = {'FOCUSD_CONFIG_PATH': str(ROOT / 'config/focusd/portable.json')}
    assert complete('focus', 'set', '', env=env) == []


def test_focus_completes_fans():
    assert complete('focus', 'fans', '') == ['disable', 'enable']
    assert complete('focus', 'fans', 'e') == ['enable']


def test_chiller_completes_mode():
    assert complete('chiller', 'mode', '') == ['auto', 'manual']


def test_nothing_after_the_last_argument():
    assert complete('focus', 'fans', 'enable', '') == []
    assert complete('chiller', 'mode', 'auto', '') == []
    assert complete('camvirt', 'init', '') == []


def test_pycam_completes_setting_names_and_switches():
    from rockit.pycam.settings import SETTINGS
    assert complete('pycam', 'set', '') == sorted(SETTINGS)
    assert complete('pycam', 'set', 'auto_a', '') == ['off', 'on']
    assert complete('pycam', 'set', 'auto_a', 'off', 'shu') == ['shutter_a', 'shutter_b']
    assert complete('pycam', 'set', 'shutter_a', '') == []


def test_pycam_completes_capture_types_and_devices():
    assert complete('pycam', 'capture', '') == ['Clear', 'Dark', 'Plume', 'Test']
    assert complete('pycam', 'capture', 'Dark', '') == ['all', 'cameras', 'spectrometer']
    assert complete('pycam', 'start', '') == ['all', 'cameras', 'spectrometer']
    assert complete('pycam', 'restart', '') == ['cameras', 'spectrometer']


def test_pycam_completes_processing_options_and_files(tmp_path):
    assert complete('pycam', 'process', 'images', '--') == ['--calibration', '--clear', '--darks', '--out']
    assert complete('pycam', 'doas', 'spectra', '--') == ['--json']
    (tmp_path / 'spectra').mkdir()
    assert complete('pycam', 'doas', str(tmp_path / 'spe')) == [str(tmp_path / 'spectra')]

"""Transfer's options reach rsync and ssh as the words they are: a malformed destination,
key or known-hosts path is refused when the config loads, naming the key, and a path under
a folder with a space in its name still arrives at ssh as one argument."""
import json
import logging
import os
import stat
import sys

import pytest

from rockit.common.config import ConfigError
from rockit.pycam.config import PycamConfig
from rockit.pycam.field.transfer import Transfer

from pycam_harness import config_for

# ssh as rsync runs it, without the network: records its arguments, then runs the remote
# command here (after its options and the host, as ssh would on the far side).
FAKE_SSH = f"""#!{sys.executable}
import os, subprocess, sys
args = sys.argv[1:]
with open(os.environ['FAKE_SSH_LOG'], 'a') as log:
    log.write(repr(args) + '\\n')
index = 0
while args[index].startswith('-'):
    index += 2 if args[index] in ('-o', '-i', '-p', '-l') else 1
sys.exit(subprocess.call(' '.join(args[index + 1:]), shell=True))
"""


@pytest.mark.parametrize('transfer, key, problem', [
    ({'destination': '-e sh'}, 'destination', 'must be one word not starting with -'),
    ({'destination': '--rsh=sh'}, 'destination', 'must be one word not starting with -'),
    ({'destination': 'pi@-oProxyCommand=sh:/data'}, 'destination', 'nor its host after user@'),
    ({'destination': '/x', 'ssh_key': '-oProxyCommand=sh'}, 'ssh_key', 'not starting with -'),
    ({'destination': '/x', 'ssh_key': 'id -oProxyCommand=sh'}, 'ssh_key', 'without whitespace'),
    ({'destination': '/x', 'known_hosts': 'hosts -oProxyCommand=sh'}, 'known_hosts', 'without whitespace'),
    ({'destination': '/x', 'known_hosts': '-hosts'}, 'known_hosts', 'not starting with -'),
])
def test_malformed_transfer_options_are_refused_at_load_naming_the_key(test_registry, tmp_path, transfer, key,
                                                                        problem):
    test_registry.add('pycam_bad')
    path = tmp_path / 'pycamd.json'
    path.write_text(json.dumps(config_for('pycam_bad', tmp_path / 'data', transfer=transfer)))
    with pytest.raises(ConfigError) as error:
        PycamConfig.load(path)
    line, = [line for line in str(error.value).splitlines() if f'transfer.{key}:' in line]
    assert problem in line


def capture_files(root):
    folder = root / '2026-01-02'
    folder.mkdir(parents=True)
    for name in ('2026-01-02T101010_fltrA_1ag_1000ss_Plume.png', '2026-01-02T101010_fltrA_1ag_1000ss_Plume.json'):
        (folder / name).write_bytes(os.urandom(1000))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in folder.iterdir()}


def test_a_local_folder_destination_receives_the_files(tmp_path):
    sent = capture_files(tmp_path / 'data')
    transfer = Transfer({'destination': str(tmp_path / 'archive')}, tmp_path / 'data', logging.getLogger('t'))
    transfer._sent = set()
    transfer.cycle()
    assert transfer.last_error is None and transfer.pending_files == 0
    assert {name: (tmp_path / 'archive' / name).read_bytes() for name in sent} == sent


def test_ssh_gets_key_and_known_hosts_as_one_argument_each_from_a_folder_with_spaces(tmp_path, monkeypatch):
    folder = tmp_path / 'station config'
    (folder / 'keys').mkdir(parents=True)
    bin_folder = tmp_path / 'bin'
    bin_folder.mkdir()
    (bin_folder / 'ssh').write_text(FAKE_SSH)
    (bin_folder / 'ssh').chmod(stat.S_IRWXU)
    monkeypatch.setenv('PATH', f'{bin_folder}{os.pathsep}{os.environ["PATH"]}')
    monkeypatch.setenv('FAKE_SSH_LOG', str(tmp_path / 'ssh.log'))
    sent = capture_files(tmp_path / 'data')
    settings = {'destination': f'pi@localhost:{tmp_path}/archive', 'ssh_key': 'keys/id_ed25519',
                'known_hosts': 'known_hosts', 'ssh_port': 2222}
    transfer = Transfer(settings, tmp_path / 'data', logging.getLogger('t'), folder)
    transfer._sent = set()
    transfer.cycle()
    assert transfer.last_error is None, transfer.last_error
    assert {name: (tmp_path / 'archive' / name).read_bytes() for name in sent} == sent
    calls = [eval(line) for line in (tmp_path / 'ssh.log').read_text().splitlines()]
    assert calls
    for args in calls:
        assert args[args.index('-i') + 1] == f'{folder}/keys/id_ed25519'
        assert f'UserKnownHostsFile="{folder}/known_hosts"' in args
        assert args[args.index('-p') + 1] == '2222'

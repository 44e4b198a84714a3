"""The systemd template units: `systemd-analyze verify` finds nothing to say, and each unit
runs its daemon from /etc/<daemon>/%i.json as the rockit user with the groups its device
needs."""
import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from support import tool

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / 'systemd').glob('*@.service'))

# The supplementary groups each daemon's device needs.
GROUPS = {
    'focusd': {'dialout'},
    'chillerd': {'dialout'},
    'camvirtd': {'libvirt'},
    'pycamd': {'video', 'plugdev'},
    'rockit-web': set(),
}


def daemon_of(unit):
    return unit.name.split('@')[0]


def read_unit(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=('=',))
    parser.optionxform = str
    parser.read_string(unit.read_text())
    return parser


def test_every_daemon_has_a_unit():
    assert {daemon_of(unit) for unit in UNITS} == set(GROUPS)


@pytest.mark.parametrize('unit', UNITS, ids=daemon_of)
def test_unit_runs_the_daemon_hardened(unit):
    daemon = daemon_of(unit)
    sections = read_unit(unit)
    service = sections['Service']
    assert service['ExecStart'] == f'/usr/bin/{daemon} /etc/{daemon}/%i.json'
    assert service['Type'] == 'notify'
    assert service['Restart'] == 'on-failure'
    assert service['User'] == 'rockit'
    assert set(service['SupplementaryGroups'].split()) >= GROUPS[daemon]
    assert service['NoNewPrivileges'] == 'yes'
    assert service['ProtectSystem'] == 'strict'
    assert service['ProtectHome'] == 'yes'
    assert service['PrivateTmp'] == 'yes'
    assert 'network-online.target' in sections['Unit']['Wants']
    assert 'network-online.target' in sections['Unit']['After']
    assert sections['Install']['WantedBy'] == 'multi-user.target'


@pytest.mark.parametrize('unit', UNITS, ids=daemon_of)
def test_sysusers_gives_the_rockit_user_the_unit_groups(unit):
    daemon = daemon_of(unit)
    lines = [line.split() for line in (ROOT / 'systemd' / f'{daemon}.sysusers').read_text().splitlines()
             if line.strip() and not line.startswith('#')]
    assert ['u', 'rockit'] == lines[0][:2]
    members = {fields[2] for fields in lines if fields[:2] == ['m', 'rockit']}
    assert members == set(read_unit(unit)['Service']['SupplementaryGroups'].split())


@pytest.mark.parametrize('unit', UNITS, ids=daemon_of)
def test_systemd_analyze_verify_is_silent(unit, tmp_path):
    """The template and each instance with a drop-in. verify needs ExecStart to exist: the
    copies point it at the clone's executable."""
    daemon = daemon_of(unit)
    executable = ROOT / daemon
    tool('systemd-analyze')
    (tmp_path / unit.name).write_text(unit.read_text().replace(f'/usr/bin/{daemon} ', f'{executable} '))
    names = [unit.name]
    for dropin in dropins(daemon):
        shutil.copytree(dropin, tmp_path / dropin.name)
        names.append(dropin.name.removesuffix('.d'))
    result = subprocess.run(['systemd-analyze', 'verify', '--man=no', *names], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, 'SYSTEMD_UNIT_PATH': f'{tmp_path}:'}, timeout=30)
    assert (result.returncode, result.stdout + result.stderr) == (0, '')


def dropins(daemon):
    return sorted((ROOT / 'systemd').glob(f'{daemon}@?*.service.d'))


def test_pycamd_may_write_to_each_site_data_root():
    """ProtectSystem=strict: data_root is the unit's StateDirectory, or a drop-in of the
    site's instance opens it (test*.json configs write to the unit's private /tmp)."""
    unit = ROOT / 'systemd/pycamd@.service'
    state = '/var/lib/' + read_unit(unit)['Service']['StateDirectory']
    for config in sorted((ROOT / 'config/pycamd').glob('*.json')):
        data_root = json.loads(config.read_text())['data_root']
        dropin = ROOT / f'systemd/pycamd@{config.stem}.service.d'
        writable = [state] + [path.lstrip('-') for conf in sorted(dropin.glob('*.conf'))
                              for path in read_unit(conf)['Service'].get('ReadWritePaths', '').split()]
        if config.stem.startswith('test'):
            assert data_root.startswith('/tmp/')
        else:
            assert any(data_root == path or data_root.startswith(path + '/') for path in writable), config.name

@pytest.mark.parametrize('unit', UNITS, ids=daemon_of)
def test_daemon_tells_systemd_it_is_ready(unit, tmp_path):
    """Type=notify: READY=1 on $NOTIFY_SOCKET once the daemon serves, STOPPING=1 on SIGTERM."""
    daemon = daemon_of(unit)
    config = ROOT / 'config' / daemon / 'test.json'
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    data = json.loads(config.read_text())
    registry = tmp_path / 'registry.json'
    if 'daemon' in data:
        registry.write_text(json.dumps({'daemons': {data['daemon']: {'object_id': 'notify_test', 'host': '127.0.0.1',
                                                                     'port': port}}}))
    else:   # rockit-web: it serves HTTP on the port, and asks daemons nobody serves
        config = tmp_path / 'web.json'
        config.write_text(json.dumps({**data, 'port': port, 'host': '127.0.0.1'}))
        registry.write_text(json.dumps({'daemons': {name: {'object_id': name, 'host': '127.0.0.1', 'port': 9}
                                                    for name in data['daemons']}}))
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / 'notify'))
        notify.settimeout(30)
        env = {**os.environ, 'NOTIFY_SOCKET': str(tmp_path / 'notify'), 'ROCKIT_REGISTRY': str(registry)}
        process = subprocess.Popen([str(ROOT / daemon), str(config)], env=env, cwd=tmp_path,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert notify.recv(256) == b'READY=1'
            socket.create_connection(('127.0.0.1', port), timeout=5).close()
            process.send_signal(signal.SIGTERM)
            assert notify.recv(256) == b'STOPPING=1'
            assert process.wait(30) == 0
        finally:
            process.kill()
            process.wait()

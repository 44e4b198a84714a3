"""The systemd template units: `systemd-analyze verify` finds nothing to say, and each unit
runs its daemon from /etc/<daemon>/%i.json as the rockit user with the groups its device
needs, may open only its own devices, talk only to the site's networks, and is bounded in
memory, open files and system calls."""
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


# The device classes each daemon may open (DevicePolicy=closed); None: PrivateDevices=yes.
DEVICES = {
    'focusd': {'char-ttyACM rw', 'char-ttyUSB rw'},
    'chillerd': {'char-ttyACM rw', 'char-ttyUSB rw'},
    'camvirtd': None,
    'pycamd': {'char-video4linux rw', 'char-media rw', 'char-dma_heap rw', '/dev/vchiq rw', 'char-usb_device rw'},
    'rockit-web': None,
}
SITE_NETWORKS = {'localhost', 'link-local', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'}


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


def directives(unit):
    """{key: [every value]} of the unit's [Service] (DeviceAllow and others repeat)."""
    found = {}
    section = None
    for line in unit.read_text().splitlines():
        line = line.strip()
        if line.startswith('['):
            section = line
        elif section == '[Service]' and '=' in line and not line.startswith('#'):
            key, value = line.split('=', 1)
            found.setdefault(key, []).append(value)
    return found


def size_bytes(text):
    units = {'K': 2 ** 10, 'M': 2 ** 20, 'G': 2 ** 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


@pytest.mark.parametrize('unit', UNITS, ids=daemon_of)
def test_unit_bounds_devices_addresses_memory_files_and_system_calls(unit):
    daemon = daemon_of(unit)
    service = directives(unit)
    if DEVICES[daemon] is None:
        assert service['PrivateDevices'] == ['yes'] and 'DeviceAllow' not in service
    else:
        assert service['DevicePolicy'] == ['closed'] and set(service['DeviceAllow']) == DEVICES[daemon]
        assert 'PrivateDevices' not in service
    assert service['IPAddressDeny'] == ['any']
    assert set(' '.join(service['IPAddressAllow']).split()) == SITE_NETWORKS
    assert 64 * 2 ** 20 <= size_bytes(service['MemoryMax'][0]) <= 2 ** 31
    assert 256 <= int(service['LimitNOFILE'][0]) <= 65536
    assert service['ProtectProc'] == ['invisible']
    assert service['SystemCallFilter'] == ['@system-service']


def test_the_site_networks_hold_every_address_the_configs_name():
    """Each machine a config lets in (control_machines) is inside IPAddressAllow."""
    import ipaddress
    networks = [ipaddress.ip_network(n) for n in SITE_NETWORKS - {'localhost', 'link-local'}]
    networks += [ipaddress.ip_network('127.0.0.0/8'), ipaddress.ip_network('169.254.0.0/16')]
    machines = json.loads((ROOT / 'rockit/common/registry.json').read_text())['machines']
    for config in sorted((ROOT / 'config').glob('*/*.json')):
        for machine in json.loads(config.read_text()).get('control_machines', []):
            address = ipaddress.ip_address(machines[machine])
            assert any(address in network for network in networks), f'{config.name}: {machine} {address}'


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
    """Type=notify: READY=1 on $NOTIFY_SOCKET once the daemon serves, STOPPING=1 on SIGTERM;
    a unit with WatchdogSec= has a daemon that says it is alive (WATCHDOG=1) in between."""
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
        def state():
            """The next message that is not a watchdog ping."""
            while (message := notify.recv(256)) == b'WATCHDOG=1':
                pass
            return message

        try:
            assert state() == b'READY=1'
            socket.create_connection(('127.0.0.1', port), timeout=5).close()
            if 'WatchdogSec=' in unit.read_text():
                assert notify.recv(256) == b'WATCHDOG=1'
            process.send_signal(signal.SIGTERM)
            assert state() == b'STOPPING=1'
            assert process.wait(30) == 0
        finally:
            process.kill()
            process.wait()

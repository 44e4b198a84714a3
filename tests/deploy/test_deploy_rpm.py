"""`make rpm` builds every package the seeds list, and each carries what it should: servers
their daemon, unit and user, clients their CLI and completion, data packages their configs
and udev rules, python packages their part of rockit/ (each file in exactly one)."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITELIB = '/usr/lib/python3.12/site-packages'
UNITDIR = '/usr/lib/systemd/system'
RULESDIR = '/usr/lib/udev/rules.d'

# device -> (daemon, client, {site: the files of its data package, besides /etc/<daemon>})
DEVICES = {
    'focuser': ('focusd', 'focus', {
        'clasp': ['/etc/focusd/clasp.json', f'{RULESDIR}/10-clasp-focuser.rules'],
        'halfmetre': ['/etc/focusd/halfmetre.json', f'{RULESDIR}/10-halfmetre-focuser.rules'],
    }),
    'chiller': ('chillerd', 'chiller', {
        'clasp': ['/etc/chillerd/clasp.json', f'{RULESDIR}/10-clasp-chiller.rules'],
    }),
    'camvirt': ('camvirtd', 'camvirt', {
        'clasp': ['/etc/camvirtd/clasp.json'],
        'superwasp': ['/etc/camvirtd/superwasp_das1.json', '/etc/camvirtd/superwasp_das2.json'],
    }),
    'pycam': ('pycamd', 'pycam', {
        'field': ['/etc/pycamd/field.json', f'{UNITDIR}/pycamd@field.service.d',
                  f'{UNITDIR}/pycamd@field.service.d/data-root.conf', f'{RULESDIR}/10-field-spectrometer.rules'],
    }),
}
# What each package needs beyond its own python module (Rocky Linux and EPEL names).
PYTHON_REQUIRES = {'pycam': {'python3-numpy', 'python3-opencv', 'python3-scipy'}}
SERVER_REQUIRES = {'camvirt': {'python3-libvirt'}}
COMMON_REQUIRES = {'python3-Pyro4', 'python3-pyserial', 'python3-jsonschema', 'python3-rich'}

pytestmark = pytest.mark.skipif(not shutil.which('rpmbuild'), reason='rpmbuild is not installed (Debian package rpm)')


@pytest.fixture(scope='module')
def packages(tmp_path_factory):
    """{name: path} of every package `make rpm` built."""
    out = tmp_path_factory.mktemp('rpm')
    subprocess.run(['make', '-s', '-C', str(ROOT), 'rpm', f'RPM_DIR={out}'], check=True,
                   capture_output=True, timeout=120)
    return {query(path, '%{NAME}')[0]: path for path in out.glob('*.rpm')}


def query(path, *args):
    if args and '%' in args[0]:
        args = ('--qf', args[0] if args[0].endswith('\n') else args[0] + '\n')
    result = subprocess.run(['rpm', '-qp', *args, str(path)], check=True, capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if line]


def files(path):
    return set(query(path, '--list'))


def requires(path):
    return {line.split()[0] for line in query(path, '--requires')}


def python_files(part):
    """rockit/<part> in the clone (the folder, its files and subfolders), as installed under
    the sitelib."""
    base = ROOT / 'rockit' / part
    return {f'{SITELIB}/rockit/{part}'} | {f'{SITELIB}/rockit/{part}/{p.relative_to(base)}' for p in base.rglob('*')
                                          if '__pycache__' not in p.parts}


def expected_names():
    names = {'python3-rockit-common'}
    for device, (_, _, sites) in DEVICES.items():
        names |= {f'rockit-{device}-server', f'rockit-{device}-client', f'python3-rockit-{device}'}
        names |= {f'rockit-{device}-data-{site}' for site in sites}
    return names


def test_make_rpm_builds_every_package(packages):
    assert expected_names() <= set(packages)


def test_common_python_package(packages):
    path = packages['python3-rockit-common']
    assert files(path) >= python_files('common') | {
        f'{SITELIB}/rockit/launch.py',
        f'{SITELIB}/rockit/common/registry.json', '/etc/rockit'}
    assert requires(path) >= COMMON_REQUIRES


@pytest.mark.parametrize('device', DEVICES)
def test_device_python_package(packages, device):
    path = packages[f'python3-rockit-{device}']
    assert files(path) == python_files(device)
    assert requires(path) >= {'python3-rockit-common'} | PYTHON_REQUIRES.get(device, set())


@pytest.mark.parametrize('device', DEVICES)
def test_server_package(packages, device):
    daemon = DEVICES[device][0]
    path = packages[f'rockit-{device}-server']
    assert files(path) == {f'/usr/bin/{daemon}', f'{UNITDIR}/{daemon}@.service', f'/usr/lib/sysusers.d/{daemon}.conf'}
    assert requires(path) >= {f'python3-rockit-{device}'} | SERVER_REQUIRES.get(device, set())
    assert f'sysusers.d/{daemon}.conf' in '\n'.join(query(path, '--scripts'))


@pytest.mark.parametrize('device', DEVICES)
def test_client_package(packages, device):
    client = DEVICES[device][1]
    path = packages[f'rockit-{device}-client']
    assert files(path) == {f'/usr/bin/{client}', f'/usr/share/bash-completion/completions/{client}'}
    assert f'python3-rockit-{device}' in requires(path)


@pytest.mark.parametrize('device_site', [(d, s) for d, (_, _, sites) in DEVICES.items() for s in sites],
                         ids='-'.join)
def test_data_package(packages, device_site):
    device, site = device_site
    daemon, _, sites = DEVICES[device]
    path = packages[f'rockit-{device}-data-{site}']
    assert files(path) == {f'/etc/{daemon}', *sites[site]}
    flags = dict(line.split(' ', 1) for line in query(path, '[%{FILENAMES} %{FILEFLAGS:fflags}\n]'))
    configs = [f for f in sites[site] if f.endswith('.json')]
    assert configs and all(flags[c] == 'cn' for c in configs)  # %config(noreplace)


def test_no_file_is_in_two_packages(packages):
    seen = {}
    for name, path in packages.items():
        for line in query(path, '[%{FILENAMES} %{FILEMODES:perms}\n]'):
            filename, mode = line.split()
            if not mode.startswith('d'):
                assert filename not in seen, f'{filename} in {seen.get(filename)} and {name}'
                seen[filename] = name


def test_every_site_config_is_packaged(packages):
    shipped = set().union(*(files(path) for path in packages.values()))
    for config in ROOT.glob('config/*/*.json'):
        if not config.stem.startswith('test'):
            assert f'/etc/{config.parent.name}/{config.name}' in shipped


def test_executables_run_the_system_python(packages, tmp_path):
    path = packages['rockit-focuser-server']
    archive = subprocess.run(['rpm2archive', '-'], stdin=path.open('rb'), capture_output=True, check=True).stdout
    subprocess.run(['tar', 'xzf', '-', '-C', str(tmp_path)], input=archive, check=True)
    assert (tmp_path / 'usr/bin/focusd').read_text().splitlines()[0] == '#!/usr/bin/python3 -s'
    assert (tmp_path / 'usr/lib/systemd/system/focusd@.service').read_text() == \
        (ROOT / 'systemd/focusd@.service').read_text()


@pytest.mark.skipif(not shutil.which('systemctl') or not shutil.which('systemd-sysusers'),
                    reason='systemctl and systemd-sysusers are needed')
def test_packages_install_together_and_enable(packages, tmp_path):
    """Into a scratch root (no dependencies, no scriptlets): then each site's unit enables and
    the sysusers files make the rockit user with its groups."""
    root = tmp_path / 'root'
    subprocess.run(['rpm', '--root', str(root), '--initdb'], check=True)
    subprocess.run(['rpm', '--root', str(root), '-i', '--nodeps', '--noscripts', *map(str, packages.values())],
                   check=True, capture_output=True)
    for device, (daemon, _, sites) in DEVICES.items():
        for config in (f for files in sites.values() for f in files if f.endswith('.json')):
            instance = f'{daemon}@{Path(config).stem}.service'
            subprocess.run(['systemctl', f'--root={root}', 'enable', instance], check=True, capture_output=True)
            assert (root / 'etc/systemd/system/multi-user.target.wants' / instance).is_symlink()
    subprocess.run(['systemd-sysusers', f'--root={root}'], check=True, capture_output=True)
    assert 'rockit:' in (root / 'etc/passwd').read_text()
    groups = {line.split(':')[0]: line.split(':')[3].split(',') for line in (root / 'etc/group').read_text().splitlines()}
    assert 'rockit' in groups['dialout'] and 'rockit' in groups['libvirt']

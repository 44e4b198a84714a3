"""`make rpm` builds every package the seeds list for Rocky 10 (el10), and those of the
observatory for Rocky 9 (el9), and each carries what it should: servers their daemon, unit
and user, clients their CLI and completion, data packages their configs and udev rules,
python packages their part of rockit/ with its dist-info (each file in exactly one). Each
set installs (rpm --test) into an empty database beside stand-ins for the target's own
packages and for the reference packages that require ours."""
import subprocess
from pathlib import Path

import pytest

from support import tool

ROOT = Path(__file__).resolve().parents[2]
PYTHON = {'el9': '3.9', 'el10': '3.12'}
SITELIB = f'/usr/lib/python{PYTHON["el10"]}/site-packages'
UNITDIR = '/usr/lib/systemd/system'
RULESDIR = '/usr/lib/udev/rules.d'

# device -> (daemon, client, {site: the files of its data package, besides /etc/<daemon>})
DEVICES = {
    'focuser': ('focusd', 'focus', {
        'clasp': ['/etc/focusd/clasp.json', f'{RULESDIR}/10-clasp-focuser.rules'],
        'portable': ['/etc/focusd/portable.json', f'{RULESDIR}/10-portable-focuser.rules'],
    }),
    'chiller': ('chillerd', 'chiller', {
        'clasp': ['/etc/chillerd/clasp.json', f'{RULESDIR}/10-clasp-chiller.rules'],
    }),
    'camvirt': ('camvirtd', 'camvirt', {
        'clasp': ['/etc/camvirtd/clasp_cmos.json', '/etc/camvirtd/clasp_swir.json'],
        'sting': ['/etc/camvirtd/sting_das1.json', '/etc/camvirtd/sting_das2.json'],
    }),
    'pycam': ('pycamd', 'pycam', {
        'field': ['/etc/pycamd/field.json', f'{UNITDIR}/pycamd@field.service.d',
                  f'{UNITDIR}/pycamd@field.service.d/data-root.conf', f'{RULESDIR}/10-field-spectrometer.rules'],
    }),
}
# device -> (its package names' stem, its python folder under rockit/): the focuser's are the
# reference's names.
NAMES = {'focuser': ('focuser-multichannel', 'focuser/multichannel')}
# What each package needs beyond its own python module (Rocky Linux and EPEL names).
PYTHON_REQUIRES = {'pycam': {'python3-numpy', 'python3-opencv', 'python3-scipy'}}
SERVER_REQUIRES = {'camvirt': {'python3-libvirt'}}
COMMON_REQUIRES = {'python3.12dist(pyro4)', 'python3.12dist(pyserial)', 'python3.12dist(jsonschema)',
                   'python3.12dist(rich)'}
# Each python package's distribution (its dist-info) and what it requires of the others.
DISTRIBUTIONS = {'python3-rockit-common': 'rockit-common',
                 'python3-rockit-focuser-multichannel': 'rockit-focuser-multichannel',
                 'python3-rockit-chiller': 'rockit-chiller', 'python3-rockit-camvirt': 'rockit-camvirt',
                 'python3-rockit-pycam': 'rockit-pycam', 'rockit-web': 'rockit-web'}
# The packages built for el9: the observatory's (pycam runs on Raspberry Pi OS; rockit-web
# needs el10's Starlette and uvicorn).
EL9_DEVICES = ['focuser', 'chiller', 'camvirt']
# The packages of the reference software ours replace (today's names), and the 2024 names.
REFERENCE_PACKAGES = [
    'rockit-focuser-multichannel-server', 'rockit-focuser-multichannel-client',
    'rockit-focuser-multichannel-data-clasp', 'rockit-focuser-multichannel-data-portable',
    'python3-rockit-focuser-multichannel', 'rockit-chiller-server', 'rockit-chiller-client',
    'rockit-chiller-data-clasp', 'python3-rockit-chiller', 'rockit-camvirt-server', 'rockit-camvirt-client',
    'rockit-camvirt-data-clasp', 'rockit-camvirt-data-sting', 'python3-rockit-camvirt', 'python3-rockit-common']
OLDER_PACKAGES = {'rockit-focuser-server': 'rockit-focuser-multichannel-server',
                  'rockit-focuser-client': 'rockit-focuser-multichannel-client',
                  'rockit-focuser-data-clasp': 'rockit-focuser-multichannel-data-clasp',
                  'python3-rockit-focuser': 'python3-rockit-focuser-multichannel'}
# A reference build far in the future still sorts before ours.
REFERENCE_EVR = '0:29991231235959-1'


def package(device, kind):
    """The name of a device's package: kind is server, client, data-<site> or python."""
    stem = NAMES.get(device, (device,))[0]
    return f'python3-rockit-{stem}' if kind == 'python' else f'rockit-{stem}-{kind}'


# Building both targets' packages from wheels takes minutes on two busy cores: the first
# test, which builds them, gets a timeout to match.
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """{target: {name: path}} of every package `make rpm` built."""
    tool('rpmbuild')
    out = tmp_path_factory.mktemp('rpm')
    subprocess.run(['make', '-s', '-C', str(ROOT), 'rpm', f'RPM_DIR={out}'], check=True,
                   capture_output=True, timeout=900)
    return {target: {query(path, '%{NAME}')[0]: path for path in (out / target).glob('*.rpm')}
            for target in PYTHON}


@pytest.fixture(scope='module')
def packages(built):
    return built['el10']


def query(path, *args):
    if args and '%' in args[0]:
        args = ('--qf', args[0] if args[0].endswith('\n') else args[0] + '\n')
    result = subprocess.run(['rpm', '-qp', *args, str(path)], check=True, capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if line]


def files(path):
    return set(query(path, '--list'))


def requires(path):
    return {line.split()[0] for line in query(path, '--requires')}


def provides(path):
    return set(query(path, '--provides'))


def python_files(device, sitelib=SITELIB):
    """rockit/<folder> in the clone (the folders down to it, its files and subfolders), as
    installed under the sitelib, without the dist-info."""
    part = NAMES.get(device, (device, device))[1]
    base = ROOT / 'rockit' / part
    folders = {f'{sitelib}/rockit/{"/".join(part.split("/")[:n])}' for n in range(1, part.count('/') + 2)}
    return folders | {f'{sitelib}/rockit/{part}/{p.relative_to(base)}' for p in base.rglob('*')
                      if '__pycache__' not in p.parts}


def without_dist_info(paths):
    return {p for p in paths if '.dist-info' not in p}


def expected_names():
    names = {'python3-rockit-common'}
    for device, (_, _, sites) in DEVICES.items():
        names |= {package(device, kind) for kind in ('server', 'client', 'python')}
        names |= {package(device, f'data-{site}') for site in sites}
    return names


def test_make_rpm_builds_every_package(packages):
    assert expected_names() <= set(packages)


def test_common_python_package(packages):
    path = packages['python3-rockit-common']
    assert files(path) >= python_files('common') | python_files('alpaca') | {
        f'{SITELIB}/rockit', f'{SITELIB}/rockit/launch.py',
        f'{SITELIB}/rockit/common/registry.json', '/etc/rockit'}
    assert f'{SITELIB}/rockit/__init__.py' not in files(path)   # a namespace package, as upstream
    assert requires(path) >= COMMON_REQUIRES


@pytest.mark.parametrize('device', DEVICES)
def test_device_python_package(packages, device):
    path = packages[package(device, 'python')]
    assert without_dist_info(files(path)) == python_files(device)
    assert requires(path) >= {'python3-rockit-common', 'python3.12dist(rockit-common)'} | \
        PYTHON_REQUIRES.get(device, set())


@pytest.mark.parametrize('device', DEVICES)
def test_server_package(packages, device):
    daemon = DEVICES[device][0]
    path = packages[package(device, 'server')]
    extra = {'/usr/bin/multichannel_focusd', f'{UNITDIR}/multichannel_focusd@.service'} if device == 'focuser' else set()
    assert files(path) == {f'/usr/bin/{daemon}', f'{UNITDIR}/{daemon}@.service', f'/usr/lib/sysusers.d/{daemon}.conf',
                           *extra}
    assert requires(path) >= {package(device, 'python')} | SERVER_REQUIRES.get(device, set())
    assert f'sysusers.d/{daemon}.conf' in '\n'.join(query(path, '--scripts'))


@pytest.mark.parametrize('device', DEVICES)
def test_client_package(packages, device):
    client = DEVICES[device][1]
    path = packages[package(device, 'client')]
    assert files(path) == {f'/usr/bin/{client}', f'/etc/bash_completion.d/{client}'}   # the reference's paths
    assert package(device, 'python') in requires(path)


@pytest.mark.parametrize('device_site', [(d, s) for d, (_, _, sites) in DEVICES.items() for s in sites],
                         ids='-'.join)
def test_data_package(packages, device_site):
    device, site = device_site
    daemon, _, sites = DEVICES[device]
    path = packages[package(device, f'data-{site}')]
    assert files(path) == {f'/etc/{daemon}', *sites[site]}
    flags = dict(line.split(' ', 1) for line in query(path, '[%{FILENAMES} %{FILEFLAGS:fflags}\n]'))
    configs = [f for f in sites[site] if f.endswith('.json')]
    assert configs and all(flags[c] == 'cn' for c in configs)  # %config(noreplace)


def test_web_package(packages):
    path = packages['rockit-web']
    web = ROOT / 'rockit' / 'web'
    assert without_dist_info(files(path)) == {
                           '/usr/bin/rockit-web', f'{UNITDIR}/rockit-web@.service', '/usr/lib/sysusers.d/rockit-web.conf',
                           '/etc/rockit-web', f'{SITELIB}/rockit/web',
                           *{f'{SITELIB}/rockit/web/{p.relative_to(web)}' for p in web.rglob('*')
                             if '__pycache__' not in p.parts}}
    assert requires(path) >= {'python3-rockit-common', 'python3-starlette', 'python3-uvicorn', 'python3-matplotlib'}
    assert 'sysusers.d/rockit-web.conf' in '\n'.join(query(path, '--scripts'))


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
    path = packages['rockit-focuser-multichannel-server']
    archive = subprocess.run(['rpm2archive', '-'], stdin=path.open('rb'), capture_output=True, check=True).stdout
    subprocess.run(['tar', 'xzf', '-', '-C', str(tmp_path)], input=archive, check=True)
    assert (tmp_path / 'usr/bin/focusd').read_text().splitlines()[0] == '#!/usr/bin/python3 -s'
    assert (tmp_path / 'usr/lib/systemd/system/focusd@.service').read_text() == \
        (ROOT / 'systemd/focusd@.service').read_text()


def test_packages_install_together_and_enable(packages, tmp_path):
    """Into a scratch root (no dependencies, no scriptlets): then each site's unit enables and
    the sysusers files make the rockit user with its groups."""
    tool('systemctl'), tool('systemd-sysusers')
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


def evr(path):
    return query(path, '%{EPOCH}:%{VERSION}-%{RELEASE}')[0]


def newer(a, b):
    """rpm's own comparison of two epoch:version-release strings: is a newer than b?"""
    out = subprocess.run(['rpm', '--eval', f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out == '1'


def provides_and_obsoletes(path, name):
    """Does the package provide name at its own version and obsolete every older one?"""
    version = evr(path)
    provided = {line.split(' = ')[0]: line.split(' = ')[-1] for line in query(path, '--provides')}
    obsoleted = [line.split(' < ') for line in query(path, '--obsoletes')]
    return provided.get(name) == version and [name, version] in obsoleted


def test_versions_are_utc_build_times_at_epoch_1(packages):
    for path in packages.values():
        epoch, version = query(path, '%{EPOCH} %{VERSION}')[0].split()
        assert epoch == '1' and len(version) == 14 and version.isdigit() and version.startswith('20')


def test_every_reference_package_is_replaced_by_a_newer_one(packages):
    """Same name at a higher epoch:version, or provided and obsoleted: dnf upgrade keeps ours."""
    for name in REFERENCE_PACKAGES:
        assert name in packages, f'no package takes over {name}'
        assert newer(evr(packages[name]), REFERENCE_EVR)
    for older, ours in OLDER_PACKAGES.items():
        assert provides_and_obsoletes(packages[ours], older), f'{ours} does not replace {older}'
        assert newer(evr(packages[ours]), REFERENCE_EVR)


def test_the_reference_unit_and_executable_names_are_ours(packages):
    path = packages['rockit-focuser-multichannel-server']
    links = dict(line.split(' ', 1) for line in query(path, '[%{FILENAMES} %{FILELINKTOS}\n]'))
    assert links[f'{UNITDIR}/multichannel_focusd@.service'] == 'focusd@.service'
    assert links['/usr/bin/multichannel_focusd'] == 'focusd'


def test_an_instance_enabled_under_the_reference_unit_name_runs_focusd(packages, tmp_path):
    tool('systemctl')
    root = tmp_path / 'root'
    subprocess.run(['rpm', '--root', str(root), '--initdb'], check=True)
    subprocess.run(['rpm', '--root', str(root), '-i', '--nodeps', '--noscripts',
                    str(packages['rockit-focuser-multichannel-server'])], check=True, capture_output=True)
    # As the reference packages left it on a site: a wants link to the reference unit name.
    wants = root / 'etc/systemd/system/multi-user.target.wants'
    wants.mkdir(parents=True)
    (wants / 'multichannel_focusd@clasp.service').symlink_to(f'{UNITDIR}/multichannel_focusd@.service')
    unit = (root / UNITDIR.lstrip('/') / 'multichannel_focusd@.service').resolve()
    assert unit == (root / UNITDIR.lstrip('/') / 'focusd@.service').resolve()
    assert 'ExecStart=/usr/bin/focusd /etc/focusd/%i.json' in unit.read_text()
    subprocess.run(['systemctl', f'--root={root}', 'enable', 'multichannel_focusd@portable.service'],
                   check=True, capture_output=True)
    assert (wants / 'focusd@portable.service').is_symlink()


def test_el9_gets_the_observatory_packages_on_its_python(built):
    el9 = built['el9']
    expected = {'python3-rockit-common'} | {package(device, kind) for device in EL9_DEVICES
                                            for kind in ('server', 'client', 'python')}
    expected |= {package(device, f'data-{site}') for device in EL9_DEVICES for site in DEVICES[device][2]}
    assert set(el9) == expected
    sitelib = f'/usr/lib/python{PYTHON["el9"]}/site-packages'
    for device in EL9_DEVICES:
        assert without_dist_info(files(el9[package(device, 'python')])) == python_files(device, sitelib)
    assert all(query(path, '%{RELEASE}')[0].endswith('.el9') for path in el9.values())
    assert all(query(path, '%{RELEASE}')[0].endswith('.el10') for path in built['el10'].values())


def unpack(path, into):
    archive = subprocess.run(['rpm2archive', '-'], stdin=path.open('rb'), capture_output=True, check=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(['tar', 'xzf', '-', '-C', str(into)], input=archive, check=True)
    return into


@pytest.mark.parametrize('target', PYTHON)
def test_python_packages_are_distributions_with_their_python3dist_names(built, target, tmp_path):
    """As %pyproject_install leaves them: a dist-info that importlib.metadata reads, and the
    provides the target's dependency generator would give it."""
    from importlib import metadata
    python = PYTHON[target]
    for name, dist in DISTRIBUTIONS.items():
        if name not in built[target]:
            continue
        path = built[target][name]
        version = query(path, '%{VERSION}')[0]
        assert {f'python3dist({dist}) = {version}', f'python{python}dist({dist}) = {version}'} <= provides(path)
        assert {line for line in query(path, '--requires') if line.startswith('python(abi)')} == \
            {f'python(abi) = {python}'}
        site = unpack(path, tmp_path / name) / f'usr/lib/python{python}/site-packages'
        found = {d.metadata['Name'].replace('.', '-'): d for d in metadata.distributions(path=[str(site)])}
        assert set(found) == {dist} and found[dist].version == version
        assert (found[dist].read_text('INSTALLER') or '').strip() == 'rpm'
    common = built[target]['python3-rockit-common']
    assert requires(common) >= {f'python{python}dist({lib})' for lib in ('pyro4', 'pyserial', 'jsonschema', 'rich')}


# What each target's own repositories provide (Rocky BaseOS/AppStream, EPEL, the rockit
# repository), at the versions el9 has; and what the reference packages that stay on a host
# require of ours.
TARGET_PROVIDES = {
    'el9': ['python(abi) = 3.9', 'python3.9dist(pyro4) = 4.82', 'python3.9dist(serpent) = 1.41',
            'python3.9dist(pyserial) = 3.4', 'python3.9dist(jsonschema) = 3.2', 'python3.9dist(rich) = 12.6',
            'python3-libvirt', 'systemd', '/bin/sh', '/usr/bin/python3'],
    'el10': ['python(abi) = 3.12', 'python3.12dist(pyro4) = 4.82', 'python3.12dist(serpent) = 1.41',
             'python3.12dist(pyserial) = 3.5', 'python3.12dist(jsonschema) = 4.19', 'python3.12dist(rich) = 13.7',
             'python3-libvirt', 'systemd', '/bin/sh', '/usr/bin/python3', 'python3-numpy', 'python3-opencv',
             'python3-scipy', 'python3-matplotlib', 'python3-starlette', 'python3-uvicorn'],
}
REFERENCE_REQUIRES = {
    # opsd, pipelined, powerd, the cameras: every reference python package
    'reference-operations': ['python{python}dist(rockit-common)'],
    # what the reference's own servers and clients of our devices ask for
    'reference-device-clients': ['python{python}dist(rockit-focuser-multichannel)', 'python{python}dist(rockit-chiller)',
                                 'python{python}dist(rockit-camvirt)', 'python3-rockit-focuser-multichannel',
                                 'python3-rockit-chiller', 'python3-rockit-camvirt'],
}
STAND_IN_SPEC = '''Name: {name}
Version: 1
Release: 1
Summary: stand-in for {name}
License: MIT
BuildArch: noarch
{tags}
%description
A stand-in that carries only provides and requires.
%files
'''


def stand_in(tmp_path, name, tags):
    spec = tmp_path / f'{name}.spec'
    spec.write_text(STAND_IN_SPEC.format(name=name, tags='\n'.join(tags)))
    out = tmp_path / 'stand-ins'
    subprocess.run(['rpmbuild', '-bb', '--quiet', '--define', f'_topdir {tmp_path / "rpmbuild"}',
                    '--define', f'_rpmdir {out}', '--define', '_build_name_fmt %%{NAME}.rpm', str(spec)],
                   check=True, capture_output=True, timeout=120)
    return out / f'{name}.rpm'


def install_test(tmp_path, paths):
    """rpm -i --test of paths into an empty database: the dependency check dnf relies on."""
    root = tmp_path / f'root-{len(list(tmp_path.glob("root-*")))}'
    subprocess.run(['rpm', '--root', str(root), '--initdb'], check=True)
    return subprocess.run(['rpm', '--root', str(root), '-i', '--test', *map(str, paths)], capture_output=True, text=True)


@pytest.mark.parametrize('target', PYTHON)
def test_ours_and_the_reference_packages_resolve_against_the_target(built, target, tmp_path):
    python = PYTHON[target]
    system = stand_in(tmp_path, f'{target}-system', [f'Provides: {p}' for p in TARGET_PROVIDES[target]])
    consumers = [stand_in(tmp_path, name, [f'Requires: {r.format(python=python)}' for r in needs])
                 for name, needs in REFERENCE_REQUIRES.items()]
    ours = list(built[target].values())
    result = install_test(tmp_path, ours + consumers + [system])
    assert result.returncode == 0, result.stderr
    # Each part is needed: without the target's packages ours do not resolve, and without
    # ours the reference packages do not.
    missing_system = install_test(tmp_path, ours + consumers).stderr
    assert f'python{python}dist(pyro4) is needed by python3-rockit-common' in missing_system
    assert f'python(abi) = {python} is needed by' in missing_system
    without_common = [p for p in ours if query(p, '%{NAME}')[0] != 'python3-rockit-common']
    missing_common = install_test(tmp_path, without_common + consumers + [system]).stderr
    assert f'python{python}dist(rockit-common) is needed by reference-operations' in missing_common


def test_el9_packages_do_not_install_on_el10(built, tmp_path):
    system = stand_in(tmp_path, 'el10-system', [f'Provides: {p}' for p in TARGET_PROVIDES['el10']])
    result = install_test(tmp_path, list(built['el9'].values()) + [system])
    assert result.returncode != 0 and 'python(abi) = 3.9 is needed by' in result.stderr

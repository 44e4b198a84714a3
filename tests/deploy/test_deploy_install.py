"""`make install` into a DESTDIR: the python package in a venv, the executables running it,
units pointing at them, completions, config folders and, with SITE, a site's configs and
udev rules. Offline: pip installs the package without dependencies, building it with the
system python's setuptools and wheel."""
import os
import subprocess
from pathlib import Path

import pytest

from support import tool

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = '/usr/bin/python3'
DAEMONS = [unit.name.split('@')[0] for unit in sorted((ROOT / 'systemd').glob('*@.service'))
           if (ROOT / unit.name.split('@')[0]).exists()]


def programs(daemon):
    """The daemon's executable and its client's (rockit-web has none)."""
    client = daemon[:-1]
    return [daemon, client] if daemon.endswith('d') and (ROOT / client).exists() else [daemon]


@pytest.fixture(scope='module')
def destdir(tmp_path_factory):
    check = subprocess.run([SYSTEM_PYTHON, '-c', 'import ensurepip, setuptools, wheel'], capture_output=True, text=True)
    assert check.returncode == 0, (f'{SYSTEM_PYTHON} cannot build offline (Debian packages python3-venv, '
                                   f'python3-setuptools, python3-wheel): {check.stderr.strip()}')
    root = tmp_path_factory.mktemp('destdir')
    subprocess.run(['make', '-s', '-C', str(ROOT), 'install', f'DESTDIR={root}', 'SITE=clasp',
                    f'PYTHON3={SYSTEM_PYTHON}', 'PIP_OPTS=--no-deps --no-build-isolation --no-index'],
                   check=True, capture_output=True, timeout=120)
    return root


def test_python_package_is_in_the_venv(destdir):
    python = destdir / 'opt/rockit/bin/python'
    code = ('import os, rockit.common.registry as r, rockit.focuser.multichannel.cli; '
            'print(os.path.exists(r.PACKAGED), r.__file__)')
    out = subprocess.run([str(python), '-c', code], capture_output=True, text=True, check=True,
                         cwd=destdir).stdout.split()
    assert out[0] == 'True'
    assert out[1].startswith(str(destdir / 'opt/rockit/lib/'))


def test_package_data_is_in_the_venv(destdir):
    """Every file of rockit/ that is not python source (registry.json, reference spectra)."""
    site = next((destdir / 'opt/rockit/lib').glob('python3*/site-packages'))
    for path in (ROOT / 'rockit').rglob('*'):
        if path.is_file() and path.suffix not in ('.py', '.pyc'):
            assert (site / path.relative_to(ROOT)).exists(), f'{path.relative_to(ROOT)} is not installed'


@pytest.mark.parametrize('daemon', DAEMONS)
def test_executables_run_the_venv_python(destdir, daemon):
    for program in programs(daemon):
        path = destdir / 'usr/local/bin' / program
        assert os.access(path, os.X_OK)
        assert path.read_text().splitlines()[0] == '#!/opt/rockit/bin/python'
    # The CLI's help needs no dependencies, so it runs in the offline venv.
    result = subprocess.run([str(destdir / 'opt/rockit/bin/python'), str(destdir / 'usr/local/bin' / programs(daemon)[-1]),
                             '--help'], capture_output=True, text=True, cwd=destdir)
    assert result.returncode == 0 and 'usage:' in result.stdout


@pytest.mark.parametrize('daemon', DAEMONS)
def test_units_completions_and_config_folders(destdir, daemon):
    unit = (destdir / f'etc/systemd/system/{daemon}@.service').read_text()
    assert f'ExecStart=/usr/local/bin/{daemon} /etc/{daemon}/%i.json\n' in unit
    assert (destdir / f'etc/sysusers.d/{daemon}.conf').exists()
    for client in programs(daemon)[1:]:
        assert (destdir / f'usr/local/share/bash-completion/completions/{client}').exists()
    assert (destdir / f'etc/{daemon}').is_dir()


def test_site_configs_and_rules(destdir):
    for config in ('focusd/clasp.json', 'chillerd/clasp.json', 'camvirtd/clasp_cmos.json', 'camvirtd/clasp_swir.json'):
        assert (destdir / 'etc' / config).read_text() == (ROOT / 'config' / config).read_text()
    assert sorted(p.name for p in (destdir / 'etc/udev/rules.d').iterdir()) == \
        ['10-clasp-chiller.rules', '10-clasp-focuser.rules']
    assert not (destdir / 'etc/focusd/portable.json').exists()


def test_installed_units_verify(destdir, tmp_path):
    tool('systemd-analyze')
    for daemon in DAEMONS:
        unit = (destdir / f'etc/systemd/system/{daemon}@.service').read_text()
        copy = tmp_path / f'{daemon}@.service'
        copy.write_text(unit.replace('/usr/local/bin/', f'{destdir}/usr/local/bin/'))
        result = subprocess.run(['systemd-analyze', 'verify', '--man=no', str(copy)],
                                capture_output=True, text=True, timeout=30)
        assert (result.returncode, result.stdout + result.stderr) == (0, '')


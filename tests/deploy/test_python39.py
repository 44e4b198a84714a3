"""The observatory side runs on the hosts' Python 3.9 (Rocky 9): vermin checks statically that
nothing in it needs a newer Python. pycam runs on Raspberry Pi OS and may use 3.11."""
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

OBSERVATORY = ['rockit/common', 'rockit/alpaca', 'rockit/focuser', 'rockit/chiller', 'rockit/camvirt', 'rockit/web',
               'rockit/launch.py', 'focus', 'focusd', 'chiller', 'chillerd', 'camvirt', 'camvirtd',
               'rockit-web']

# union-types is off by default; it also flags `a.B | a.C` flags, which carry `# novm`.
VERMIN = [sys.executable, '-c', 'import sys, vermin; sys.exit(vermin.main())', '--quiet', '--no-tips', '--violations', '--target=3.9-',
          '--eval-annotations', '--feature', 'union-types']


def vermin(*paths):
    return subprocess.run(VERMIN + [str(p) for p in paths], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_observatory_packages_need_no_more_than_python_3_9():
    result = vermin(*OBSERVATORY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_vermin_catches_what_python_3_9_cannot_run(tmp_path):
    for code in ['def f(x: bytes) -> bytes | None:\n    return x\n',
                 'match 1:\n    case 1:\n        pass\n',
                 'from itertools import pairwise\n']:
        (tmp_path / 'newer.py').write_text(code)
        result = vermin(tmp_path / 'newer.py')
        assert result.returncode != 0, code


def test_without_python_3_9_the_el9_venv_fails_and_says_why(tmp_path):
    """make test-el9 must never pass by not running: no Python 3.9, no venv, exit status 1."""
    venv = tmp_path / 'el9'
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path), 'PYENV_ROOT': str(tmp_path / 'no-pyenv'),
           'EL9_VENV': str(venv)}
    if any(Path(folder, 'python3.9').exists() for folder in ('/usr/bin', '/bin')):
        pytest.skip('this machine has a system Python 3.9')
    result = subprocess.run([str(ROOT / 'tools/el9-venv')], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'no Python 3.9 found' in result.stderr
    assert not venv.exists()

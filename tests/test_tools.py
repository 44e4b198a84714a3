"""Every program and build module the suite needs is installed, and tools/debian-packages
names the Debian package of each: a minimal Debian gets all of them from that list, and a
machine without one fails here, by name, rather than skipping the tests that need it."""
import subprocess
from pathlib import Path

import pytest

from support import ROOT, TOOLS, tool

DEBIAN_PACKAGES = [line.strip() for line in (ROOT / 'tools' / 'debian-packages').read_text().splitlines()
                   if line.strip() and not line.startswith('#')]
# What the system python needs for `make install`'s offline build and libvirt-python's, and
# for `make rpm`'s wheels (rpm/install-wheel).
SYSTEM_PYTHON_MODULES = {'ensurepip': 'python3-venv', 'setuptools': 'python3-setuptools', 'wheel': 'python3-wheel',
                         'pip': 'python3-pip'}
PYTHON_HEADER_PACKAGE = 'python3-dev'
# Priority "required" in Debian: every Debian has them, debootstrap's minbase included.
IN_EVERY_DEBIAN = {'bash', 'tar', 'mount', 'util-linux'}


@pytest.mark.parametrize('name', sorted(TOOLS))
def test_the_tool_is_installed(name):
    assert Path(tool(name)).exists()


def test_debian_packages_name_every_tool_and_module():
    wanted = (set(TOOLS.values()) | set(SYSTEM_PYTHON_MODULES.values()) | {PYTHON_HEADER_PACKAGE}) - IN_EVERY_DEBIAN
    assert wanted - set(DEBIAN_PACKAGES) == set()


@pytest.mark.parametrize('module', sorted(SYSTEM_PYTHON_MODULES))
def test_the_system_python_has_the_build_module(module):
    found = subprocess.run(['/usr/bin/python3', '-c', f'import {module}'], capture_output=True, text=True)
    assert found.returncode == 0, f'/usr/bin/python3 cannot import {module}: install {SYSTEM_PYTHON_MODULES[module]}'


def test_the_system_python_has_its_headers():
    include = subprocess.run(['/usr/bin/python3', '-c', 'import sysconfig; print(sysconfig.get_path("include"))'],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert (Path(include) / 'Python.h').is_file(), f'no Python.h in {include}: install {PYTHON_HEADER_PACKAGE}'

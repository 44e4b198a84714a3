"""The fixtures every test folder uses: a registry on free loopback ports and daemons run as
subprocesses. Fixtures that the reliability suite shares with a daemon's own tests are in
that daemon's harness module, named once here as a plugin; those of one folder are in the
folder's conftest.py."""
import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
for _folder in ('focuser', 'chiller', 'camvirt', 'pycam'):   # the harness modules
    if str(TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(TESTS / _folder))

from support import DaemonProcess, TestRegistry  # noqa: E402
from rockit.common import registry as rockit_registry  # noqa: E402

pytest_plugins = ['focuser_harness', 'chiller_harness', 'camvirt_harness']


@pytest.fixture
def test_registry(tmp_path, monkeypatch):
    monkeypatch.setenv(rockit_registry.ENVIRONMENT_VARIABLE, str(tmp_path / 'registry.json'))
    monkeypatch.setattr(rockit_registry, 'SITE_DIR', tmp_path / 'no-site-registry')
    yield TestRegistry(tmp_path / 'registry.json')
    rockit_registry.load.cache_clear()


@pytest.fixture
def daemons(tmp_path):
    """Start daemon subprocesses; they are stopped (SIGTERM) at the end of the test."""
    started = []

    def start(executable, config, address, wait=True):
        config_path = tmp_path / f'{executable}-{len(started)}.json'
        config_path.write_text(json.dumps(config))
        daemon = DaemonProcess(executable, config_path, address, tmp_path / f'{executable}-{len(started)}.log')
        started.append(daemon)
        return daemon.start(wait)

    yield start
    for daemon in started:
        daemon.stop()


def pytest_collection_modifyitems(items):
    """Modules with a slow test go first: the workers take modules in this order, and one
    started last would keep its worker busy alone at the end."""
    slow = {getattr(item, 'module', None) for item in items if item.get_closest_marker('slow')}
    items.sort(key=lambda item: getattr(item, 'module', None) not in slow)


SHARED_DEMO = 'tests/web/test_web_demo'     # modules named so share one demo, on one worker


def pytest_xdist_make_scheduler(config, log):
    """xdist's --dist loadscope, where the test_web_demo*.py modules are one scope: their
    demo (a minute to start on a busy machine) is started once, not once per module."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedDemoScope(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return SHARED_DEMO if scope.startswith(SHARED_DEMO) else scope

    return SharedDemoScope(config, log)

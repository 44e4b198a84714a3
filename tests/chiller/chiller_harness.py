"""A chiller under test: the emulated T257P on a TCP port and a real chillerd process, plus
small Pyro status daemons standing in for the dome thermometer and the power daemon."""
import Pyro4
import pytest

from support import DaemonUnderTest, run_cli, wait_until
from rockit.chiller import protocol
from rockit.chiller.emulator import ChillerEmulator
from rockit.common import pyro
from rockit.common.emulator import EmulatorLink

QUERY_DELAY = 0.3


class Chiller(DaemonUnderTest):
    """One emulated chiller with its chillerd; proxy() opens a fresh Pyro proxy."""

    def __init__(self, model, link, daemon, config):
        self.model, self.link, self.daemon, self.config = model, link, daemon, config

    def requests(self, command_id):
        """Every request the chiller received for command_id."""
        return [r for r in self.link.requests if r[3:5] == command_id.encode()]

    def cli(self, *args, **kwargs):
        return run_cli('chiller', *args, config_env='CHILLERD_CONFIG_PATH', config_path=self.daemon.config_path,
                       **kwargs)

    def wait_status(self, predicate, message, timeout=10):
        """The first status for which predicate(status) holds."""
        def check():
            status = self.status()
            return status if predicate(status) else None
        return wait_until(check, timeout, message=message)

    def wait_online(self, timeout=15):
        return self.wait_status(lambda s: s['status'] != 0, 'chiller online', timeout)

    def wait_offline(self, timeout=10):
        return self.wait_status(lambda s: s['status'] == 0, 'chiller offline', timeout)

    def wait_cycles(self, cycles=3):
        """Let the daemon run a few query cycles."""
        start = len(self.requests(protocol.READ_STATUS))
        wait_until(lambda: len(self.requests(protocol.READ_STATUS)) >= start + cycles,
                   message=f'{cycles} query cycles')

    def log_count(self, text):
        return self.daemon.output().count(text)


@pytest.fixture
def make_chiller(test_registry, daemons):
    links = []

    def make(emulator=None, wait=True, **overrides):
        model = ChillerEmulator(**(emulator or {}))
        link = EmulatorLink(model).start()
        links.append(link)
        address = test_registry.add('chiller_test')
        config = {
            'daemon': 'chiller_test', 'log_name': 'chillerd@test', 'control_machines': ['LocalHost'],
            'serial_port': link.url, 'serial_baud': 9600, 'serial_timeout': 0.5, 'query_delay': QUERY_DELAY,
        }
        config.update(overrides)
        chiller = Chiller(model, link, daemons('chillerd', config, address), config)
        if wait:
            chiller.wait_online()
        return chiller

    yield make
    for link in links:
        link.stop()


@Pyro4.expose
class StatusSource:
    """A daemon that only reports a status dict, which the test edits as it goes."""

    def __init__(self, status):
        self.status = status

    def report_status(self):
        return dict(self.status)


class ServedStatus:
    """A StatusSource served over Pyro4 from a thread of the test process; stop() and
    start() take it off the network and back with the same status dict."""

    def __init__(self, address, status):
        self.address, self.status = address, dict(status)
        self._server = None
        self.start()

    def start(self):
        self._server = pyro.BackgroundServer(StatusSource(self.status), self.address)

    def stop(self):
        if self._server is not None:
            self._server.close()
            self._server = None

"""A chiller under test: the emulated T257P on a TCP port and a real chillerd process, plus
stand-ins for the power daemon (powerd) and the dome thermometer (domealertd) written from
their Pyro API."""
import datetime
import threading

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

    def wait_status(self, predicate, message, timeout=60):
        """The first status for which predicate(status) holds."""
        def check():
            status = self.status()
            return status if predicate(status) else None
        return wait_until(check, timeout, message=message)

    def wait_online(self, timeout=60):
        return self.wait_status(lambda s: s['status'] != 0, 'chiller online', timeout)

    def wait_offline(self, timeout=60):
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
        name = overrides.get('daemon', 'chiller_test')
        address = test_registry.add(name)
        config = {
            'daemon': name, 'log_name': 'chillerd@test', 'control_machines': ['LocalHost'],
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


class StandIn:
    """What the stand-ins share: hang() makes every call wait (a daemon that accepts calls
    but never answers them) until answer()."""

    def __init__(self):
        self._answering = threading.Event()
        self._answering.set()

    def hang(self):
        self._answering.clear()

    def answer(self):
        self._answering.set()

    def _when_answering(self):
        self._answering.wait()


@Pyro4.expose
class PowerStandIn(StandIn):
    """powerd as its Pyro API serves it: value(name) is a switch's state (1 on, 0 off, 2 when
    its PDU did not answer; False for a name it does not have), last_measurement() every
    value with the date, switch(name, enable) sets one."""

    def __init__(self, channels):
        super().__init__()
        self.channels = dict(channels)

    def value(self, name):
        self._when_answering()
        return self.channels.get(name, False)

    def last_measurement(self):
        self._when_answering()
        return {'date': _now(), **self.channels}

    def switch(self, name, enable):
        self._when_answering()
        if name not in self.channels:
            return False
        self.channels[name] = 1 if enable else 0
        return True


@Pyro4.expose
class DomeAlertStandIn(StandIn):
    """domealertd as its Pyro API serves it: last_measurement() holds each sensor's value
    under its id and whether it is fresh under '<id>_valid'."""

    def __init__(self, **sensors):
        super().__init__()
        self.sensors = {}
        for sensor, value in sensors.items():
            self.set(sensor, value)

    def set(self, sensor, value, valid=True):
        self.sensors[sensor] = (value, valid)

    def last_measurement(self):
        self._when_answering()
        data = {'date': _now()}
        for sensor, (value, valid) in self.sensors.items():
            data[sensor], data[sensor + '_valid'] = value, valid
        return data


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class Served:
    """A stand-in served over Pyro4 on loopback from a thread of the test process; stop()
    and start() take it off the network and back with the same state."""

    def __init__(self, address, stand_in):
        self.address, self.stand_in = address, stand_in
        self._server = None
        self.start()

    def start(self):
        self._server = pyro.BackgroundServer(self.stand_in, self.address)

    def stop(self):
        if self._server is not None:
            self.stand_in.answer()   # free the workers of a hung stand-in, so that it can close
            self._server.close()
            self._server = None

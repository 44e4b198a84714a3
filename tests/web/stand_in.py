"""A focuser stand-in on Pyro that counts the questions it is asked: what rockit-web's
tests and benchmark watch a daemon go away and come back through, and count calls at."""
import threading
import time

from rockit.common import pyro
from rockit.common.pyro import command, query


class CountingFocuser:
    def __init__(self):
        self.calls = 0
        self.target = 0
        self.control_ips = {'127.0.0.1'}
        self._lock = threading.Lock()
        # A move: starts, waits until `release` is set (set: at once), then lasts move_seconds.
        self.release = threading.Event()
        self.release.set()
        self.moving = threading.Event()
        self.move_seconds = 0.0

    @query()
    def report_status(self):
        with self._lock:
            self.calls += 1
        return {'date': '2026-01-01T00:00:00Z', 'status': 1, 'fans_enabled': False, 'temperature': {},
                'target_steps_1': self.target, 'current_steps_1': self.target, 'moving_1': False}

    @command()
    def set_focus(self, channel, steps, offset=False):
        self.moving.set()
        self.release.wait()
        time.sleep(self.move_seconds)     # the motor's travel
        self.target = steps
        self.moving.clear()
        return 0


class StandIn:
    """Serves a CountingFocuser at address; stop() and start() make it go away and return."""

    def __init__(self, address):
        self.address, self.focuser, self.server = address, CountingFocuser(), None

    def start(self):
        self.server = pyro.BackgroundServer(self.focuser, self.address)
        return self

    def stop(self):
        if self.server:
            self.server.close()
            self.server = None


class ChillerStandIn:
    """A chiller on Pyro (its marker method, a status of temperatures) that
    StandIn-like start() and stop() make go away and return."""

    class Chiller:
        control_ips = {'127.0.0.1'}
        water = 15.0

        @query()
        def report_status(self):
            return {'date': '2026-01-01T00:00:00Z', 'status': 2, 'status_label': 'COOLING', 'mode': 0,
                    'water_temp': self.water, 'return_temp': 16.0, 'ambient_temp': 20.0, 'setpoint_temp': 12.5}

        @command()
        def set_setpoint(self, celsius):
            return 0

    def __init__(self, address):
        self.address, self.chiller, self.server = address, self.Chiller(), None

    def start(self):
        self.server = pyro.BackgroundServer(self.chiller, self.address)
        return self

    def stop(self):
        if self.server:
            self.server.close()
            self.server = None

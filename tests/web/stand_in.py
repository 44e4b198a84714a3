"""A focuser stand-in on Pyro that counts the questions it is asked: what rockit-web's
tests and benchmark watch a daemon go away and come back through, and count calls at; and
a chiller stand-in whose temperatures rockit-web keeps."""
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


class StandChiller:
    """A chiller on Pyro: its marker method and a status of temperatures (water settable)."""
    control_ips = {'127.0.0.1'}
    water = 15.0

    @query()
    def report_status(self):
        return {'date': '2026-01-01T00:00:00Z', 'status': 2, 'status_label': 'COOLING', 'mode': 0,
                'water_temp': self.water, 'return_temp': 16.0, 'ambient_temp': 20.0, 'setpoint_temp': 12.5}

    @command()
    def set_setpoint(self, celsius):
        return 0


class StandIn:
    """Serves a CountingFocuser (or served) at address; stop() and start() make it go away
    and return."""

    def __init__(self, address, served=None):
        self.address, self.server = address, None
        self.served = self.focuser = served if served is not None else CountingFocuser()

    def start(self):
        self.server = pyro.BackgroundServer(self.served, self.address)
        return self

    def stop(self):
        if self.server:
            self.server.close()
            self.server = None

"""What every daemon's Pyro object is built on. A daemon has one DeviceLoop per device
thread (one for most devices, two for pycamd's cameras and spectrometer); it starts and
stops them together, and its initialize() and shutdown() connect and disconnect them all
at once. The Pyro surface stays apart from the loops, so nothing of the thread machinery
can be exposed by accident."""
from . import pyro
from .codes import CommandStatus
from .errors import NotConnected, NotDisconnected


class Daemon:
    codes = CommandStatus

    def __init__(self, config, log, loops):
        self.config = config
        self.log = log
        self.control_ips = config.control_ips
        self.loops = list(loops)

    def start(self):
        for loop in self.loops:
            loop.start()

    def stop(self):
        """The daemon is exiting: each device is left safe and closed."""
        for loop in self.loops:
            loop.stop()

    @pyro.command()
    def initialize(self):
        """Connect now (also resumes reconnecting after shutdown)."""
        _all(self.loops, 'connect', NotDisconnected)
        return self.codes.Succeeded

    @pyro.command()
    def shutdown(self):
        """Make the device safe and disconnect; it stays disconnected until initialize."""
        _all(self.loops, 'disconnect', NotConnected)
        return self.codes.Succeeded


def _all(loops, action, unchanged):
    """Run loop.<action>() on every loop at once. Raises the first failure, or `unchanged`
    when every loop was in that state already."""
    pending = [(loop, getattr(loop, action)()) for loop in loops]
    errors = []
    for loop, future in pending:
        try:
            loop.wait(future)
        except Exception as e:
            errors.append(e)
    changed = [e for e in errors if not isinstance(e, unchanged)]
    if changed or len(errors) == len(pending):
        raise (changed or errors)[0]

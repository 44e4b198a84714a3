"""What every daemon's Pyro object is built on. A daemon has one DeviceLoop per device
thread (one for most devices, two for pycamd's cameras and spectrometer); it starts and
stops them together, and its initialize() and shutdown() connect and disconnect them all
at once. The Pyro surface stays apart from the loops, so nothing of the thread machinery
can be exposed by accident."""
import contextlib
import threading

from . import pyro
from .codes import CommandStatus
from .errors import Blocked, NotConnected, NotDisconnected


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

    def connect_all(self):
        """Connect every loop at once; NotDisconnected only when every one was connected
        already, else the first failure."""
        _all(self.loops, 'connect', NotDisconnected)

    def disconnect_all(self):
        """Disconnect every loop at once; NotConnected only when every one was disconnected
        already, else the first failure."""
        _all(self.loops, 'disconnect', NotConnected)

    @pyro.command()
    def initialize(self):
        """Connect now (also resumes reconnecting after shutdown)."""
        self.connect_all()
        return self.codes.Succeeded

    @pyro.command()
    def shutdown(self):
        """Make the device safe and disconnect; it stays disconnected until initialize."""
        self.disconnect_all()
        return self.codes.Succeeded


def wait_all(pending):
    """Wait for [(loop, future, timeout)] submitted together; the exception each raised
    (None for a success), in order."""
    errors = []
    for loop, future, timeout in pending:
        try:
            loop.wait(future, timeout)
            errors.append(None)
        except Exception as e:
            errors.append(e)
    return errors


def _all(loops, action, unchanged):
    """Run loop.<action>() on every loop at once. Raises the first failure, or `unchanged`
    when every loop was in that state already."""
    errors = wait_all([(loop, getattr(loop, action)(), None) for loop in loops])
    changed = [e for e in errors if e is not None and not isinstance(e, unchanged)]
    if changed or all(errors):
        raise (changed or errors or [unchanged()])[0]


class OneCommand:
    """Lets one long command run at a time; another is refused with Blocked, naming (and
    logging) the one that runs."""

    def __init__(self, log):
        self._log = log
        self._lock = threading.Lock()
        self.running = None   # the name of the command that runs, for status

    @contextlib.contextmanager
    def run(self, name):
        if not self._lock.acquire(blocking=False):
            self._log.info('%s refused: %s is running', name, self.running)
            raise Blocked(f'{self.running} is running')
        self.running = name
        try:
            yield
        finally:
            self.running = None
            self._lock.release()

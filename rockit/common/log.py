"""Logging: stdout (journald under systemd) and the observatory log daemon, without ever
blocking or failing the caller.

Which log daemon: the first of LOG_DAEMONS in the registry whose host is on this machine's
/24 network, or on loopback (a test or a site registry file). A machine elsewhere, or with
none of them registered, logs to stdout alone.
"""
import functools
import ipaddress
import logging
import queue
import sys
import threading

OBSERVATORY_LOG = 'observatory_log'
LOG_DAEMONS = (OBSERVATORY_LOG, 'warwick_log')
_LEVELS = {logging.INFO: 'log_info', logging.WARNING: 'log_warning', logging.ERROR: 'log_error'}


def configure(log_name, level=logging.INFO):
    """The logger for a daemon, named by its config's log_name."""
    logger = logging.getLogger(log_name)
    logger.setLevel(level)
    logger.propagate = False
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))
        logger.addHandler(handler)
        logger.addHandler(ObservatoryLogHandler(log_name))
    # The shared modules log through 'rockit.*'; send those to the same place.
    shared = logging.getLogger('rockit')
    shared.handlers, shared.propagate = logger.handlers, False
    shared.setLevel(level)
    return logger


@functools.lru_cache(maxsize=None)
def _this_network():
    import socket
    try:
        return ipaddress.ip_network(socket.gethostbyname(socket.gethostname()) + '/24', strict=False)
    except (OSError, ValueError):
        return None


def log_daemon():
    """The registry address of the log daemon this machine reaches, or None."""
    from . import registry
    known = registry.load()
    for name in LOG_DAEMONS:
        if known.has_daemon(name):
            address = known.daemon(name)
            try:
                host = ipaddress.ip_address(address.host)
            except ValueError:
                continue
            network = None if host.is_loopback else _this_network()
            if host.is_loopback or (network is not None and host in network):
                return address
    return None


class Forwarder:
    """Sends (level, table, message) to the log daemon from a background thread.

    A bounded queue: when the log daemon is away, the newest messages are dropped (they are
    still on stdout), and the outage is reported once on stderr.
    """
    def __init__(self, capacity=1000):
        self._queue = queue.Queue(capacity)
        self._reported = False
        threading.Thread(target=self._forward, name='observatory-log', daemon=True).start()

    def put(self, level, table, message):
        try:
            self._queue.put_nowait((level, table, message))
        except queue.Full:
            pass

    def _forward(self):
        from . import pyro
        while True:
            level, table, message = self._queue.get()
            method = _LEVELS[max(lvl for lvl in _LEVELS if lvl <= max(level, logging.INFO))]
            try:
                address = log_daemon()
                if address is None:
                    continue
                with pyro.connect(address) as log:
                    getattr(log, method)(table, message)
                self._reported = False
            except Exception as e:  # the log daemon is optional: never let it break anything
                if not self._reported:
                    print(f'observatory log unavailable ({e}); messages stay on stdout', file=sys.stderr)
                    self._reported = True


class ObservatoryLogHandler(logging.Handler):
    """A logging handler whose records go to the observatory log under one table name."""
    def __init__(self, table):
        super().__init__(logging.INFO)
        self._table = table
        self._forwarder = Forwarder()

    def emit(self, record):
        self._forwarder.put(record.levelno, self._table, record.getMessage())


def get_daemon():
    """The `daemons` entry of the log daemon this machine reaches, or None."""
    from . import daemons
    address = log_daemon()
    return None if address is None else getattr(daemons, address.name)


def _send(level, label, table, message):
    """The rockit log API: print, then send to the log daemon before returning, so that a
    short-lived process loses nothing; a missing or failing log daemon is printed, never
    raised."""
    print(f'{label} {table}: {message}', flush=True)
    try:
        daemon = get_daemon()
        if daemon is not None:
            with daemon.connect() as log:
                getattr(log, _LEVELS[level])(table, message)
    except Exception as e:  # the log daemon is optional: never let it break the caller
        print(f'Failed to log {_LEVELS[level][4:]} message with exception: {e}', flush=True)
        print(f'Original message was: ({table}) {message}', flush=True)


def info(table, message):
    _send(logging.INFO, 'INFO', table, message)


def warning(table, message):
    _send(logging.WARNING, 'WARN', table, message)


def error(table, message):
    _send(logging.ERROR, 'ERROR', table, message)


def _pyro_excepthook(ex_type, ex_value, ex_tb):
    """Pyro4's excepthook, imported when first needed: an uncaught exception raised by a
    remote call also prints the daemon's traceback."""
    import Pyro4.util
    Pyro4.util.excepthook(ex_type, ex_value, ex_tb)


# As the reference module does on import: scripts that log rely on it.
sys.excepthook = _pyro_excepthook


class ChangeLog:
    """Logs a message for a key only when the state it reports differs from the last one
    for that key, so a condition that persists (a device offline for an hour) is logged
    once, not every poll. The state is the message itself unless given."""

    def __init__(self, logger):
        self._logger = logger
        self._last = {}

    def __call__(self, key, level, message, state=None):
        state = message if state is None else state
        if self._last.get(key) != state:
            self._last[key] = state
            self._logger.log(level, message)
            return True
        return False

    def forget(self, key):
        """The next message for key is logged, whatever it says."""
        self._last.pop(key, None)

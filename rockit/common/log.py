"""Logging: stdout (journald under systemd) and, when the registry names an
`observatory_log` daemon, the observatory log, without ever blocking or failing the caller.
"""
import logging
import queue
import sys
import threading

OBSERVATORY_LOG = 'observatory_log'


def configure(log_name, level=logging.INFO):
    """The logger for a daemon, named by its config's log_name."""
    logger = logging.getLogger(log_name)
    logger.setLevel(level)
    logger.propagate = False
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))
        logger.addHandler(handler)
        from . import registry
        if registry.load().has_daemon(OBSERVATORY_LOG):
            logger.addHandler(ObservatoryLogHandler(log_name, registry.daemon(OBSERVATORY_LOG)))
    # The shared modules log through 'rockit.*'; send those to the same place.
    shared = logging.getLogger('rockit')
    shared.handlers, shared.propagate = logger.handlers, False
    shared.setLevel(level)
    return logger


class ObservatoryLogHandler(logging.Handler):
    """Forwards records to the observatory log daemon from a background thread.

    A bounded queue: when the log daemon is away, the oldest messages are dropped (they are
    still on stdout), and the outage is reported once on stderr.
    """
    def __init__(self, table, address, capacity=1000):
        super().__init__(logging.INFO)
        self._table, self._address = table, address
        self._queue = queue.Queue(capacity)
        self._reported = False
        threading.Thread(target=self._forward, name='observatory-log', daemon=True).start()

    def emit(self, record):
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            pass

    def _forward(self):
        from . import pyro
        while True:
            record = self._queue.get()
            method = ('log_error' if record.levelno >= logging.ERROR else
                      'log_warning' if record.levelno >= logging.WARNING else 'log_info')
            try:
                with pyro.connect(self._address) as log:
                    getattr(log, method)(self._table, record.getMessage())
                self._reported = False
            except Exception as e:  # the log daemon is optional: never let it break anything
                if not self._reported:
                    print(f'observatory log unavailable ({e}); messages stay on stdout', file=sys.stderr)
                    self._reported = True


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

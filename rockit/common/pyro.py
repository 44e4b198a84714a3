"""Everything that touches Pyro4 lives here: serving a daemon object, connecting to one,
and the decorators that expose commands and queries safely.

Server settings, and why:
- serpent only: pickle and dill would let any client run code in the daemon.
- no detailed tracebacks, and every exposed method catches its own exceptions, so a
  client gets a status code, never a trace of the daemon's internals.
- COMMTIMEOUT: a client that connects and never speaks (or dies) frees its worker thread
  after this many seconds, instead of holding it for ever. The environment variable
  ROCKIT_PYRO_COMMTIMEOUT (seconds above 0) overrides SERVER_COMMTIMEOUT for a daemon
  started with it, so that tests can watch an idle client being dropped without waiting
  30 s; production units leave it unset.
- a larger thread pool: each open client connection holds one worker; a message must
  arrive whole within a deadline and one client address holds a bounded share of the
  workers (pyro_daemon.GuardedDaemon), so slow or idle clients cannot take them all.
"""
import functools
import inspect
import logging
import math
import os
import threading

import Pyro4
import Pyro4.errors
import Pyro4.socketutil

from . import systemd
from .codes import CommandStatus
from .errors import DeviceError, RaisedToClient, Refused
from .pyro_daemon import GuardedDaemon

SERVER_COMMTIMEOUT = 30.0
COMMTIMEOUT_VARIABLE = 'ROCKIT_PYRO_COMMTIMEOUT'
SERVER_THREADPOOL_SIZE = 256
MAX_MESSAGE_SIZE = 1024 * 1024


def use_daemon_wire_settings():
    """Pyro4's settings are global to the process: they are set here, by a process that is
    one of our daemons or stand-ins, never on import, so that a process that imports
    rockit.common, logs or launches an object keeps its own."""
    Pyro4.config.SERIALIZER = 'serpent'
    Pyro4.config.SERIALIZERS_ACCEPTED = {'serpent'}
    Pyro4.config.DETAILED_TRACEBACK = False
    Pyro4.config.SOCK_REUSE = True
    Pyro4.config.MAX_MESSAGE_SIZE = MAX_MESSAGE_SIZE


# What a failed call looks like to a client: the daemon is down, unreachable or too slow, or
# answered in a serializer other than serpent (pyro_client.UnsafeReply, a ProtocolError).
CommunicationErrors = (Pyro4.errors.CommunicationError, OSError)

_log = logging.getLogger('rockit.pyro')


def client_ip():
    """The IP of the client making the current Pyro call, or None outside a call (Pyro
    keeps the peer address of each call, so no system call is needed here)."""
    address = getattr(Pyro4.current_context, 'client_sock_addr', None)
    return address[0] if address else None


def _exposed(fn, checks, control):
    signature = inspect.signature(fn)
    unknown = set(checks) - set(signature.parameters)
    if unknown:
        raise TypeError(f'{fn.__name__}: checks for unknown arguments {sorted(unknown)}')
    # A call without arguments binds the same way every time (report_status, polled by
    # every dashboard), so it is bound once here rather than on every call.
    try:
        no_arguments = signature.bind(None)
        no_arguments.apply_defaults()
        defaults = no_arguments.arguments
    except TypeError:
        defaults = None

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        codes = getattr(self, 'codes', CommandStatus)
        if control and client_ip() not in self.control_ips:
            return codes.InvalidControlIP
        if args or kwargs:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                return codes.InvalidArgument
            bound.apply_defaults()
            values, args, kwargs = bound.arguments, bound.args[1:], bound.kwargs
        elif defaults is None:
            return codes.InvalidArgument
        else:
            values = defaults
        for name, check in checks.items():
            code = check(self, values[name])
            if code is not None:
                return code
        try:
            return fn(self, *args, **kwargs)
        except Refused as e:
            return e.code_in(codes)
        except RaisedToClient as e:
            raise e.error from None
        except (DeviceError, TimeoutError) as e:   # the device failed, or its thread did not answer
            getattr(self, 'log', _log).error('%s failed: %s', fn.__name__, e)
            return codes.Failed
        except Exception:  # a bug must not reach the client as a traceback
            _log.exception('%s failed', fn.__name__)
            return codes.Failed

    wrapper.rockit_control = control
    return Pyro4.expose(wrapper)


def command(**checks):
    """Expose a method that changes state: refused with InvalidControlIP unless the caller
    is in self.control_ips, then each argument checked (see rockit.common.arguments)."""
    return lambda fn: _exposed(fn, checks, control=True)


def query(**checks):
    """Expose a read-only method: open to every caller, arguments checked as for command."""
    return lambda fn: _exposed(fn, checks, control=False)


def exposed_methods(obj):
    """{name: is_control} for every method a client can call on obj, a daemon class or
    instance (so tests can check that no command escapes the control-IP guard)."""
    result = {}
    for name, member in inspect.getmembers(obj if isinstance(obj, type) else type(obj), callable):
        if getattr(member, '_pyroExposed', False):
            result[name] = getattr(member, 'rockit_control', None)
    return result


def server_commtimeout(log=_log):
    """SERVER_COMMTIMEOUT, or the seconds in $ROCKIT_PYRO_COMMTIMEOUT when that is set to a
    number above 0 (anything else is logged and ignored)."""
    text = os.environ.get(COMMTIMEOUT_VARIABLE)
    if not text:
        return SERVER_COMMTIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        log.warning('ignoring %s=%r: not a number of seconds above 0', COMMTIMEOUT_VARIABLE, text)
        return SERVER_COMMTIMEOUT
    return seconds


def serve(obj, address, on_stop=None, log=None, own_process=True):
    """Serve obj at a registry address until SIGTERM or SIGINT, then call on_stop().

    own_process: the process is one of our daemons, which takes the daemons' Pyro4
    settings; otherwise (launch() in someone else's process) Pyro4's settings are left as
    they are. Signals are caught only on the main thread, the only one that may."""
    import signal  # here, not at the top: the CLIs import this module and never serve
    log = log or _log
    if own_process:
        use_daemon_wire_settings()
        Pyro4.config.COMMTIMEOUT = server_commtimeout(log)
        Pyro4.config.THREADPOOL_SIZE = SERVER_THREADPOOL_SIZE
    daemon = GuardedDaemon(address.host, address.port)
    uri = daemon.register(obj, objectId=address.object_id)

    def request_stop(signum, _frame):
        log.info('received %s, stopping', signal.Signals(signum).name)
        threading.Thread(target=daemon.shutdown, daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    log.info('serving %s', uri)
    systemd.notify(b'READY=1')
    try:
        daemon.requestLoop()
    finally:
        systemd.notify(b'STOPPING=1')
        if on_stop:
            on_stop()
        daemon.close()
        log.info('stopped %s', uri)


class BackgroundServer:
    """Serves obj at a registry address from a background thread: stand-in daemons for
    emulators and tests, with the same wire settings as the real ones."""

    def __init__(self, obj, address):
        use_daemon_wire_settings()
        self._daemon = GuardedDaemon(address.host, address.port)
        self._obj = obj
        self._daemon.register(obj, objectId=address.object_id)
        self.location = self._daemon.locationStr
        self._thread = threading.Thread(target=self._daemon.requestLoop, name=f'pyro-{address.name}', daemon=True)
        self._thread.start()

    def close(self):
        """Stop serving; the object may then be served again by another server."""
        self._daemon.shutdown()
        self._thread.join(5)
        self._daemon.unregister(self._obj)
        self._daemon.close()


def connect(address, timeout=None):
    """A proxy to the daemon at a registry address, with its default timeout unless given
    (serpent only, both ways: see pyro_client)."""
    from .pyro_client import open_proxy
    return open_proxy(address.uri, address.timeout if timeout is None else timeout)

"""A Pyro4 daemon that slow or greedy clients cannot take over (see slow_clients): each
message must arrive whole within a deadline of its first byte, one client address holds
at most a share of the worker threads, and a connection beyond the limits is closed at
once, never read on the accepting thread (Pyro4 reads a refused client's handshake there,
which a silent client stretches to the socket timeout while nobody else gets in).
"""
import logging
import socket
import traceback

import Pyro4
import Pyro4.errors
from Pyro4.configuration import config
from Pyro4.socketserver.threadpool import NoFreeWorkersError
from Pyro4.socketserver.threadpoolserver import ClientConnectionJob, SocketServer_Threadpool
from Pyro4.socketutil import SocketConnection

from .slow_clients import PER_ADDRESS, REQUEST_DEADLINE, AddressSlots, RequestReader

_log = logging.getLogger('rockit.pyro')


class GuardedDaemon(Pyro4.Daemon):
    """Pyro4.Daemon(host, port) with the bounds above (Pyro4's thread pool server)."""

    def __init__(self, host, port, deadline=REQUEST_DEADLINE, per_address=PER_ADDRESS, log=_log):
        super().__init__(host=host, port=port)
        server = self.transportServer
        if not isinstance(server, SocketServer_Threadpool):
            raise ValueError(f'Pyro4 SERVERTYPE {config.SERVERTYPE!r}: the bounds need "thread"')
        server.__class__ = _BoundedThreadpool
        server.slots, server.deadline, server.log = AddressSlots(per_address), deadline, log

    # A message starts: the previous one's deadline no longer applies.
    def _handshake(self, conn, denied_reason=None):
        _next_message(conn)
        return super()._handshake(conn, denied_reason)

    def handleRequest(self, conn):
        _next_message(conn)
        return super().handleRequest(conn)

    # Pyro4 sends its own stack with an error raised before a method runs (a method that is
    # not there, arguments it cannot decode), whatever DETAILED_TRACEBACK says: the client
    # gets the exception alone, not the daemon's paths and versions.
    def _sendExceptionResponse(self, connection, seq, serializer_id, exc_value, tbinfo, flags=0, annotations=None):
        only = traceback.format_exception_only(type(exc_value), exc_value)
        return super()._sendExceptionResponse(connection, seq, serializer_id, exc_value, only, flags, annotations)


def _next_message(conn):
    if isinstance(conn, _BoundedConnection):
        conn.reader.request_done()


class _BoundedConnection(SocketConnection):
    """A client connection whose messages must arrive within the reader's deadline."""

    def __init__(self, sock, deadline):
        super().__init__(sock)
        self.reader = RequestReader(sock, sock.gettimeout(), deadline)

    def recv(self, size):
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            try:
                count = self.reader.recv_into(view[got:])
            except socket.timeout as e:
                raise Pyro4.errors.TimeoutError(f'receiving: {e}') from None
            except OSError as e:
                raise Pyro4.errors.ConnectionClosedError(f'receiving: connection lost: {e}') from None
            if not count:
                raise Pyro4.errors.ConnectionClosedError('receiving: connection closed')
            got += count
        return bytes(data)

    def send(self, data):
        self.reader.request_done()   # a reply goes out under the idle timeout, not the deadline's rest
        super().send(data)


class _Job(ClientConnectionJob):
    def __init__(self, sock, address, daemon, deadline, release):
        # Not ClientConnectionJob.__init__: the SocketConnection it makes would close the
        # socket when dropped.
        self.csock, self.caddr, self.daemon = _BoundedConnection(sock, deadline), address, daemon
        self._release = release

    def __call__(self):
        try:
            super().__call__()
        finally:
            self._release()


class _BoundedThreadpool(SocketServer_Threadpool):
    """Pyro4's thread pool server, accepting within the per-address slots."""
    slots = deadline = log = None

    def events(self, eventsockets):
        try:
            if self._selector and not self._selector.select(config.POLLTIMEOUT):
                return
            sock, address = self.sock.accept()
        except socket.timeout:
            return
        if self.shutting_down:
            sock.close()
            return
        if config.COMMTIMEOUT:
            sock.settimeout(config.COMMTIMEOUT)
        ip = address[0] if isinstance(address, tuple) else str(address)
        if not self.slots.take(ip):
            self._refuse(sock, ip, f'{ip} holds {self.slots.per_address} connections already')
            return
        try:
            self.pool.process(_Job(sock, address, self.daemon, self.deadline, lambda: self.slots.release(ip)))
        except NoFreeWorkersError:
            self.slots.release(ip)
            self._refuse(sock, ip, 'every worker is busy')

    def _refuse(self, sock, ip, reason):
        if self.slots.first_refusal(ip):
            self.log.warning('refusing connections from %s: %s', ip, reason)
        try:
            sock.close()
        except OSError:
            pass

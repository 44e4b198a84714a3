"""The one kind of Pyro proxy rockit opens: serpent in both directions, set on the proxy.

Pyro4's daemons refuse serializers outside SERIALIZERS_ACCEPTED, but its proxy decodes the
connect handshake's reply with whatever serializer the reply names, pickle included: anything
that answers at a daemon's address (a spoofed host, a local user on the port while the daemon
is down) could run code in the client. SerpentProxy sends serpent and refuses any reply in
another serializer before its payload is decoded. The choice belongs to each proxy, so the
host process's global Pyro4 config stays as its owner set it.
"""
import Pyro4
import Pyro4.errors
import Pyro4.socketutil
from Pyro4 import message, util
from Pyro4.configuration import config

from . import pyro_serpent

SERIALIZER = 'serpent'
SERIALIZER_ID = util.get_serializer(SERIALIZER).serializer_id
pyro_serpent.install()   # on import: it refuses only what no daemon of ours sends (pyro_serpent)


REPLY_LIMIT = pyro_serpent.INFLATE_LIMIT   # bytes: what a rockit daemon sends at most


class UnsafeReply(Pyro4.errors.ProtocolError):
    """The peer answered in a serializer other than serpent; nothing of it was decoded."""


def refuse_unless_serpent(msg, location):
    if msg.serializer_id != SERIALIZER_ID:
        raise UnsafeReply(f'{location} answered with serializer id {msg.serializer_id}, '
                          f'not {SERIALIZER}: refused without decoding it')


class SerpentProxy(Pyro4.Proxy):
    """A Pyro4.Proxy to a PYRO: URI that speaks and accepts serpent only.

    Pyro4's proxy already refuses a call's reply in another serializer than the one it sent
    (and the proxy's own _pyroSerializer is serpent); the handshake, which it decodes with
    any serializer, is done here instead."""

    def __init__(self, uri):
        super().__init__(uri)
        if self._pyroUri.protocol != 'PYRO':
            raise ValueError(f'{uri}: only direct PYRO: addresses are opened')
        self._pyroSerializer = SERIALIZER

    # Pyro4 calls its private connect under this name wherever it (re)connects.
    def _Proxy__pyroCreateConnection(self, replaceUri=False, connected_socket=None):
        if connected_socket is not None:
            return super()._Proxy__pyroCreateConnection(replaceUri, connected_socket)
        with self._Proxy__pyroConnLock:
            if self._pyroConnection is not None:
                return False
            self._pyroConnection = self._handshake()
            return True

    def _pyroInvoke(self, *args, **kwargs):
        try:
            return super()._pyroInvoke(*args, **kwargs)
        except Pyro4.errors.SerializeError as e:
            if not str(e).startswith('invalid serializer in response'):
                raise
            uri = self._pyroUri
            raise UnsafeReply(f'{uri.host}:{uri.port} answered a call with {e}, not {SERIALIZER}: '
                              'refused without decoding it') from None

    def _handshake(self):
        uri = self._pyroUri
        location = uri.sockname or (uri.host, uri.port)
        where = f'{uri.host}:{uri.port}'
        conn = None
        try:
            sock = Pyro4.socketutil.createSocket(connect=location, reuseaddr=config.SOCK_REUSE,
                                                 timeout=self._pyroTimeout, nodelay=config.SOCK_NODELAY)
            conn = _BoundedConnection(sock, uri.object)
            serializer = util.get_serializer(SERIALIZER)
            data, _ = serializer.serializeData({'handshake': self._pyroHandshake, 'object': uri.object}, False)
            request = message.Message(message.MSG_CONNECT, data, SERIALIZER_ID, message.FLAGS_META_ON_CONNECT,
                                      self._pyroSeq, annotations=self._Proxy__annotations(False),
                                      hmac_key=self._pyroHmacKey)
            conn.send(request.to_bytes())
            reply = message.Message.recv(conn, [message.MSG_CONNECTOK, message.MSG_CONNECTFAIL],
                                         hmac_key=self._pyroHmacKey)
            if reply.type == message.MSG_CONNECTFAIL and reply.serializer_id != SERIALIZER_ID:
                # Pyro4 daemons write a refusal before they know the client's serializer
                raise Pyro4.errors.CommunicationError(f'connection to {where} rejected (the reason, '
                                                      f'in serializer id {reply.serializer_id}, not decoded)')
            refuse_unless_serpent(reply, where)
            answer = serializer.deserializeData(reply.data, compressed=reply.flags & message.FLAGS_COMPRESSED)
            if reply.type == message.MSG_CONNECTFAIL:
                raise Pyro4.errors.CommunicationError(f'connection to {where} rejected: {answer}')
            if reply.flags & message.FLAGS_META_ON_CONNECT:
                self._Proxy__processMetadata(answer['meta'])
                answer = answer['handshake']
            self._pyroValidateHandshake(answer)
            if reply.annotations:
                self._pyroResponseAnnotations(reply.annotations, reply.type)
            return conn
        except Exception as e:
            if conn is not None:
                conn.close()
            if isinstance(e, Pyro4.errors.CommunicationError):
                raise
            raise Pyro4.errors.CommunicationError(f'cannot connect to {where}: {e}') from e


class _BoundedConnection(Pyro4.socketutil.SocketConnection):
    """A client connection that reads no part of a message larger than REPLY_LIMIT: the
    size comes from the peer's header, and the host process's MAX_MESSAGE_SIZE is its
    owner's (Pyro4's default, 0, reads whatever size a peer declares)."""

    def recv(self, size):
        if size > REPLY_LIMIT:
            raise Pyro4.errors.MessageTooLargeError(f'a reply of {size} bytes is beyond {REPLY_LIMIT}: refused')
        return super().recv(size)


def open_proxy(uri, timeout=None):
    """A SerpentProxy to uri; timeout in seconds (None or 0: Pyro4's default, none)."""
    proxy = SerpentProxy(uri)
    if timeout:
        proxy._pyroTimeout = timeout
    return proxy

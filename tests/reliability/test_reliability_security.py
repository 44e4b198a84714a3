"""Who may command a daemon, and what it will unpack, for every daemon process.

The methods are enumerated with rockit.common.pyro.exposed_methods, so a method added to
a daemon is checked without touching this file: a command must refuse a caller outside
control_machines with the daemon's own InvalidControlIP code and send nothing to the
device, a query must stay open, and nothing may be exposed outside those two guards.
Only serpent is accepted on the wire: a pickle payload that would create a file when
unpickled is sent as a handshake and as a call, and the file must never appear.
"""
import pickle
import socket

import Pyro4
import Pyro4.errors
import Pyro4.socketutil
import pytest
from Pyro4 import message, util

from support import connections_from
from reliability_harness import DAEMONS, alive
from rockit.common import pyro

pytestmark = pytest.mark.parametrize('spec', DAEMONS, ids=str)


def test_every_exposed_method_is_a_command_or_a_query(spec):
    exposed = pyro.exposed_methods(spec.daemon_class)
    assert 'report_status' in exposed and exposed['report_status'] is False
    unguarded = [name for name, control in exposed.items() if control is None]
    assert unguarded == [], f'exposed without @command or @query: {unguarded}'


def test_commands_are_refused_from_a_machine_not_in_control_machines(device):
    spec = device.spec
    exposed = pyro.exposed_methods(spec.daemon_class)
    queries = sorted(name for name, control in exposed.items() if not control)
    with device.proxy(timeout=10) as proxy:    # what a control machine is answered
        answered = {name: type(getattr(proxy, name)(*spec.calls.get(name, ()))) for name in queries}
    sent = len(device.commands_sent())
    with connections_from('127.0.0.2'):
        with device.proxy(timeout=10) as proxy:
            for name, control in sorted(exposed.items()):
                result = getattr(proxy, name)(*spec.calls.get(name, ()))
                if control:
                    assert result == spec.codes.InvalidControlIP, (name, result)
                else:   # answered as a control machine is: a query refuses no one
                    assert result != spec.codes.InvalidControlIP and type(result) is answered[name], (name, result)
    assert len(device.commands_sent()) == sent
    assert device.status()['status'] != 0   # still online: not even shutdown went through


class CreatesAFile:
    """Unpickling this object creates a file: what an attacker's payload would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), 'w')


def reply_on(sock):
    """The daemon's answer on sock, or None if it closed the connection without one."""
    sock.settimeout(10)
    try:
        return message.Message.recv(Pyro4.socketutil.SocketConnection(sock))
    except Pyro4.errors.ConnectionClosedError:
        return None


def test_a_pickled_handshake_or_call_is_never_unpickled(device, tmp_path):
    address = device.process.address
    marker = tmp_path / 'unpickled'
    payload = pickle.dumps(CreatesAFile(marker))
    pickle_id = util.get_serializer('pickle').serializer_id

    with socket.create_connection((address.host, address.port)) as sock:
        sock.sendall(message.Message(message.MSG_CONNECT, payload, pickle_id, 0, 0).to_bytes())
        reply = reply_on(sock)
        assert reply is None or reply.type == message.MSG_CONNECTFAIL

    with device.proxy(timeout=10) as proxy:
        proxy._pyroBind()   # a proper serpent handshake first
        sock = proxy._pyroConnection.sock
        sock.sendall(message.Message(message.MSG_INVOKE, payload, pickle_id, 0, 1).to_bytes())
        reply = reply_on(sock)
        assert reply is None or reply.flags & message.FLAGS_EXCEPTION

    assert not marker.exists()
    assert alive(device) and device.status()


@pytest.mark.parametrize('serializer', ['pickle', 'marshal', 'json'])
def test_a_proxy_speaking_anything_but_serpent_is_turned_away(device, serializer):
    sent = len(device.commands_sent())
    method = next(name for name, control in pyro.exposed_methods(device.spec.daemon_class).items() if control)
    with Pyro4.Proxy(device.process.address.uri) as proxy:
        proxy._pyroTimeout = 10
        proxy._pyroSerializer = serializer
        with pytest.raises(Pyro4.errors.PyroError):
            getattr(proxy, method)(*device.spec.calls.get(method, ()))
    assert len(device.commands_sent()) == sent

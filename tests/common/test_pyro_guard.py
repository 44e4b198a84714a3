"""The Pyro layer: the control-IP guard, argument checks, no tracebacks, serpent only."""
import math
import socket
import zlib

import Pyro4
import Pyro4.errors
import pytest
from Pyro4 import message, util
from Pyro4.socketutil import SocketConnection

from support import connections_from
from rockit.common import pyro, pyro_serpent
from rockit.common.arguments import Boolean, Choice, Integer, Number
from rockit.common.codes import CommandStatus


class Lamp:
    """A tiny daemon object: one command, one query, one that fails."""
    def __init__(self):
        self.control_ips = {'127.0.0.1'}
        self.calls = []

    @pyro.command(level=Integer(0, 10, range_code=4), colour=Choice({'red', 'blue'}), blink=Boolean())
    def set_lamp(self, level, colour='red', blink=False):
        self.calls.append((level, colour, blink))
        return CommandStatus.Succeeded

    @pyro.command(watts=Number(0, 60))
    def set_power(self, watts):
        self.calls.append(watts)
        return CommandStatus.Succeeded

    @pyro.command()
    def explode(self):
        raise RuntimeError('internal detail that must not reach clients')

    def forget(self):
        """Not exposed: no client may call it."""
        self.calls.clear()

    @pyro.query()
    def report_status(self):
        return {'calls': len(self.calls)}


@pytest.fixture
def lamp(test_registry):
    obj = Lamp()
    address = test_registry.add('lamp')
    server = pyro.BackgroundServer(obj, address)
    yield obj, address.uri
    server.close()


def call(uri, method, *args, **kwargs):
    with Pyro4.Proxy(uri) as proxy:
        proxy._pyroTimeout = 5
        return getattr(proxy, method)(*args, **kwargs)


def test_command_from_a_control_machine_runs(lamp):
    obj, uri = lamp
    assert call(uri, 'set_lamp', 3, 'blue', True) == CommandStatus.Succeeded
    assert obj.calls == [(3, 'blue', True)]


def test_command_from_another_ip_is_refused_and_never_runs(lamp):
    obj, uri = lamp
    with connections_from('127.0.0.2'):
        assert call(uri, 'set_lamp', 3) == CommandStatus.InvalidControlIP
        assert call(uri, 'report_status') == {'calls': 0}   # queries stay open
    assert obj.calls == []


@pytest.mark.parametrize('args, kwargs, expected', [
    ((11,), {}, 4),                              # out of range: the check's own code
    ((-1,), {}, 4),
    ((2**70,), {}, 4),
    (('3',), {}, CommandStatus.InvalidArgument),  # a string where a number belongs
    ((3.0,), {}, CommandStatus.InvalidArgument),
    ((None,), {}, CommandStatus.InvalidArgument),
    ((True,), {}, CommandStatus.InvalidArgument),
    ((3, 'green'), {}, CommandStatus.InvalidArgument),
    ((3, ['red']), {}, CommandStatus.InvalidArgument),
    ((3, 'red', 1), {}, CommandStatus.InvalidArgument),
    ((), {}, CommandStatus.InvalidArgument),      # missing argument
    ((1, 'red', False, 'extra'), {}, CommandStatus.InvalidArgument),
    ((1,), {'brightness': 2}, CommandStatus.InvalidArgument),
])
def test_bad_arguments_get_a_code_and_never_run(lamp, args, kwargs, expected):
    obj, uri = lamp
    assert call(uri, 'set_lamp', *args, **kwargs) == expected
    assert obj.calls == []


@pytest.mark.parametrize('watts', [math.nan, math.inf, -math.inf, -0.5, 61, '5'])
def test_numbers_must_be_finite_and_in_range(lamp, watts):
    obj, uri = lamp
    assert call(uri, 'set_power', watts) != CommandStatus.Succeeded
    assert obj.calls == []


def test_a_failing_command_returns_failed_not_a_traceback(lamp):
    _, uri = lamp
    assert call(uri, 'explode') == CommandStatus.Failed


def test_a_pickle_serialised_call_is_refused(lamp):
    obj, uri = lamp
    with Pyro4.Proxy(uri) as proxy:
        proxy._pyroTimeout = 5
        proxy._pyroSerializer = 'pickle'
        with pytest.raises(Pyro4.errors.PyroError):
            proxy.set_lamp(1)
    assert obj.calls == []


def test_unexposed_attributes_are_not_callable(lamp):
    _, uri = lamp
    with pytest.raises(AttributeError):
        call(uri, 'forget')


@pytest.mark.parametrize('method, kwargs, error', [
    ('forget', {}, AttributeError),                                 # not exposed
    ('no_such_method', {}, AttributeError),
    ('set_power', {'watts': {'__class__': 'no.such.Class'}}, Pyro4.errors.SerializeError),
    ('set_power', {'watts': 1, '__class__': 1}, TypeError),          # Pyro4 takes the key for a class
])
def test_a_call_refused_before_its_method_runs_carries_no_daemon_stack(lamp, method, kwargs, error):
    obj, uri = lamp
    with Pyro4.Proxy(uri) as proxy:
        proxy._pyroTimeout = 5
        with pytest.raises(error) as refused:
            proxy._pyroInvoke(method, (), kwargs)
    remote = ''.join(refused.value._pyroTraceback)
    assert 'File "' not in remote and 'Traceback' not in remote, remote
    assert obj.calls == [] and call(uri, 'report_status') == {'calls': 0}


def test_exposed_methods_lists_commands_and_queries():
    assert pyro.exposed_methods(Lamp()) == {'set_lamp': True, 'set_power': True, 'explode': True,
                                            'report_status': False}


def compressed_call(uri, inflated_size):
    """report_status() sent by hand as one compressed message padded to inflated_size bytes
    of serpent (a comment after the call): the reply's type, or None if the daemon hung up."""
    serializer = util.get_serializer('serpent')
    location = Pyro4.core.URI(uri)
    with socket.create_connection((location.host, location.port), timeout=30) as sock:
        conn = SocketConnection(sock)
        hello, _ = serializer.serializeData({'handshake': 'hello', 'object': location.object})
        conn.send(message.Message(message.MSG_CONNECT, hello, serializer.serializer_id, 0, 1).to_bytes())
        assert message.Message.recv(conn).type == message.MSG_CONNECTOK
        call = serializer.dumpsCall(location.object, 'report_status', (), {})
        call += b'\n#' + b'x' * (inflated_size - len(call) - 2)
        conn.send(message.Message(message.MSG_INVOKE, zlib.compress(call, 9), serializer.serializer_id,
                                  message.FLAGS_COMPRESSED, 2).to_bytes())
        try:
            return message.Message.recv(conn).type
        except Pyro4.errors.ConnectionClosedError:
            return None


def test_a_compressed_call_inflates_no_further_than_the_message_limit(lamp):
    """A few kB that would inflate to many MB are refused before they are inflated, and the
    daemon goes on answering; a compressed call within the limit still gets its answer."""
    _, uri = lamp
    assert compressed_call(uri, pyro_serpent.CALL_LIMIT // 2) == message.MSG_RESULT
    assert compressed_call(uri, 8 * pyro.MAX_MESSAGE_SIZE) is None
    assert call(uri, 'report_status') == {'calls': 0}


def test_a_call_too_large_to_decode_cheaply_is_refused_before_decoding(lamp):
    """A list of small numbers costs serpent's reader some 500 bytes of memory a byte: a
    call larger than any a daemon takes is answered with an error, undecoded, and the
    daemon goes on answering."""
    obj, uri = lamp
    with pytest.raises(Pyro4.errors.SerializeError, match='refused'):
        call(uri, 'set_lamp', [0] * pyro_serpent.CALL_LIMIT, 'blue', True)
    assert obj.calls == []
    assert call(uri, 'set_lamp', 3, 'blue', True) == CommandStatus.Succeeded

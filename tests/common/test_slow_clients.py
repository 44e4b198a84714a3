"""Slow and greedy Pyro clients hold a bounded share of a daemon's workers: a message must
arrive whole within a deadline of its first byte, and one address holds at most its share
of connections, so other clients are still answered."""
import threading
import time

import pytest
import Pyro4.errors
from Pyro4 import message, util

from support import Trickle, connections_from, wait_until
from rockit.common import pyro
from rockit.common.pyro_daemon import GuardedDaemon

SERPENT = util.get_serializer('serpent').serializer_id
# A real handshake message, so that nothing but its slowness is wrong with it.
HANDSHAKE = message.Message(message.MSG_CONNECT, util.get_serializer('serpent').serializeData(
    {'handshake': 'hello', 'object': 'x' * 200})[0], SERPENT, 0, 0).to_bytes()


class Lamp:
    control_ips = {'127.0.0.1'}

    @pyro.query()
    def report_status(self):
        return {'on': True}


@pytest.fixture
def serve(test_registry):
    """serve(**GuardedDaemon bounds) -> the address of a Lamp served with them."""
    daemons = []

    def start(**bounds):
        address = test_registry.add(f'lamp{len(daemons)}')
        daemon = GuardedDaemon(address.host, address.port, **bounds)
        daemon.register(Lamp(), objectId=address.object_id)
        thread = threading.Thread(target=daemon.requestLoop, daemon=True)
        thread.start()
        daemons.append((daemon, thread))
        return address

    yield start
    for daemon, thread in daemons:
        daemon.shutdown()
        thread.join(5)
        daemon.close()


def status(address, source):
    with connections_from(source):
        with pyro.connect(address, timeout=30) as proxy:
            return proxy.report_status()


def test_256_trickling_clients_leave_report_status_answering(make_focuser):
    """The attack as reported: 256 sockets from one address, each sending a byte of a
    handshake at a time, against a real focusd."""
    focuser = make_focuser()
    address = focuser.daemon.address
    with Trickle(address.host, address.port, 256, HANDSHAKE, interval=1.0) as trickle:
        wait_until(lambda: trickle.rounds >= 3, timeout=60, message='three bytes on every socket')
        answer = status(address, '127.0.0.2')
        assert answer['status'] is not None
        assert not trickle.finished


def test_a_message_that_trickles_is_cut_at_the_deadline(serve):
    address = serve(deadline=1.0)
    with Trickle(address.host, address.port, 1, HANDSHAKE, interval=0.2) as trickle:
        wait_until(lambda: trickle.open == 0 or trickle.finished, timeout=90, message='the trickle to end')
        assert trickle.open == 0 and not trickle.finished, 'the server waited for the whole slow message'
    assert status(address, '127.0.0.1') == {'on': True}


def test_a_kept_alive_connection_is_not_cut_between_calls(serve):
    """The deadline runs from a message's first byte: idle time between calls is no part of it."""
    address = serve(deadline=0.5)
    with pyro.connect(address, timeout=30) as proxy:
        for _ in range(3):
            assert proxy.report_status() == {'on': True}
            time.sleep(0.6)   # idle past the deadline: the stimulus, not a synchronisation
        assert proxy.report_status() == {'on': True}


def test_one_address_holds_at_most_its_share(serve):
    address = serve(per_address=2)
    with Trickle(address.host, address.port, 3, HANDSHAKE, interval=0.5) as trickle:
        wait_until(lambda: trickle.open == 2, timeout=60, message='the third connection to be closed')
        with pytest.raises(Pyro4.errors.CommunicationError):
            status(address, '127.0.0.1')
        assert status(address, '127.0.0.2') == {'on': True}
        assert trickle.open == 2
    wait_until(lambda: _answers(address, '127.0.0.1'), timeout=30, message='the slots to be given back')


def _answers(address, source):
    try:
        return status(address, source) == {'on': True}
    except Pyro4.errors.CommunicationError:
        return False

"""Slow and greedy HTTP clients hold a bounded share of the Alpaca server: a request must
arrive whole within a deadline of its first byte, one address holds at most PER_ADDRESS
connections, and another client is still answered."""
import http.client
import json
import logging

import pytest

from support import Trickle, free_port, wait_until
from rockit.alpaca import server
from rockit.alpaca.server import AlpacaServer

REQUEST = b'GET /management/apiversions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'


@pytest.fixture
def alpaca():
    served = AlpacaServer([], '127.0.0.1', free_port(), ['127.0.0.1'], {'ServerName': 'test'},
                          logging.getLogger('test')).start()
    yield served
    served.close()


def get(port, source):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30, source_address=(source, 0))
    try:
        connection.request('GET', '/management/apiversions')
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_64_trickling_clients_leave_another_client_answered(alpaca):
    with Trickle('127.0.0.1', alpaca.port, 64, REQUEST * 10, interval=1.0) as trickle:
        wait_until(lambda: trickle.rounds >= 3, timeout=60, message='three bytes on every socket')
        status, body = get(alpaca.port, '127.0.0.2')
        assert status == 200 and body['Value'] == [1]
        assert not trickle.finished


def test_a_request_that_trickles_is_cut_at_the_deadline(alpaca, monkeypatch):
    monkeypatch.setattr(server, 'REQUEST_DEADLINE', 1.0)
    with Trickle('127.0.0.1', alpaca.port, 1, REQUEST * 10, interval=0.2) as trickle:
        wait_until(lambda: trickle.open == 0 or trickle.finished, timeout=120, message='the trickle to end')
        assert trickle.open == 0 and not trickle.finished, 'the server waited for the whole slow request'
    assert get(alpaca.port, '127.0.0.1')[0] == 200


def test_one_address_holds_at_most_its_share(alpaca):
    with Trickle('127.0.0.1', alpaca.port, server.PER_ADDRESS + 1, REQUEST * 10, interval=0.5) as trickle:
        wait_until(lambda: trickle.open == server.PER_ADDRESS, timeout=60, message='the extra connection closed')
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            get(alpaca.port, '127.0.0.1')
        assert get(alpaca.port, '127.0.0.2')[0] == 200
    wait_until(lambda: _answers(alpaca.port), timeout=30, message='the slots to be given back')


def _answers(port):
    try:
        return get(port, '127.0.0.1')[0] == 200
    except (ConnectionError, http.client.HTTPException):
        return False

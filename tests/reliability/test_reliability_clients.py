"""Clients that misbehave, for every daemon: one that connects and never speaks, one that
vanishes halfway through a request, one killed while its command runs. Each Pyro client
connection holds a worker thread of the daemon, so each case checks that the worker (a
thread of the daemon process, counted in /proc) is given back. The bounds are ceilings on
what must happen, generous for a busy machine; the figures are in bench/.
"""
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
from Pyro4 import message, util

from support import wait_until
from reliability_harness import DAEMONS, FOCUSD, alive, proc_status
from rockit.common import pyro

COMMTIMEOUT = 3.0     # s, lowered through ROCKIT_PYRO_COMMTIMEOUT (production: 30 s)
MARGIN = 10.0         # s allowed beyond it for the server to notice and close
IDLE_CLIENTS = 6
IDLE_WORKERS = 4      # Pyro4's THREADPOOL_SIZE_MIN: workers kept waiting for clients
SERPENT = util.get_serializer('serpent').serializer_id


def threads(device):
    return proc_status(device.pid, 'Threads')


def settled_threads(device):
    """The daemon's thread count once no client is connected (Pyro keeps a few idle workers)."""
    for _ in range(3):
        device.status()
    time.sleep(0.2)
    return threads(device)


def closed_by_server(sock, deadline):
    """When the server closed sock (whatever it said first), or None if not by deadline."""
    sock.settimeout(max(0.0, deadline - time.monotonic()))
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic()


def still_open(sock):
    """The server has neither said anything on sock nor closed it."""
    return not select.select([sock], [], [], 0)[0]


def held_connections(port):
    """Connections to port that the client has closed but the daemon still holds
    (CLOSE_WAIT): a worker is still busy with a call nobody will hear the answer to."""
    local = f'0100007F:{port:04X}'
    lines = open('/proc/net/tcp').read().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == local and line.split()[3] == '08')


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_idle_clients_are_dropped_after_the_communication_timeout(request, spec, monkeypatch):
    monkeypatch.setenv(pyro.COMMTIMEOUT_VARIABLE, str(COMMTIMEOUT))
    device = spec.start(request)
    address = device.process.address
    before = settled_threads(device)

    opened = time.monotonic()
    idle = [socket.create_connection((address.host, address.port)) for _ in range(IDLE_CLIENTS)]
    # Half a handshake, then silence: as good as idle.
    idle[0].sendall(message.Message(message.MSG_CONNECT, b'x' * 64, 0, 0, 1).to_bytes()[:30])
    wait_until(lambda: threads(device) >= before + IDLE_CLIENTS - IDLE_WORKERS, message='a worker per idle client')
    assert device.status()
    # Answered while every idle client still holds its worker: not by waiting for them to go.
    assert all(still_open(sock) for sock in idle), 'the idle clients were dropped before status answered'

    for sock in idle:
        closed = closed_by_server(sock, opened + COMMTIMEOUT + MARGIN)
        sock.close()
        assert closed is not None, f'an idle client was still connected after {COMMTIMEOUT + MARGIN} s'
        assert closed - opened > 0.8 * COMMTIMEOUT   # dropped by the timeout, not refused
    wait_until(lambda: threads(device) <= before, timeout=30, message='the workers given back')
    assert alive(device)


def test_the_communication_timeout_defaults_to_30_s_and_ignores_nonsense(monkeypatch):
    monkeypatch.delenv(pyro.COMMTIMEOUT_VARIABLE, raising=False)
    assert pyro.server_commtimeout() == pyro.SERVER_COMMTIMEOUT == 30.0
    for nonsense in ('0', '-1', 'nan', 'inf', 'soon'):
        monkeypatch.setenv(pyro.COMMTIMEOUT_VARIABLE, nonsense)
        assert pyro.server_commtimeout() == 30.0, nonsense
    monkeypatch.setenv(pyro.COMMTIMEOUT_VARIABLE, '1.5')
    assert pyro.server_commtimeout() == 1.5


@pytest.mark.parametrize('spec', DAEMONS, ids=str)
def test_a_client_gone_halfway_through_a_request_frees_its_worker_at_once(device):
    """With the default 30 s communication timeout: the worker is freed by the closed
    connection itself, not by the timeout."""
    before = settled_threads(device)
    proxies = []
    for _ in range(IDLE_CLIENTS):
        proxy = device.proxy()
        proxy._pyroBind()                               # the handshake is done
        request = message.Message(message.MSG_INVOKE, b'x' * 200, SERPENT, 0, 2).to_bytes()
        proxy._pyroConnection.sock.sendall(request[:len(request) // 2])
        proxies.append(proxy)
    wait_until(lambda: threads(device) >= before + IDLE_CLIENTS - IDLE_WORKERS, message='a worker per client')
    for proxy in proxies:
        proxy._pyroConnection.sock.shutdown(socket.SHUT_RDWR)
        proxy._pyroRelease()
    wait_until(lambda: threads(device) <= before, timeout=30, message='the workers given back')
    assert device.status()


def test_a_client_killed_during_a_move_holds_its_worker_only_until_the_move_ends(request):
    """set_focus answers when the move ends, so its worker is busy until then (at most
    move_timeout), whether or not anybody is left to hear the answer."""
    device = FOCUSD.start(request, speed=1)     # the move lasts until the test speeds it up
    port = device.process.address.port
    client = subprocess.Popen([sys.executable, '-c',
                               'import sys, Pyro4; p = Pyro4.Proxy(sys.argv[1]); p._pyroTimeout = 60; '
                               'p.set_focus(1, 1500)', device.process.address.uri])
    wait_until(lambda: device.model.is_moving(1), message='the move under way')
    client.send_signal(signal.SIGKILL)
    client.wait(5)
    wait_until(lambda: held_connections(port) == 1, timeout=30, message="the dead client's call still running")
    assert device.model.is_moving(1)
    # The move the client asked for goes on; the daemon serves everybody else meanwhile.
    device.model.change_speed(1000)
    assert device.call('set_focus', 2, 50) == 0
    wait_until(lambda: device.model.position(1) == 1500, timeout=60, message='the move finished')
    wait_until(lambda: held_connections(port) == 0, timeout=30, message='the worker given back')
    wait_until(lambda: device.status()['moving_1'] is False, timeout=30, message='the move seen to end')
    assert device.call('set_focus', 1, 0) == 0

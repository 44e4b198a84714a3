"""Alpaca discovery: clients send the datagram `alpacadiscovery1` to UDP port 32227, as an
IPv4 broadcast or to the IPv6 multicast group ff12::a1:9aca, and every Alpaca server
answers the sender with `{"AlpacaPort": <its HTTP port>}`; the client then talks HTTP to
the address the answer came from.

Each socket listens on every interface (broadcasts reach no socket bound to one address)
and shares the port, so that several servers on one machine all answer. IPv6 is answered
beside IPv4 where the machine has it; without it, IPv4 alone (logged once).
"""
import json
import socket
import struct
import threading

PROBE = b'alpacadiscovery1'
IPV6_GROUP = 'ff12::a1:9aca'
POLL = 0.5   # s between checks for close()


def _socket(family, port):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, 'SO_REUSEPORT'):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.settimeout(POLL)
        sock.bind(('::' if family == socket.AF_INET6 else '', port))
    except OSError:
        sock.close()
        raise
    return sock


def _join_ipv6_group(sock):
    """Joins the discovery group on every interface that takes it; how many did."""
    group = socket.inet_pton(socket.AF_INET6, IPV6_GROUP)
    joined = 0
    for index, _ in socket.if_nameindex():
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack('@I', index))
            joined += 1
        except OSError:   # an interface without multicast (loopback): unicast probes still reach it
            pass
    return joined


class DiscoveryResponder:
    """Answers discovery probes on `port` (IPv4 and, where available, IPv6) with
    `alpaca_port` until close()."""

    def __init__(self, port, alpaca_port, log):
        self.alpaca_port, self.log = alpaca_port, log
        self._sockets = [_socket(socket.AF_INET, port)]
        self.port = self._sockets[0].getsockname()[1]
        self.ipv6 = None   # why IPv6 is not answered, or None when it is
        try:
            ipv6 = _socket(socket.AF_INET6, self.port)
        except OSError as e:
            self.ipv6 = f'no IPv6 socket: {e}'
        else:
            self._sockets.append(ipv6)
            _join_ipv6_group(ipv6)
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(sock,), name='alpaca-discovery', daemon=True)
                         for sock in self._sockets]

    def start(self):
        for thread in self._threads:
            thread.start()
        self.log.info('alpaca: answering discovery on UDP port %d (IPv4%s)', self.port,
                      f'; IPv6 not answered, {self.ipv6}' if self.ipv6 else f' and IPv6 {IPV6_GROUP}')
        return self

    def close(self):
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)
        for sock in self._sockets:
            sock.close()

    def _run(self, sock):
        answer = json.dumps({'AlpacaPort': self.alpaca_port}).encode()
        while not self._stopping.is_set():
            try:
                probe, sender = sock.recvfrom(1024)
            except (TimeoutError, socket.timeout):
                continue
            except OSError as e:
                self.log.error('alpaca: discovery socket failed: %s', e)
                return
            if probe.startswith(PROBE):
                try:
                    sock.sendto(answer, sender)
                except OSError as e:   # an unreachable sender must not end discovery
                    self.log.warning('alpaca: cannot answer discovery from %s: %s', sender[0], e)

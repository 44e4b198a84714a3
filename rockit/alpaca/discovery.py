"""Alpaca discovery: clients broadcast the datagram `alpacadiscovery1` on UDP port 32227 and
every Alpaca server answers the sender with `{"AlpacaPort": <its HTTP port>}`; the client
then talks HTTP to the address the answer came from.

The socket listens on every interface (broadcasts reach no socket bound to one address)
and shares the port, so that several servers on one machine all answer.
"""
import json
import socket
import threading

PROBE = b'alpacadiscovery1'
POLL = 0.5   # s between checks for close()


class DiscoveryResponder:
    """Answers discovery probes on `port` with `alpaca_port` until close()."""

    def __init__(self, port, alpaca_port, log):
        self.alpaca_port, self.log = alpaca_port, log
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, 'SO_REUSEPORT'):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self._sock.settimeout(POLL)
        try:
            self._sock.bind(('', port))
        except OSError:
            self._sock.close()
            raise
        self.port = self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name='alpaca-discovery', daemon=True)

    def start(self):
        self._thread.start()
        self.log.info('alpaca: answering discovery on UDP port %d', self.port)
        return self

    def close(self):
        self._stopping.set()
        self._thread.join(5)
        self._sock.close()

    def _run(self):
        answer = json.dumps({'AlpacaPort': self.alpaca_port}).encode()
        while not self._stopping.is_set():
            try:
                probe, sender = self._sock.recvfrom(1024)
            except (TimeoutError, socket.timeout):
                continue
            except OSError as e:
                self.log.error('alpaca: discovery socket failed: %s', e)
                return
            if probe.startswith(PROBE):
                try:
                    self._sock.sendto(answer, sender)
                except OSError as e:   # an unreachable sender must not end discovery
                    self.log.warning('alpaca: cannot answer discovery from %s: %s', sender[0], e)

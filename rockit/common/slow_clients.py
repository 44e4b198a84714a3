"""Bounds on what slow or greedy clients can hold of a server's workers (the Pyro daemons
and the Alpaca server): each connection holds a worker thread while it is open.

- A socket timeout bounds each read, not a request: a client sending a byte every few
  seconds would hold its worker for ever. RequestReader gives a request a deadline from its
  first byte, however its bytes trickle in; waiting for that first byte (a kept-alive
  connection between requests) stays bounded by the idle timeout alone.
- AddressSlots caps the connections one client address holds at once, so that one machine
  (or one process) cannot take every worker from the others.
"""
import collections
import socket
import threading
import time

REQUEST_DEADLINE = 10.0   # s a request may take to arrive whole, from its first byte
PER_ADDRESS = 64          # connections one client address may hold at once (a quarter of a daemon's workers)


class RequestReader:
    """Reads a socket one request at a time. request_done() ends a request: the next bytes
    start the next one (and the socket's timeout is the idle timeout again, for replies)."""

    def __init__(self, sock, idle_timeout, deadline=REQUEST_DEADLINE):
        self.sock, self.idle_timeout, self.deadline = sock, idle_timeout, deadline
        self._ends = None   # time.monotonic() by which the request under way must be in

    def recv_into(self, buffer):
        """socket.recv_into() within the bounds; socket.timeout when they are passed."""
        timeout = self.idle_timeout
        if self._ends is not None:
            left = self._ends - time.monotonic()
            if left <= 0:
                raise socket.timeout(f'request not received whole within {self.deadline:g} s')
            timeout = left if not timeout else min(timeout, left)
        self.sock.settimeout(timeout)
        count = self.sock.recv_into(buffer)
        if count and self._ends is None:
            self._ends = time.monotonic() + self.deadline
        return count

    def request_done(self):
        if self._ends is not None:
            self._ends = None
            self.sock.settimeout(self.idle_timeout)


class AddressSlots:
    """Counts the connections each client address holds; take() is False beyond
    per_address for that address, or beyond total for all of them (when given)."""

    def __init__(self, per_address=PER_ADDRESS, total=None):
        self.per_address, self.total = per_address, total
        self._held = collections.Counter()
        self._refusing = set()     # addresses refused since their last accepted connection
        self._lock = threading.Lock()

    def take(self, address):
        with self._lock:
            if self._held[address] >= self.per_address or \
                    (self.total is not None and sum(self._held.values()) >= self.total):
                return False
            self._held[address] += 1
            self._refusing.discard(address)
            return True

    def release(self, address):
        with self._lock:
            self._held[address] -= 1
            if self._held[address] <= 0:
                del self._held[address]

    def first_refusal(self, address):
        """True the first time an address is refused since it last got a slot: log that
        once, not once per connection."""
        with self._lock:
            if address in self._refusing or len(self._refusing) >= 1024:   # a flood from many: noted enough
                return False
            self._refusing.add(address)
            return True

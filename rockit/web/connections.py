"""uvicorn's HTTP protocol with a bounded appetite for connections.

Each open connection holds a file descriptor. Past the process's file limit, accept()
fails, asyncio retries and logs it, and the API stalls for everyone: so connections are
capped below that limit and per client address (one machine cannot take them all), those
over a cap are closed as soon as they are accepted, and a connection must finish sending a
request's head within HEAD_DEADLINE of opening or of its last answer, trickled or not.
Refusals are counted and logged at most once a minute, never one line per connection.
"""
import resource
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 256     # browsers open six each at most: forty viewers
HEAD_DEADLINE = 10.0      # s from opening (or the last answer) to a request's complete head
KEEP_ALIVE = 5            # s an idle kept-alive connection stays open (uvicorn's timeout)
ACCEPT_BURST = 64         # connections asyncio accepts at once (the listen backlog)
SPARE_FILES = 128         # descriptors kept for the pollers, logs and a burst being accepted
LOG_EVERY = 60.0          # s between lines about refused connections


def connection_cap():
    """MAX_CONNECTIONS, or fewer to leave SPARE_FILES descriptors and a burst being
    accepted under the process's file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - ACCEPT_BURST - SPARE_FILES))


class Refusals:
    """Counts connections closed over a cap; says so in the log at most once per LOG_EVERY."""

    def __init__(self, log):
        self.log, self.count, self.logged, self._logged_at = log, 0, 0, None

    def add(self, address):
        self.count += 1
        now = time.monotonic()
        if self._logged_at is None or now - self._logged_at >= LOG_EVERY:
            self.log.warning('closed %d connections over the connection caps (latest from %s)',
                             self.count - self.logged, address)
            self.logged, self._logged_at = self.count, now


def capped_protocol(log):
    """An H11Protocol class that keeps at most connection_cap() connections open, an eighth
    of them from any one client address, each under the head deadline."""
    total = connection_cap()
    per_address = max(4, total // 8)
    refusals = Refusals(log)

    class CappedProtocol(H11Protocol):
        deadline = None

        def connection_made(self, transport):
            super().connection_made(transport)
            address = self.client[0] if self.client else None
            same = sum(1 for other in self.connections if other.client and other.client[0] == address)
            if len(self.connections) > total or same > per_address:
                refusals.add(address)
                transport.abort()
                return
            self._start_deadline()

        def _start_deadline(self):
            self._stop_deadline()
            self.deadline = self.loop.call_later(HEAD_DEADLINE, self._deadline_passed)

        def _stop_deadline(self):
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _deadline_passed(self):
            self.deadline = None
            if not self.transport.is_closing():
                self.transport.abort()

        def data_received(self, data):
            cycle = self.cycle
            super().data_received(data)
            if self.cycle is not cycle:      # a request's head is complete: the app has it now
                self._stop_deadline()

        def on_response_complete(self):
            super().on_response_complete()
            waiting = self.cycle is None or self.cycle.response_complete    # not a pipelined request
            if waiting and not self.transport.is_closing():
                self._start_deadline()

        def connection_lost(self, exc):
            self._stop_deadline()
            super().connection_lost(exc)

    return CappedProtocol

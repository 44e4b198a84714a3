"""Slow clients: what another client sees while 256 sockets from one address trickle a Pyro
handshake into focusd a byte per second, and 64 trickle an HTTP request into its Alpaca
port. Each call opens a new connection from 127.0.0.2 (as a CLI or a poller does) and
asks report_status() or GET /management/apiversions. Rounds take turns, quiet and under
the trickle, on the same focusd; the ratio is the median of the rounds' ratios."""
import http.client
import socket
import statistics
import time

from harness import start_focusd, stop, summary
from support import Trickle, connections_from
from rockit.common import pyro
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

ROUNDS = 5
CALLS = 40          # per round and kind
PYRO_SOCKETS = 256
ALPACA_SOCKETS = 64
HANDSHAKE = b'PYRO' + bytes(200)   # a header trickled a byte at a time never completes within the deadline
HTTP_REQUEST = b'GET /management/apiversions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' * 10


def _timed(fn):
    """(ms, failed) of each of CALLS calls of fn."""
    times, failed = [], 0
    for _ in range(CALLS):
        started = time.perf_counter()
        try:
            fn()
        except (pyro.CommunicationErrors + (http.client.HTTPException,)):
            failed += 1
            continue
        times.append((time.perf_counter() - started) * 1000)
    return times, failed


def run():
    from support import free_port
    model = FocusControllerEmulator(channels=2)
    alpaca_port = free_port()
    link, _, address, daemon = start_focusd('bench_slow', model,
                                            alpaca={'port': alpaca_port, 'discovery_port': free_port(socket.SOCK_DGRAM)})

    def status():
        with connections_from('127.0.0.2'), pyro.connect(address, 30) as proxy:
            proxy.report_status()

    def apiversions():
        connection = http.client.HTTPConnection('127.0.0.1', alpaca_port, timeout=30, source_address=('127.0.0.2', 0))
        try:
            connection.request('GET', '/management/apiversions')
            connection.getresponse().read()
        finally:
            connection.close()

    kinds = {'Pyro report_status()': (status, address.port, PYRO_SOCKETS, HANDSHAKE),
             'Alpaca GET apiversions': (apiversions, alpaca_port, ALPACA_SOCKETS, HTTP_REQUEST)}
    results = {(kind, loaded): ([], 0) for kind in kinds for loaded in (False, True)}
    ratios = {kind: [] for kind in kinds}
    try:
        for _ in range(ROUNDS):
            for kind, (call, port, sockets, payload) in kinds.items():
                medians = {}
                for loaded in (False, True):
                    if loaded:
                        trickle = Trickle('127.0.0.1', port, sockets, payload, interval=1.0).start()
                        while trickle.rounds < 2:
                            time.sleep(0.1)
                    times, failed = _timed(call)
                    if loaded:
                        trickle.stop()
                    kept, failures = results[(kind, loaded)]
                    results[(kind, loaded)] = (kept + times, failures + failed)
                    medians[loaded] = statistics.median(times) if times else float('nan')
                ratios[kind].append(medians[True] / medians[False])
    finally:
        stop(daemon)
        link.stop()
    rows = []
    for kind, (_, _, sockets, _) in kinds.items():
        quiet, failed_quiet = results[(kind, False)]
        loaded, failed_loaded = results[(kind, True)]
        base = f'{kind}, new connection from 127.0.0.2'
        q = summary(quiet)
        rows.append((f'{base}, quiet ({failed_quiet} failed)', q['median'], q['p99'], q['n'], None))
        if loaded:
            s = summary(loaded)
            rows.append((f'{base}, {sockets} sockets trickling from 127.0.0.1 ({failed_loaded} failed)',
                         s['median'], s['p99'], s['n'], statistics.median(ratios[kind]), f'{base}, quiet',
                         (min(ratios[kind]), max(ratios[kind]))))
        else:
            rows.append((f'{base}, {sockets} sockets trickling from 127.0.0.1 ({failed_loaded} failed)',
                         float('nan'), float('nan'), 0, None))
    return rows


if __name__ == '__main__':
    for row in run():
        print(row)

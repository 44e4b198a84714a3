"""focusd's Alpaca interface: a position read over HTTP (raw keep-alive and through alpyca)
against report_status() over Pyro, and Halt and Move against Pyro's stop_channel(), on the
same focusd in the same run."""
import http.client
import socket
import time

from harness import latencies, start_focusd, stop, summary
from support import free_port
from rockit.common import pyro
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

CALLS = 2000
COMMANDS = 50
READ, COMMAND = 'Pyro report_status()', 'Pyro stop_channel()'


def run():
    from alpaca.focuser import Focuser
    model = FocusControllerEmulator(channels=2, steps_per_second=97.7, probe_delay=0.75)
    port = free_port()
    link, _, address, daemon = start_focusd('bench_alpaca', model,
                                            alpaca={'port': port, 'discovery_port': free_port(socket.SOCK_DGRAM)})
    rows = []   # (name, summary, baseline row)
    try:
        with pyro.connect(address) as proxy:
            while proxy.report_status()['status'] != 1:
                time.sleep(0.1)
            latencies(proxy.report_status, 200)
            rows.append((READ, summary(latencies(proxy.report_status, CALLS)), READ))
            rows.append((COMMAND, summary(latencies(lambda: proxy.stop_channel(1), COMMANDS)), COMMAND))

        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)

        def get_position():
            connection.request('GET', '/api/v1/focuser/0/position?ClientTransactionID=1')
            connection.getresponse().read()
        focuser = Focuser(f'127.0.0.1:{port}', 0)
        focuser.Connected = True
        latencies(get_position, 200)
        rows.append(('GET position, http.client keep-alive', summary(latencies(get_position, CALLS)), READ))
        rows.append(('Focuser.Position, alpyca', summary(latencies(lambda: focuser.Position, CALLS)), READ))
        rows.append(('Focuser.Halt(), alpyca', summary(latencies(focuser.Halt, COMMANDS)), COMMAND))
        moves, start = [], focuser.Position
        for n in range(COMMANDS):
            moves += latencies(lambda: focuser.Move(start + 1 + n % 2), 1)
            focuser.Halt()
        rows.append(('Focuser.Move() returns, alpyca', summary(moves), COMMAND))
        connection.close()
    finally:
        stop(daemon)
        link.stop()
    medians = {name: s['median'] for name, s, _ in rows}
    return [(name, s['median'], s['p99'], s['n'], s['median'] / medians[against], against)
            for name, s, against in rows]

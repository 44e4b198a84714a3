"""focusd: report_status() against bare Pyro4 objects in their own processes, in turns in
the same run: idle, during a move, and during a move under 100 pollers; then the delay
between the controller reaching its target and set_focus returning.

Two baselines: a bare object returning a small dict, and one returning the very dict
focusd returns, so that the ratio against the second is the cost of focusd's own path
(command wrapper, locks, date) and the difference between the two is the status's size
(serpent writes and parses every key on both sides).
"""
import threading
import time

import compare
import load
from harness import baseline_server, register, start_focusd, stop, summary
from rockit.common import pyro
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

FAR = 100000   # steps: a move that outlasts the measurements at the emulator's speed
SMALL = 'bare Pyro4, small dict'
SAME = "bare Pyro4, focusd's status"
FOCUSD = 'focusd report_status'


def run():
    model = FocusControllerEmulator(channels=2, steps_per_second=97.7, probe_delay=0.75)
    link, _, address, daemon = start_focusd('bench_focuser', model)
    servers = [daemon]
    try:
        with pyro.connect(address) as proxy:
            while proxy.report_status()['status'] != 1:
                time.sleep(0.1)
            status = proxy.report_status()
        small, same = register('bench_bare_small'), register('bench_bare_same')
        servers += [baseline_server(small), baseline_server(same, status)]
        targets = [compare.Target(SMALL, small, servers[1].pid), compare.Target(SAME, same, servers[2].pid),
                   compare.Target(FOCUSD, address, daemon.pid)]
        arrival = summary(_arrivals(model, address))
        rows = _rows(compare.idle(targets), 'idle')
        with _moving(address):
            rows += _rows(compare.idle(targets), 'during a move')
            pollers = f'during a move, {load.POLLERS} pollers'
            rows += _rows(compare.loaded(targets), f'{pollers}: one more client', f"{pollers}: the pollers' calls")
        rows.append(('target reached -> set_focus returns', arrival['median'], arrival['p99'], arrival['n'], None))
    finally:
        for server in servers:
            stop(server)
        link.stop()
    return rows


def _rows(results, case, polls_case=None):
    """Each target's latencies, ratio against the same-status baseline round by round, and
    the servers' CPU time per call."""
    rows = _latency_rows(results, 'ms', 'round', case)
    if polls_case:
        rows += _latency_rows(results, 'polls', 'polls_round', polls_case)
    name = f'{case.split(":")[0]}: server CPU per call (us)'
    base = (f'{SAME}, {name}', results[SAME]['cpu_us'])
    rows += [compare.cpu_row(f'{label}, {name}', found['cpu_us'], None if label == SAME else base)
             for label, found in results.items()]
    return rows


def _latency_rows(results, key, rounds_key, case):
    """Against the same-status baseline, and focusd also against the small dict."""
    base = (f'{SAME}, {case}', results[SAME][rounds_key])
    rows = [compare.row(f'{label}, {case}', found[key], found[rounds_key], None if label == SAME else base)
            for label, found in results.items()]
    mine = results[FOCUSD]
    return rows + [compare.row(f'{FOCUSD}, {case}', mine[key], mine[rounds_key],
                               (f'{SMALL}, {case}', results[SMALL][rounds_key]))]


class _moving:
    """Channel 1 on a move longer than the measurements, stopped on leaving."""

    def __init__(self, address):
        self.address = address

    def __enter__(self):
        self.mover = threading.Thread(target=lambda: pyro.connect(self.address, 600).set_focus(1, FAR))
        self.mover.start()
        with pyro.connect(self.address) as proxy:
            while not proxy.report_status().get('moving_1'):
                time.sleep(0.01)

    def __exit__(self, *_):
        with pyro.connect(self.address) as proxy:
            proxy.stop_channel(1)
        self.mover.join()


def _arrivals(model, address):
    """ms between the controller reaching each target and set_focus returning."""
    arrival = []
    for target in (100, 250, 400, 550, 700, 850):
        times = {}

        def watch():
            while model.position(1) != target:
                time.sleep(0.0005)
            times['reached'] = time.perf_counter()

        watcher = threading.Thread(target=watch)
        watcher.start()
        with pyro.connect(address, 200) as proxy:
            proxy.set_focus(1, target)
        times['returned'] = time.perf_counter()
        watcher.join()
        arrival.append((times['returned'] - times['reached']) * 1000)
    return arrival

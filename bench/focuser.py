"""focusd: report_status() round trip against a bare Pyro4 call in the same run, idle and
during a move, and the delay between the controller reaching its target and set_focus
returning."""
import threading
import time

from harness import baseline_server, latencies, register, start_focusd, stop, summary
from rockit.common import pyro
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

CALLS = 2000


def run():
    model = FocusControllerEmulator(channels=2, steps_per_second=97.7, probe_delay=0.75)
    link, _, address, daemon = start_focusd('bench_focuser', model)
    bare_address = register('bench_bare')
    bare = baseline_server(bare_address)
    rows = {}
    try:
        with pyro.connect(bare_address) as proxy:
            latencies(proxy.report_status, 200)
            rows['bare Pyro4 call'] = summary(latencies(proxy.report_status, CALLS))
        with pyro.connect(address) as proxy:
            while proxy.report_status()['status'] != 1:
                time.sleep(0.1)
            latencies(proxy.report_status, 200)
            rows['report_status, idle'] = summary(latencies(proxy.report_status, CALLS))

            mover = threading.Thread(target=lambda: pyro.connect(address, 200).set_focus(1, 3000))
            mover.start()
            while not proxy.report_status().get('moving_1'):
                time.sleep(0.01)
            rows['report_status, during a move'] = summary(latencies(proxy.report_status, CALLS))
            proxy.stop_channel(1)
            mover.join()

        arrival = []
        for target in (100, 250, 400, 550, 700, 850):
            reached = threading.Event()
            times = {}

            def watch():
                while model.position(1) != target:
                    time.sleep(0.0005)
                times['reached'] = time.perf_counter()
                reached.set()

            watcher = threading.Thread(target=watch)
            watcher.start()
            with pyro.connect(address, 200) as proxy:
                proxy.set_focus(1, target)
            times['returned'] = time.perf_counter()
            watcher.join()
            arrival.append((times['returned'] - times['reached']) * 1000)
        rows['target reached -> set_focus returns'] = summary(arrival)
    finally:
        stop(daemon)
        stop(bare)
        link.stop()
    base = rows['bare Pyro4 call']['median']
    return [(name, r['median'], r['p99'], r['n'], r['median'] / base if 'report_status' in name else None)
            for name, r in rows.items()]

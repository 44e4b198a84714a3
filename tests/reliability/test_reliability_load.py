"""200 clients polling focusd's report_status() back to back while set_focus commands run:
no poll fails, every poller is answered, every command succeeds (the device thread keeps
its serial timing under the load), and the daemon's memory stays flat.

The pollers are threads in POLLER_PROCESSES processes (bench/load.py), so that the
interpreter lock of one client process is not what limits the load. How many calls a
second and how slow the slowest are figures of the machine, measured by `make bench`
(bench/load.py, against a bare Pyro server in the same run), not asserted here. The device
thread waits for the daemon's interpreter lock among 200 busy workers too, so the focuser
gets serial_timeout 5 s here (as production configs) rather than the 0.5 s of the other
tests.
"""
import importlib.util
import threading
import time

from support import ROOT
from reliability_harness import FOCUSD, proc_status

POLLERS = 200
POLLER_PROCESSES = 4
WARMUP = 1.0           # s of unmeasured polling, so that every connection is up
DURATION = 10.0        # s measured
SERIAL_TIMEOUT = 5.0   # s
RSS_GROWTH = 20 * 1024  # kB

_spec = importlib.util.spec_from_file_location('rockit_bench_load', ROOT / 'bench' / 'load.py')
load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


def test_200_pollers_while_commands_run(request):
    device = FOCUSD.start(request, serial_timeout=SERIAL_TIMEOUT)
    pollers = load.spawn_pollers(device.process.address.uri, POLLERS, POLLER_PROCESSES, WARMUP, DURATION)
    time.sleep(WARMUP)
    rss_start = proc_status(device.pid, 'VmRSS')

    results, stop = [], threading.Event()

    def commands():
        with device.proxy(timeout=30) as proxy:
            target = 0
            while not stop.is_set():
                target = 500 - target
                results.append(proxy.set_focus(1, target))

    commander = threading.Thread(target=commands)
    commander.start()
    time.sleep(DURATION - 0.5)
    rss_end = proc_status(device.pid, 'VmRSS')
    polls = load.collect(pollers)
    stop.set()
    commander.join(30)

    assert polls['errors'] == 0, polls['first_errors']
    assert polls['calls'] >= POLLERS, polls['calls']    # at least a call a poller
    assert len(results) >= 5 and set(results) == {0}, results
    assert 'device offline' not in device.log(), device.log()
    assert rss_end - rss_start < RSS_GROWTH, (rss_start, rss_end)

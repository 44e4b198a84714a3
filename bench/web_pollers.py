"""rockit-web: Pyro calls a daemon receives, and HTTP status latency, with 1 and with 50
HTTP clients (browsers) reading its status back to back; the daemon is a counting stand-in."""
import json
import subprocess
import sys
import threading
import time
import urllib.request

from harness import ROOT, WORK, register, stop, summary

sys.path.insert(0, str(ROOT / 'tests' / 'web'))
from stand_in import StandIn  # noqa: E402
from support import free_port  # noqa: E402

SECONDS = 10.0
CLIENTS = (1, 50)


def browse(url, stop_at, times):
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        urllib.request.urlopen(url, timeout=30).read()
        times.append((time.perf_counter() - started) * 1000)


def run():
    stand_in = StandIn(register('bench_web_focus')).start()
    port = free_port()
    config = WORK / 'rockit-web.json'
    config.write_text(json.dumps({'port': port, 'host': '127.0.0.1', 'daemons': ['bench_web_focus']}))
    web = subprocess.Popen([sys.executable, str(ROOT / 'rockit-web'), str(config)],
                           stdout=open(WORK / 'rockit-web.log', 'w'), stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/api/bench_web_focus/status'
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if json.loads(urllib.request.urlopen(url, timeout=2).read())['online']:
                break
        except OSError:
            pass
        time.sleep(0.1)
    rows, baseline = [], {}
    try:
        for clients in CLIENTS:
            times = []
            before = stand_in.focuser.calls
            stop_at = time.monotonic() + SECONDS
            threads = [threading.Thread(target=browse, args=(url, stop_at, times)) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            calls_per_s = (stand_in.focuser.calls - before) / SECONDS
            latency = summary(times)
            baseline.setdefault('calls', calls_per_s)
            baseline.setdefault('latency', latency['median'])
            rows.append((f'{clients} client(s): Pyro calls/s at the daemon ({len(times)} HTTP reads)', calls_per_s,
                         calls_per_s, int(calls_per_s * SECONDS), calls_per_s / baseline['calls']))
            rows.append((f'{clients} client(s): HTTP status latency (ms)', latency['median'], latency['p99'],
                         latency['n'], latency['median'] / baseline['latency']))
    finally:
        stop(web)
        stand_in.stop()
    return rows


if __name__ == '__main__':
    for row in run():
        print(row)

"""Pollers: many clients calling report_status() in a loop, as dashboards and operations
daemons do, to see what a daemon does under load.

Run as a script, one process holds `--threads` pollers, each with its own connection,
calling report_status() back to back (no pause: the harshest a poller can be). A Python
process runs one thread at a time, so a load of 100 pollers is spread over a few such
processes (spawn_pollers) lest the GIL of one client process be what limits the rate.
Each process connects from its own loopback address (127.0.0.1, .2, ...), as dashboards on
several machines would: a daemon lets one address hold only a share of its workers.

    python bench/load.py PYRO:obj@127.0.0.1:9000 --threads 50 --warmup 1 --duration 10

It prints `ready` once every poller is connected, waits for a line on stdin (so that
several processes start together), calls for --warmup seconds unmeasured, then for
--duration seconds measured, and prints one JSON line: calls, errors (the first few, as
text), the slowest call and every latency in ms.

The benchmarks that load daemons (daemons.py, focuser.py) take them from here through
compare.py, which imports this module; this module imports neither.
"""
import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POLLERS = 100
PROCESSES = 4
MAX_ERRORS_SHOWN = 5


def poll(uri, threads, warmup, duration, timeout=30.0, ready_to_go=lambda: None):
    """Run the pollers; their calls, errors and latencies (ms) once duration is over.
    ready_to_go() is called once every poller is connected and returns when they may start."""
    import Pyro4
    import rockit.common.pyro  # noqa: F401  (the project's serializer settings)

    ready = threading.Barrier(threads + 1)
    go = threading.Event()
    results = []
    lock = threading.Lock()

    def poller():
        latencies, errors = [], []
        try:
            proxy = Pyro4.Proxy(uri)
            proxy._pyroTimeout = timeout
            proxy._pyroBind()
        except Exception as e:  # reported, never raised: the pollers' job is to count failures
            errors.append(f'connect: {type(e).__name__}: {e}')
            proxy = None
        ready.wait()
        go.wait()
        end_warmup = time.monotonic() + warmup
        while proxy is not None and time.monotonic() < end_warmup:
            _call(proxy, errors, None)
        end = end_warmup + duration
        while proxy is not None and time.monotonic() < end:
            _call(proxy, errors, latencies)
        if proxy is not None:
            proxy._pyroRelease()
        with lock:
            results.append((latencies, errors))

    workers = [threading.Thread(target=poller, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()
    ready_to_go()
    go.set()
    for worker in workers:
        worker.join(warmup + duration + timeout + 10)
    latencies = [ms for found, _ in results for ms in found]
    errors = [e for _, found in results for e in found]
    return {'calls': len(latencies), 'errors': len(errors), 'first_errors': errors[:MAX_ERRORS_SHOWN],
            'max_ms': max(latencies, default=0.0), 'latencies_ms': [round(ms, 3) for ms in latencies]}


def _call(proxy, errors, latencies):
    started = time.perf_counter()
    try:
        status = proxy.report_status()
        if not isinstance(status, dict):
            raise TypeError(f'report_status returned {type(status).__name__}')
    except Exception as e:  # counted: the load test asserts there are none
        errors.append(f'{type(e).__name__}: {e}')
        proxy._pyroRelease()
        return
    if latencies is not None:
        latencies.append((time.perf_counter() - started) * 1000)


def spawn_pollers(uri, pollers=POLLERS, processes=PROCESSES, warmup=1.0, duration=10.0):
    """Start pollers spread over processes, every one connected before any calls; returns
    the processes as they start warming up (measuring begins warmup seconds later)."""
    per_process = [pollers // processes + (i < pollers % processes) for i in range(processes)]
    started = [subprocess.Popen([sys.executable, str(HERE / 'load.py'), uri, '--threads', str(n),
                                 '--warmup', str(warmup), '--duration', str(duration),
                                 '--source', f'127.0.0.{i + 1}'],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for i, n in enumerate(per_process)]
    for process in started:
        line = process.stdout.readline().strip()
        if line != 'ready':
            for other in started:
                other.kill()
            raise RuntimeError(f'a poller process failed to start: {line!r}')
    for process in started:
        process.stdin.write('go\n')
        process.stdin.flush()
    return started


def collect(processes, timeout=120):
    """Merge the results of spawn_pollers' processes once they end."""
    merged = {'calls': 0, 'errors': 0, 'first_errors': [], 'max_ms': 0.0, 'latencies_ms': []}
    for process in processes:
        out, _ = process.communicate(timeout=timeout)
        if process.returncode:
            raise RuntimeError(f'a poller process failed with exit code {process.returncode}')
        result = json.loads(out.strip().splitlines()[-1])
        merged['calls'] += result['calls']
        merged['errors'] += result['errors']
        merged['first_errors'] += result['first_errors']
        merged['max_ms'] = max(merged['max_ms'], result['max_ms'])
        merged['latencies_ms'] += result['latencies_ms']
    merged['first_errors'] = merged['first_errors'][:MAX_ERRORS_SHOWN]
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description='report_status() pollers against one Pyro daemon')
    parser.add_argument('uri', help='PYRO:object@host:port')
    parser.add_argument('--threads', type=int, default=50, help='pollers in this process (default 50)')
    parser.add_argument('--warmup', type=float, default=1.0, help='seconds of unmeasured calls first')
    parser.add_argument('--duration', type=float, default=10.0, help='seconds measured')
    parser.add_argument('--timeout', type=float, default=30.0, help='Pyro call timeout, seconds')
    parser.add_argument('--source', default='127.0.0.1', help='loopback address to connect from')
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / 'tests'))
    from support import connections_from

    def ready_to_go():
        print('ready', flush=True)
        sys.stdin.readline()

    with connections_from(args.source):
        result = poll(args.uri, args.threads, args.warmup, args.duration, args.timeout, ready_to_go)
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()

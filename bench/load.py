"""Pollers: many clients calling report_status() in a loop, as dashboards and operations
daemons do, to see what a daemon does under load.

Run as a script, one process holds `--threads` pollers, each with its own connection,
calling report_status() back to back (no pause: the harshest a poller can be). A Python
process runs one thread at a time, so a load of 200 pollers is spread over a few such
processes (spawn_pollers) lest the GIL of one client process be what limits the rate.

    python bench/load.py PYRO:obj@127.0.0.1:9000 --threads 50 --warmup 1 --duration 10

It prints `ready` once every poller is connected, waits for a line on stdin (so that
several processes start together), calls for --warmup seconds unmeasured, then for
--duration seconds measured, and prints one JSON line: calls, errors (the first few, as
text), the slowest call and every latency in ms.

run() is the benchmark `make bench` prints: report_status() latency of each daemon idle
and under 200 pollers, against a bare Pyro4 object measured the same way in the same run,
and each CLI's `status` wall time against `python -c pass`. Under load two figures are
kept: one more client calling in turn (what a dashboard sees) and the pollers' own calls.
Adding a daemon is one entry in DAEMONS: a function that starts it and its CLI's name.
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

POLLERS = 200
PROCESSES = 4
MAX_ERRORS_SHOWN = 5
IDLE_CALLS = 2000
LOAD_SECONDS = 8.0
CLI_RUNS = 20


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
                                 '--warmup', str(warmup), '--duration', str(duration)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for n in per_process]
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


# The benchmark: each daemon on its emulator (libvirt's test driver for camvirtd).
def _focusd(harness):
    from rockit.common.emulator import EmulatorLink
    from rockit.focuser.multichannel.emulator import DEMO_PROBES, FocusControllerEmulator
    link = EmulatorLink(FocusControllerEmulator(channels=2, probes=DEMO_PROBES)).start()
    config = {'control_machines': ['LocalHost'], 'serial_port': link.url, 'serial_baud': 9600,
              'serial_timeout': 5, 'channels': 2, 'idle_loop_delay': 5, 'moving_loop_delay': 0.5,
              'move_timeout': 180,
              'temperature_probes': {f'probe{i}': {'label': f'Probe {i}', 'address': address}
                                     for i, address in enumerate(DEMO_PROBES)}}
    return config, link.stop


def _chillerd(harness):
    from rockit.chiller.emulator import ChillerEmulator
    from rockit.common.emulator import EmulatorLink
    link = EmulatorLink(ChillerEmulator()).start()
    config = {'control_machines': ['LocalHost'], 'serial_port': link.url, 'serial_baud': 9600,
              'serial_timeout': 5, 'query_delay': 30}
    return config, link.stop


def _camvirtd(harness):
    node = harness.WORK / 'node.xml'
    node.write_text('<node>' + ''.join(
        f'<domain type="test"><name>cam{i}</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>'
        for i in (1, 2)) + '</node>\n')
    for i in (1, 2):
        harness.register(f'bench_cam{i}')
    config = {'control_machines': ['LocalHost'], 'initialize_timeout': 60, 'shutdown_timeout': 60,
              'libvirt_uri': f'test://{node}', 'domains': {f'cam{i}': {f'cam{i}': f'bench_cam{i}'} for i in (1, 2)}}
    return config, lambda: None


DAEMONS = [  # (executable, CLI, CLI config variable, start(harness) -> (config without daemon/log_name, stop))
    ('focusd', 'focus', 'FOCUSD_CONFIG_PATH', _focusd),
    ('chillerd', 'chiller', 'CHILLERD_CONFIG_PATH', _chillerd),
    ('camvirtd', 'camvirt', 'CAMVIRTD_CONFIG_PATH', _camvirtd),
]


def _under_load(address, harness):
    """(one more client's latencies, the pollers' merged results) under POLLERS pollers."""
    from rockit.common import pyro
    pollers = spawn_pollers(address.uri, POLLERS, PROCESSES, warmup=1.0, duration=LOAD_SECONDS)
    time.sleep(1.0)
    probe = []
    with pyro.connect(address) as proxy:
        end = time.monotonic() + LOAD_SECONDS - 0.5
        while time.monotonic() < end:
            probe += harness.latencies(proxy.report_status, 1)
    polls = collect(pollers)
    if polls['errors']:
        print(f'{address.name}: {polls["errors"]} poller errors, e.g. {polls["first_errors"]}', flush=True)
    return probe, polls['latencies_ms']


def _report_status(label, address, harness):
    """{case: (row name, summary)} for report_status() idle, and under load as seen by one
    more client and by the pollers themselves."""
    from rockit.common import pyro
    with pyro.connect(address) as proxy:
        deadline = time.monotonic() + 30
        while proxy.report_status()['status'] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        harness.latencies(proxy.report_status, 200)
        idle = harness.latencies(proxy.report_status, IDLE_CALLS)
    probe, polls = _under_load(address, harness)
    return {'idle': (f'{label}, idle', harness.summary(idle)),
            'client': (f'{label}, {POLLERS} pollers: one more client', harness.summary(probe)),
            'pollers': (f"{label}, {POLLERS} pollers: the pollers' calls", harness.summary(polls))}


def _row(name, summary, baseline=None):
    """(name, median, p99, n, ratio, against): ratio = median / the baseline row's median."""
    if baseline is None:
        return name, summary['median'], summary['p99'], summary['n'], None, None
    base_name, base = baseline
    return name, summary['median'], summary['p99'], summary['n'], summary['median'] / base['median'], base_name


def _wall_times(argv, harness, env=None):
    return harness.summary(harness.latencies(
        lambda: subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True), CLI_RUNS))


def run():
    """The rows of `make bench`'s daemon table."""
    import os
    sys.path.insert(0, str(HERE))
    import harness

    bare_address = harness.register('bench_load_bare')
    bare_process = harness.baseline_server(bare_address)
    try:
        bare = _report_status('bare Pyro4 call', bare_address, harness)
    finally:
        harness.stop(bare_process)
    python = ('python -c pass', _wall_times([sys.executable, '-c', 'pass'], harness))
    rows = [_row(*bare[case]) for case in ('idle', 'client', 'pollers')] + [_row(*python)]

    for executable, cli, variable, setup in DAEMONS:
        name = f'bench_load_{executable}'
        address = harness.register(name)
        config, stop_device = setup(harness)
        path = harness.WORK / f'{name}.json'
        path.write_text(json.dumps({'daemon': name, 'log_name': f'{executable}@bench', **config}))
        process = harness.start([ROOT / executable, path], address, name)
        try:
            measured = _report_status(f'{executable} report_status', address, harness)
            rows += [_row(*measured[case], bare[case]) for case in ('idle', 'client', 'pollers')]
            status = _wall_times([sys.executable, str(ROOT / cli), 'status'], harness,
                                 dict(os.environ, **{variable: str(path)}))
            rows.append(_row(f'{cli} status', status, python))
        finally:
            harness.stop(process)
            stop_device()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description='report_status() pollers against one Pyro daemon')
    parser.add_argument('uri', help='PYRO:object@host:port')
    parser.add_argument('--threads', type=int, default=50, help='pollers in this process (default 50)')
    parser.add_argument('--warmup', type=float, default=1.0, help='seconds of unmeasured calls first')
    parser.add_argument('--duration', type=float, default=10.0, help='seconds measured')
    parser.add_argument('--timeout', type=float, default=30.0, help='Pyro call timeout, seconds')
    args = parser.parse_args(argv)

    def ready_to_go():
        print('ready', flush=True)
        sys.stdin.readline()

    result = poll(args.uri, args.threads, args.warmup, args.duration, args.timeout, ready_to_go)
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()

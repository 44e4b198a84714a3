"""Benchmark support: a registry on free loopback ports, daemons as subprocesses, timing."""
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]

from rockit.common import pyro, registry  # noqa: E402
from support import TestRegistry  # noqa: E402  (the tests' registry on free loopback ports)

WORK = Path(tempfile.mkdtemp(prefix='rockit-bench-'))
_failed = False


def _note_failure(*exception):
    global _failed
    _failed = True
    sys.__excepthook__(*exception)


def _clean_up():
    """WORK grows to a few GB (the processing bench's days); it is kept, for its logs, only
    when a bench failed."""
    if _failed:
        print(f'the bench files are kept in {WORK}', file=sys.stderr)
    else:
        shutil.rmtree(WORK, ignore_errors=True)


sys.excepthook = _note_failure
atexit.register(_clean_up)
os.environ[registry.ENVIRONMENT_VARIABLE] = str(WORK / 'registry.json')
_registry = TestRegistry(WORK / 'registry.json')


def register(name):
    return _registry.add(name, timeout=30)


def start(argv, address, log_name):
    """Start a daemon subprocess and wait until it answers report_status (or ping)."""
    log = open(WORK / f'{log_name}.log', 'w')
    process = subprocess.Popen([sys.executable] + [str(a) for a in argv], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with pyro.connect(address, 1) as proxy:
                proxy._pyroBind()
            return process
        except pyro.CommunicationErrors:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f'{argv} did not start; see {WORK / log_name}.log')


def start_focusd(name, model, **extra):
    """An emulated controller and a focusd on it, with the CLASP timings and any extra config
    keys: (link, config path, process)."""
    from rockit.common.emulator import EmulatorLink
    link = EmulatorLink(model).start()
    address = register(name)
    config = WORK / f'{name}.json'
    config.write_text(json.dumps({
        'daemon': name, 'log_name': 'focusd@bench', 'control_machines': ['LocalHost'],
        'serial_port': link.url, 'serial_baud': 9600, 'serial_timeout': 5, 'channels': model.channels,
        'idle_loop_delay': 5, 'moving_loop_delay': 0.5, 'move_timeout': 180, **extra}))
    return link, config, address, start([ROOT / 'focusd', config], address, name)


def stop(process):
    process.terminate()
    process.wait(15)


def latencies(fn, count):
    """Per-call wall times in ms."""
    times = []
    for _ in range(count):
        start_time = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start_time) * 1000)
    return times


def summary(times):
    ordered = sorted(times)
    return {'median': statistics.median(ordered), 'p99': ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            'n': len(ordered)}


SMALL_STATUS = {'date': '2026-01-01T00:00:00Z', 'status': 1, 'value': 1.5}


def baseline_server(address, status=None):
    """A bare Pyro4 object in its own process, on the daemons' wire settings (pyro.serve:
    serpent only, COMMTIMEOUT, thread pool size): report_status() is a plain Pyro4.expose
    method returning status (a small dict unless given), without rockit's command wrapper."""
    code = (
        'import sys; sys.path.insert(0, %r)\n'
        'import Pyro4\n'
        'from rockit.common import pyro, registry\n'
        'class Bare:\n'
        '    @Pyro4.expose\n'
        '    def report_status(self):\n'
        '        return %r\n'
        'pyro.serve(Bare(), registry.daemon(%r))\n') % (str(ROOT), SMALL_STATUS if status is None else status,
                                                        address.name)
    return start(['-c', code], address, address.name)


def compile_bytecode():
    """Byte-compile the package as an install does, so start-up times are those of an
    installed CLI even where PYTHONDONTWRITEBYTECODE keeps a clone from caching it."""
    subprocess.run([sys.executable, '-m', 'compileall', '-q', str(ROOT / 'rockit')], check=True)

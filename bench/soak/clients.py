"""What a soak run puts on a daemon and what it measures: pollers calling report_status()
back to back, a client commanding it, the time the daemon takes to come back after each
fault clears, and its threads and memory at start and end under the same clients."""
import random
import threading
import time
from pathlib import Path

from rockit.common import pyro

SLOW_STATUS = 2.0   # s: a status call slower than this is a blocked poller


class Pollers:
    """`count` threads calling report_status() every `pause` seconds, each on its own proxy."""

    def __init__(self, address, count=20, pause=0.1):
        self.address, self.pause = address, pause
        self.calls = self.slow = self.errors = 0
        self.slowest = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll, daemon=True) for _ in range(count)]

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _poll(self):
        proxy = pyro.connect(self.address, 30)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                proxy.report_status()
                failed = False
            except pyro.CommunicationErrors:
                failed = True
                proxy = pyro.connect(self.address, 30)
            seconds = time.monotonic() - started
            with self._lock:
                self.calls += 1
                self.errors += failed
                self.slow += seconds > SLOW_STATUS
                self.slowest = max(self.slowest, seconds)
            self._stop.wait(self.pause)


class Commander:
    """One client sending the daemon's commands in random order: each must answer an int
    code, whatever the device is doing; anything else (an exception) is counted raised."""

    def __init__(self, address, commands, seed, pause=(0.0, 0.5), timeout=120):
        self.address, self.commands, self.pause, self.timeout = address, commands, pause, timeout
        self.rng = random.Random(seed)
        self.answered = {}      # code -> count
        self.raised = []        # repr of every exception, with the command
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(self.timeout + 10)

    def _run(self):
        while not self._stop.is_set():
            method, args = self.rng.choice(self.commands)
            if callable(args):
                args = args(self.rng)
            try:
                with pyro.connect(self.address, self.timeout) as proxy:
                    code = getattr(proxy, method)(*args)
                if isinstance(code, int) and not isinstance(code, bool):
                    self.answered[code] = self.answered.get(code, 0) + 1
                else:
                    self.raised.append(f'{method}{tuple(args)} answered {code!r}')
            except Exception as e:
                self.raised.append(f'{method}{tuple(args)}: {type(e).__name__}: {e}')
            self._stop.wait(self.rng.uniform(*self.pause))

    @property
    def count(self):
        return sum(self.answered.values()) + len(self.raised)


def proc_status(pid):
    """(threads, resident memory in kB) of a process."""
    fields = {}
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        key, _, value = line.partition(':')
        fields[key] = value.split()
    return int(fields['Threads'][0]), int(fields['VmRSS'][0])


def wait_online(address, timeout, is_online=lambda status: status['status'] != 0):
    """Seconds until report_status() says online, or None if not within timeout."""
    started = time.monotonic()
    with pyro.connect(address, 10) as proxy:
        while time.monotonic() - started < timeout:
            try:
                if is_online(proxy.report_status()):
                    return time.monotonic() - started
            except pyro.CommunicationErrors:
                pass
            time.sleep(0.05)
    return None

"""Test support, for the tests and the benchmarks: daemons on free loopback ports through a
registry file, daemons run as real subprocesses, CLIs run as real subprocesses, and Pyro
proxies that connect from 127.0.0.2 to exercise the control-IP guard. The fixtures built
on it are in the conftest.py files."""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import Pyro4  # noqa: E402
import Pyro4.socketutil  # noqa: E402

from rockit.common import pyro, registry as rockit_registry  # noqa: E402


# The recorded data (Villarrica images, 2019 spectra) stay outside the project: in
# ../shared/data beside the repository, or beside the folder of worktrees a clone sits in.
SHARED_DATA = next((p / 'shared' / 'data' for p in ROOT.parents if (p / 'shared' / 'data').is_dir()),
                   ROOT.parent / 'shared' / 'data')


def needs_shared_data(*paths):
    """A skip marker for a test of recorded data: it runs when every path is there, and
    otherwise skips with one line that names what is missing and where it goes."""
    import pytest
    missing = [path for path in paths if not path.exists()]
    where = ', '.join(str(path.relative_to(SHARED_DATA)) if path.is_relative_to(SHARED_DATA) else str(path)
                      for path in missing)
    return pytest.mark.skipif(bool(missing), reason=f'recorded data missing: {where} '
                                                    f'(put the shared data folder at {SHARED_DATA})')


# The programs the suite runs, each with the Debian package of tools/debian-packages that
# brings it: a missing one fails the tests that need it (and tests/test_tools.py), never skips.
TOOLS = {'make': 'make', 'bash': 'bash', 'tar': 'tar', 'mount': 'mount', 'umount': 'mount', 'unshare': 'util-linux',
         'systemd-analyze': 'systemd', 'systemctl': 'systemd', 'systemd-sysusers': 'systemd',
         'rpm': 'rpm', 'rpmbuild': 'rpm', 'rsync': 'rsync', 'ssh': 'openssh-client',
         'chromium': 'chromium', 'chromedriver': 'chromium-driver'}


def tool(name):
    """The path of a program the suite needs; the test fails, naming the package, without it."""
    import shutil
    import pytest
    path = shutil.which(name)
    if path is None:
        pytest.fail(f'{name} is missing: install the Debian package {TOOLS[name]} (tools/debian-packages, '
                    'which `make venv` installs as root)', pytrace=False)
    return path


def _port_slice():
    """This process's own ports: below the kernel's ephemeral range (which hands out the
    ports of every bind to port 0 and every outgoing connection), a slice for each xdist
    worker. A port found free here is then not taken by another worker or the kernel
    before the daemon it is meant for binds it."""
    try:
        ephemeral = int(Path('/proc/sys/net/ipv4/ip_local_port_range').read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    low, high = 10000, max(ephemeral, 12000)
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1') or 1)
    worker = int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0)
    size = (high - low) // max(workers, 1)
    start = low + worker % max(workers, 1) * size
    return start, size


def _ports_from_anywhere_in(start, size):
    """The slice's ports in turn from a random one: another test session on the machine at
    the same time, whose workers have the same slices, starts elsewhere in them."""
    import random
    first = random.randrange(size)
    return (start + (first + i) % size for i in range(size))


_PORTS = iter(())


def free_port(kind=socket.SOCK_STREAM):
    """A free loopback TCP port (or UDP with kind=socket.SOCK_DGRAM), from this process's
    slice, never the same twice until the slice is used up."""
    global _PORTS
    for _ in range(2):
        for port in _PORTS:
            with socket.socket(socket.AF_INET, kind) as sock:
                try:
                    sock.bind(('127.0.0.1', port))
                except OSError:
                    continue
            return port
        _PORTS = _ports_from_anywhere_in(*_port_slice())
    raise OSError('no free port left in this worker\'s slice')


class TestRegistry:
    """A registry override file; every daemon added gets a free loopback port."""
    __test__ = False

    def __init__(self, path):
        self.path = path
        self.data = {'daemons': {}, 'machines': {'LocalHost': '127.0.0.1', 'OtherHost': '127.0.0.2'}}
        self._write()

    def add(self, name, timeout=5):
        self.data['daemons'][name] = {'object_id': f'{name}_daemon', 'host': '127.0.0.1',
                                      'port': free_port(), 'timeout': timeout}
        self._write()
        return rockit_registry.daemon(name)

    def _write(self):
        self.path.write_text(json.dumps(self.data))
        rockit_registry.load.cache_clear()


def wait_until(predicate, timeout=60.0, interval=0.05, message='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout} s waiting for {message}')


class DaemonProcess:
    """A daemon executable run as a subprocess on its registry address."""
    __test__ = False

    def __init__(self, executable, config_path, address, log_path):
        self.executable, self.config_path, self.address, self.log_path = executable, config_path, address, log_path
        self.process = None

    def start(self, wait=True):
        self.log = open(self.log_path, 'ab')
        self.process = subprocess.Popen([sys.executable, str(ROOT / self.executable), str(self.config_path)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        if wait:
            wait_until(self.answers, message=f'{self.executable} to answer')
        return self

    def answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f'{self.executable} exited with {self.process.returncode}:\n{self.output()}')
        try:
            with pyro.connect(self.address, timeout=1) as proxy:
                proxy.report_status()
            return True
        except pyro.CommunicationErrors:
            return False

    def proxy(self, timeout=None):
        return pyro.connect(self.address, timeout)

    def output(self):
        return Path(self.log_path).read_text(errors='replace')

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f'{self.executable} ignored {sig!r}:\n{self.output()}')
        if self.process:
            self.log.close()
        return self.process.returncode if self.process else None


class DaemonUnderTest:
    """What every daemon's test harness offers: self.daemon is its DaemonProcess."""
    __test__ = False
    PROXY_TIMEOUT = 30

    def proxy(self, timeout=None):
        return self.daemon.proxy(timeout or self.PROXY_TIMEOUT)

    def call(self, method, *args):
        with self.proxy() as proxy:
            return getattr(proxy, method)(*args)

    def status(self):
        return self.call('report_status')


def run_cli(executable, *args, config_env=None, config_path=None, timeout=60, input=None):
    """Run a CLI as a subprocess; returns CompletedProcess with text output."""
    env = os.environ.copy()
    if config_env:
        env[config_env] = str(config_path)
    return subprocess.run([sys.executable, str(ROOT / executable)] + [str(a) for a in args],
                          capture_output=True, text=True, env=env, timeout=timeout, input=input)


def exit_code(code):
    """The process exit status a CLI returning a (possibly negative) status code has."""
    return code % 256


@contextlib.contextmanager
def connections_from(source_ip):
    """Within this block, Pyro proxies connect from source_ip (e.g. 127.0.0.2)."""
    original = Pyro4.socketutil.createSocket

    def create_socket(bind=None, connect=None, reuseaddr=False, keepalive=True, timeout=-1,
                      noinherit=False, ipv6=False, nodelay=True, sslContext=None):
        if connect is None:
            return original(bind, connect, reuseaddr, keepalive, timeout, noinherit, ipv6, nodelay, sslContext)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source_ip, 0))
        if timeout is not None and timeout > 0:  # 0 would make the socket non-blocking
            sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect(connect)
        return sock

    Pyro4.socketutil.createSocket = create_socket
    Pyro4.core.socketutil.createSocket = create_socket
    try:
        yield
    finally:
        Pyro4.socketutil.createSocket = original
        Pyro4.core.socketutil.createSocket = original


class Trickle:
    """Slow clients: `count` sockets from `source` to (host, port), each sending `payload`
    one byte every `interval` s from one thread, until stop(), the payload's end or
    `duration` s (so that it always ends by itself). `open` counts the sockets the server
    has not closed yet; `rounds` the bytes sent on each."""
    __test__ = False

    def __init__(self, host, port, count, payload, source='127.0.0.1', interval=1.0, duration=120.0):
        self.address, self.count, self.payload, self.source = (host, port), count, payload, source
        self.interval, self.duration = interval, duration
        self.sockets, self.rounds, self.refused = [], 0, 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name='trickle', daemon=True)

    @property
    def open(self):
        return len(self.sockets)

    @property
    def finished(self):
        """Every byte of the payload was sent."""
        return self.rounds >= len(self.payload)

    def start(self):
        for _ in range(self.count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((self.source, 0))
            try:
                sock.connect(self.address)
            except OSError:
                sock.close()
                self.refused += 1
                continue
            self.sockets.append(sock)
        self._thread.start()
        return self

    def _run(self):
        ends = time.monotonic() + self.duration
        while not self._stopping.is_set() and time.monotonic() < ends and not self.finished and self.sockets:
            byte = self.payload[self.rounds:self.rounds + 1]
            for sock in list(self.sockets):
                try:
                    sock.send(byte)
                except OSError:   # the server closed it
                    self.sockets.remove(sock)
                    sock.close()
            self.rounds += 1
            self._stopping.wait(self.interval)

    def stop(self):
        self._stopping.set()
        self._thread.join(self.interval + 5)
        for sock in self.sockets:
            sock.close()
        self.sockets = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

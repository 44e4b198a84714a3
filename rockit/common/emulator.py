"""Serves a device model over a TCP port or a pty, as the real device's serial line would,
with the faults tests need: unplug, silence, garbage, late replies, every other reply lost.

A model is any object with:
    request_terminator: bytes            the byte(s) that end a request
    reply_terminator: bytes              the byte(s) that end a reply (kept on garbage)
    respond(request: bytes) -> bytes | None
        the full reply (with its terminator) to one request (terminator stripped),
        or None to say nothing; it may sleep to model a slow device.
"""
import argparse
import os
import random
import select
import signal
import socket
import threading
import time
import tty

MAX_REQUEST = 4096


class EmulatorLink:
    def __init__(self, model, transport='tcp', port=0, link_path=None):
        if transport not in ('tcp', 'pty'):
            raise ValueError('transport must be tcp or pty')
        self.model = model
        self.transport = transport
        self.link_path = link_path  # pty only: a stable symlink, as udev makes (/dev/focuser)
        self.requests = []          # every request received, for tests to inspect

        # Fault switches, safe to flip from any thread.
        self.silent = False         # read requests, answer nothing
        self.garbage = False        # answer random bytes instead of the reply
        self.delay = 0.0            # seconds to wait before each reply
        self.every_other = False    # answer only every second request

        self._plugged = threading.Event()
        self._plugged.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conn = None           # the current client socket or pty master fd
        self._answered = 0
        self._port = port
        self._listener = None
        self._pty_slave = None
        self._pty_path = None
        self._thread = None

    @property
    def url(self):
        if self.transport == 'tcp':
            return f'socket://127.0.0.1:{self._port}'
        return self.link_path or self._pty_path

    def start(self):
        if self.transport == 'tcp':
            self._listener = socket.create_server(('127.0.0.1', self._port))
            self._port = self._listener.getsockname()[1]
            target = self._serve_tcp
        else:
            self._open_pty()
            target = self._serve_pty
        self._thread = threading.Thread(target=target, name='emulator', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._drop_connection()
        if self._listener:
            self._listener.close()
        if self._pty_slave is not None:
            os.close(self._pty_slave)
            self._pty_slave = None
        if self._thread:
            self._thread.join(2)

    def unplug(self):
        """The cable is pulled: the link closes and nothing answers until replug()."""
        self._plugged.clear()
        self._drop_connection()

    def replug(self):
        self._plugged.set()

    # TCP: one client at a time, as a serial line has one peer.
    def _serve_tcp(self):
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if not self._plugged.is_set():
                client.close()
                continue
            with self._lock:
                self._conn = client
            self._serve(lambda n: client.recv(n), client.sendall, client)
            client.close()

    # pty: the daemon opens the slave path; a replug makes a new pty behind the same link.
    def _open_pty(self):
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as on a real port
        self._pty_slave = slave
        self._pty_path = os.ttyname(slave)
        with self._lock:
            self._conn = master
        if self.link_path:
            tmp = f'{self.link_path}.tmp'
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(self._pty_path, tmp)
            os.replace(tmp, self.link_path)

    def _serve_pty(self):
        while not self._stop.is_set():
            master = self._conn
            if master is None:
                self._plugged.wait(0.2)
                if self._plugged.is_set() and not self._stop.is_set():
                    if self._pty_slave is not None:
                        os.close(self._pty_slave)
                    self._open_pty()
                continue
            self._serve(lambda n: os.read(master, n), lambda data: os.write(master, data), master)

    def _serve(self, recv, send, conn):
        buffer = b''
        terminator = self.model.request_terminator
        while not self._stop.is_set() and self._conn is conn:
            try:
                ready, _, _ = select.select([conn], [], [], 0.2)
                if not ready:
                    continue
                chunk = recv(1024)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            buffer += chunk
            while terminator in buffer:
                request, buffer = buffer.split(terminator, 1)
                self._answer(request, send)
            buffer = buffer[-MAX_REQUEST:]

    def _answer(self, request, send):
        self.requests.append(request)
        reply = self.model.respond(request)
        self._answered += 1
        if reply is None or self.silent or not self._plugged.is_set():
            return
        if self.every_other and self._answered % 2 == 0:
            return
        if self.garbage:
            reply = random.randbytes(random.randrange(1, 24)) + self.model.reply_terminator
        if self.delay:
            time.sleep(self.delay)
        try:
            send(reply)
        except OSError:
            pass

    def _drop_connection(self):
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if isinstance(conn, socket.socket):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            else:
                os.close(conn)
        except OSError:
            pass


def run_standalone(model, description, argv=None):
    """`python -m rockit.<device>.emulator`: serve model on a pty or TCP port until Ctrl-C."""
    parser = argparse.ArgumentParser(description=description)
    where = parser.add_mutually_exclusive_group()
    where.add_argument('--tcp', type=int, metavar='PORT', help='serve on 127.0.0.1:PORT (0 = any free port)')
    where.add_argument('--pty', action='store_true', help='serve on a new pty (the default)')
    parser.add_argument('--link', metavar='PATH', help='with --pty: keep a symlink to the pty at PATH')
    args = parser.parse_args(argv)
    transport = 'tcp' if args.tcp is not None else 'pty'
    link = EmulatorLink(model, transport, port=args.tcp or 0, link_path=args.link).start()
    print(link.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    link.stop()

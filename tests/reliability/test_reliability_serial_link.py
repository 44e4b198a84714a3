"""The serial link of a busy daemon. Under a heavy Pyro load (hundreds of worker threads
wanting the interpreter lock) the device thread wins the lock back slowly after each wait
on the line; reading a reply a byte at a time then made a healthy device miss
serial_timeout and go OFFLINE. The link must take each reply in the chunks it arrives in.

The device runs in its own process, so that it answers at once however busy this one is.
"""
import subprocess
import sys
import threading

import pytest

from rockit.common.serial_link import SerialLink

REPLY = b'T1=+000000,C1=+000000,' * 9 + b'\r\n'    # about the longest reply the focuser sends
BUSY_THREADS = 10
TIMEOUT = 1.5      # s; a busy interpreter reads this reply in well under 0.5 s, bytewise in seconds

DEVICE = f'''
import socket
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
while connection.recv(64):
    connection.sendall({REPLY!r})
'''


@pytest.fixture
def link():
    """A link to a device that answers every line with REPLY, in one write."""
    device = subprocess.Popen([sys.executable, '-c', DEVICE], stdout=subprocess.PIPE, text=True)
    link = SerialLink(f'socket://127.0.0.1:{int(device.stdout.readline())}', 9600, TIMEOUT)
    link.open()
    yield link
    link.close()
    device.kill()
    device.wait()


@pytest.fixture
def busy_interpreter():
    """Threads that always want the interpreter lock, as busy Pyro workers do."""
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(BUSY_THREADS)]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join()


def test_long_replies_are_read_within_the_timeout_while_the_interpreter_is_busy(link, busy_interpreter):
    for _ in range(10):
        assert link.request(b'?\n', b'\r\n') == REPLY[:-2]


def test_bytes_after_the_terminator_are_not_part_of_the_reply(link):
    assert link.request(b'?\n', b',') == b'T1=+000000'
    assert link.request(b'?\n', b'\r\n') == REPLY[:-2]   # the rest of the last reply was stale

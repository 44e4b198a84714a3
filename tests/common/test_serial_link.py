"""The serial link: complete replies only, exclusive open, clear reasons."""
import os
import select
import socket
import threading
import tty

import pytest

from rockit.common.errors import DeviceError
from rockit.common.serial_link import SerialLink


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def answer_with(master, reply):
    """Read one request on the pty master and write reply."""
    def serve():
        os.read(master, 64)
        os.write(master, reply)
    threading.Thread(target=serve, daemon=True).start()


def test_a_complete_reply_is_returned_without_its_terminator(pty_pair):
    master, path = pty_pair
    link = SerialLink(path, 9600, 1)
    link.open()
    answer_with(master, b'$\r\n')
    assert link.request(b'1S\n', b'\r\n') == b'$'
    link.close()


def test_a_partial_reply_counts_as_a_timeout(pty_pair):
    master, path = pty_pair
    link = SerialLink(path, 9600, 0.3)
    link.open()
    answer_with(master, b'T1=+0001')
    with pytest.raises(DeviceError, match="incomplete reply b'T1=\\+0001'"):
        link.request(b'?\n', b'\r\n')
    answer_with(master, b'')
    with pytest.raises(DeviceError, match='no reply'):
        link.request(b'?\n', b'\r\n')
    link.close()


def test_two_links_cannot_share_one_device(pty_pair):
    _, path = pty_pair
    first, second = SerialLink(path, 9600, 1), SerialLink(path, 9600, 1)
    first.open()
    with pytest.raises(DeviceError, match=f'cannot open {path}'):
        second.open()
    first.close()
    second.open()   # free again once the first owner lets go
    second.close()


def test_a_missing_device_names_the_port():
    with pytest.raises(DeviceError, match='cannot open /dev/no-such-focuser'):
        SerialLink('/dev/no-such-focuser', 9600, 1).open()


def test_requests_on_a_closed_link_fail_cleanly():
    with pytest.raises(DeviceError, match='not connected'):
        SerialLink('socket://127.0.0.1:1', 9600, 1).request(b'?\n', b'\r\n')


def test_a_terminal_server_that_hangs_up_fails_the_request_and_frees_the_thread():
    """socket://: the peer closes right after the connection. pyserial 3.4 (Rocky 9's) spun
    for ever in its input reset once the close had arrived; the request must end with
    DeviceError instead, so the device thread can go offline and reconnect."""
    listener = socket.create_server(('127.0.0.1', 0))
    hung_up = threading.Event()

    def hang_up():
        connection, _ = listener.accept()
        connection.close()
        hung_up.set()

    threading.Thread(target=hang_up, daemon=True).start()
    link = SerialLink(f'socket://127.0.0.1:{listener.getsockname()[1]}', 9600, 0.5)
    outcome = []

    def request():
        try:
            link.open()
            assert hung_up.wait(30)
            select.select([link._port], [], [], 30)      # the close has arrived
            link.request(b'PING\n', b'\n')
        except DeviceError as e:
            outcome.append(e)

    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    thread.join(60)
    listener.close()
    assert not thread.is_alive(), 'the request never returned'
    assert outcome and 'disconnected' in str(outcome[0])

"""A request/reply link to a serial device through pyserial's serial_for_url: a device path
(/dev/focuser), a pty path, or socket://host:port (a terminal server or an emulator).

A reply is complete only when its terminator arrives: silence and partial replies are both
timeouts, reported as DeviceError with a reason fit for the daemon's status.

Replies are read in whatever chunks have arrived, not a byte at a time as pyserial's
read_until does: each read is a wake-up that must win back the interpreter lock, and in a
daemon with hundreds of busy Pyro threads each wake-up can wait tens of milliseconds, so a
status line read bytewise outlasted serial_timeout on a healthy device.
"""
import contextlib
import select
import time

import serial
from serial.urlhandler import protocol_socket

from .errors import DeviceError

MAX_REPLY = 4096


class SerialLink:
    def __init__(self, url, baud, timeout, xonxoff=False):
        self.url, self.baud, self.timeout, self.xonxoff = url, baud, timeout, xonxoff
        self._port = None

    @classmethod
    def from_config(cls, config, xonxoff=False):
        """The link a config.SerialDaemonConfig describes."""
        return cls(config.serial_port, config.serial_baud, config.serial_timeout, xonxoff)

    def open(self):
        try:
            # exclusive: a second daemon cannot open the same device (flock on posix ports).
            self._port = port_for_url(self.url, baudrate=self.baud, timeout=self.timeout,
                                       write_timeout=self.timeout, xonxoff=self.xonxoff, exclusive=True)
            if _selectable(self._port):
                self._port.timeout = 0   # reads take what has arrived; _read_reply does the waiting
            self._port.reset_input_buffer()
        except (serial.SerialException, OSError, ValueError) as e:
            self._port = None
            raise DeviceError(f'cannot open {self.url}: {e}') from None

    def close(self):
        port, self._port = self._port, None
        with contextlib.suppress(serial.SerialException, OSError):   # closing a failed link
            if port is not None:
                port.close()

    @property
    def is_open(self):
        return self._port is not None

    def request(self, data, terminator):
        """Send data, return the reply without its terminator."""
        if self._port is None:
            raise DeviceError('not connected')
        try:
            self._port.reset_input_buffer()  # a late reply to an earlier request is stale
            self._port.write(data)
            self._port.flush()
            reply = self._read_reply(terminator)
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f'link failed: {e}') from None
        if not reply.endswith(terminator):
            raise DeviceError(f'no reply to {data!r} within {self.timeout} s' if not reply else
                              f'incomplete reply {reply[:64]!r} to {data!r}')
        return reply[:-len(terminator)]

    def _read_reply(self, terminator):
        """The bytes up to and including the first terminator, or those that arrived within
        the timeout (anything after the terminator is stale)."""
        if self._port.timeout:   # a port select() cannot wait on (rfc2217://, loop://)
            return self._port.read_until(terminator, MAX_REPLY)
        reply = bytearray()
        deadline = time.monotonic() + self.timeout
        while terminator not in reply and len(reply) < MAX_REPLY:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._port], [], [], remaining)[0]:
                break
            reply += self._port.read(MAX_REPLY - len(reply))
        end = reply.find(terminator)
        return bytes(reply if end < 0 else reply[:end + len(terminator)])


class _SocketPort(protocol_socket.Serial):
    """pyserial's socket:// port, whose input reset stops at the end of the stream as it
    does from pyserial 3.5: 3.4 (Rocky 9's) spins there for ever once the peer has closed,
    and its open() resets the input, so a terminal server that hangs up held the device
    thread for good."""

    def reset_input_buffer(self):
        while select.select([self._socket], [], [], 0)[0]:
            if not self._socket.recv(4096):
                break


def port_for_url(url, **options):
    """serial.serial_for_url(url, **options), with _SocketPort for socket:// URLs (tests
    that talk to an emulator through a plain pyserial port open it here too)."""
    if not url.lower().startswith('socket://'):
        return serial.serial_for_url(url, **options)
    port = _SocketPort(None, **options)
    port.port = url
    port.open()
    return port


def _selectable(port):
    try:
        port.fileno()
        return True
    except (AttributeError, NotImplementedError, serial.SerialException):
        return False

"""A request/reply link to a serial device through pyserial's serial_for_url: a device path
(/dev/focuser), a pty path, or socket://host:port (a terminal server or an emulator).

A reply is complete only when its terminator arrives: silence and partial replies are both
timeouts, reported as DeviceError with a reason fit for the daemon's status.
"""
import serial

from .errors import DeviceError

MAX_REPLY = 4096


class SerialLink:
    def __init__(self, url, baud, timeout, xonxoff=False):
        self.url, self.baud, self.timeout, self.xonxoff = url, baud, timeout, xonxoff
        self._port = None

    def open(self):
        try:
            # exclusive: a second daemon cannot open the same device (flock on posix ports).
            self._port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=self.timeout,
                                               write_timeout=self.timeout, xonxoff=self.xonxoff,
                                               exclusive=True)
            self._port.reset_input_buffer()
        except (serial.SerialException, OSError, ValueError) as e:
            self._port = None
            raise DeviceError(f'cannot open {self.url}: {e}') from None

    def close(self):
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

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
            reply = self._port.read_until(terminator, MAX_REPLY)
        except (serial.SerialException, OSError) as e:
            raise DeviceError(f'link failed: {e}') from None
        if not reply.endswith(terminator):
            raise DeviceError(f'no reply to {data!r} within {self.timeout} s' if not reply else
                              f'incomplete reply {reply[:64]!r} to {data!r}')
        return reply[:-len(terminator)]

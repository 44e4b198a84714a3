"""A line device for reconnection tests and benchmarks: an emulated device answering PING
(and CMD), reached over a real serial link (pyserial on socket://) by a device loop whose
retry waits are scaled down tenfold (0.1 s doubling to 0.5 s; production: 1 s to 5 s)."""
import logging
import time

from rockit.common.device import DeviceLoop
from rockit.common.serial_link import SerialLink


class LineModel:
    """Answers PING always; with fail_every_other, only every second CMD."""
    request_terminator = reply_terminator = b'\n'

    def __init__(self):
        self.fail_every_other = False
        self.commands = 0

    def respond(self, request):
        if request == b'PING':
            return b'PONG\n'
        self.commands += 1
        if self.fail_every_other and self.commands % 2 == 0:
            return None
        return b'DONE\n'


class ScaledLoop(DeviceLoop):
    BACKOFF_MIN = 0.1
    BACKOFF_MAX = 0.5


class LineDevice:
    def __init__(self, url, log=None):
        self.link = SerialLink(url, 9600, 0.3)
        self.opened = []   # monotonic times of each successful open
        self.loop = ScaledLoop(self, log or logging.getLogger('rockit-test-line'))

    def open_device(self):
        self.link.open()
        self.link.request(b'PING\n', b'\n')
        self.opened.append(time.monotonic())

    def close_device(self):
        self.link.close()

    def poll(self):
        self.link.request(b'PING\n', b'\n')

    def poll_interval(self):
        return 0.02

    def command(self):
        return self.link.request(b'CMD\n', b'\n')

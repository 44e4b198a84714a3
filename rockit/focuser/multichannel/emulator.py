"""A model of the multi-channel focus controller's firmware, so that the daemon and its tests
can run without the hardware, quirks included.

Serve it with rockit.common.emulator.EmulatorLink, or standalone:
    python -m rockit.focuser.multichannel.emulator [--tcp PORT | --pty] [--link PATH] [--channels N]

It follows the firmware byte by byte: b'\\r' or b'\\n' ends a command, a terminator arriving
on an empty buffer is stored as data (so b'\\r\\n' poisons the next command), a channel digit
with a bad suffix gets no reply, the status line is printed at fixed offsets (so a position
of a million steps or more corrupts it), an empty probe list is a bare b'\\n', a probe query
it cannot parse (or any on a firmware built without probes) gets b'?', and sub-zero
temperatures read 4096 + value.

Motion is computed lazily from time.monotonic() whenever the state is read or changed, so
there is no thread to manage. Like the firmware it counts 16 microsteps per reported step.
"""
import argparse
import threading
import time

from rockit.common.emulator import run_standalone

from . import protocol

MICROSTEPS = 16             # internal counts per reported step (DOWNSAMPLE_BITS = 4)
COMMAND_BUFFER = 20         # bytes the firmware keeps of one command; the rest is lost
OUTPUT_BUFFER = 256
CHANNEL_FIELD = 22          # bytes of 'T1=+000000,C1=+000000,': where each channel is printed
TARGET_DIGITS = 7           # the firmware accepts up to 7 digits in a target
PROBE_LIST_LIMIT = 4
DEMO_PROBES = {'28FF4A1B6117045D': 18.25, '28AA9C3E1D130219': 21.5625}


class _Channel:
    """One stepper, in microsteps; current moves toward target from (origin, since)."""

    def __init__(self):
        self.target = 0
        self.origin = 0
        self.since = time.monotonic()

    def current(self, now, rate):
        travelled = int((now - self.since) * rate)
        if self.origin < self.target:
            return min(self.origin + travelled, self.target)
        return max(self.origin - travelled, self.target)

    def settle(self, now, rate):
        """Fix the position reached so far, before the target changes."""
        self.origin = self.current(now, rate)
        self.since = now


class FocusControllerEmulator:
    """The model for EmulatorLink: every public method and property is thread-safe."""
    request_terminator = protocol.REQUEST_END
    reply_terminator = protocol.REPLY_END

    def __init__(self, channels=2, probes=None, steps_per_second=97.7, probe_delay=0.75, probe_support=True):
        if not 1 <= channels <= protocol.MAX_CHANNEL:
            raise ValueError(f'channels must be 1..{protocol.MAX_CHANNEL}')
        if not steps_per_second > 0:
            raise ValueError('steps_per_second must be positive')
        self.channels = channels
        self.steps_per_second = steps_per_second
        self.probe_delay = probe_delay
        self.failing_probes = set()     # addresses that answer FAILED, as a dead probe does
        self.probe_support = probe_support  # False: a firmware built without probes, '?' to any '@'
        self._lock = threading.Lock()   # guards the device state below
        self._input_lock = threading.Lock()  # guards the command buffer
        self._channels = [_Channel() for _ in range(channels)]
        self._fans = False
        self._probes = {}
        for address, celsius in (probes or {}).items():
            self.set_temperature(address, celsius)
        self._command = b''

    # Helpers for tests.
    def position(self, channel):
        """The current position as the status line reports it."""
        with self._lock:
            return self._channel(channel).current(time.monotonic(), self._rate) // MICROSTEPS

    def target(self, channel):
        with self._lock:
            return self._channel(channel).target // MICROSTEPS

    def is_moving(self, channel):
        with self._lock:
            state = self._channel(channel)
            return state.current(time.monotonic(), self._rate) != state.target

    @property
    def fans(self):
        with self._lock:
            return self._fans

    def set_temperature(self, address, celsius):
        """Put a probe on the bus (or change its reading)."""
        protocol.probe_query(address)   # ValueError unless 16 hex digits
        with self._lock:
            self._probes[address.upper()] = float(celsius)

    def change_speed(self, steps_per_second):
        """A motor that slows down or speeds up mid-move (a test holds a move this way)."""
        if not steps_per_second > 0:
            raise ValueError('steps_per_second must be positive')
        with self._lock:
            now = time.monotonic()
            for state in self._channels:
                state.settle(now, self._rate)
            self.steps_per_second = steps_per_second

    def power_cycle(self):
        """Power lost and back: the firmware restores current = target from its EEPROM, so a
        cut mid-move leaves it reporting a position the motor never reached; fans are off."""
        with self._input_lock, self._lock:
            for state in self._channels:
                state.origin, state.since = state.target, time.monotonic()
            self._fans = False
            self._command = b''

    @property
    def _rate(self):
        return self.steps_per_second * MICROSTEPS

    def _channel(self, channel):
        if not 1 <= channel <= self.channels:
            raise ValueError(f'no channel {channel}')
        return self._channels[channel - 1]

    # The serial line.
    def respond(self, request):
        """Feed the request and its b'\\n' to the firmware's input loop, byte by byte."""
        replies = []
        with self._input_lock:
            for value in request + self.request_terminator:
                if self._command and value in b'\r\n':
                    command, self._command = self._command, b''
                    reply = self._execute(command)
                    if reply is not None:
                        replies.append(reply)
                elif len(self._command) < COMMAND_BUFFER:
                    self._command += bytes([value])
        return b''.join(replies) if replies else None

    def _execute(self, command):
        """The reply to one command, terminator included, or None for silence."""
        if command == b'?':
            return self._status_line()
        if command == b'#':
            return b'1\r\n' if self.fans else b'0\r\n'
        if command in (b'#0', b'#1'):
            with self._lock:
                self._fans = command == b'#1'
            return b'$\r\n'
        if command[:1] == b'@' and not self.probe_support:
            return b'?\r\n'
        if command == b'@':
            return self._probe_list()
        if len(command) == 17 and command[:1] == b'@':
            return self._read_probe(command[1:])
        if ord('1') <= command[0] <= ord('0') + self.channels:
            return self._channel_command(command[0] - ord('0'), command[1:])
        return b'?\r\n'

    def _channel_command(self, channel, suffix):
        now = time.monotonic()
        if suffix in (b'S', b'Z'):
            with self._lock:
                state = self._channel(channel)
                state.settle(now, self._rate)
                if suffix == b'Z':
                    state.origin = 0
                state.target = state.origin
            return b'$\r\n'
        if len(suffix) > 1 and suffix[:1] in b'+-':
            digits = suffix[1:]
            if len(digits) > TARGET_DIGITS or not all(ord('0') <= d <= ord('9') for d in digits):
                return b'?\r\n'
            with self._lock:
                state = self._channel(channel)
                state.settle(now, self._rate)
                state.target = int(suffix) * MICROSTEPS
            return b'$\r\n'
        return None

    def _status_line(self):
        """Printed the firmware's way: each channel at a fixed offset, then the comma after
        the last one overwritten by \\r\\n, so an 8-character number spills into its neighbour."""
        now = time.monotonic()
        with self._lock:
            pairs = [(state.target // MICROSTEPS, state.current(now, self._rate) // MICROSTEPS)
                     for state in self._channels]
        output = bytearray(OUTPUT_BUFFER)
        for index, (target, current) in enumerate(pairs):
            n = index + 1
            _sprintf(output, index * CHANNEL_FIELD, f'T{n}={target:+07d},C{n}={current:+07d},')
        _sprintf(output, len(pairs) * CHANNEL_FIELD - 1, '\r\n')
        return bytes(output[:output.index(0)])

    def _probe_list(self):
        with self._lock:
            addresses = list(self._probes)[:PROBE_LIST_LIMIT]
        if not addresses:
            return b'\n'
        return ','.join(addresses).encode('ascii') + b'\r\n'

    def _read_probe(self, hex_address):
        address = _scan_address(hex_address)
        if address is None:
            return b'?\r\n'
        time.sleep(self.probe_delay)   # the firmware blocks for the 750 ms conversion
        with self._lock:
            celsius = self._probes.get(address)
        if celsius is None or address in self.failing_probes or address.lower() in self.failing_probes:
            return b'FAILED\r\n'
        return _format_temperature(celsius).encode('ascii') + b'\r\n'


def _sprintf(buffer, offset, text):
    """Write text and its NUL at offset, as sprintf into the firmware's buffer does."""
    data = text.encode('ascii') + b'\0'
    buffer[offset:offset + len(data)] = data


def _scan_address(hex_address):
    """The firmware reads each byte with sscanf('%02X'): a pair that starts with a hex digit
    is read (a digit alone if the second is not hex), anything else makes the command
    unknown. Returns the address as the probe list prints it, or None."""
    address = []
    for i in range(0, 16, 2):
        pair = hex_address[i:i + 2].decode('latin-1')
        if not _is_hex(pair[0]):
            return None
        address.append(int(pair if _is_hex(pair[1]) else pair[0], 16))
    return ''.join(f'{byte:02X}' for byte in address)


def _is_hex(char):
    return char in '0123456789abcdefABCDEF'


def _format_temperature(celsius):
    """A DS18B20 reading (1/16 C, 16-bit two's complement) printed as the firmware does:
    the integer part from an unsigned shift, so -1.5 C prints 4094.5000."""
    raw = round(celsius * 16) & 0xFFFF
    return f'{raw >> 4}.{(raw & 0x0F) * 625:04d}'


def main(argv=None):
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--channels', type=int, default=2, choices=range(1, protocol.MAX_CHANNEL + 1))
    args, rest = parser.parse_known_args(argv)
    model = FocusControllerEmulator(channels=args.channels, probes=DEMO_PROBES)
    run_standalone(model, 'Focus controller emulator with two demo temperature probes; '
                          '--channels N (1-9, default 2) sets the number of channels.', rest)


if __name__ == '__main__':
    main()

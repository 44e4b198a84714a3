"""Byte formats of the multi-channel focus controller's serial protocol, with no I/O.

Kept free of I/O so that the daemon, the emulator and the fuzz tests share one definition of
every message, and so that whatever bytes the line delivers can be fed to the parsers, which
raise only ProtocolError on anything they cannot accept.

Requests end with a single b'\\n': the firmware also ends a command on b'\\r', and a
terminator arriving on an empty buffer is stored as data, so b'\\r\\n' would poison the
next command. Replies end with b'\\r\\n'; the parsers take a reply without it.

Positions are printed as sign + 6 digits but the firmware accepts 7 digits on input, and a
position of a million steps or more corrupts the status line: MIN_POSITION..MAX_POSITION
is the range that the controller can report, so nothing outside it may be sent.
"""
import re

from rockit.common.errors import ProtocolError

REQUEST_END = b'\n'
REPLY_END = b'\r\n'

# With no probe on the bus the firmware writes its b'\r\n' one byte before its output
# buffer, so the reply to probe_list_query() is then a bare b'\n'. Reading that reply up to
# this terminator works in both cases: parse_probe_list() drops the b'\r' left over.
PROBE_LIST_REPLY_END = b'\n'

STEPS_PER_SECOND = 97.7    # per channel: 3125 Hz timer, two interrupts a microstep, 16 microsteps a step
MIN_POSITION = -999999
MAX_POSITION = 999999
MAX_CHANNEL = 9             # the channel is one digit on the wire
MAX_PROBES = 4              # the firmware's probe search stops after four addresses

# Readings above this are the firmware's unsigned-shift bug for temperatures below 0 C
# (-1.5 C reads 4094.5): no real probe reading gets near it.
MAX_VALID_TEMPERATURE = 1000.0

# A probe query's replies that hold no reading: the probe did not answer, or the firmware
# could not parse the query (a malformed address, or a firmware built without probes).
PROBE_FAILED = 'FAILED'
NOT_UNDERSTOOD = '?'

# The firmware's output buffer is 256 bytes: anything longer is not a reply of it.
MAX_REPLY_LENGTH = 256

_POSITION = r'([+-][0-9]{6})'
_ADDRESS = re.compile(r'[0-9A-Fa-f]{16}')
_TEMPERATURE = re.compile(r'-?[0-9]{1,4}\.[0-9]{1,4}')


# Requests.
def status_query():
    return b'?' + REQUEST_END


def fans_query():
    return b'#' + REQUEST_END


def set_fans(enabled):
    return (b'#1' if enabled else b'#0') + REQUEST_END


def probe_list_query():
    return b'@' + REQUEST_END


def probe_query(address):
    """Read one probe; the controller answers only after about 750 ms-1 s."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ValueError(f'probe address must be 16 hex digits, not {address!r}')
    return b'@' + address.upper().encode('ascii') + REQUEST_END


def stop(channel):
    return _channel(channel) + b'S' + REQUEST_END


def zero(channel):
    return _channel(channel) + b'Z' + REQUEST_END


def set_target(channel, steps):
    """Refuses a target the status line could not report (see MIN_POSITION)."""
    if not _is_int(steps):
        raise ValueError(f'target must be an integer, not {steps!r}')
    if not MIN_POSITION <= steps <= MAX_POSITION:
        raise ValueError(f'target {steps} is outside {MIN_POSITION}..{MAX_POSITION}')
    return _channel(channel) + f'{steps:+07d}'.encode('ascii') + REQUEST_END


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _channel(channel):
    if not _is_int(channel) or not 1 <= channel <= MAX_CHANNEL:
        raise ValueError(f'channel must be 1..{MAX_CHANNEL}, not {channel!r}')
    return str(channel).encode('ascii')


# Replies, without REPLY_END.
def parse_status(reply, channels):
    """[(target, current)] for channels 1..channels; a channel is moving while they differ.

    A controller built for more channels than configured reports them too: they are ignored.
    """
    if not _is_int(channels) or not 1 <= channels <= MAX_CHANNEL:
        raise ValueError(f'channels must be 1..{MAX_CHANNEL}, not {channels!r}')
    fields = _text(reply, 'status').split(',')
    if len(fields) < 2 * channels:
        raise ProtocolError(f'status reports fewer than {channels} channels: {_show(reply)}')
    positions = []
    for channel in range(1, channels + 1):
        pair = []
        for name, field in zip('TC', fields[2 * channel - 2:2 * channel]):
            match = re.fullmatch(f'{name}{channel}={_POSITION}', field)
            if not match:
                raise ProtocolError(f'bad {name}{channel} field in status {_show(reply)}')
            pair.append(int(match.group(1)))
        positions.append(tuple(pair))
    return positions


def parse_fans(reply):
    """True if the fans are on."""
    if reply == b'1':
        return True
    if reply == b'0':
        return False
    raise ProtocolError(f'bad fan state {_show(reply)}')


def parse_ack(reply):
    if reply == b'$':
        return
    if reply == b'?':
        raise ProtocolError('command not understood')
    raise ProtocolError(f'expected $, got {_show(reply)}')


def parse_probe_list(reply):
    """Addresses of the probes on the bus, upper case, as probe_query() takes them."""
    text = _text(reply, 'probe list')
    if text.endswith('\r'):
        text = text[:-1]
    if not text:
        return []
    addresses = text.split(',')
    if len(addresses) > MAX_PROBES:
        raise ProtocolError(f'more than {MAX_PROBES} probes listed: {_show(reply)}')
    for address in addresses:
        if not _ADDRESS.fullmatch(address):
            raise ProtocolError(f'bad probe address in {_show(reply)}')
    return [address.upper() for address in addresses]


def parse_temperature(reply):
    """Degrees C, or None when there is no reading: see temperature_problem() for why."""
    text = _text(reply, 'temperature')
    if text in (PROBE_FAILED, NOT_UNDERSTOOD):
        return None
    if not _TEMPERATURE.fullmatch(text):
        raise ProtocolError(f'bad temperature {_show(reply)}')
    celsius = float(text)
    return None if celsius > MAX_VALID_TEMPERATURE else celsius


def temperature_problem(reply):
    """Why a reply to probe_query() holds no reading, or None if it holds one. These are
    the probe's problems, not the controller's: focusing carries on without the reading."""
    if reply == PROBE_FAILED.encode('ascii'):
        return 'the probe did not answer'
    if reply == NOT_UNDERSTOOD.encode('ascii'):
        return 'the controller did not understand the probe query (malformed address, or firmware without probes)'
    if parse_temperature(reply) is None:
        return 'below 0 C, which the firmware misprints'
    return None


def _text(reply, what):
    if not isinstance(reply, (bytes, bytearray)):
        raise TypeError(f'{what} reply must be bytes, not {type(reply).__name__}')
    if len(reply) > MAX_REPLY_LENGTH:
        raise ProtocolError(f'{what} reply too long ({len(reply)} bytes)')
    try:
        return reply.decode('ascii')
    except UnicodeDecodeError:
        raise ProtocolError(f'{what} reply is not ASCII: {_show(reply)}') from None


def _show(reply):
    """A short printable form of a reply for an error message."""
    shown = repr(bytes(reply[:40]))
    return shown + '...' if len(reply) > 40 else shown

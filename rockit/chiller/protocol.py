"""Byte formats of the Thermotek T257P chiller's framed RS-232 protocol, with no I/O.

Kept free of I/O so that the daemon, the emulator and the fuzz tests share one definition
of every frame, and so that any bytes the line delivers can be fed to the decoders, which
raise only ProtocolError (or its subclasses) on anything they cannot accept.

Request:  '.' + address '01' + command id (2 digits) + qualifier (8 chars, ignored by the
          device) + data + checksum (2 uppercase hex digits) + '\\r'
Response: '#' + address '01' + command id echo + error digit + qualifier (8 chars)
          + payload + checksum + '\\r'
Checksum: the sum of every preceding byte of the frame (start character included) & 0xFF.
"""
import math
from collections import namedtuple

from rockit.common.errors import ProtocolError

from .errors import ERROR_CHECKSUM, ERROR_COMMAND, ERROR_LENGTH, DeviceReplyError, RequestError

REQUEST_END = b'\r'
REPLY_END = b'\r'

REQUEST_START = '.'
REPLY_START = '#'
ADDRESS = '01'
QUALIFIER = '00000000'

READ_STATUS = '01'
READ_SETPOINT = '03'
READ_SUPPLY_TEMP = '04'
READ_RETURN_TEMP = '07'
READ_AMBIENT_TEMP = '08'
READ_FLOW = '09'
READ_TEC_DRIVE = '13'
SET_RUN = '15'
SET_SETPOINT = '17'
READ_ALARMS = '18'
READ_WARNINGS = '20'

# Length of the data each known command carries in a request.
REQUEST_DATA_LENGTH = {
    READ_STATUS: 0,
    READ_SETPOINT: 0,
    READ_SUPPLY_TEMP: 0,
    READ_RETURN_TEMP: 0,
    READ_AMBIENT_TEMP: 0,
    READ_FLOW: 0,
    READ_TEC_DRIVE: 0,
    SET_RUN: 1,
    SET_SETPOINT: 5,
    READ_ALARMS: 0,
    READ_WARNINGS: 0,
}

MODE_AUTOSTART = 0
MODE_STANDBY = 1
MODE_RUN = 2
MODE_SAFETY = 3
MODE_TEST = 4

CONTROL_MODES = {
    MODE_AUTOSTART: 'autostart',
    MODE_STANDBY: 'standby',
    MODE_RUN: 'run',
    MODE_SAFETY: 'safety',
    MODE_TEST: 'test',
}

SETPOINT_MIN = 5.0
SETPOINT_MAX = 40.0
"""Setpoint limits in deg C. No public T257P datasheet giving the range was found: these are
an assumed 5.0 to 40.0, chosen to keep the water above freezing and below a hot room."""

ALARM_DIGITS = 6
WARNING_DIGITS = 4

TEC_FILLER = '%'
"""The character written at payload[3] of a TEC drive reply. The protocol facts (and every
public driver) read only payload[0:3] and payload[4], so what the device puts at payload[3] is
unknown: parse_tec accepts any printable character there, and the emulator writes this one."""

_MIN_REQUEST = len(REQUEST_START + ADDRESS) + 2 + len(QUALIFIER) + 2
_MIN_RESPONSE = len(REPLY_START + ADDRESS) + 2 + 1 + len(QUALIFIER) + 2
_HEX = frozenset('0123456789ABCDEFabcdef')
_DIGITS = frozenset('0123456789')


class Status(namedtuple('Status', 'control_mode pump_on alarm warning')):
    """The four digits of the read status reply: control_mode an int, the others bools."""
    __slots__ = ()

    @property
    def running(self):
        return self.control_mode == MODE_RUN


def checksum(data: bytes) -> bytes:
    """Two uppercase hex digits of the byte sum of data, as both directions append."""
    return b'%02X' % (sum(data) & 0xFF)


def _is_command_id(command_id):
    return isinstance(command_id, str) and len(command_id) == 2 and set(command_id) <= _DIGITS


def _is_printable(text):
    return all(' ' <= c <= '~' for c in text)


def encode_request(command_id: str, data: str = '') -> bytes:
    """The full request frame, terminator included."""
    if not _is_command_id(command_id):
        raise ValueError(f'command id must be two digits, not {command_id!r}')
    if not _is_printable(data):
        raise ValueError(f'request data must be printable ASCII, not {data!r}')
    body = (REQUEST_START + ADDRESS + command_id + QUALIFIER + data).encode('ascii')
    return body + checksum(body) + REQUEST_END


def set_run(enabled: bool) -> bytes:
    """Switch the chiller to run (True) or standby (False)."""
    return encode_request(SET_RUN, '1' if enabled else '0')


def set_setpoint(celsius: float) -> bytes:
    """Set the water temperature setpoint; refused here rather than by the device when out
    of SETPOINT_MIN..SETPOINT_MAX or not a number."""
    if not isinstance(celsius, (int, float)) or math.isnan(celsius) \
            or not SETPOINT_MIN <= celsius <= SETPOINT_MAX:
        raise ValueError(f'setpoint must be within {SETPOINT_MIN} to {SETPOINT_MAX} C, not {celsius!r}')
    return encode_request(SET_SETPOINT, format_temperature(celsius))


def decode_request(frame: bytes) -> tuple[str, str]:
    """(command_id, data) of a request frame without its terminator, for the emulator.
    Raises RequestError carrying the error digit the chiller would answer with."""
    try:
        text = frame.decode('ascii')
    except (UnicodeDecodeError, AttributeError):
        raise RequestError(None, message='not an ASCII frame') from None
    if not text.startswith(REQUEST_START + ADDRESS):
        raise RequestError(None)
    command_id = text[3:5] if _is_command_id(text[3:5]) else '00'
    if len(text) < _MIN_REQUEST:
        raise RequestError(ERROR_LENGTH, command_id)
    body, received = text[:-2], text[-2:]
    if received != checksum(body.encode('ascii')).decode('ascii'):
        raise RequestError(ERROR_CHECKSUM, command_id)
    if command_id != text[3:5] or command_id not in REQUEST_DATA_LENGTH:
        raise RequestError(ERROR_COMMAND, command_id)
    data = body[5 + len(QUALIFIER):]
    if len(data) != REQUEST_DATA_LENGTH[command_id]:
        raise RequestError(ERROR_LENGTH, command_id)
    return command_id, data


def encode_response(command_id: str, payload: str, error: int = 0) -> bytes:
    """The full reply frame, terminator included, for the emulator."""
    if not _is_command_id(command_id):
        raise ValueError(f'command id must be two digits, not {command_id!r}')
    if not isinstance(error, int) or not 0 <= error <= 9:
        raise ValueError(f'error must be a single digit, not {error!r}')
    if not _is_printable(payload):
        raise ValueError(f'payload must be printable ASCII, not {payload!r}')
    body = f'{REPLY_START}{ADDRESS}{command_id}{error}{QUALIFIER}{payload}'.encode('ascii')
    return body + checksum(body) + REPLY_END


def decode_response(frame: bytes, expected_command_id: str) -> str:
    """The payload of a reply frame (terminator stripped), after checking every field.
    A non-zero error digit raises DeviceReplyError; anything malformed, ProtocolError."""
    if not isinstance(frame, (bytes, bytearray)):
        raise ProtocolError('reply is not bytes')
    frame = bytes(frame)
    if frame.endswith(REPLY_END):
        frame = frame[:-len(REPLY_END)]
    if len(frame) < _MIN_RESPONSE:
        raise ProtocolError(f'reply too short: {frame[:64]!r}')
    if any(not 0x20 <= b <= 0x7E for b in frame):
        raise ProtocolError(f'reply holds non-printable bytes: {frame[:64]!r}')
    text = frame.decode('ascii')
    if text[0] != REPLY_START:
        raise ProtocolError(f'reply does not start with {REPLY_START!r}: {frame[:64]!r}')
    if text[-2:] != checksum(frame[:-2]).decode('ascii'):
        raise ProtocolError(f'reply checksum mismatch: {frame[:64]!r}')
    if text[1:3] != ADDRESS:
        raise ProtocolError(f'reply from address {text[1:3]!r}, expected {ADDRESS}')
    if text[3:5] != expected_command_id:
        raise ProtocolError(f'reply to command {text[3:5]!r}, expected {expected_command_id}')
    error = text[5]
    if error not in _DIGITS:
        raise ProtocolError(f'reply error field {error!r} is not a digit')
    if error != '0':
        raise DeviceReplyError(int(error), expected_command_id)
    return text[6 + len(QUALIFIER):-2]


def parse_status(payload: str) -> Status:
    """Control mode, pump, alarm present, warning present: four digits."""
    if not isinstance(payload, str) or len(payload) != 4 or not set(payload) <= _DIGITS:
        raise ProtocolError(f'bad status payload {payload!r}')
    mode = int(payload[0])
    if mode not in CONTROL_MODES:
        raise ProtocolError(f'unknown control mode {mode} in status {payload!r}')
    if not set(payload[1:]) <= {'0', '1'}:
        raise ProtocolError(f'status flags must be 0 or 1: {payload!r}')
    return Status(mode, payload[1] == '1', payload[2] == '1', payload[3] == '1')


def format_status(status: Status) -> str:
    control_mode, pump_on, alarm, warning = status
    if control_mode not in CONTROL_MODES:
        raise ValueError(f'unknown control mode {control_mode!r}')
    return f'{control_mode}{int(bool(pump_on))}{int(bool(alarm))}{int(bool(warning))}'


def parse_temperature(payload: str) -> float:
    """Sign and four digits in tenths of a degree: '+0150' is 15.0 C."""
    if not isinstance(payload, str) or len(payload) != 5 or payload[0] not in '+-' \
            or not set(payload[1:]) <= _DIGITS:
        raise ProtocolError(f'bad temperature payload {payload!r}')
    return int(payload) / 10


def format_temperature(celsius: float) -> str:
    if not math.isfinite(celsius) or not -9999 <= round(celsius * 10) <= 9999:
        raise ValueError(f'temperature {celsius!r} does not fit in sign and four digits')
    return f'{round(celsius * 10):+05d}'


def parse_flow(payload: str) -> float:
    """Process flow in litres per minute. The facts say only "digits": the public T257P
    driver reads payload[1:5] as tenths of L/min, so an optional sign followed by digits in
    tenths is accepted."""
    if not isinstance(payload, str):
        raise ProtocolError(f'bad flow payload {payload!r}')
    digits = payload[1:] if payload[:1] in ('+', '-') else payload
    if not digits or len(digits) > 6 or not set(digits) <= _DIGITS:
        raise ProtocolError(f'bad flow payload {payload!r}')
    return int(payload) / 10


def format_flow(lpm: float) -> str:
    if not math.isfinite(lpm) or not 0 <= round(lpm * 10) <= 9999:
        raise ValueError(f'flow {lpm!r} does not fit in four digits')
    return f'+{round(lpm * 10):04d}'


def parse_tec(payload: str) -> tuple[int, bool]:
    """(drive percent, heating) from three percent digits, any printable character at
    payload[3] (see TEC_FILLER), then 'C' (cooling) or 'H' (heating) at payload[4]."""
    if not isinstance(payload, str) or len(payload) != 5 or not set(payload[:3]) <= _DIGITS \
            or not _is_printable(payload[3]) or payload[4] not in 'CH':
        raise ProtocolError(f'bad TEC drive payload {payload!r}')
    percent = int(payload[:3])
    if percent > 100:
        raise ProtocolError(f'TEC drive {percent}% is over 100%')
    return percent, payload[4] == 'H'


def format_tec(percent: int, heating: bool) -> str:
    if not 0 <= percent <= 100:
        raise ValueError(f'TEC drive must be 0 to 100%, not {percent!r}')
    return f'{int(percent):03d}{TEC_FILLER}{"H" if heating else "C"}'


def parse_bits(payload: str) -> int:
    """Alarm or warning flags as an int bitmask.

    Each digit is one hex nibble of four flags (the public T257P driver names the flags of
    each digit 1, 2, 4 and 8), so a '0'/'1' digit string is read correctly too. Digit i
    (counted from the left, as the device sends them) holds bits 4*i to 4*i+3 of the mask:
    bit 4*i + b is flag value 2**b of digit i. Bit numbers therefore do not depend on how
    many digits a reply carries.
    """
    if not isinstance(payload, str) or not payload or len(payload) > 16 \
            or not set(payload) <= _HEX:
        raise ProtocolError(f'bad flag payload {payload!r}')
    mask = 0
    for i, digit in enumerate(payload):
        mask |= int(digit, 16) << (4 * i)
    return mask


def format_bits(mask: int, digits: int) -> str:
    """The inverse of parse_bits: digits uppercase hex nibbles, lowest bits first."""
    if mask < 0 or mask >> (4 * digits):
        raise ValueError(f'flag mask {mask!r} does not fit in {digits} digits')
    return ''.join(f'{(mask >> (4 * i)) & 0xF:X}' for i in range(digits))


def set_bit_indices(mask: int) -> tuple[int, ...]:
    """The numbers of the bits set in a parse_bits mask, lowest first, for reports."""
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)

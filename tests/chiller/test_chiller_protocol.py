"""The T257P frame formats: exact bytes, every refusal, and fuzzing that proves the decoders
raise only ProtocolError whatever the serial line delivers."""
import math

import pytest
from hypothesis import given, strategies as st

from rockit.chiller import protocol as p
from rockit.common.errors import ProtocolError

PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24)
COMMANDS = st.sampled_from(sorted(p.REQUEST_DATA_LENGTH))


def reply(command_id, payload, error=0):
    """A reply frame as decode_response receives it: without its terminator."""
    return p.encode_response(command_id, payload, error)[:-1]


def with_checksum(body):
    return body + p.checksum(body)


# Requests

def test_checksum_by_hand():
    # '.' 46 + '0' 48 + '1' 49 + '0' 48 + '1' 49 + eight '0' 8 * 48 = 624 = 0x270 -> 0x70
    assert p.checksum(b'.0101' + b'0' * 8) == b'70'
    assert p.encode_request(p.READ_STATUS) == b'.01010000000070\r'


def test_set_run_bytes_by_hand():
    # '.' 46 + '01' 97 + '15' 102 + qualifier 384 + '1' 49 = 678 = 0x2A6 -> A6; '0' is one less
    assert p.set_run(True) == b'.0115000000001A6\r'
    assert p.set_run(False) == b'.0115000000000A5\r'


def test_checksum_is_uppercase_and_wraps():
    assert p.checksum(b'') == b'00'
    assert p.checksum(bytes([0xFF, 0x01])) == b'00'
    assert p.checksum(bytes([0xAB])) == b'AB'


def test_read_requests_carry_the_command_and_no_data():
    for command_id in (p.READ_SETPOINT, p.READ_SUPPLY_TEMP, p.READ_RETURN_TEMP, p.READ_AMBIENT_TEMP,
                       p.READ_FLOW, p.READ_TEC_DRIVE, p.READ_ALARMS, p.READ_WARNINGS):
        frame = p.encode_request(command_id)
        assert frame.startswith(b'.01' + command_id.encode() + b'00000000')
        assert len(frame) == 16 and frame.endswith(b'\r')
        assert p.decode_request(frame[:-1]) == (command_id, '')


def test_set_setpoint_formats_signed_tenths():
    assert p.set_setpoint(15.0) == with_checksum(b'.011700000000+0150') + b'\r'
    assert p.decode_request(p.set_setpoint(12.34)[:-1]) == (p.SET_SETPOINT, '+0123')
    assert p.decode_request(p.set_setpoint(p.SETPOINT_MIN)[:-1])[1] == f'{round(p.SETPOINT_MIN * 10):+05d}'
    assert p.decode_request(p.set_setpoint(p.SETPOINT_MAX)[:-1])[1] == f'{round(p.SETPOINT_MAX * 10):+05d}'


@pytest.mark.parametrize('bad', [p.SETPOINT_MIN - 0.1, p.SETPOINT_MAX + 0.1, -50, 1000,
                                 math.nan, math.inf, -math.inf, '15'])
def test_set_setpoint_refuses_out_of_range(bad):
    with pytest.raises(ValueError):
        p.set_setpoint(bad)


@pytest.mark.parametrize('command_id', ['1', '001', 'ab', '', 1])
def test_encode_request_refuses_bad_command_ids(command_id):
    with pytest.raises(ValueError):
        p.encode_request(command_id)


def test_encode_request_refuses_control_characters():
    with pytest.raises(ValueError):
        p.encode_request(p.SET_RUN, '1\r')


# Requests, as the emulator decodes them

def test_decode_request_bad_checksum_is_error_1():
    frame = p.encode_request(p.READ_STATUS)[:-3] + b'71'
    with pytest.raises(p.RequestError) as e:
        p.decode_request(frame)
    assert e.value.code == p.ERROR_CHECKSUM and e.value.command_id == p.READ_STATUS


def test_decode_request_unknown_command_is_error_2():
    with pytest.raises(p.RequestError) as e:
        p.decode_request(p.encode_request('99')[:-1])
    assert e.value.code == p.ERROR_COMMAND and e.value.command_id == '99'


def test_decode_request_non_digit_command_is_error_2():
    with pytest.raises(p.RequestError) as e:
        p.decode_request(with_checksum(b'.01xy00000000'))
    assert e.value.code == p.ERROR_COMMAND and e.value.command_id == '00'


@pytest.mark.parametrize('frame', [
    with_checksum(b'.010100000000' + b'1'),          # a read with data
    with_checksum(b'.011500000000'),                 # set run without its digit
    with_checksum(b'.011700000000+015'),             # a short setpoint
    b'.0101000',                                     # too short to hold a checksum
])
def test_decode_request_wrong_length_is_error_4(frame):
    with pytest.raises(p.RequestError) as e:
        p.decode_request(frame)
    assert e.value.code == p.ERROR_LENGTH


@pytest.mark.parametrize('frame', [b'', b'garbage', b'.02' + p.encode_request(p.READ_STATUS)[3:-1],
                                   b'#0101000000000100056', b'\xff\xfe.01'])
def test_decode_request_ignores_frames_not_for_this_chiller(frame):
    with pytest.raises(p.RequestError) as e:
        p.decode_request(frame)
    assert e.value.code is None


# Responses

def test_decode_response_returns_the_payload():
    frame = with_checksum(b'#0103000000000+0150')
    assert p.decode_response(frame, p.READ_SETPOINT) == '+0150'
    assert p.decode_response(frame + b'\r', p.READ_SETPOINT) == '+0150'
    assert reply(p.READ_SETPOINT, '+0150') == frame


def test_decode_response_empty_payload():
    assert p.decode_response(reply(p.SET_RUN, ''), p.SET_RUN) == ''


@pytest.mark.parametrize('code, name', [(1, 'bad checksum'), (2, 'bad command'), (3, 'value out of bounds'),
                                        (4, 'wrong length'), (5, 'feature not configured')])
def test_each_error_digit_raises_a_named_device_error(code, name):
    with pytest.raises(p.DeviceReplyError) as e:
        p.decode_response(reply(p.SET_SETPOINT, '', code), p.SET_SETPOINT)
    assert e.value.code == code
    assert name in str(e.value)
    assert isinstance(e.value, ProtocolError)


def test_undocumented_error_digit_is_still_a_device_error():
    with pytest.raises(p.DeviceReplyError) as e:
        p.decode_response(reply(p.READ_STATUS, '', 7), p.READ_STATUS)
    assert e.value.code == 7 and 'unknown error 7' in str(e.value)


def test_bad_checksum_is_detected():
    frame = reply(p.READ_SUPPLY_TEMP, '+0150')
    with pytest.raises(ProtocolError, match='checksum'):
        p.decode_response(frame[:-2] + b'00', p.READ_SUPPLY_TEMP)
    corrupted = frame.replace(b'+0150', b'+0160')
    with pytest.raises(ProtocolError, match='checksum'):
        p.decode_response(corrupted, p.READ_SUPPLY_TEMP)
    uppercase = reply(p.SET_RUN, '1')
    assert uppercase.endswith(b'CB')
    with pytest.raises(ProtocolError, match='checksum'):
        p.decode_response(uppercase[:-2] + b'cb', p.SET_RUN)


@pytest.mark.parametrize('frame, match', [
    (with_checksum(b'#0201000000000' + b'1000'), 'address'),
    (with_checksum(b'#0103000000000' + b'1000'), 'command'),
    (with_checksum(b'.0101000000000' + b'1000'), 'start'),
    (with_checksum(b'#0101X00000000' + b'1000'), 'error field'),
    (with_checksum(b'#01010'), 'short'),
    (with_checksum(b'#0101000000000\x001000'), 'non-printable'),
])
def test_malformed_replies(frame, match):
    with pytest.raises(ProtocolError, match=match):
        p.decode_response(frame, p.READ_STATUS)


def test_decode_response_refuses_non_bytes():
    with pytest.raises(ProtocolError):
        p.decode_response('#0101000000000100056', p.READ_STATUS)


# Payloads

def test_parse_status():
    assert p.parse_status('2110') == p.Status(p.MODE_RUN, True, True, False)
    assert p.parse_status('2110').running
    assert p.parse_status('1001') == p.Status(p.MODE_STANDBY, False, False, True)
    assert not p.parse_status('1000').running
    assert p.format_status(p.Status(2, True, False, True)) == '2101'


@pytest.mark.parametrize('payload', ['', '211', '21100', '5000', '2200', '21x0', '+211', ' 210'])
def test_parse_status_refuses(payload):
    with pytest.raises(ProtocolError):
        p.parse_status(payload)


def test_parse_temperature():
    assert p.parse_temperature('+0150') == 15.0
    assert p.parse_temperature('-0023') == -2.3
    assert p.parse_temperature('+0000') == 0.0
    assert p.format_temperature(-2.3) == '-0023'
    assert p.format_temperature(15.04) == '+0150'


@pytest.mark.parametrize('payload', ['', '0150', '+150', '+01500', ' 0150', '+01.5', '+0x15', '++150'])
def test_parse_temperature_refuses(payload):
    with pytest.raises(ProtocolError):
        p.parse_temperature(payload)


def test_parse_tec():
    assert p.parse_tec('045%C') == (45, False)
    assert p.parse_tec('100 H') == (100, True)
    assert p.format_tec(7, True) == '007' + p.TEC_FILLER + 'H'
    assert p.parse_tec(p.format_tec(100, False)) == (100, False)


@pytest.mark.parametrize('payload', ['', '045C', '045%X', '101%C', '04a%C', '045%C ', '045\x00C'])
def test_parse_tec_refuses(payload):
    with pytest.raises(ProtocolError):
        p.parse_tec(payload)


def test_parse_bits_digit_i_holds_bits_4i_to_4i_plus_3():
    assert p.parse_bits('000000') == 0
    assert p.parse_bits('100000') == 1 << 0
    assert p.parse_bits('010000') == 1 << 4
    assert p.parse_bits('200008') == (1 << 1) | (1 << 23)
    assert p.parse_bits('F') == 0b1111
    assert p.set_bit_indices(p.parse_bits('010001')) == (4, 20)
    assert p.format_bits((1 << 1) | (1 << 23), 6) == '200008'


@pytest.mark.parametrize('payload', ['', 'G00000', '00 000', '-1', '+1', '0' * 17])
def test_parse_bits_refuses(payload):
    with pytest.raises(ProtocolError):
        p.parse_bits(payload)


def test_parse_flow():
    assert p.parse_flow('+0020') == 2.0
    assert p.parse_flow('0125') == 12.5
    assert p.format_flow(2.0) == '+0020'
    for bad in ('', '+', '12.5', ' 12', '+0x12'):
        with pytest.raises(ProtocolError):
            p.parse_flow(bad)


# Fuzzing

PARSERS = [p.parse_status, p.parse_temperature, p.parse_tec, p.parse_bits, p.parse_flow]


@given(st.binary(max_size=40), COMMANDS)
def test_decode_response_raises_only_protocol_error_on_any_bytes(frame, command_id):
    try:
        p.decode_response(frame, command_id)
    except ProtocolError:
        pass


@given(COMMANDS, st.integers(0, 9), PRINTABLE, st.integers(0, 40), st.integers(0, 255))
def test_decode_response_on_corrupted_frames(command_id, error, payload, position, value):
    """Any single-byte change to a valid reply is caught (the sum changes), and nothing but
    ProtocolError escapes."""
    frame = bytearray(reply(command_id, payload, error))
    position %= len(frame)
    if frame[position] == value:
        return
    frame[position] = value
    with pytest.raises(ProtocolError):
        p.decode_response(bytes(frame), command_id)


@given(st.one_of(st.text(max_size=24), st.binary(max_size=24).map(lambda b: b.decode('latin-1'))),
       st.sampled_from(PARSERS))
def test_payload_parsers_raise_only_protocol_error(payload, parser):
    try:
        parser(payload)
    except ProtocolError:
        pass


@given(st.one_of(st.none(), st.integers(), st.binary(max_size=8)), st.sampled_from(PARSERS))
def test_payload_parsers_refuse_non_strings(payload, parser):
    with pytest.raises(ProtocolError):
        parser(payload)


@given(st.binary(max_size=40))
def test_decode_request_raises_only_request_error(frame):
    try:
        p.decode_request(frame)
    except p.RequestError as e:
        assert e.code in (None, p.ERROR_CHECKSUM, p.ERROR_COMMAND, p.ERROR_LENGTH)


@given(COMMANDS, PRINTABLE)
def test_response_round_trip(command_id, payload):
    assert p.decode_response(reply(command_id, payload), command_id) == payload


@given(st.floats(p.SETPOINT_MIN, p.SETPOINT_MAX))
def test_setpoint_round_trip(celsius):
    command_id, data = p.decode_request(p.set_setpoint(celsius)[:-1])
    assert command_id == p.SET_SETPOINT
    assert abs(p.parse_temperature(data) - celsius) <= 0.05 + 1e-9


@given(st.booleans())
def test_set_run_round_trip(enabled):
    assert p.decode_request(p.set_run(enabled)[:-1]) == (p.SET_RUN, '1' if enabled else '0')


@given(st.integers(-9999, 9999))
def test_temperature_round_trip(tenths):
    assert p.parse_temperature(p.format_temperature(tenths / 10)) == tenths / 10


@given(st.integers(0, 100), st.booleans())
def test_tec_round_trip(percent, heating):
    assert p.parse_tec(p.format_tec(percent, heating)) == (percent, heating)


@given(st.integers(0, 4), st.booleans(), st.booleans(), st.booleans())
def test_status_round_trip(mode, pump, alarm, warning):
    status = p.Status(mode, pump, alarm, warning)
    assert p.parse_status(p.format_status(status)) == status


@given(st.integers(1, 16).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, (1 << 4 * n) - 1))))
def test_bits_round_trip(digits_and_mask):
    digits, mask = digits_and_mask
    assert p.parse_bits(p.format_bits(mask, digits)) == mask


@given(st.integers(0, 9999))
def test_flow_round_trip(tenths):
    assert p.parse_flow(p.format_flow(tenths / 10)) == tenths / 10

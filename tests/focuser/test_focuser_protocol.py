"""The focus controller's byte formats: exact requests, strict parsers, and properties that
hold for any bytes the line might deliver."""
import pytest
from hypothesis import example, given, strategies as st

from rockit.common.errors import ProtocolError
from rockit.focuser.multichannel import protocol
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

ADDRESS = '28FF4A1B6117045D'
positions = st.integers(protocol.MIN_POSITION, protocol.MAX_POSITION)


def status_line(pairs):
    return ','.join(f'T{n}={t:+07d},C{n}={c:+07d}' for n, (t, c) in enumerate(pairs, 1)).encode()


# Requests.
def test_queries():
    assert protocol.status_query() == b'?\n'
    assert protocol.fans_query() == b'#\n'
    assert protocol.probe_list_query() == b'@\n'
    assert protocol.set_fans(True) == b'#1\n'
    assert protocol.set_fans(False) == b'#0\n'


def test_channel_commands():
    assert protocol.stop(1) == b'1S\n'
    assert protocol.zero(2) == b'2Z\n'
    assert protocol.set_target(2, 1200) == b'2+001200\n'
    assert protocol.set_target(1, -50) == b'1-000050\n'
    assert protocol.set_target(1, 0) == b'1+000000\n'
    assert protocol.set_target(9, protocol.MAX_POSITION) == b'9+999999\n'
    assert protocol.set_target(3, protocol.MIN_POSITION) == b'3-999999\n'


@pytest.mark.parametrize('channel, steps', [
    (1, protocol.MAX_POSITION + 1), (1, protocol.MIN_POSITION - 1), (1, 10**7),
    (1, 1.0), (1, '12'), (1, True), (1, None),
    (0, 5), (10, 5), (-1, 5), ('1', 5), (True, 5), (1.0, 5)])
def test_set_target_refuses(channel, steps):
    with pytest.raises(ValueError):
        protocol.set_target(channel, steps)


@pytest.mark.parametrize('channel', [0, 10, '1', None, 1.5])
def test_stop_and_zero_refuse_bad_channels(channel):
    with pytest.raises(ValueError):
        protocol.stop(channel)
    with pytest.raises(ValueError):
        protocol.zero(channel)


def test_probe_query():
    assert protocol.probe_query(ADDRESS) == b'@28FF4A1B6117045D\n'
    assert protocol.probe_query(ADDRESS.lower()) == b'@28FF4A1B6117045D\n'


@pytest.mark.parametrize('address', [
    '', '28FF4A1B6117045', '28FF4A1B6117045D0', '28FF4A1B6117045G', ' 28FF4A1B6117045',
    '28FF4A1B6117045D\n', b'28FF4A1B6117045D', None, '２８FF4A1B6117045D'])
def test_probe_query_refuses(address):
    with pytest.raises(ValueError):
        protocol.probe_query(address)


# Replies.
def test_parse_status():
    reply = b'T1=+001200,C1=+000417,T2=-000050,C2=-000050'
    assert protocol.parse_status(reply, 2) == [(1200, 417), (-50, -50)]
    assert protocol.parse_status(reply, 1) == [(1200, 417)]   # extra channels are ignored
    assert protocol.parse_status(b'T1=+999999,C1=-999999', 1) == [(999999, -999999)]


@pytest.mark.parametrize('reply', [
    b'', b'T1=+001200,C1=+000417',                                 # fewer channels
    b'T1=+001200,C1=+000417,T2=-000050',                            # half a channel
    b'T2=+001200,C2=+000417,T1=-000050,C1=-000050',                 # out of order
    b'C1=+001200,T1=+000417,T2=-000050,C2=-000050',
    b'T1=+1000000,C1=+000000T2=-000050,C2=+000000',                 # firmware overflow
    b'T1=001200,C1=+000417,T2=-000050,C2=-000050',                  # no sign
    b'T1=+01200,C1=+000417,T2=-000050,C2=-000050',                  # 5 digits
    b'T1=+001200,C1=+000417,T2=-000050,C2=-000050\r',
    b' T1=+001200,C1=+000417,T2=-000050,C2=-000050',
    b'T1=+0012a0,C1=+000417,T2=-000050,C2=-000050',
    b'T1=+001200;C1=+000417;T2=-000050;C2=-000050',
    b'T1=+\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6,C1=+000417,T2=-000050,C2=-000050',
    b'?', b'$', b'\xff' * 50, b'T1=+001200,C1=+000417,' * 100])
def test_parse_status_refuses(reply):
    with pytest.raises(ProtocolError):
        protocol.parse_status(reply, 2)


def test_parse_fans():
    assert protocol.parse_fans(b'1') is True
    assert protocol.parse_fans(b'0') is False
    for reply in (b'', b'2', b'01', b'1 ', b'$', b'?', b'\x00'):
        with pytest.raises(ProtocolError):
            protocol.parse_fans(reply)


def test_parse_ack():
    assert protocol.parse_ack(b'$') is None
    with pytest.raises(ProtocolError, match='not understood'):
        protocol.parse_ack(b'?')
    for reply in (b'', b'$$', b'0', b'$ ', b'\xff'):
        with pytest.raises(ProtocolError):
            protocol.parse_ack(reply)


def test_parse_probe_list():
    assert protocol.parse_probe_list(b'') == []
    assert protocol.parse_probe_list(b'\r') == []
    assert protocol.parse_probe_list(b'28FF4A1B6117045D') == [ADDRESS]
    assert protocol.parse_probe_list(b'28ff4a1b6117045d,28AA9C3E1D130219\r') == [ADDRESS, '28AA9C3E1D130219']
    assert len(protocol.parse_probe_list(b','.join([ADDRESS.encode()] * 4))) == 4
    for reply in (b',', b'28FF4A1B6117045D,', b'28FF4A1B6117045', b'28FF4A1B6117045D,28FF4A1B6117045X',
                  b','.join([ADDRESS.encode()] * 5), b'?', b'\r\r', b'\xff' * 16):
        with pytest.raises(ProtocolError):
            protocol.parse_probe_list(reply)


def test_parse_temperature():
    assert protocol.parse_temperature(b'21.5625') == 21.5625
    assert protocol.parse_temperature(b'0.0000') == 0.0
    assert protocol.parse_temperature(b'-1.5000') == -1.5
    assert protocol.parse_temperature(b'1000.0000') == 1000.0
    assert protocol.parse_temperature(b'FAILED') is None
    assert protocol.parse_temperature(b'4094.5000') is None      # -1.5 C through the firmware bug
    assert protocol.parse_temperature(b'4095.9375') is None
    assert protocol.parse_temperature(b'?') is None               # a query the firmware cannot parse
    for reply in (b'', b'FAIL', b'failed', b'21', b'21.', b'.5', b'+21.5', b'21.56250', b'12345.0',
                  b'nan', b'inf', b'1e3', b'21,5', b'21.5\r', b' 21.5', b'2_1.5', b'\xff'):
        with pytest.raises(ProtocolError):
            protocol.parse_temperature(reply)


def test_temperature_problem_says_why_there_is_no_reading():
    assert protocol.temperature_problem(b'21.5625') is None
    assert protocol.temperature_problem(b'FAILED') == 'the probe did not answer'
    assert 'malformed address' in protocol.temperature_problem(b'?')
    assert 'below 0 C' in protocol.temperature_problem(b'4094.5000')
    with pytest.raises(ProtocolError):
        protocol.temperature_problem(b'garbage')


def test_parsers_refuse_non_bytes_loudly():
    """A str is a bug in the caller, not something the device sent."""
    with pytest.raises(TypeError):
        protocol.parse_status('T1=+000000,C1=+000000', 1)


# Properties.
near_replies = st.one_of(
    st.binary(max_size=300),
    st.from_regex(rb'\A([TC][0-9]=[+-]?[0-9]{5,7},?){0,6}\Z'),
    st.from_regex(rb'\A(-?[0-9]{0,5}\.?[0-9]{0,5}|FAILED)\Z'),
    st.from_regex(rb'\A([0-9A-Fa-f]{15,17},?){0,5}\r?\Z'))


@given(reply=near_replies, channels=st.integers(1, protocol.MAX_CHANNEL))
@example(reply=b'\xff', channels=1)
@example(reply=b'T1=+000000,C1=+000000' + b'0' * 300, channels=1)
def test_parsers_only_raise_protocol_error(reply, channels):
    parsers = [lambda r: protocol.parse_status(r, channels), protocol.parse_fans, protocol.parse_ack,
               protocol.parse_probe_list, protocol.parse_temperature, protocol.temperature_problem]
    for parse in parsers:
        try:
            parse(reply)
        except ProtocolError as e:
            assert str(e) and len(str(e)) < 200
    # bytearray is as good as bytes (a serial read may hand either over)
    for parse in parsers:
        try:
            parse(bytearray(reply))
        except ProtocolError:
            pass


@given(st.lists(st.tuples(positions, positions), min_size=1, max_size=protocol.MAX_CHANNEL))
def test_status_round_trip(pairs):
    reply = status_line(pairs)
    assert protocol.parse_status(reply, len(pairs)) == pairs
    assert protocol.parse_status(reply, 1) == pairs[:1]


@given(st.floats(-55, 125))
def test_temperature_round_trip(celsius):
    quantised = round(celsius * 16) / 16
    assert protocol.parse_temperature(f'{quantised:.4f}'.encode()) == quantised


@given(channel=st.integers(1, 2), steps=positions)
@example(channel=1, steps=protocol.MAX_POSITION)
@example(channel=2, steps=protocol.MIN_POSITION)
@example(channel=1, steps=0)
def test_set_target_is_accepted_by_the_controller(channel, steps):
    request = protocol.set_target(channel, steps)
    assert len(request) == 9 and request.endswith(protocol.REQUEST_END)
    model = FocusControllerEmulator(channels=2)
    assert model.respond(request[:-1]) == b'$' + protocol.REPLY_END
    assert model.target(channel) == steps
    status = model.respond(protocol.status_query()[:-1])
    assert protocol.parse_status(status[:-2], 2)[channel - 1][0] == steps

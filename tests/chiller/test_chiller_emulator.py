"""The chiller model driven over a real EmulatorLink with a plain pyserial client, as the
daemon will drive the hardware: every reply passes through protocol.decode_response."""
import os
import select
import subprocess
import sys
import time

import pytest
import serial

from support import wait_until
from rockit.chiller import errors, protocol as p
from rockit.chiller.emulator import ChillerEmulator, RETURN_RISE, TEC_GAIN
from rockit.common.emulator import EmulatorLink
from rockit.common.errors import ProtocolError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def serve():
    """Start an EmulatorLink over TCP for a model; return an open pyserial port to it."""
    opened = []

    def start(model):
        link = EmulatorLink(model, 'tcp').start()
        port = serial.serial_for_url(link.url, timeout=2)
        opened.append((link, port))
        return port

    yield start
    for link, port in opened:
        port.close()
        link.stop()


def exchange(port, frame):
    """Send a request, return the raw reply without its terminator."""
    port.write(frame)
    reply = port.read_until(p.REPLY_END)
    assert reply.endswith(p.REPLY_END), f'no complete reply to {frame!r}: {reply!r}'
    return reply[:-1]


def ask(port, command_id, data=''):
    """Send a command, return the decoded payload."""
    return p.decode_response(exchange(port, p.encode_request(command_id, data)), command_id)


def refused(port, frame, command_id):
    """The error digit the chiller answers a request with."""
    with pytest.raises(p.DeviceReplyError) as e:
        p.decode_response(exchange(port, frame), command_id)
    return e.value.code


def test_reads_every_value_in_standby(serve):
    port = serve(ChillerEmulator(setpoint=15.0, ambient=21.5))
    assert p.parse_status(ask(port, p.READ_STATUS)) == p.Status(p.MODE_STANDBY, False, False, False)
    assert p.parse_temperature(ask(port, p.READ_SETPOINT)) == 15.0
    assert p.parse_temperature(ask(port, p.READ_SUPPLY_TEMP)) == 21.5
    assert p.parse_temperature(ask(port, p.READ_RETURN_TEMP)) == 21.5
    assert p.parse_temperature(ask(port, p.READ_AMBIENT_TEMP)) == 21.5
    assert p.parse_flow(ask(port, p.READ_FLOW)) == 0.0
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE)) == (0, False)
    assert p.parse_bits(ask(port, p.READ_ALARMS)) == 0
    assert len(ask(port, p.READ_ALARMS)) == p.ALARM_DIGITS
    assert p.parse_bits(ask(port, p.READ_WARNINGS)) == 0
    assert len(ask(port, p.READ_WARNINGS)) == p.WARNING_DIGITS


def test_run_and_standby_change_the_status(serve):
    chiller = ChillerEmulator(setpoint=15.0, ambient=20.0)
    port = serve(chiller)
    assert ask(port, p.SET_RUN, '1') == '1'
    assert chiller.running
    assert p.parse_status(ask(port, p.READ_STATUS)) == p.Status(p.MODE_RUN, True, False, False)
    assert p.parse_flow(ask(port, p.READ_FLOW)) > 0
    supply = p.parse_temperature(ask(port, p.READ_SUPPLY_TEMP))
    assert p.parse_temperature(ask(port, p.READ_RETURN_TEMP)) == pytest.approx(supply + RETURN_RISE, abs=0.15)

    assert ask(port, p.SET_RUN, '0') == '0'
    assert not chiller.running
    assert p.parse_status(ask(port, p.READ_STATUS)).control_mode == p.MODE_STANDBY
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE)) == (0, False)


def test_water_moves_to_setpoint_when_running_and_to_ambient_in_standby(serve):
    chiller = ChillerEmulator(time_scale=50000, setpoint=10.0, ambient=20.0)
    port = serve(chiller)
    def supply_reaches(celsius):
        wait_until(lambda: abs(p.parse_temperature(ask(port, p.READ_SUPPLY_TEMP)) - celsius) <= 0.1,
                   timeout=30, message=f'the supply at {celsius} C')

    ask(port, p.SET_RUN, '1')
    supply_reaches(10.0)
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE))[0] <= 3

    ask(port, p.SET_RUN, '0')
    supply_reaches(20.0)

    chiller.ambient_temp = 30.0
    assert p.parse_temperature(ask(port, p.READ_AMBIENT_TEMP)) == 30.0
    wait_until(lambda: abs(chiller.water_temp - 30.0) <= 0.1, timeout=30, message='the water at ambient')


def test_water_stays_put_without_time(serve):
    chiller = ChillerEmulator(setpoint=10.0, ambient=20.0)
    port = serve(chiller)
    ask(port, p.SET_RUN, '1')
    time.sleep(0.2)
    water = p.parse_temperature(ask(port, p.READ_SUPPLY_TEMP))
    assert 19.5 <= water <= 20.0


def test_tec_cools_above_setpoint_and_heats_below(serve):
    chiller = ChillerEmulator(setpoint=10.0, ambient=20.0)
    port = serve(chiller)
    ask(port, p.SET_RUN, '1')
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE)) == (100, False)
    assert not chiller.heating and chiller.tec_percent == 100

    chiller.water_temp = 10.0 + 2 / TEC_GAIN
    percent, heating = p.parse_tec(ask(port, p.READ_TEC_DRIVE))
    assert (percent, heating) == (2, False)

    ask(port, p.SET_SETPOINT, '+0250')
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE)) == (100, True)
    chiller.water_temp = 25.0 - 40 / TEC_GAIN
    assert p.parse_tec(ask(port, p.READ_TEC_DRIVE)) == (40, True)
    assert chiller.heating and chiller.tec_percent == 40


def test_set_setpoint_round_trip(serve):
    chiller = ChillerEmulator()
    port = serve(chiller)
    reply = p.decode_response(exchange(port, p.set_setpoint(12.3)), p.SET_SETPOINT)
    assert p.parse_temperature(reply) == 12.3
    assert p.parse_temperature(ask(port, p.READ_SETPOINT)) == 12.3
    assert chiller.setpoint == 12.3


@pytest.mark.parametrize('data', [f'{round(p.SETPOINT_MAX * 10) + 1:+05d}',
                                  f'{round(p.SETPOINT_MIN * 10) - 1:+05d}', '-0500', 'abcde'])
def test_setpoint_out_of_bounds_answers_3(serve, data):
    chiller = ChillerEmulator(setpoint=15.0)
    port = serve(chiller)
    assert refused(port, p.encode_request(p.SET_SETPOINT, data), p.SET_SETPOINT) == errors.ERROR_BOUNDS
    assert chiller.setpoint == 15.0


def test_run_value_out_of_bounds_answers_3(serve):
    chiller = ChillerEmulator()
    port = serve(chiller)
    assert refused(port, p.encode_request(p.SET_RUN, '2'), p.SET_RUN) == errors.ERROR_BOUNDS
    assert not chiller.running


def test_bad_checksum_answers_1(serve):
    port = serve(ChillerEmulator())
    assert refused(port, b'.01010000000071\r', p.READ_STATUS) == p.ERROR_CHECKSUM


def test_unknown_command_answers_2(serve):
    port = serve(ChillerEmulator())
    assert refused(port, p.encode_request('99'), '99') == p.ERROR_COMMAND


def test_wrong_length_answers_4(serve):
    port = serve(ChillerEmulator())
    assert refused(port, p.encode_request(p.READ_STATUS, '1'), p.READ_STATUS) == p.ERROR_LENGTH
    assert refused(port, p.encode_request(p.SET_SETPOINT, '+015'), p.SET_SETPOINT) == p.ERROR_LENGTH


def test_frames_for_another_address_get_no_answer(serve):
    port = serve(ChillerEmulator())
    port.timeout = 0.3
    body = b'.0201' + b'0' * 8
    port.write(body + p.checksum(body) + p.REQUEST_END)
    assert port.read_until(p.REPLY_END) == b''
    port.timeout = 2
    assert p.parse_status(ask(port, p.READ_STATUS)).control_mode == p.MODE_STANDBY


def test_alarm_and_warning_bits(serve):
    chiller = ChillerEmulator()
    port = serve(chiller)
    chiller.raise_alarm(0)
    chiller.raise_alarm(23)
    assert ask(port, p.READ_ALARMS) == '100008'
    assert p.parse_bits(ask(port, p.READ_ALARMS)) == 1 | 1 << 23
    assert p.parse_status(ask(port, p.READ_STATUS)) == p.Status(p.MODE_STANDBY, False, True, False)

    chiller.raise_warning(5)
    assert p.set_bit_indices(p.parse_bits(ask(port, p.READ_WARNINGS))) == (5,)
    assert p.parse_status(ask(port, p.READ_STATUS)).warning

    chiller.clear_alarms()
    chiller.clear_warnings()
    assert p.parse_bits(ask(port, p.READ_ALARMS)) == 0
    assert p.parse_bits(ask(port, p.READ_WARNINGS)) == 0
    assert p.parse_status(ask(port, p.READ_STATUS)) == p.Status(p.MODE_STANDBY, False, False, False)

    with pytest.raises(ValueError):
        chiller.raise_alarm(4 * p.ALARM_DIGITS)
    with pytest.raises(ValueError):
        chiller.raise_warning(-1)


def test_corrupt_checksum_is_detected(serve):
    chiller = ChillerEmulator()
    port = serve(chiller)
    chiller.corrupt_checksum = True
    with pytest.raises(ProtocolError, match='checksum'):
        p.decode_response(exchange(port, p.encode_request(p.READ_STATUS)), p.READ_STATUS)
    chiller.corrupt_checksum = False
    assert p.parse_status(ask(port, p.READ_STATUS)).control_mode == p.MODE_STANDBY


def test_runs_standalone():
    process = subprocess.Popen([sys.executable, '-m', 'rockit.chiller.emulator', '--tcp', '0'],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 10)
        assert ready, 'the standalone emulator printed no address'
        url = process.stdout.readline().strip()
        assert url.startswith('socket://127.0.0.1:')
        port = serial.serial_for_url(url, timeout=2)
        try:
            assert p.parse_status(ask(port, p.READ_STATUS)).control_mode == p.MODE_STANDBY
        finally:
            port.close()
    finally:
        process.terminate()
        process.wait(5)

"""The focus controller emulator, driven as the daemon drives the hardware: through a real
EmulatorLink (TCP or pty) and a plain pyserial port, with no mocks."""
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial
from hypothesis import given, settings, strategies as st

from rockit.common.emulator import EmulatorLink
from rockit.common.errors import ProtocolError
from rockit.common.serial_link import port_for_url
from rockit.focuser.multichannel import protocol
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

ROOT = Path(__file__).resolve().parents[2]
FAST = 2000.0           # steps/s: moves that take the real controller minutes take ms here
A, B = '28FF4A1B6117045D', '28AA9C3E1D130219'


@pytest.fixture
def serve():
    """serve(model, transport='tcp') -> (link, pyserial port); both closed after the test."""
    links, ports = [], []

    def start(model, transport='tcp', timeout=2.0, **link_options):
        link = EmulatorLink(model, transport, **link_options).start()
        links.append(link)
        return link, open_port(link.url, timeout)

    def open_port(url, timeout=2.0):
        port = port_for_url(url, timeout=timeout)   # pyserial 3.4's own hangs on a peer that hung up
        ports.append(port)
        return port

    start.open_port = open_port
    yield start
    for port in ports:
        port.close()
    for link in links:
        link.stop()


def ask(port, request, timeout=None):
    """The reply without its terminator, or None if none arrived in time."""
    if timeout is not None:
        port.timeout = timeout
    port.write(request)
    reply = port.read_until(protocol.REPLY_END)
    return reply[:-2] if reply.endswith(protocol.REPLY_END) else None


def status(port, channels=2):
    return protocol.parse_status(ask(port, protocol.status_query()), channels)


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError('timed out')


def test_power_up_state(serve):
    _, port = serve(FocusControllerEmulator(channels=3))
    assert status(port, 3) == [(0, 0)] * 3
    assert protocol.parse_fans(ask(port, protocol.fans_query())) is False


def test_move_progresses_at_the_configured_speed(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    before = time.monotonic()
    protocol.parse_ack(ask(port, protocol.set_target(1, 100000)))
    started = time.monotonic()
    previous = 0
    for _ in range(3):
        time.sleep(0.05)
        ask_from = time.monotonic()
        (target, current), other = status(port)
        ask_to = time.monotonic()
        # the position lies between what the fastest and the slowest timing allow
        assert (ask_from - started) * FAST - 1 <= current <= (ask_to - before) * FAST
        assert target == 100000 and previous < current < target
        assert other == (0, 0)
        previous = current
    assert model.is_moving(1) and not model.is_moving(2)
    assert model.target(1) == 100000


def test_a_change_of_speed_keeps_the_position_reached(serve):
    model = FocusControllerEmulator(steps_per_second=1)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 500)))
    model.change_speed(FAST)
    wait_for(lambda: not model.is_moving(1))
    assert model.position(1) == 500
    model.change_speed(1)
    protocol.parse_ack(ask(port, protocol.set_target(1, 0)))
    model.change_speed(0.001)
    held = model.position(1)
    assert held > 490 and model.is_moving(1)   # at most seconds at 1 step/s
    time.sleep(0.05)
    assert model.position(1) == held        # a thousandth of a step a second: it stays put
    with pytest.raises(ValueError):
        model.change_speed(0)


def test_move_arrives_and_stops(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(2, -300)))
    assert wait_for(lambda: status(port)[1] == (-300, -300))
    assert model.position(2) == -300 and not model.is_moving(2)
    assert status(port)[0] == (0, 0)


def test_new_target_accepted_while_moving(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 100000)))
    wait_for(lambda: model.position(1) > 20)
    protocol.parse_ack(ask(port, protocol.set_target(1, 10)))
    assert wait_for(lambda: status(port)[0] == (10, 10))


def test_stop_mid_move(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 100000)))
    wait_for(lambda: model.position(1) > 20)
    protocol.parse_ack(ask(port, protocol.stop(1)))
    (target, current), _ = status(port)
    assert target == current and 20 < current < 100000
    time.sleep(0.05)
    assert status(port)[0] == (target, current)
    assert not model.is_moving(1)


def test_zero(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 200)))
    wait_for(lambda: status(port)[0] == (200, 200))
    protocol.parse_ack(ask(port, protocol.zero(1)))
    assert status(port)[0] == (0, 0)
    protocol.parse_ack(ask(port, protocol.set_target(1, -20)))
    assert wait_for(lambda: status(port)[0] == (-20, -20))


def test_zero_mid_move_stops_at_zero(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 100000)))
    wait_for(lambda: model.position(1) > 20)
    protocol.parse_ack(ask(port, protocol.zero(1)))
    time.sleep(0.05)
    assert status(port)[0] == (0, 0)


def test_power_cycle_mid_move_restores_the_target(serve):
    """The firmware's EEPROM keeps the target, not the position: a wrong position silently."""
    model = FocusControllerEmulator(steps_per_second=FAST)
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 100000)))
    protocol.parse_ack(ask(port, protocol.set_fans(True)))
    model.power_cycle()
    assert status(port)[0] == (100000, 100000)
    assert protocol.parse_fans(ask(port, protocol.fans_query())) is False


def test_fans(serve):
    model = FocusControllerEmulator()
    _, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_fans(True)))
    assert protocol.parse_fans(ask(port, protocol.fans_query())) is True and model.fans
    protocol.parse_ack(ask(port, protocol.set_fans(False)))
    assert protocol.parse_fans(ask(port, protocol.fans_query())) is False and not model.fans
    assert ask(port, b'#2\n') == b'?'


def test_probes(serve):
    model = FocusControllerEmulator(probes={A: 21.5625, B: -1.5}, probe_delay=0.05)
    _, port = serve(model)
    assert protocol.parse_probe_list(ask(port, protocol.probe_list_query())) == [A, B]
    started = time.monotonic()
    assert ask(port, protocol.probe_query(A)) == b'21.5625'
    assert time.monotonic() - started >= 0.05          # a reading blocks the controller
    assert protocol.parse_temperature(ask(port, protocol.probe_query(A))) == 21.5625
    # below 0 C the firmware's unsigned shift reads 4096 + value
    assert ask(port, protocol.probe_query(B)) == b'4094.5000'
    assert protocol.parse_temperature(b'4094.5000') is None
    model.set_temperature(B, 3.0)
    assert ask(port, protocol.probe_query(B)) == b'3.0000'
    model.failing_probes.add(A)
    assert ask(port, protocol.probe_query(A)) == b'FAILED'
    assert protocol.parse_temperature(b'FAILED') is None
    assert ask(port, protocol.probe_query('28000000000000FF')) == b'FAILED'
    assert ask(port, b'@28ff4a1b6117045d\n') == b'FAILED'   # the firmware reads hex in any case
    model.failing_probes.clear()
    assert ask(port, b'@28ff4a1b6117045d\n') == b'21.5625'


def test_probe_queries_the_firmware_cannot_parse_get_a_question_mark(serve):
    model = FocusControllerEmulator(probes={A: 21.5625}, probe_delay=0)
    _, port = serve(model)
    assert ask(port, b'@Z8FF4A1B6117045D\n') == b'?'        # a pair that does not start with a hex digit
    assert ask(port, b'@28FF4A1B6117045\n') == b'?'         # 15 digits
    assert ask(port, b'@2800000000000001\n') == b'FAILED'   # well formed, but no such probe answers
    model.probe_support = False                               # a firmware built without probes
    assert ask(port, protocol.probe_query(A)) == b'?'
    assert ask(port, protocol.probe_list_query()) == b'?'
    assert status(port) == [(0, 0), (0, 0)]                    # and the rest of the firmware works


def test_temperatures_are_quantised_to_a_sixteenth(serve):
    model = FocusControllerEmulator(probes={A: 21.53, B: -0.0625}, probe_delay=0)
    _, port = serve(model)
    assert ask(port, protocol.probe_query(A)) == b'21.5000'
    assert ask(port, protocol.probe_query(B)) == b'4095.9375'


def test_empty_probe_list_is_a_bare_newline(serve):
    """The firmware writes its \\r\\n one byte before its buffer when no probe is found."""
    _, port = serve(FocusControllerEmulator())
    port.write(protocol.probe_list_query())
    reply = port.read_until(protocol.PROBE_LIST_REPLY_END)
    assert reply == b'\n'
    assert protocol.parse_probe_list(reply[:-1]) == []


def test_only_four_probes_are_listed(serve):
    probes = {f'28000000000000{n:02X}': 20.0 + n for n in range(5)}
    _, port = serve(FocusControllerEmulator(probes=probes, probe_delay=0))
    assert protocol.parse_probe_list(ask(port, protocol.probe_list_query())) == list(probes)[:4]
    assert ask(port, b'@2800000000000004\n') == b'24.0000'


def test_unknown_commands_get_a_question_mark(serve):
    _, port = serve(FocusControllerEmulator())
    for request in (b'X\n', b'3S\n', b'0S\n', b'9Z\n', b'??\n', b'#2\n', b'##\n', b'@123\n',
                    b'@' + b'G' * 16 + b'\n', b'1+12a\n', b'1+12345678\n', b'1-1-\n', b'\xff\n', b' ?\n'):
        assert ask(port, request) == b'?', request
    assert status(port) == [(0, 0), (0, 0)]


def test_bad_suffix_after_a_channel_gets_no_reply(serve):
    _, port = serve(FocusControllerEmulator())
    for request in (b'1X\n', b'1+\n', b'2-\n', b'1S5\n', b'2\n', b'1ZZ\n', b'1 +000001\n'):
        assert ask(port, request, timeout=0.15) is None, request
        assert status(port) == [(0, 0), (0, 0)]    # and the next command is not affected


def test_crlf_poisons_the_next_command(serve):
    """Why requests must end with \\n alone: the \\r ends the command and the \\n that follows
    is kept as the first byte of the next one."""
    _, port = serve(FocusControllerEmulator())
    port.write(b'?\r\n')
    assert protocol.parse_status(port.read_until(b'\r\n')[:-2], 2) == [(0, 0), (0, 0)]
    assert ask(port, b'?\n') == b'?'
    assert status(port) == [(0, 0), (0, 0)]


def test_seven_digit_target_corrupts_the_status_line(serve):
    _, port = serve(FocusControllerEmulator())
    assert ask(port, b'1+1000000\n') == b'$'
    reply = ask(port, protocol.status_query())
    # No separator after the position (which may have begun to move): T2 runs into it.
    assert re.match(rb'T1=\+1000000,C1=\+\d{6}T2=', reply), reply
    with pytest.raises(ProtocolError):
        protocol.parse_status(reply, 2)


# The link's fault switches, as the daemon will meet them.
def test_silent_link(serve):
    link, port = serve(FocusControllerEmulator())
    link.silent = True
    assert ask(port, protocol.status_query(), timeout=0.2) is None
    link.silent = False
    assert ask(port, protocol.status_query(), timeout=2) is not None


def test_garbage_link(serve):
    link, port = serve(FocusControllerEmulator())
    link.garbage = True
    for _ in range(5):
        port.reset_input_buffer()
        port.write(protocol.status_query())
        reply = port.read_until(protocol.REPLY_END)
        with pytest.raises(ProtocolError):
            protocol.parse_status(reply[:-2], 2)
    link.garbage = False
    time.sleep(0.05)
    port.reset_input_buffer()
    assert status(port) == [(0, 0), (0, 0)]


def test_late_replies(serve):
    link, port = serve(FocusControllerEmulator())
    link.delay = 0.3
    assert ask(port, protocol.fans_query(), timeout=0.05) is None
    port.timeout = 2
    assert port.read_until(protocol.REPLY_END) == b'0\r\n'     # it arrives, late


def test_every_other_reply_lost(serve):
    link, port = serve(FocusControllerEmulator())
    link.every_other = True
    replies = [ask(port, protocol.fans_query(), timeout=0.2) for _ in range(4)]
    assert replies.count(b'0') == 2 and replies.count(None) == 2


def test_unplug_and_replug_over_tcp(serve):
    model = FocusControllerEmulator(steps_per_second=FAST)
    link, port = serve(model)
    protocol.parse_ack(ask(port, protocol.set_target(1, 50)))
    link.unplug()
    with pytest.raises(serial.SerialException):
        ask(port, protocol.status_query())
    # nothing answers while unplugged, even a fresh connection
    with pytest.raises(serial.SerialException):
        ask(serve.open_port(link.url), protocol.status_query())
    link.replug()
    port = serve.open_port(link.url)
    assert wait_for(lambda: status(port)[0] == (50, 50))   # the controller kept its state


def test_over_a_pty(serve):
    model = FocusControllerEmulator(steps_per_second=FAST, probes={A: 12.5}, probe_delay=0.01)
    _, port = serve(model, 'pty')
    assert status(port) == [(0, 0), (0, 0)]
    protocol.parse_ack(ask(port, protocol.set_target(2, 40)))
    assert wait_for(lambda: status(port)[1] == (40, 40))
    assert protocol.parse_temperature(ask(port, protocol.probe_query(A))) == 12.5


def test_pty_replug_behind_a_stable_path(serve, tmp_path):
    model = FocusControllerEmulator()
    link, port = serve(model, 'pty', link_path=str(tmp_path / 'focuser'))
    protocol.parse_ack(ask(port, protocol.set_fans(True)))
    link.unplug()
    with pytest.raises(serial.SerialException):
        ask(port, protocol.fans_query())
    link.replug()
    port = wait_for(lambda: _reopen(serve, link.url))
    assert protocol.parse_fans(ask(port, protocol.fans_query())) is True


def _reopen(serve, url):
    """A port that answers once the link has made its new pty, else None."""
    try:
        port = serve.open_port(url, timeout=0.2)
        if ask(port, protocol.fans_query()) is not None:
            port.timeout = 2
            return port
    except (serial.SerialException, OSError):
        pass
    return None


def test_standalone(tmp_path):
    process = subprocess.Popen([sys.executable, '-m', 'rockit.focuser.multichannel.emulator', '--tcp', '0', '--channels', '3'],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith('socket://127.0.0.1:'), process.stderr.read()
        port = serial.serial_for_url(url, timeout=2)
        try:
            assert status(port, 3) == [(0, 0)] * 3
            assert len(protocol.parse_probe_list(ask(port, protocol.probe_list_query()))) == 2
        finally:
            port.close()
    finally:
        process.terminate()
        assert process.wait(10) == 0


# The model alone.
@settings(max_examples=300)
@given(st.lists(st.binary(max_size=30), max_size=10))
def test_model_survives_any_bytes(requests):
    model = FocusControllerEmulator(channels=2, probes={A: 1.0}, probe_delay=0)
    for request in requests:
        reply = model.respond(request)
        assert reply is None or reply.endswith(b'\n')
    reply = model.respond(b'?')
    assert reply is None or reply.endswith(b'\r\n')


def test_model_checks_its_arguments():
    for bad in ({'channels': 0}, {'channels': 10}, {'steps_per_second': 0}, {'probes': {'ABC': 1.0}}):
        with pytest.raises(ValueError):
            FocusControllerEmulator(**bad)
    with pytest.raises(ValueError):
        FocusControllerEmulator().position(3)

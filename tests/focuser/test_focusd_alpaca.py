"""focusd's Alpaca interface end to end: emulated controller -> real focusd process -> the
official Alpaca client (alpyca), raw HTTP and UDP discovery on loopback."""
import http.client
import json
import re
import socket

import pytest
from alpaca import management
from alpaca.exceptions import (ActionNotImplementedException, DriverException, InvalidOperationException,
                               NotConnectedException, NotImplementedException)
from alpaca.focuser import Focuser as AlpacaFocuser

from support import ROOT, free_port, wait_until
from rockit.focuser.multichannel.codes import CommandStatus
from rockit.focuser.multichannel.protocol import MIN_POSITION

ZERO = -MIN_POSITION   # the Alpaca position of controller step 0 on a channel without soft limits


class Served:
    """A focuser with its Alpaca server; client(n) is alpyca's view of channel n."""

    def __init__(self, focuser):
        self.focuser = focuser
        self.port = focuser.config['alpaca']['port']
        self.discovery_port = focuser.config['alpaca']['discovery_port']
        self.address = f'127.0.0.1:{self.port}'

    def client(self, channel=1, connect=True):
        device = AlpacaFocuser(self.address, channel - 1)
        if connect:
            device.Connected = True
        return device

    def request(self, method, path, body=None, source='127.0.0.1', headers=None):
        """(HTTP status, body text) of a raw request."""
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10, source_address=(source, 0))
        try:
            form = {'Content-Type': 'application/x-www-form-urlencoded'} if body is not None else {}
            connection.request(method, path, body=body, headers=form if headers is None else headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


@pytest.fixture
def make_served(make_focuser):
    def make(alpaca_extra=None, **overrides):
        alpaca = {'port': free_port(), 'discovery_port': free_port(socket.SOCK_DGRAM),
                  'temperature_probes': {'1': 'mirror', '2': 'tube'}, **(alpaca_extra or {})}
        return Served(make_focuser(alpaca=alpaca, **overrides))
    return make


@pytest.fixture
def served(make_served):
    return make_served()


def test_management_lists_each_channel_as_a_focuser(served):
    assert management.apiversions(served.address) == [1]
    assert management.description(served.address)['ServerName'] == 'rockit focusd focus_test'
    devices = management.configureddevices(served.address)
    assert [(d['DeviceType'], d['DeviceNumber'], d['DeviceName']) for d in devices] == [
        ('Focuser', 0, 'focus_test channel 1'), ('Focuser', 1, 'focus_test channel 2')]
    assert len({d['UniqueID'] for d in devices}) == 2


def test_common_members_answer_before_connecting_and_the_rest_need_it(served):
    focuser = served.client(1, connect=False)
    assert focuser.Connected is False
    assert (focuser.Name, focuser.InterfaceVersion, focuser.SupportedActions) == ('focus_test channel 1', 4, [])
    assert 'channel 1' in focuser.Description and focuser.DriverInfo and focuser.DriverVersion == '1.0'
    for member in ('Position', 'IsMoving', 'MaxStep', 'Absolute', 'Temperature', 'DeviceState'):
        with pytest.raises(NotConnectedException):
            getattr(focuser, member)
    with pytest.raises(NotConnectedException):
        focuser.Move(10)
    assert served.focuser.set_requests() == []


def test_every_focuser_member_once_connected(served):
    focuser = served.client(1)
    assert focuser.Connected is True and focuser.Connecting is False
    assert (focuser.Absolute, focuser.Position, focuser.IsMoving) == (True, ZERO, False)
    assert (focuser.MaxStep, focuser.MaxIncrement) == (2 * ZERO, 2 * ZERO)
    assert (focuser.TempCompAvailable, focuser.TempComp) == (False, False)
    focuser.TempComp = False
    with pytest.raises(NotImplementedException):
        focuser.TempComp = True
    with pytest.raises(NotImplementedException):
        focuser.StepSize
    assert focuser.Temperature == 12.5
    state = {item['Name']: item['Value'] for item in focuser._get('devicestate')}
    assert (state['IsMoving'], state['Position'], state['Temperature']) == (False, ZERO, 12.5)
    assert state['TimeStamp'].endswith('Z')
    # channel 2's probe reads -1.5 C, which the firmware bug turns into an invalid reading
    tube = served.client(2)
    with pytest.raises(DriverException):
        tube.Temperature
    assert 'Temperature' not in {item['Name'] for item in tube._get('devicestate')}
    with pytest.raises(ActionNotImplementedException):
        focuser.Action('warp', '9')
    with pytest.raises(NotImplementedException):
        focuser.CommandBlind('#', True)


def test_temperature_is_not_implemented_without_a_probe(make_focuser):
    served = Served(make_focuser(alpaca={'port': free_port(), 'discovery_port': free_port(socket.SOCK_DGRAM)}))
    with pytest.raises(NotImplementedException):
        served.client(1).Temperature


def test_a_move_returns_at_once_and_is_followed_to_its_end(make_served):
    served = make_served(speed=1000)
    focuser = served.client(1)
    focuser.Move(ZERO + 4000)
    assert focuser.IsMoving is True and focuser.Position < ZERO + 4000
    wait_until(lambda: not focuser.IsMoving, timeout=60, message='the move to end')
    assert focuser.Position == ZERO + 4000 and served.focuser.model.position(1) == 4000
    status = served.focuser.status()
    assert (status['current_steps_1'], status['current_steps_2']) == (4000, 0)
    served.client(2).Move(ZERO + 20)
    wait_until(lambda: served.focuser.model.position(2) == 20, message='channel 2 at 20')


def test_halt_stops_the_channel_where_it_is(make_served):
    served = make_served(speed=400)
    focuser = served.client(1)
    focuser.Move(ZERO + 5000)
    wait_until(lambda: focuser.Position > ZERO + 100, message='move under way')
    with pytest.raises(InvalidOperationException):
        focuser.Move(ZERO + 10)   # only Halt while moving
    focuser.Halt()
    assert focuser.IsMoving is False
    stopped = served.focuser.model.position(1)
    assert 100 < stopped < 5000 and focuser.Position == ZERO + stopped
    focuser.Halt()   # halting a still channel is harmless


@pytest.mark.parametrize('position, steps', [(-1, -100), (-2**31, -100), (2101, 2000), (2**31 - 1, 2000)])
def test_a_move_beyond_0_or_maxstep_goes_to_that_end(make_served, position, steps):
    served = make_served(soft_limits={'1': {'min': -100, 'max': 2000}})
    focuser = served.client(1)
    focuser.Move(position)
    wait_until(lambda: served.focuser.model.position(1) == steps, message=f'channel 1 at {steps}')
    wait_until(lambda: not focuser.IsMoving, message='the move to end')
    assert focuser.Position == steps + 100


def test_soft_limits_define_the_alpaca_range(make_served):
    served = make_served(soft_limits={'1': {'min': -100, 'max': 2000}})
    focuser = served.client(1)
    assert (focuser.MaxStep, focuser.Position) == (2100, 100)
    focuser.Move(0)
    wait_until(lambda: served.focuser.model.position(1) == -100, message='channel 1 at its lower limit')
    wait_until(lambda: focuser.Position == 0 and not focuser.IsMoving, message='position 0')
    # without soft limits: the controller's whole range, -999999..999999, as 0..1999998
    assert (served.client(2).MaxStep, served.client(2).Position) == (2 * ZERO, ZERO)


def test_a_channel_below_its_soft_minimum_reads_0_never_negative(make_served):
    served = make_served(soft_limits={'1': {'min': 100, 'max': 2000}})   # the controller starts at 0
    focuser = served.client(1)
    assert focuser.Position == 0
    state = {item['Name']: item['Value'] for item in focuser._get('devicestate')}
    assert state['Position'] == 0


def test_connect_and_disconnect_leave_the_controller_to_focusd(served):
    focuser = served.client(1, connect=False)
    focuser.Connect()
    wait_until(lambda: not focuser.Connecting, message='Connect to finish')
    assert focuser.Connected is True and focuser.Position == ZERO
    focuser.Disconnect()
    assert focuser.Connected is False
    # the controller stays connected for Pyro clients, and channel 2 is its own device
    assert served.focuser.status()['status'] == 1
    assert served.focuser.call('set_focus', 1, 50) == CommandStatus.Succeeded
    with pytest.raises(NotConnectedException):
        focuser.Position


def test_connecting_reconnects_a_controller_shut_down_over_pyro(served):
    focuser = served.client(1)
    assert served.focuser.call('shutdown') == CommandStatus.Succeeded
    assert focuser.Connected is False
    with pytest.raises(NotConnectedException):
        focuser.Move(10)
    focuser.Connected = True
    assert focuser.Connected is True and served.focuser.status()['status'] == 1


def test_an_unreachable_controller_fails_to_connect_with_its_reason(served):
    assert served.focuser.call('shutdown') == CommandStatus.Succeeded
    served.focuser.link.stop()
    focuser = served.client(1, connect=False)
    with pytest.raises(DriverException, match='offline'):
        focuser.Connected = True
    assert focuser.Connected is False


def test_a_failed_connect_is_reported_by_connecting(served):
    assert served.focuser.call('shutdown') == CommandStatus.Succeeded
    served.focuser.link.stop()
    focuser = served.client(1, connect=False)
    focuser.Connect()

    def outcome():
        try:
            return not focuser.Connecting and 'connected'
        except DriverException as e:
            return e
    result = wait_until(outcome, timeout=60, message='Connect to finish')
    assert isinstance(result, DriverException) and 'offline' in str(result)
    assert focuser.Connected is False and focuser.Connecting is False   # reported once


def test_transaction_ids(served):
    replies = [json.loads(served.request('GET', f'/api/v1/focuser/0/name?clienttransactionid={n}&ClientID=7')[1])
               for n in (5, 6)]
    assert [r['ClientTransactionID'] for r in replies] == [5, 6]
    assert replies[0]['ServerTransactionID'] < replies[1]['ServerTransactionID']
    assert replies[0]['ErrorNumber'] == 0 and replies[0]['Value'] == 'focus_test channel 1'
    status, text = served.request('PUT', '/api/v1/focuser/0/connected', 'Connected=true&ClientTransactionID=9')
    assert status == 200 and json.loads(text)['ClientTransactionID'] == 9 and 'Value' not in json.loads(text)
    # a label that is not an unsigned 32-bit number does not stop the request
    reply = json.loads(served.request('GET', '/api/v1/focuser/0/position?ClientTransactionID=-3')[1])
    assert (reply['ClientTransactionID'], reply['Value']) == (0, ZERO)
    for path in ('/management/apiversions', '/management/v1/description', '/management/v1/configureddevices'):
        reply = json.loads(served.request('GET', f'{path}?ClientTransactionID=12')[1])
        assert reply['ClientTransactionID'] == 12, path


@pytest.mark.parametrize('method, path, body, status', [
    ('GET', '/api/v1/focuser/2/position', None, 400),          # two channels: devices 0 and 1
    ('GET', '/api/v1/focuser/x/position', None, 400),
    ('GET', '/api/v1/focuser/-1/position', None, 400),
    ('GET', '/api/v1/focuser/' + '9' * 4300 + '/position', None, 400),   # beyond int()'s digit limit
    ('GET', '/api/v1/focuser/4294967296/position', None, 400),
    ('GET', '/api/v1/FOCUSER/0/position', None, 400),                    # paths are case-sensitive
    ('GET', '/api/v1/focuser/0/Position', None, 400),
    ('GET', '/api/V1/focuser/0/position', None, 404),
    ('GET', '/management/V1/description', None, 404),
    ('GET', '/api/v1/camera/0/position', None, 400),
    ('GET', '/api/v1/focuser/0/warp', None, 400),
    ('GET', '/api/v1/focuser/0/move', None, 405),
    ('PUT', '/api/v1/focuser/0/position', 'Position=3', 405),
    ('GET', '/api/v2/focuser/0/position', None, 404),
    ('GET', '/index.html', None, 404),
    ('PUT', '/api/v1/focuser/0/move', '', 400),                 # Position missing
    ('PUT', '/api/v1/focuser/0/move', 'position=10', 400),      # PUT names are case-sensitive
    ('PUT', '/api/v1/focuser/0/move', 'Position=ten', 400),
    ('PUT', '/api/v1/focuser/0/move', 'Position=1.5', 400),
    ('PUT', '/api/v1/focuser/0/move', 'Position=99999999999', 400),
    ('PUT', '/api/v1/focuser/0/move', 'Position', 400),
    ('PUT', '/api/v1/focuser/0/move', b'Position=\xff', 400),
    ('PUT', '/api/v1/focuser/0/connected', 'Connected=yes', 400),
    ('PUT', '/api/v1/focuser/0/tempcomp', 'TempComp=', 400),
    ('GET', '/api/v1/focuser/0/position?ClientID=1&&=', None, 400),
])
def test_malformed_requests_get_http_errors_and_send_nothing(served, method, path, body, status):
    served.client(1)
    assert served.request(method, path, body)[0] == status
    assert served.focuser.set_requests() == []
    assert served.request('GET', '/api/v1/focuser/0/position')[0] == 200   # still serving


def test_a_broken_body_length_is_refused(served):
    for length in ('lots', str(10**9), '9' * 5000):    # more digits than int() reads
        status, _ = served.request('PUT', '/api/v1/focuser/0/move', 'Position=1',
                                   headers={'Content-Length': length})
        assert status == 400
    assert served.focuser.set_requests() == []


def test_puts_only_from_control_machines(served):
    served.client(1)
    status, text = served.request('PUT', '/api/v1/focuser/0/move', 'Position=100', source='127.0.0.2')
    assert status == 403 and '127.0.0.2' in text
    assert served.request('PUT', '/api/v1/focuser/0/connected', 'Connected=false', source='127.0.0.2')[0] == 403
    assert served.focuser.set_requests() == []
    status, text = served.request('GET', '/api/v1/focuser/0/position', source='127.0.0.2')
    assert status == 200 and json.loads(text)['Value'] == ZERO
    assert served.request('GET', '/management/v1/configureddevices', source='127.0.0.2')[0] == 200


@pytest.mark.parametrize('host, status', [
    ('127.0.0.1:{port}', 200), ('localhost:{port}', 200), ('LOCALHOST', 200), ('[::1]:{port}', 200),
    ('focuser.example.org:{port}', 200),                  # the config's host_names
    ('rebound.example.net:{port}', 400), ('127.0.0.1.rebound.example.net', 400), ('', 400),
    ('[::1]rebound.example.net', 400), ('127.0.0.1:80.rebound.example.net', 400),
])
def test_the_host_header_must_name_this_server(make_served, host, status):
    served = make_served(alpaca_extra={'host_names': ['focuser.example.org']})
    served.client(1)
    headers = {'Host': host.format(port=served.port), 'Content-Type': 'application/x-www-form-urlencoded'}
    assert served.request('GET', '/api/v1/focuser/0/position', headers=headers)[0] == status
    assert served.request('GET', '/management/v1/description', headers=headers)[0] == status
    answer, text = served.request('PUT', '/api/v1/focuser/0/move', f'Position={ZERO + 10}', headers=headers)
    assert answer == status
    if status != 200:
        assert 'not a name of this server' in text and served.focuser.set_requests() == []


def test_a_request_without_a_host_header_is_served(served):
    with socket.create_connection(('127.0.0.1', served.port), timeout=10) as sock:
        sock.sendall(b'GET /management/apiversions HTTP/1.0\r\n\r\n')
        reply = b''
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b'HTTP/1.1 200') and b'"Value": [1]' in reply


def test_discovery_answers_over_ipv6(served):
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.bind(('::1', 0))
    except OSError as e:
        pytest.skip(f'this machine has no IPv6 loopback: {e}')
    with sock:
        sock.settimeout(10)
        sock.sendto(b'alpacadiscovery1', ('::1', served.discovery_port))
        answer, sender = sock.recvfrom(1024)
    assert json.loads(answer) == {'AlpacaPort': served.port} and sender[0] == '::1'
    assert 'IPv6 ff12::a1:9aca' in served.focuser.daemon.output()


def test_discovery_answers_with_the_alpaca_port(served):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(b'alpacadiscovery1', ('127.0.0.1', served.discovery_port))
        answer, sender = sock.recvfrom(1024)
        assert json.loads(answer) == {'AlpacaPort': served.port}
        # a broadcast on the loopback network reaches it too
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.sendto(b'alpacadiscovery1', ('127.255.255.255', served.discovery_port))
        assert json.loads(sock.recvfrom(1024)[0]) == {'AlpacaPort': served.port}
        # anything else gets no answer
        sock.settimeout(0.5)
        sock.sendto(b'hello', ('127.0.0.1', served.discovery_port))
        with pytest.raises(socket.timeout):
            sock.recvfrom(1024)
    address = f'{sender[0]}:{served.port}'
    assert management.configureddevices(address)[0]['DeviceType'] == 'Focuser'


def test_a_taken_alpaca_port_leaves_pyro_serving(make_focuser):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        focuser = make_focuser(alpaca={'port': port, 'discovery_port': free_port(socket.SOCK_DGRAM)})
        assert focuser.call('set_focus', 1, 10) == CommandStatus.Succeeded
        wait_until(lambda: f'HTTP port {port}' in focuser.daemon.output(), message='the error in the log')


BASE_CONFIG = {'daemon': 'localhost_test', 'log_name': 'x', 'control_machines': ['LocalHost'],
               'serial_port': '/dev/focuser', 'serial_baud': 9600, 'serial_timeout': 5, 'channels': 2,
               'idle_loop_delay': 5, 'moving_loop_delay': 0.5, 'move_timeout': 180,
               'temperature_probes': {'mirror': {'label': 'Primary Mirror', 'address': '28FF4A1B6117045D'}}}


@pytest.mark.parametrize('alpaca, problem', [
    ({}, 'alpaca.port: required key is missing'),
    ({'port': 0}, 'alpaca.port: 0 is less than the minimum of 1'),
    ({'port': 70000}, 'alpaca.port: 70000 is greater than the maximum of 65535'),
    ({'port': '11111'}, "alpaca.port: '11111' is not of type 'integer'"),
    ({'port': 11111, 'discovery_port': -1}, 'alpaca.discovery_port: -1 is less than the minimum of 1'),
    ({'port': 11111, 'host': 'x'}, 'alpaca.host: unknown key'),
    ({'port': 9000}, 'alpaca.port: 9000 is the Pyro port of localhost_test'),
    ({'port': 11111, 'temperature_probes': {'3': 'mirror'}},
     'alpaca.temperature_probes.3: channel 3 does not exist (channels is 2)'),
    ({'port': 11111, 'temperature_probes': {'1': 'tube'}},
     "alpaca.temperature_probes.1: 'tube' is not a key of temperature_probes"),
    ({'port': 11111, 'temperature_probes': {'one': 'mirror'}}, 'alpaca.temperature_probes.one: unknown key'),
])
def test_alpaca_config_errors_name_the_key(test_registry, tmp_path, alpaca, problem):
    from rockit.common.config import ConfigError
    from rockit.focuser.multichannel.config import FocuserConfig
    path = tmp_path / 'focusd.json'
    path.write_text(json.dumps(dict(BASE_CONFIG, alpaca=alpaca)))
    with pytest.raises(ConfigError) as error:
        FocuserConfig.load(path)
    assert f'  {problem}' in str(error.value).splitlines()


def test_alpaca_config_is_optional(test_registry, tmp_path):
    from rockit.focuser.multichannel.config import FocuserConfig
    path = tmp_path / 'focusd.json'
    path.write_text(json.dumps(BASE_CONFIG))
    assert FocuserConfig.load(path).alpaca is None
    path.write_text(json.dumps(dict(BASE_CONFIG, alpaca={'port': 11111, 'temperature_probes': {'2': 'mirror'}})))
    assert FocuserConfig.load(path).alpaca['temperature_probes'] == {'2': 'mirror'}


def test_connections_beyond_the_limit_are_closed_and_serving_goes_on(served):
    from rockit.alpaca.server import MAX_CONNECTIONS
    idle = [socket.create_connection(('127.0.0.1', served.port)) for _ in range(MAX_CONNECTIONS)]
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            served.request('GET', '/management/apiversions')
    finally:
        for sock in idle:
            sock.close()
    wait_until(lambda: answers(served), message='serving again')


def answers(served):
    """Whether the server answers 200 now: until it has seen the idle sockets close, a new
    connection may still be over the limit and closed."""
    try:
        return served.request('GET', '/management/apiversions')[0] == 200
    except (ConnectionError, http.client.HTTPException):
        return False


def test_the_documented_alpaca_example_loads(test_registry, tmp_path):
    from rockit.focuser.multichannel.config import FocuserConfig
    page = (ROOT / 'docs' / 'focuser.md').read_text()
    example = re.search(r'^"alpaca": (\{.*?^\})', page, flags=re.MULTILINE | re.DOTALL).group(1)
    alpaca = json.loads(re.sub(r'#.*$', '', example, flags=re.MULTILINE))
    config = dict(BASE_CONFIG, temperature_probes={'primary_mirror': BASE_CONFIG['temperature_probes']['mirror']})
    path = tmp_path / 'focusd.json'
    path.write_text(json.dumps(dict(config, alpaca=alpaca)))
    assert FocuserConfig.load(path).alpaca == {'port': 11111, 'discovery_port': 32227,
                                               'temperature_probes': {'1': 'primary_mirror'},
                                               'host_names': ['focuser.example.org']}

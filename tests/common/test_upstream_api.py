"""rockit.common as the rest of rockit imports it (opsd, powerd, domealertd, pipelined):
every name, served from our registry, over real Pyro on loopback."""
import io
import json
import signal
import subprocess
import sys
import threading

import Pyro4
import pytest

from support import ROOT, wait_until
from rockit.common import pyro, registry

UPSTREAM_NAMES = ['log', 'daemons', 'helpers', 'TryLock', 'IP', 'print', 'validation_errors', 'validate_config',
                  'daemon_name_validator', 'directory_path_validator', 'machine_name_validator', 'validation']
UPSTREAM_MODULE_NAMES = {
    'daemons': ['PyroDaemon'],
    'helpers': ['pyro_client_matches', 'key_for_current_ip'],
    'log': ['info', 'warning', 'error'],
    'validation': ['ConfigSchemaViolationError', 'validation_errors', 'validate_config', 'daemon_name_validator',
                   'machine_name_validator', 'directory_path_validator'],
    'trylock': ['TryLock'],
    'ip': ['IP'],
    'terminal': ['print'],
}
# Today's names other rockit software calls (renamed since 2024), and the 2024 names.
TODAY = {'observatory_log': ('observatory_log_daemon', '10.2.6.100', 9016),
         'clasp_camvirt_cmos': ('clasp_camvirt_cmos_daemon', '10.2.6.182', 9040),
         'clasp_camvirt_swir': ('clasp_camvirt_swir_daemon', '10.2.6.187', 9040),
         'clasp_camera_cmos': ('clasp_camera_cmos_daemon', '10.2.6.185', 9037),
         'clasp_domealert': ('clasp_domealert_daemon', '10.2.6.188', 9008),
         'portable_focus': ('portable_focus_daemon', '127.0.0.1', 9036),
         'sting_camvirt_das1': ('sting_camvirt_daemon_das1', '10.2.6.173', 9012),
         'clasp_focus': ('clasp_focus_daemon', '10.2.6.181', 9036)}
OLDER = ['superwasp_power', 'superwasp_camvirt_das1', 'superwasp_cam4', 'clasp_camvirt_1', 'clasp_camera_2']
MACHINES = {'CLASPSWIR': '10.2.6.187', 'CLASPCMOS': '10.2.6.182', 'CLASPDomeAlert': '10.2.6.188',
            'PortableTCS': '127.0.0.1', 'GOTOServer': '10.2.6.100', 'STINGDAS1': '10.2.6.173',
            'SWASPDAS1': '10.2.6.173', 'CLASPDAS': '10.2.6.182'}


def test_every_upstream_name_imports():
    import importlib
    import rockit.common
    for name in UPSTREAM_NAMES:
        assert getattr(rockit.common, name) is not None, name
    for module, names in UPSTREAM_MODULE_NAMES.items():
        loaded = importlib.import_module(f'rockit.common.{module}')
        for name in names:
            assert callable(getattr(loaded, name)), f'rockit.common.{module}.{name}'
    assert rockit.common.print is rockit.common.terminal.print


def test_importing_rockit_common_loads_none_of_pyro_rich_or_jsonschema():
    code = 'import sys, rockit.common; print(sorted({"Pyro4", "rich", "jsonschema"} & set(sys.modules)))'
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'


def test_packaged_registry_serves_todays_names_and_the_older_ones(test_registry):
    from rockit.common import IP, daemons
    for name, (object_id, host, port) in TODAY.items():
        daemon = getattr(daemons, name)
        assert (daemon.name, daemon.host, daemon.port) == (object_id, host, port)
        assert daemon.uri == f'PYRO:{object_id}@{host}:{port}'
    for name in OLDER:
        assert getattr(daemons, name).port > 0
    for name, ip in MACHINES.items():
        assert getattr(IP, name) == ip
    assert len(registry.load().daemon_names()) >= 157 + len(OLDER)
    assert 'clasp_camvirt_swir' in dir(daemons) and 'CLASPSWIR' in dir(IP)


def test_unknown_names_are_attribute_errors(test_registry):
    from rockit.common import IP, daemons
    with pytest.raises(AttributeError, match="unknown daemon 'nope'"):
        daemons.nope
    with pytest.raises(AttributeError, match="unknown machine 'Nowhere'"):
        IP.Nowhere
    assert not hasattr(daemons, 'nope') and not hasattr(IP, 'Nowhere')


def test_registry_files_steer_daemons_and_ip(test_registry, tmp_path, monkeypatch):
    from rockit.common import IP, daemons
    site = tmp_path / 'etc-rockit'
    site.mkdir()
    (site / 'site.json').write_text(json.dumps({'machines': {'CLASPCMOS': '192.0.2.8'}, 'daemons': {
        'clasp_chiller': {'object_id': 'chiller_here', 'host': '127.0.0.1', 'port': 9142}}}))
    monkeypatch.setattr(registry, 'SITE_DIR', site)
    test_registry.data['machines']['CLASPTCS'] = '192.0.2.7'
    moved = test_registry.add('clasp_focus', timeout=2)
    assert (daemons.clasp_focus.host, daemons.clasp_focus.port) == ('127.0.0.1', moved.port)
    assert daemons.clasp_focus.default_timeout == 2
    assert IP.CLASPTCS == '192.0.2.7'
    assert IP.CLASPCMOS == '192.0.2.8'
    assert daemons.clasp_chiller.uri == 'PYRO:chiller_here@127.0.0.1:9142'


@Pyro4.expose
class Echo:
    def __init__(self):
        self.calls = []

    def whitelisted(self, ips):
        from rockit.common import helpers
        return helpers.pyro_client_matches(ips)

    def echo(self, value):
        return value


def test_connect_gives_a_proxy_with_the_registry_timeout(test_registry):
    from rockit.common import daemons
    address = test_registry.add('localhost_test', timeout=3)
    server = pyro.BackgroundServer(Echo(), address)
    try:
        with daemons.localhost_test.connect() as proxy:
            assert proxy._pyroTimeout == 3 and proxy.echo([1, 'a']) == [1, 'a']
            assert proxy.whitelisted(['127.0.0.1']) is True
            assert proxy.whitelisted(['10.2.6.181']) is False
        assert not daemons.localhost_test.connect(timeout=0)._pyroTimeout   # no timeout at all
        proxy = daemons.localhost_test.connect(timeout=1.5, retries=2)
        assert (proxy._pyroTimeout, proxy._pyroMaxRetries) == (1.5, 2)
    finally:
        server.close()


LAUNCHED = '''
import Pyro4
from rockit.common import daemons

@Pyro4.expose
class Power:
    def value(self, name):
        return name == 'camera'

daemons.localhost_test.launch(Power())
'''


def test_launch_serves_an_object_until_sigterm(test_registry):
    from rockit.common import daemons
    test_registry.add('localhost_test')
    process = subprocess.Popen([sys.executable, '-c', LAUNCHED], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        def answers():
            try:
                with daemons.localhost_test.connect(timeout=1) as proxy:
                    return proxy.value('camera') is True and proxy.value('light') is False
            except Pyro4.errors.CommunicationError:
                return False
        wait_until(answers, message='launched object answers')
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        out = process.stdout.read().decode()
        assert f'serving {daemons.localhost_test.uri}' in out and 'stopped' in out
    finally:
        process.kill()
        process.wait()


def test_log_daemon_off_this_network_is_not_called(test_registry):
    from rockit.common import log
    test_registry.data['daemons']['observatory_log'] = {'object_id': 'observatory_log_daemon',
                                                        'host': '192.0.2.1', 'port': 9016}
    test_registry._write()
    assert log.log_daemon() is None
    address = test_registry.add('observatory_log')
    assert log.log_daemon() == address


def test_trylock_runs_the_block_and_says_whether_it_holds_the_lock():
    from rockit.common import TryLock
    lock = threading.Lock()
    with TryLock(lock) as acquired:
        assert acquired and lock.locked()
        with TryLock(lock) as again:
            assert again is False
        assert lock.locked()
    assert not lock.locked()


def test_print_renders_rich_markup():
    from rockit.common import print
    out = io.StringIO()
    print('Focuser is [b][red]OFFLINE[/red][/b]', 'now', file=out)
    assert out.getvalue() == 'Focuser is OFFLINE now\n'


SCHEMA = {'type': 'object', 'additionalProperties': False, 'required': ['daemon', 'machines'],
          'properties': {'daemon': {'type': 'string', 'daemon_name': True},
                         'machines': {'type': 'array', 'items': {'type': 'string', 'machine_name': True}},
                         'folder': {'type': 'string', 'directory_path': True}}}


def test_validation_with_the_custom_keywords(test_registry, tmp_path):
    from rockit.common import validation
    keywords = {'daemon_name': validation.daemon_name_validator, 'machine_name': validation.machine_name_validator,
                'directory_path': validation.directory_path_validator}
    good = {'daemon': 'clasp_focus', 'machines': ['CLASPTCS'], 'folder': str(tmp_path)}
    validation.validate_config(good, SCHEMA, keywords)
    assert list(validation.validation_errors(good, SCHEMA, keywords)) == []
    bad = {'daemon': 'clasp_fokus', 'machines': ['CLASPTCS', 'Nowhere'], 'folder': str(tmp_path / 'absent'), 'x': 1}
    with pytest.raises(validation.ConfigSchemaViolationError) as error:
        validation.validate_config(bad, SCHEMA, keywords)
    message = str(error.value)
    assert message.startswith('Invalid configuration:\n\t')
    assert 'daemon: clasp_fokus is not a valid daemon name' in message
    assert 'machines->1: Nowhere is not a valid machine name' in message
    assert f'folder: {tmp_path / "absent"} is not a valid directory path' in message
    assert "'x' was unexpected" in message


def test_a_broken_custom_validator_is_a_config_error_not_a_crash(capsys):
    from rockit.common import validation

    def broken(*_):
        raise RuntimeError('bug')
        yield

    with pytest.raises(validation.ConfigSchemaViolationError, match='exception while validating'):
        validation.validate_config({'daemon': 'x'}, {'properties': {'daemon': {'broken': True}}},
                                   {'broken': broken}, print_exception=True)
    assert 'RuntimeError: bug' in capsys.readouterr().out


def test_key_for_current_ip():
    from rockit.common import helpers
    here = helpers.current_ip()
    assert helpers.key_for_current_ip({'elsewhere': ['192.0.2.1'], 'here': ['192.0.2.2', here]}) == 'here'
    assert helpers.key_for_current_ip({'elsewhere': ['192.0.2.1']}) is None


def test_registry_data_is_plain_json():
    data = json.loads((ROOT / 'rockit/common/registry.json').read_text())
    assert set(data) == {'daemons', 'machines'}

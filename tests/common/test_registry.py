"""The registry: packaged names, overrides merged entry by entry, malformed files named."""
import json

import pytest

from rockit.common import registry


def test_packaged_registry_has_the_names_the_configs_use(test_registry):
    for name in ('localhost_test', 'clasp_focus', 'clasp_chiller', 'halfmetre_focuser',
                 'superwasp_camvirt_das1', 'superwasp_cam1'):
        assert registry.daemon(name).port > 0
    for name in ('LocalHost', 'CLASPTCS', 'SWASPTCS', 'SWASPDAS1', 'SWASPDAS2'):
        assert registry.machine_ip(name)
    assert registry.daemon('clasp_focus').uri == 'PYRO:clasp_focus_daemon@10.2.6.181:9036'


def test_environment_file_overrides_entry_by_entry(test_registry):
    test_registry.path.write_text(json.dumps({
        'daemons': {'localhost_test': {'object_id': 'moved', 'host': '127.0.0.1', 'port': 9101, 'timeout': 2}},
        'machines': {'CLASPTCS': '192.0.2.7'}}))
    registry.load.cache_clear()
    moved = registry.daemon('localhost_test')
    assert (moved.object_id, moved.port, moved.timeout) == ('moved', 9101, 2.0)
    assert registry.daemon('localhost_test2').port == 9001      # untouched entries stay
    assert registry.machine_ip('CLASPTCS') == '192.0.2.7'
    assert registry.machine_ip('SWASPTCS') == '10.2.6.160'


def test_site_directory_files_merge_in_name_order_before_the_environment_file(tmp_path, monkeypatch, test_registry):
    site = tmp_path / 'etc-rockit'
    site.mkdir()
    (site / '10-site.json').write_text(json.dumps({'machines': {'Dome': '192.0.2.1'}}))
    (site / '20-site.json').write_text(json.dumps({'machines': {'Dome': '192.0.2.2', 'Roof': '192.0.2.3'}}))
    monkeypatch.setattr(registry, 'SITE_DIR', site)
    test_registry.path.write_text(json.dumps({'machines': {'Roof': '192.0.2.9'}}))
    registry.load.cache_clear()
    assert registry.machine_ip('Dome') == '192.0.2.2'
    assert registry.machine_ip('Roof') == '192.0.2.9'


def test_timeout_defaults_to_five_seconds(test_registry):
    address = test_registry.add('somewhere')
    test_registry.data['daemons']['somewhere'].pop('timeout')
    test_registry._write()
    assert registry.daemon('somewhere').timeout == 5.0 and address.timeout == 5


@pytest.mark.parametrize('content, problem', [
    ('{"daemons": ', 'invalid JSON'),
    ('[]', 'expected an object'),
    ('{"daemon": {}}', "unknown key(s) daemon"),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": 70000}}}', 'daemons.x.port: expected an integer'),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": "9000"}}}', 'daemons.x.port: expected an integer'),
    ('{"daemons": {"x": {"object_id": "", "host": "h", "port": 9000}}}', 'daemons.x.object_id'),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": 9000, "timeout": -1}}}', 'daemons.x.timeout'),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": 9000, "prot": 1}}}', 'unknown key(s) prot'),
    ('{"machines": {"A": "not-an-ip"}}', "machines.A: 'not-an-ip' is not an IP address"),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": 9000, "port": 9001}}}',
     'daemons.x.port: given twice'),
    ('{"daemons": ' + '[' * 100000 + ']' * 100000 + '}', 'daemons[0][0][0]...: nested deeper than 64 levels'),
    ('{"daemons": {"x": {"object_id": "x", "host": "h", "port": 1' + '0' * 5000 + '}}}',
     'daemons.x.port: an integer of 5001 digits is beyond 64 bits'),
    ('{"machines": {"\\udc00": "127.0.0.1"}}', 'machines.\\udc00: a \\u escape of half a UTF-16 surrogate pair'),
])
def test_malformed_override_is_a_clear_error_naming_the_file(test_registry, content, problem):
    test_registry.path.write_text(content)
    registry.load.cache_clear()
    with pytest.raises(registry.RegistryError) as error:
        registry.load()
    assert str(test_registry.path) in str(error.value)
    assert problem in str(error.value)


def test_missing_override_file_is_named(test_registry, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENVIRONMENT_VARIABLE, str(tmp_path / 'absent.json'))
    registry.load.cache_clear()
    with pytest.raises(registry.RegistryError, match='absent.json: No such file'):
        registry.load()


def test_unknown_names_are_errors(test_registry):
    with pytest.raises(registry.RegistryError, match="unknown daemon 'nope'"):
        registry.daemon('nope')
    with pytest.raises(registry.RegistryError, match="unknown machine 'Nowhere'"):
        registry.machine_ip('Nowhere')

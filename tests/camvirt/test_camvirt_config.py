"""camvirtd's config: the seed's format loads unchanged, mistakes are named one per line."""
import json
import re

import pytest

from support import ROOT, run_cli
from rockit.camvirt.config import DEFAULT_LIBVIRT_URI, CamvirtConfig, resolve_libvirt_uri
from rockit.common.config import ConfigError

# The example from the camvirt daemon's README, comments and all.
SEED_EXAMPLE = '''
{
  "daemon": "superwasp_camvirt_das1", # Run the server as this daemon.
  "log_name": "camvirtd@superwasp_das1", # The name to use when writing messages to the observatory log.
  "control_machines": ["SWASPTCS", "SWASPDAS1", "SWASPDAS2"], # Machine names that are allowed to control.
  "initialize_timeout": 60, # The maximum timeout between starting a VM and camd becoming active.
  "shutdown_timeout": 60, # The maximum timeout between stopping a VM and it powering off
  "domains": {
    "cam1": { # libvirt domain name
      "cam1": "superwasp_cam1" # camera id: camera daemon name run by the daemon
    }
    # additional domains can be defined
  }
}
'''


def seed_config():
    return json.loads(re.sub(r'#.*$', '', SEED_EXAMPLE, flags=re.MULTILINE))


def load(tmp_path, data):
    path = tmp_path / 'camvirtd.json'
    path.write_text(json.dumps(data))
    return CamvirtConfig.load(path)


def problems(tmp_path, data):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, data)
    return [line.strip() for line in str(raised.value).splitlines()[1:]]


def test_the_seed_example_loads_with_the_defaults(tmp_path, test_registry):
    config = load(tmp_path, seed_config())
    assert config.address.object_id == 'superwasp_camvirt_daemon_das1'
    assert config.control_ips == {'10.2.6.160', '10.2.6.173', '10.2.6.175'}
    assert (config.initialize_timeout, config.shutdown_timeout) == (60, 60)
    assert config.domains == {'cam1': ['cam1']}
    camera = config.cameras['cam1']
    assert (camera.domain, camera.daemon, camera.address.object_id) == ('cam1', 'superwasp_cam1',
                                                                          'superwasp_camera_daemon_1')
    assert config.libvirt_uri == DEFAULT_LIBVIRT_URI == 'qemu:///system'
    assert config.destroy_on_timeout is True


@pytest.mark.parametrize('change, expected', [
    ({'initialize_timeout': 0}, ['initialize_timeout: 0 is less than the minimum of 1']),
    ({'shutdown_timeout': 0.5}, ['shutdown_timeout: 0.5 is less than the minimum of 1']),
    ({'shutdown_timeout': '30'}, ["shutdown_timeout: '30' is not of type 'number'"]),
    ({'domains': {'cam1': {'cam1': 'no_such_camera'}}},
     ["domains.cam1.cam1: 'no_such_camera' is not a daemon in the registry"]),
    ({'domains': {}}, ['domains: {} should be non-empty']),
    ({'domains': {'cam1': {}}}, ['domains.cam1: {} should be non-empty']),
    ({'destroy_on_timeout': 'yes'}, ["destroy_on_timeout: 'yes' is not of type 'boolean'"]),
    ({'libvirt_uri': ''}, ["libvirt_uri: '' should be non-empty"]),
    ({'control_machines': ['NOWHERE']}, ["control_machines[0]: 'NOWHERE' is not a machine in the registry"]),
    ({'domian': {}}, ['domian: unknown key']),
])
def test_mistakes_are_named_by_key(tmp_path, test_registry, change, expected):
    data = seed_config()
    data.update(change)
    found = problems(tmp_path, data)
    for line in expected:
        assert any(line in p for p in found), found


def test_a_missing_key_and_a_camera_id_used_twice_are_reported(tmp_path, test_registry):
    data = seed_config()
    del data['shutdown_timeout']
    assert problems(tmp_path, data) == ['shutdown_timeout: required key is missing']
    data = seed_config()
    data['domains']['cam2'] = {'cam1': 'superwasp_cam2'}
    assert problems(tmp_path, data) == ["domains.cam2.cam1: camera id 'cam1' is also in domain 'cam1'"]


def test_a_relative_test_driver_uri_is_taken_from_the_config_folder(tmp_path):
    assert resolve_libvirt_uri('test:node.xml', tmp_path) == f'test://{tmp_path}/node.xml'
    assert resolve_libvirt_uri('test:../nodes/a.xml', tmp_path / 'x') == f'test://{tmp_path}/nodes/a.xml'
    for unchanged in ('test:///default', 'test:///abs/node.xml', 'qemu:///system', 'qemu+ssh://das1/system'):
        assert resolve_libvirt_uri(unchanged, tmp_path) == unchanged


@pytest.mark.parametrize('name', ['test', 'clasp_cmos', 'clasp_swir', 'sting_das1', 'sting_das2'])
def test_every_shipped_config_loads_with_the_packaged_registry(test_registry, name):
    config = CamvirtConfig.load(ROOT / 'config' / 'camvirtd' / f'{name}.json')
    assert config.cameras and config.initialize_timeout >= 1 and config.shutdown_timeout >= 1
    if name == 'test':
        assert config.libvirt_uri == f'test://{ROOT}/config/camvirtd/test-node.xml'
    if name != 'test':
        assert (config.initialize_timeout, config.shutdown_timeout) == (90, 30)


def test_the_daemon_refuses_a_bad_config_with_one_line_per_problem(tmp_path, test_registry):
    data = seed_config()
    data['initialize_timeout'] = 0
    data['domains']['cam1']['cam1'] = 'no_such_camera'
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(data))
    result = run_cli('camvirtd', path)
    assert result.returncode == 2
    assert 'initialize_timeout: 0 is less than the minimum of 1' in result.stderr
    assert "domains.cam1.cam1: 'no_such_camera' is not a daemon in the registry" in result.stderr
    assert 'Traceback' not in result.stderr

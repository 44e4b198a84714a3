"""camvirtd's config: the keys of the camvirt daemon in service, plus two optional ones.

- `libvirt_uri` (default `qemu:///system`). A test-driver URI may name its node XML
  relative to the config file's folder as `test:<relative path>` (for example
  `test:test-node.xml`), which becomes `test:///<config folder>/<relative path>`; libvirt
  itself only accepts absolute paths, and a config shipped in the repository cannot know
  where the clone lives.
- `destroy_on_timeout` (default true): power a domain off by force when it is still running
  `shutdown_timeout` seconds after the first graceful shutdown request.
"""
from dataclasses import dataclass
from pathlib import Path

from rockit.common import config, registry
from rockit.common.registry import DaemonAddress

DEFAULT_LIBVIRT_URI = 'qemu:///system'
TEST_DRIVER = 'test:'

# Seconds: at least 1 (the old schema's minValue checked nothing), at most an hour.
TIMEOUT = {'type': 'number', 'minimum': 1, 'maximum': 3600}

SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['daemon', 'log_name', 'control_machines', 'initialize_timeout', 'shutdown_timeout',
                 'domains'],
    'properties': {
        'daemon': config.DAEMON,
        'log_name': config.LOG_NAME,
        'control_machines': config.MACHINES,
        'initialize_timeout': TIMEOUT,
        'shutdown_timeout': TIMEOUT,
        'libvirt_uri': {'type': 'string', 'minLength': 1},
        'destroy_on_timeout': {'type': 'boolean'},
        'domains': {
            'type': 'object',
            'minProperties': 1,
            'propertyNames': {'minLength': 1},
            'additionalProperties': {
                'type': 'object',
                'minProperties': 1,
                'propertyNames': {'minLength': 1},
                'additionalProperties': config.DAEMON,
            },
        },
    },
}


@dataclass(frozen=True)
class Camera:
    """One camera daemon, run inside one libvirt domain."""
    camera_id: str
    domain: str
    daemon: str
    address: DaemonAddress


def resolve_libvirt_uri(uri, folder):
    """A `test:<relative path>` URI made absolute against folder; any other URI unchanged."""
    if uri.startswith(TEST_DRIVER) and not uri.startswith(TEST_DRIVER + '/'):
        return 'test://' + str((Path(folder) / uri[len(TEST_DRIVER):]).resolve())
    return uri


class CamvirtConfig(config.DaemonConfig, schema=SCHEMA):
    def __init__(self, data, folder):
        super().__init__(data, folder)
        self.initialize_timeout = data['initialize_timeout']
        self.shutdown_timeout = data['shutdown_timeout']
        self.libvirt_uri = resolve_libvirt_uri(data.get('libvirt_uri', DEFAULT_LIBVIRT_URI), folder)
        self.destroy_on_timeout = data.get('destroy_on_timeout', True)
        # libvirt domain name -> [camera id], in config order.
        self.domains = {domain: list(cameras) for domain, cameras in data['domains'].items()}
        self.cameras = {
            camera_id: Camera(camera_id, domain, daemon, registry.daemon(daemon))
            for domain, cameras in data['domains'].items() for camera_id, daemon in cameras.items()
        }

    @classmethod
    def extra_problems(cls, data):
        problems = []
        seen = {}
        for domain, cameras in data['domains'].items():
            for camera_id in cameras:
                if camera_id in seen:
                    problems.append(f'domains.{domain}.{camera_id}: camera id {camera_id!r} is also '
                                    f'in domain {seen[camera_id]!r}')
                seen.setdefault(camera_id, domain)
        return problems

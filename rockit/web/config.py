"""rockit-web's config: which daemons to show, where to listen, who may send commands,
by which names it is reached and which proxies it believes."""
import os
import socket
from pathlib import Path

from rockit.common import config, registry

# 0.0.0.0 by default: the people it serves sit at other machines (a laptop on the Pi's
# Wi-Fi, the control room), so loopback alone would show the page to nobody.
DEFAULT_HOST = '0.0.0.0'
LOOPBACK_NAMES = ('localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback')
# A focuser move or a dark sequence takes minutes; the registry's timeout is for queries.
DEFAULT_COMMAND_TIMEOUT = 600.0

SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['port', 'daemons'],
    'properties': {
        'host': {'type': 'string', 'minLength': 1},
        'port': {'type': 'integer', 'minimum': 1, 'maximum': 65535},
        'daemons': {'type': 'array', 'minItems': 1, 'uniqueItems': True, 'items': config.DAEMON},
        'control_machines': config.MACHINES,
        'log_name': config.LOG_NAME,
        'poll_interval': {'type': 'number', 'minimum': 1, 'maximum': 60},
        'history_hours': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 48},
        'host_names': {'type': 'array', 'items': {'type': 'string', 'pattern': '^[A-Za-z0-9.-]+$'}},
        'trusted_proxies': config.MACHINES,
        'command_timeout': {'type': 'number', 'minimum': 1, 'maximum': 86400},
        'history_dir': {'type': 'string', 'minLength': 1},
    },
}


class WebConfig:
    def __init__(self, data, path):
        self.host = data.get('host', DEFAULT_HOST)
        self.port = data['port']
        self.log_name = data.get('log_name', f'rockit-web@{Path(path).stem}')
        self.daemons = {name: registry.daemon(name) for name in data['daemons']}
        self.control_ips = {registry.machine_ip(m) for m in data.get('control_machines', [])}
        self.poll_interval = float(data.get('poll_interval', 1))   # s; at most once a second
        self.history_hours = float(data.get('history_hours', 6))
        self.host_names = own_names() | {name.lower().rstrip('.') for name in data.get('host_names', [])}
        self.trusted_proxies = sorted({registry.machine_ip(m) for m in data.get('trusted_proxies', [])})
        self.command_timeout = float(data.get('command_timeout', DEFAULT_COMMAND_TIMEOUT))
        # Under its systemd unit, the unit's StateDirectory; elsewhere nothing is kept on disk.
        self.history_dir = data.get('history_dir', os.environ.get('STATE_DIRECTORY') or None)

    @classmethod
    def load(cls, path):
        return cls(config.load(path, SCHEMA), path)


def own_names():
    """The names this machine calls itself (any IP address is accepted as a Host anyway)."""
    hostname = socket.gethostname().lower()
    names = {*LOOPBACK_NAMES, hostname, hostname + '.local'}
    return {name.rstrip('.') for name in names if name}

"""rockit-web's config: which daemons to show, where to listen, who may send commands."""
from pathlib import Path

from rockit.common import config, registry

# 0.0.0.0 by default: the people it serves sit at other machines (a laptop on the Pi's
# Wi-Fi, the control room), so loopback alone would show the page to nobody.
DEFAULT_HOST = '0.0.0.0'

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

    @classmethod
    def load(cls, path):
        return cls(config.load(path, SCHEMA), path)

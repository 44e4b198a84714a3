"""focusd's config: the keys of the focuser daemon in service, plus optional temperature
probes and per-channel soft limits."""
from rockit.common import config

from .protocol import MAX_POSITION, MIN_POSITION

POSITION = {'type': 'integer', 'minimum': MIN_POSITION, 'maximum': MAX_POSITION}

SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['daemon', 'log_name', 'control_machines', 'serial_port', 'serial_baud',
                 'serial_timeout', 'channels', 'idle_loop_delay', 'moving_loop_delay', 'move_timeout'],
    'properties': {
        'daemon': config.DAEMON,
        'log_name': config.LOG_NAME,
        'control_machines': config.MACHINES,
        **config.SERIAL_LINK,
        'channels': {'type': 'integer', 'minimum': 1, 'maximum': 9},
        'idle_loop_delay': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 3600},
        'moving_loop_delay': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 60},
        'move_timeout': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 86400},
        'temperature_probes': {
            'type': 'object',
            'additionalProperties': {
                'type': 'object',
                'additionalProperties': False,
                'required': ['label', 'address'],
                'properties': {
                    'label': {'type': 'string', 'minLength': 1},
                    'address': {'type': 'string', 'pattern': '^[0-9A-Fa-f]{16}$'},
                },
            },
        },
        'soft_limits': {
            'type': 'object',
            'additionalProperties': False,
            'patternProperties': {
                '^[1-9]$': {
                    'type': 'object',
                    'additionalProperties': False,
                    'required': ['min', 'max'],
                    'properties': {'min': POSITION, 'max': POSITION},
                },
            },
        },
    },
}


class FocuserConfig(config.SerialDaemonConfig, schema=SCHEMA):
    def __init__(self, data, folder):
        super().__init__(data, folder)
        self.channels = data['channels']
        self.idle_loop_delay = data['idle_loop_delay']
        self.moving_loop_delay = data['moving_loop_delay']
        self.move_timeout = data['move_timeout']
        self.temperature_probes = data.get('temperature_probes', {})
        # (min, max) per channel 1..channels; the controller's range where no soft limit is set.
        self.limits = {c: (MIN_POSITION, MAX_POSITION) for c in range(1, self.channels + 1)}
        for channel, limit in data.get('soft_limits', {}).items():
            self.limits[int(channel)] = (limit['min'], limit['max'])

    @classmethod
    def extra_problems(cls, data):
        problems = []
        for channel, limit in data.get('soft_limits', {}).items():
            if int(channel) > data['channels']:
                problems.append(f'soft_limits.{channel}: channel {channel} does not exist '
                                f'(channels is {data["channels"]})')
            elif limit['min'] > limit['max']:
                problems.append(f'soft_limits.{channel}: min {limit["min"]} is above max {limit["max"]}')
        return problems

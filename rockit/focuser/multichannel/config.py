"""focusd's config: the keys of the focuser daemon in service, plus optional temperature
probes, per-channel soft limits and the Alpaca interface."""
from rockit.alpaca import device as alpaca
from rockit.common import config, registry

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
        'alpaca': {
            'type': 'object',
            'additionalProperties': False,
            'required': ['port'],
            'properties': {
                **alpaca.CONFIG_PROPERTIES,
                # channel -> the temperature_probes key its Alpaca Temperature reads
                'temperature_probes': {
                    'type': 'object',
                    'additionalProperties': False,
                    'patternProperties': {'^[1-9]$': {'type': 'string', 'minLength': 1}},
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
        self.soft_limits = {int(c): (limit['min'], limit['max']) for c, limit in data.get('soft_limits', {}).items()}
        self.limits = {c: self.soft_limits.get(c, (MIN_POSITION, MAX_POSITION)) for c in range(1, self.channels + 1)}
        # None: no Alpaca interface.
        self.alpaca = data.get('alpaca')

    @classmethod
    def extra_problems(cls, data):
        problems = []
        for channel, limit in data.get('soft_limits', {}).items():
            if int(channel) > data['channels']:
                problems.append(f'soft_limits.{channel}: channel {channel} does not exist '
                                f'(channels is {data["channels"]})')
            elif limit['min'] > limit['max']:
                problems.append(f'soft_limits.{channel}: min {limit["min"]} is above max {limit["max"]}')
        port = data.get('alpaca', {}).get('port')
        if port is not None and port == registry.daemon(data['daemon']).port:
            problems.append(f'alpaca.port: {port} is the Pyro port of {data["daemon"]}')
        for channel, probe in data.get('alpaca', {}).get('temperature_probes', {}).items():
            key = f'alpaca.temperature_probes.{channel}'
            if int(channel) > data['channels']:
                problems.append(f'{key}: channel {channel} does not exist (channels is {data["channels"]})')
            elif probe not in data.get('temperature_probes', {}):
                problems.append(f"{key}: '{probe}' is not a key of temperature_probes")
        return problems

"""chillerd's config: the keys of the chiller daemon in service, plus optional control
machines, a starting mode and setpoint, and the interlocks that drive AUTOMATIC mode."""
import socket

from rockit.common import config, registry

from .codes import ChillerMode
from .protocol import SETPOINT_MAX, SETPOINT_MIN

READS_PER_CYCLE = 8
"""Requests in one query cycle (status, setpoint, supply, return, ambient, TEC, alarms,
warnings); a command may wait behind a whole cycle."""

INTERLOCK_TIMEOUT = 3.0
"""Seconds allowed to each question to an interlock daemon. They are asked from their own
threads (rockit.common.watcher), never from the chiller's serial thread."""

INTERLOCK_INTERVAL = 5.0
"""Seconds between questions to an interlock daemon at most (query_delay when shorter): a
camera switched on is acted on within this, however long the query cycle."""

ALIASES = {'antifreeze_enable_below': 'antifreeze_enable_limit',
           'antifreeze_disable_above': 'antifreeze_disable_limit'}
"""Older key names still read, each meaning the same as its new name."""

TEMPERATURE = {'type': 'number', 'minimum': -50, 'maximum': 50}
KEY = {'type': 'string', 'minLength': 1}

SCHEMA = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['daemon', 'log_name', 'serial_port', 'serial_baud', 'serial_timeout', 'query_delay'],
    'properties': {
        'daemon': config.DAEMON,
        'log_name': config.LOG_NAME,
        **config.SERIAL_LINK,
        'query_delay': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 3600},
        'control_machines': dict(config.MACHINES, description=(
            'Machines whose commands are accepted (queries are open to all). Default: only the '
            'machine the daemon runs on (its registry host and 127.0.0.1), so an operator logged '
            'in there can use the chiller command and nobody else can.')),
        'initial_mode': {'enum': ['manual', 'automatic'], 'description': (
            'Mode at daemon start. Default: automatic when an interlock is configured (the '
            'interlocks then run the chiller from the start, as the reference daemon does), '
            'manual otherwise (a restarted daemon never switches the chiller on its own).')},
        'initial_setpoint': {'type': 'number', 'minimum': SETPOINT_MIN, 'maximum': SETPOINT_MAX,
                             'description': ('Setpoint (deg C) sent when the daemon first connects; '
                                             'later set_setpoint calls win. Default: leave the '
                                             "chiller's own setpoint.")},
        'antifreeze_enable_limit': dict(TEMPERATURE, description=(
            'AUTOMATIC runs the chiller (keeping the water at its setpoint) when the dome '
            'temperature falls below this (deg C), until it rises above antifreeze_disable_limit. '
            "The dome temperature is temperature_daemon's reading, else the chiller's ambient "
            'sensor. Give both limits, or neither for no antifreeze.')),
        'antifreeze_disable_limit': dict(TEMPERATURE, description='See antifreeze_enable_limit.'),
        **{old: dict(TEMPERATURE, description=f'Older name of {new}.') for old, new in ALIASES.items()},
        'temperature_daemon': dict(config.DAEMON, description=(
            'Daemon whose last_measurement() gives the dome temperature for antifreeze '
            '(a domealertd).')),
        'temperature_value_key': dict(KEY, description=(
            'Key of the temperature (deg C) in that measurement, e.g. "internal_temperature".')),
        'temperature_valid_key': dict(KEY, description=(
            'Key of a flag in that measurement that must be true for the temperature to be used, '
            'e.g. "internal_temperature_valid". Default: any number under temperature_value_key.')),
        'power_daemon': dict(config.DAEMON, description=(
            'Daemon whose value(channel) gives the on/off state of power_channels (a powerd).')),
        'power_channels': {'type': 'array', 'minItems': 1, 'uniqueItems': True, 'items': KEY,
                           'description': ('Power channels that need cooling (the cameras): '
                                           'AUTOMATIC runs the chiller while any is on.')},
    },
}

# key -> keys it needs, with why, checked after the schema so the message names the key.
_NEEDS = {
    'antifreeze_enable_limit': ['antifreeze_disable_limit'],
    'antifreeze_disable_limit': ['antifreeze_enable_limit'],
    'temperature_daemon': ['temperature_value_key', 'antifreeze_enable_limit'],
    'temperature_value_key': ['temperature_daemon'],
    'temperature_valid_key': ['temperature_daemon'],
    'power_daemon': ['power_channels'],
    'power_channels': ['power_daemon'],
}


def command_timeout(serial_timeout):
    """Seconds a command may take, waiting behind a whole query cycle included."""
    return (READS_PER_CYCLE + 4) * float(serial_timeout) + 5


def _own_ips(host):
    """The IPs a client on the daemon's own machine calls from: loopback, or the address
    the daemon serves on."""
    import ipaddress  # here: the chiller CLI imports this module for command_timeout
    ips = {'127.0.0.1'}
    try:
        ips.add(str(ipaddress.ip_address(host)))
    except ValueError:
        try:
            ips.add(socket.gethostbyname(host))
        except OSError:
            pass
    return ips


class ChillerConfig(config.SerialDaemonConfig, schema=SCHEMA):
    def __init__(self, data, folder):
        super().__init__(data, folder)
        if 'control_machines' not in data:
            self.control_ips = _own_ips(self.address.host)
        self.query_delay = data['query_delay']
        self.command_timeout = command_timeout(self.serial_timeout)
        data = _new_names(data)
        self.initial_setpoint = data.get('initial_setpoint')
        self.antifreeze = None  # (enable limit, disable limit) deg C
        if 'antifreeze_enable_limit' in data:
            self.antifreeze = (data['antifreeze_enable_limit'], data['antifreeze_disable_limit'])
        self.temperature_address = None
        if 'temperature_daemon' in data:
            self.temperature_address = registry.daemon(data['temperature_daemon'])
        self.temperature_value_key = data.get('temperature_value_key')
        self.temperature_valid_key = data.get('temperature_valid_key')
        self.power_address = registry.daemon(data['power_daemon']) if 'power_daemon' in data else None
        self.power_channels = list(data.get('power_channels', []))
        interlocked = self.antifreeze is not None or self.power_address is not None
        self.initial_mode = ChillerMode.Automatic if data.get(
            'initial_mode', 'automatic' if interlocked else 'manual') == 'automatic' else ChillerMode.Manual

    @classmethod
    def extra_problems(cls, data):
        problems = [f'{old}: give {new} or its older name {old}, not both'
                    for old, new in ALIASES.items() if old in data and new in data]
        written = {new: old for old, new in ALIASES.items() if old in data}   # name keys as given
        data = _new_names(data)
        problems += [f'{needed}: required with {written.get(key, key)}'
                     for key, needs in _NEEDS.items() if key in data
                     for needed in needs if needed not in data]
        low, high = data.get('antifreeze_enable_limit'), data.get('antifreeze_disable_limit')
        if low is not None and high is not None and not low < high:
            low_key, high_key = (written.get(k, k) for k in ('antifreeze_enable_limit', 'antifreeze_disable_limit'))
            problems.append(f'{low_key}: {low} must be below {high_key} ({high})')
        return sorted(set(problems))


def _new_names(data):
    """data with each older key renamed to its new name."""
    return {ALIASES.get(key, key): value for key, value in data.items()}

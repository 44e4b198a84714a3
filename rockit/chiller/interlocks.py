"""The interlocks that ask for cooling in AUTOMATIC mode: the dome temperature (through the
antifreeze, with hysteresis) and the power channels of the cameras. A source that gives
nothing usable raises InterlockError with the reason; it is never taken as a reading."""
import math

from rockit.common import pyro

from .config import INTERLOCK_TIMEOUT
from .errors import InterlockError


def _remote_status(address):
    try:
        with pyro.connect(address, timeout=INTERLOCK_TIMEOUT) as proxy:
            data = proxy.report_status()
    except Exception as e:  # any failure of another daemon is a reason, never a crash
        raise InterlockError(f'{address.name} did not answer: {e or type(e).__name__}') from None
    if not isinstance(data, dict):
        raise InterlockError(f'{address.name} answered {type(data).__name__}, not a status dict')
    return data


def _lookup(data, key, source):
    """data[key], where dots in key reach into nested dicts."""
    value = data
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            raise InterlockError(f'{source} status has no {key!r}')
        value = value[part]
    return value


class DomeThermometer:
    """The temperature daemon, as the antifreeze's input."""

    def __init__(self, address, value_key, valid_key):
        self.address, self.value_key, self.valid_key = address, value_key, valid_key

    def read(self):
        data = _remote_status(self.address)
        name = self.address.name
        if self.valid_key is not None and _lookup(data, self.valid_key, name) is not True:
            raise InterlockError(f'{name} flags its temperature invalid ({self.valid_key} is not true)')
        value = _lookup(data, self.value_key, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InterlockError(f'{name} {self.value_key} is {value!r}, not a temperature')
        return float(value)


class CameraPower:
    """The power daemon's channels that feed the cameras, which need cooling while on."""

    def __init__(self, address, channels):
        self.address, self.channels = address, channels

    def read(self):
        """True if any of the channels is on."""
        data = _remote_status(self.address)
        states = []
        for channel in self.channels:
            if channel not in data:
                raise InterlockError(f'{self.address.name} status has no channel {channel!r}')
            value = data[channel]
            if not isinstance(value, (bool, int)):
                raise InterlockError(f'{self.address.name} channel {channel} is {value!r}, not on/off')
            states.append(bool(value))
        return any(states)


class Antifreeze:
    """Asks for the chiller to run once the dome falls below enable_below, and keeps asking
    until it rises above disable_above (the gap stops it switching on every small change)."""

    def __init__(self, enable_below, disable_above):
        self.enable_below, self.disable_above = enable_below, disable_above
        self.active = False

    def update(self, temperature):
        """Feed a valid reading; None (no valid reading) holds the current decision."""
        if temperature is None:
            return
        if temperature < self.enable_below:
            self.active = True
        elif temperature > self.disable_above:
            self.active = False

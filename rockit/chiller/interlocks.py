"""The interlocks that ask for cooling in AUTOMATIC mode: the dome temperature (through the
antifreeze, with hysteresis) and the power channels of the cameras, read from the daemons
that serve them as the observatory's own do: domealertd's last_measurement() and powerd's
value(channel).

Each source is watched from its own thread (rockit.common.watcher); the chiller's serial
thread only reads their latest observations. A source that gives nothing usable is never
taken as a reading: the decision it feeds is held, and its fault is reported.
"""
import math

from rockit.common.watcher import Unusable, Watcher

from .config import INTERLOCK_INTERVAL, INTERLOCK_TIMEOUT

DOME = 'dome temperature'
POWER = 'camera power'


def dome_temperature(measurement, value_key, valid_key):
    """The temperature in a domealertd measurement; Unusable unless the sensor flags it valid
    (when valid_key is given) and it is a finite number."""
    if not isinstance(measurement, dict):
        raise Unusable(f'measurement is {type(measurement).__name__}, not a dict')
    if valid_key is not None:
        if valid_key not in measurement:
            raise Unusable(f'measurement has no {valid_key!r}')
        if measurement[valid_key] is not True:
            raise Unusable(f'{valid_key} is {measurement[valid_key]!r}: the sensor has no valid reading')
    if value_key not in measurement:
        raise Unusable(f'measurement has no {value_key!r}')
    value = measurement[value_key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Unusable(f'{value_key} is {value!r}, not a temperature')
    return float(value)


def channels_on(value, channels):
    """The channels that are on, asking value(channel) as powerd serves it: 1/True on,
    0/False off (also for a name it does not know); anything else (2 when the PDU did not
    answer it) is Unusable."""
    on = []
    for channel in channels:
        state = value(channel)
        if not isinstance(state, (bool, int)) or state not in (0, 1):
            raise Unusable(f'channel {channel} is {state!r}, neither on (1) nor off (0)')
        if state:
            on.append(channel)
    return on


class Antifreeze:
    """Asks for the chiller to run once the dome falls below enable_limit, and keeps asking
    until it rises above disable_limit (the gap stops it switching on every small change)."""

    def __init__(self, enable_limit, disable_limit):
        self.enable_limit, self.disable_limit = enable_limit, disable_limit
        self.active = False

    def side(self, temperature):
        """Where a reading lies against the limits: readings on the same side cannot change
        the decision differently."""
        return (temperature < self.enable_limit, temperature > self.disable_limit)

    def update(self, temperature):
        """Feed a valid reading; None (no valid reading) holds the current decision."""
        if temperature is None:
            return
        below, above = self.side(temperature)
        if below:
            self.active = True
        elif above:
            self.active = False


class Interlocks:
    """The configured interlocks of one chiller. on_news() is called (on a watcher's thread)
    when a source says something that may change the decision (a channel switched, the dome
    across a limit), so the decision need not wait for the next cycle."""

    def __init__(self, config, log, on_news):
        self.antifreeze = Antifreeze(*config.antifreeze) if config.antifreeze else None
        self._on_news = on_news
        self.thermometer = self.power = None
        if config.temperature_address:
            self.thermometer = self._watch(
                config.temperature_address, DOME, config, log,
                lambda proxy: dome_temperature(proxy.last_measurement(), config.temperature_value_key,
                                               config.temperature_valid_key),
                lambda celsius: None if celsius is None else self.antifreeze.side(celsius))
        if config.power_address:
            self.power = self._watch(config.power_address, POWER, config, log,
                                     lambda proxy: channels_on(proxy.value, config.power_channels),
                                     lambda channels: channels)
        self.watchers = [w for w in (self.thermometer, self.power) if w]
        self.configured = bool(self.antifreeze or self.power)

    def _watch(self, address, label, config, log, ask, decisive):
        """A watcher of ask(proxy) that calls on_news when decisive(current value) changes."""
        last = []

        def news(observation):
            key = decisive(observation.current)
            if [key] != last:
                last[:] = [key]
                self._on_news()
        return Watcher(address, ask, label=label, interval=min(config.query_delay, INTERLOCK_INTERVAL),
                       timeout=INTERLOCK_TIMEOUT, log=log,
                       on_update=news)

    def dome_temp(self, ambient):
        """The dome temperature now: the thermometer's, else the chiller's ambient sensor
        (None when that source has no usable reading)."""
        return self.thermometer.latest.current if self.thermometer else ambient

    def channels_enabled(self):
        """The camera channels on, as last seen (held through an outage of powerd)."""
        return list(self.power.latest.value or []) if self.power else []

    def decide(self, ambient):
        """Feed the antifreeze; (whether the interlocks ask the chiller to run, why)."""
        if self.antifreeze:
            self.antifreeze.update(self.dome_temp(ambient))
        asking = self._asking()
        return bool(asking), ', '.join(asking) or 'no interlock asks for it'

    def _asking(self):
        asking = []
        if self.antifreeze and self.antifreeze.active:
            asking.append('antifreeze')
        if self.channels_enabled():
            asking.append(POWER)
        return asking

    def status(self, ambient):
        """The report_status keys of the interlocks ({} when none is configured)."""
        if not self.configured:
            return {}
        keys = {}
        if self.antifreeze:
            keys['dome_temp'] = self.dome_temp(ambient)
            keys['antifreeze_enabled'] = self.antifreeze.active
        if self.power:
            keys['channels_enabled'] = self.channels_enabled()
        keys['cooling_requested_by'] = self._asking()
        keys['interlock_faults'] = {w.label: w.latest.error for w in self.watchers if w.latest.error}
        return keys

"""A Thermotek T257P chiller model that answers the framed RS-232 protocol, so that the daemon
and its tests can run without the hardware.

Serve it with rockit.common.emulator.EmulatorLink, or standalone:
    python -m rockit.chiller.emulator [--tcp PORT | --pty] [--link PATH]

The physics is integrated lazily from time.monotonic() whenever the state is read or changed,
so there is no thread to manage; time_scale makes the water move faster for tests.
"""
import math
import threading
import time
from typing import Optional

from rockit.common.emulator import run_standalone

from . import protocol as p
from .errors import ERROR_BOUNDS, ERROR_COMMAND, ERROR_OK

TAU_RUN = 180.0          # s: time constant of the water approaching the setpoint when running
TAU_STANDBY = 1200.0     # s: time constant of the water drifting to ambient in standby
TEC_GAIN = 25.0          # % TEC drive per deg C between water and setpoint
RETURN_RISE = 0.4        # deg C: return water is warmer than supply while the pump runs
FLOW_LPM = 2.0           # L/min while the pump runs


def _state(attribute, kind):
    """A model value tests read and set; the model is brought up to now first, under its lock."""
    return property(lambda self: self._get(lambda: getattr(self, attribute)),
                    lambda self, value: self._set(lambda: setattr(self, attribute, kind(value))))

class ChillerEmulator:
    """The model for EmulatorLink: every public method and property is thread-safe."""
    request_terminator = p.REQUEST_END
    reply_terminator = p.REPLY_END

    def __init__(self, time_scale=1.0, setpoint=15.0, ambient=20.0, water=None):
        if not time_scale > 0:
            raise ValueError('time_scale must be positive')
        self.time_scale = time_scale
        self.corrupt_checksum = False   # fault switch: replies carry a wrong checksum
        self.reply_errors = {}          # fault switch: command id -> error digit answered instead
        self._lock = threading.Lock()
        self._running = False
        self._setpoint = float(setpoint)
        self._ambient = float(ambient)
        self._water = float(ambient if water is None else water)
        self._alarms = 0
        self._warnings = 0
        self._last = time.monotonic()

    # The model, always called with the lock held.
    def _advance(self):
        now = time.monotonic()
        dt = (now - self._last) * self.time_scale
        self._last = now
        if dt <= 0:
            return
        target, tau = (self._setpoint, TAU_RUN) if self._running else (self._ambient, TAU_STANDBY)
        self._water = target + (self._water - target) * math.exp(-dt / tau)

    def _tec(self):
        if not self._running:
            return 0, False
        difference = self._water - self._setpoint
        return min(100, round(abs(difference) * TEC_GAIN)), difference < 0

    def _return_temp(self):
        return self._water + RETURN_RISE if self._running else self._water

    def _status(self):
        mode = p.MODE_RUN if self._running else p.MODE_STANDBY
        return p.Status(mode, self._running, self._alarms != 0, self._warnings != 0)

    # The serial protocol.
    def respond(self, request: bytes) -> Optional[bytes]:
        try:
            command_id, data = p.decode_request(request)
        except p.RequestError as e:
            return None if e.code is None else self._reply(e.command_id, '', e.code)
        forced = self.reply_errors.get(command_id)
        if forced:
            return self._reply(command_id, '', forced)
        with self._lock:
            self._advance()
            payload, error = self._execute(command_id, data)
        return self._reply(command_id, payload, error)

    def _execute(self, command_id, data):
        if command_id == p.READ_STATUS:
            return p.format_status(self._status()), ERROR_OK
        if command_id == p.READ_SETPOINT:
            return p.format_temperature(self._setpoint), ERROR_OK
        if command_id == p.READ_SUPPLY_TEMP:
            return p.format_temperature(self._water), ERROR_OK
        if command_id == p.READ_RETURN_TEMP:
            return p.format_temperature(self._return_temp()), ERROR_OK
        if command_id == p.READ_AMBIENT_TEMP:
            return p.format_temperature(self._ambient), ERROR_OK
        if command_id == p.READ_FLOW:
            return p.format_flow(FLOW_LPM if self._running else 0.0), ERROR_OK
        if command_id == p.READ_TEC_DRIVE:
            return p.format_tec(*self._tec()), ERROR_OK
        if command_id == p.READ_ALARMS:
            return p.format_bits(self._alarms, p.ALARM_DIGITS), ERROR_OK
        if command_id == p.READ_WARNINGS:
            return p.format_bits(self._warnings, p.WARNING_DIGITS), ERROR_OK
        if command_id == p.SET_RUN:
            if data not in ('0', '1'):
                return '', ERROR_BOUNDS
            self._running = data == '1'
            return data, ERROR_OK
        if command_id == p.SET_SETPOINT:
            try:
                setpoint = p.parse_temperature(data)
            except p.ProtocolError:
                return '', ERROR_BOUNDS
            if not p.SETPOINT_MIN <= setpoint <= p.SETPOINT_MAX:
                return '', ERROR_BOUNDS
            self._setpoint = setpoint
            return p.format_temperature(setpoint), ERROR_OK
        return '', ERROR_COMMAND

    def _reply(self, command_id, payload, error):
        reply = p.encode_response(command_id, payload, error)
        if self.corrupt_checksum:
            body = reply[:-len(p.REPLY_END) - 2]
            reply = body + b'%02X' % ((sum(body) + 1) & 0xFF) + p.REPLY_END
        return reply

    # Helpers for tests.
    def _get(self, compute):
        with self._lock:
            self._advance()
            return compute()

    def _set(self, apply):
        with self._lock:
            self._advance()
            apply()

    running = _state('_running', bool)
    water_temp = _state('_water', float)

    @property
    def setpoint(self) -> float:
        return self._get(lambda: self._setpoint)

    @setpoint.setter
    def setpoint(self, celsius):
        if not p.SETPOINT_MIN <= celsius <= p.SETPOINT_MAX:
            raise ValueError(f'setpoint must be within {p.SETPOINT_MIN} to {p.SETPOINT_MAX} C')
        self._set(lambda: setattr(self, '_setpoint', float(celsius)))

    @property
    def return_temp(self) -> float:
        return self._get(self._return_temp)

    ambient_temp = _state('_ambient', float)

    @property
    def tec_percent(self) -> int:
        return self._get(lambda: self._tec()[0])

    @property
    def heating(self) -> bool:
        return self._get(lambda: self._tec()[1])

    @property
    def alarms(self) -> int:
        return self._get(lambda: self._alarms)

    @property
    def warnings(self) -> int:
        return self._get(lambda: self._warnings)

    def raise_alarm(self, bit: int):
        """Set alarm flag bit (numbered as protocol.parse_bits numbers them)."""
        self._check_bit(bit, p.ALARM_DIGITS)
        self._set(lambda: setattr(self, '_alarms', self._alarms | 1 << bit))

    def clear_alarms(self):
        self._set(lambda: setattr(self, '_alarms', 0))

    def raise_warning(self, bit: int):
        """Set warning flag bit (numbered as protocol.parse_bits numbers them)."""
        self._check_bit(bit, p.WARNING_DIGITS)
        self._set(lambda: setattr(self, '_warnings', self._warnings | 1 << bit))

    def clear_warnings(self):
        self._set(lambda: setattr(self, '_warnings', 0))

    @staticmethod
    def _check_bit(bit, digits):
        if not isinstance(bit, int) or not 0 <= bit < 4 * digits:
            raise ValueError(f'flag bit must be 0 to {4 * digits - 1}, not {bit!r}')


def main(argv=None):
    run_standalone(ChillerEmulator(), 'Emulate a Thermotek T257P chiller on a pty or TCP port', argv)


if __name__ == '__main__':
    main()

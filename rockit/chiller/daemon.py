"""chillerd: one thread owns the chiller's serial line; Pyro clients read the last published
state or queue commands to that thread.

Each query cycle reads everything the chiller reports, asks the interlock daemons (dome
temperature, camera power) what they know, and in AUTOMATIC mode runs the chiller while an
interlock asks for it. An interlock source that fails (unreachable, a missing key, a reading
flagged invalid) is logged once and never taken as a reading: the decision it feeds is held
as it was until the source answers again.

Stopping the daemon leaves the chiller as it is: cameras still need cooling without it.
"""
import logging
import threading
from typing import NamedTuple

from rockit.common import service
from rockit.common.arguments import Boolean, Integer, Number
from rockit.common.clock import status_date
from rockit.common.device import DeviceLoop
from rockit.common.log import ChangeLog
from rockit.common.pyro import command, query
from rockit.common.serial_link import SerialLink

from . import protocol
from .codes import ChillerMode, ChillerStatus, CommandStatus
from .config import ChillerConfig
from .interlocks import Antifreeze, CameraPower, DomeThermometer, InterlockError


class ChillerReading(NamedTuple):
    """Everything one query cycle reads from the chiller."""
    status: protocol.Status
    setpoint: float
    supply: float
    return_: float
    ambient: float
    tec_percent: int
    heating: bool
    alarms: int
    warnings: int

    @property
    def running(self):
        return self.status.running

    @property
    def state(self):
        """IDLE unless running; then COOLING or HEATING as the TEC reports."""
        if not self.running:
            return ChillerStatus.Idle
        return ChillerStatus.Heating if self.heating else ChillerStatus.Cooling


class ChillerDaemon(DeviceLoop):
    codes = CommandStatus

    def __init__(self, config, log):
        super().__init__(log)
        self.command_timeout = config.command_timeout
        self.config = config
        self.control_ips = config.control_ips
        self.link = SerialLink(config.serial_port, config.serial_baud, config.serial_timeout, xonxoff=True)
        self._changes = ChangeLog(log)
        self._lock = threading.Lock()           # guards the published state below
        self._mode = config.initial_mode
        self._reading = None                    # ChillerReading while online
        self._interlocks = {}                   # report_status keys of the interlocks
        self._setpoint_pending = config.initial_setpoint
        self._antifreeze = Antifreeze(*config.antifreeze) if config.antifreeze else None
        self._thermometer = None
        if config.temperature_address:
            self._thermometer = DomeThermometer(config.temperature_address, config.temperature_value_key,
                                                config.temperature_valid_key)
        self._power = CameraPower(config.power_address, config.power_channels) if config.power_address else None
        self._power_on = False                  # last valid camera power state (held on failure)
        self._faults = {}                       # interlock source -> why it is unusable
        self._cycle_now = False                 # run the next query cycle without waiting

    # The chiller's story, told on the device thread.
    def open_device(self):
        self.link.open()
        if self._setpoint_pending is not None:
            self._apply_initial_setpoint()
        self.poll()

    def close_device(self):
        self.link.close()

    def poll_interval(self):
        return 0.0 if self._cycle_now else self.config.query_delay

    def poll(self):
        self._cycle_now = False
        reading = self._read_chiller()
        interlocks, run_wanted, why = self._read_interlocks(reading)
        if self.mode == ChillerMode.Automatic and run_wanted != reading.running:
            reading = self._switch_automatically(run_wanted, why) or reading
        with self._lock:
            self._reading, self._interlocks = reading, interlocks

    def went_offline(self):
        with self._lock:
            self._reading = None

    @property
    def mode(self):
        with self._lock:
            return self._mode

    def _ask(self, command_id, data=''):
        """The payload of the chiller's reply; DeviceReplyError if it refused the request,
        ProtocolError for a bad frame, DeviceError if the link failed."""
        reply = self.link.request(protocol.encode_request(command_id, data), protocol.REPLY_END)
        return protocol.decode_response(reply, command_id)

    def _read_chiller(self):
        def temperature(command_id):
            return protocol.parse_temperature(self._ask(command_id))

        status = protocol.parse_status(self._ask(protocol.READ_STATUS))
        setpoint = temperature(protocol.READ_SETPOINT)
        supply = temperature(protocol.READ_SUPPLY_TEMP)
        return_ = temperature(protocol.READ_RETURN_TEMP)
        ambient = temperature(protocol.READ_AMBIENT_TEMP)
        tec_percent, heating = protocol.parse_tec(self._ask(protocol.READ_TEC_DRIVE))
        alarms = protocol.parse_bits(self._ask(protocol.READ_ALARMS))
        warnings = protocol.parse_bits(self._ask(protocol.READ_WARNINGS))
        return ChillerReading(status, setpoint, supply, return_, ambient, tec_percent, heating, alarms, warnings)

    def _read_interlocks(self, reading):
        """(report_status keys, whether the interlocks ask the chiller to run, why)."""
        keys, asking = {}, []
        if self._antifreeze:
            dome = reading.ambient
            if self._thermometer:
                dome = self._from_source('dome temperature', self._thermometer.read)
            self._antifreeze.update(dome)
            keys['dome_temp'] = dome
            keys['antifreeze_enabled'] = self._antifreeze.active
            if self._antifreeze.active:
                asking.append('antifreeze')
        if self._power:
            power_on = self._from_source('camera power', self._power.read)
            if power_on is not None:
                self._power_on = power_on
            keys['channels_enabled'] = power_on
            if self._power_on:
                asking.append('camera power')
        if self._antifreeze or self._power:
            keys['cooling_requested_by'] = asking
            keys['interlock_faults'] = dict(self._faults)
        return keys, bool(asking), ', '.join(asking) or 'no interlock asks for it'

    def _from_source(self, name, read):
        """read()'s value, or None when the source failed (logged once per failure)."""
        try:
            value = read()
        except Exception as e:  # InterlockError, or a status shaped in a way nobody foresaw
            reason = str(e) if isinstance(e, InterlockError) else f'{type(e).__name__}: {e}'
            self._faults[name] = reason
            self._changes(name, logging.WARNING, f'{name} unusable, holding its last decision: {reason}')
            return None
        if self._faults.pop(name, None) is not None:
            self._changes(name, logging.INFO, f'{name} usable again')
        return value

    def _switch_automatically(self, run, why):
        """Start or stop the chiller for the interlocks; the new reading, or None if the
        chiller refused (logged once, retried next cycle)."""
        try:
            self._ask(protocol.SET_RUN, '1' if run else '0')
        except protocol.DeviceReplyError as e:
            self._changes('automatic', logging.ERROR,
                          f'automatic mode could not {"start" if run else "stop"} the chiller: {e}')
            return None
        self._changes('automatic', logging.INFO,
                      f'automatic mode: {"starting" if run else "stopping"} the chiller ({why})')
        return self._read_chiller()

    def _apply_initial_setpoint(self):
        """Once per daemon run: after that the operator's set_setpoint calls win."""
        celsius = self._setpoint_pending
        code = self._send(protocol.set_setpoint(celsius), protocol.SET_SETPOINT)
        self._setpoint_pending = None
        if code == CommandStatus.Succeeded:
            self.log.info('setpoint set to %.1f \u00b0C from the config', celsius)
        else:
            self.log.error('chiller refused the configured setpoint %.1f \u00b0C: %s',
                           celsius, CommandStatus.message(code))

    def _send(self, frame, command_id):
        """Send a request frame; Succeeded, or the code for the chiller's refusal."""
        reply = self.link.request(frame, protocol.REPLY_END)
        try:
            protocol.decode_response(reply, command_id)
        except protocol.DeviceReplyError as e:
            return CommandStatus.chiller_refused(e.code)
        return CommandStatus.Succeeded

    def _refresh(self):
        reading = self._read_chiller()
        with self._lock:
            self._reading = reading

    def _set_enabled(self, enabled):
        if self.mode == ChillerMode.Automatic:
            return CommandStatus.ModeIsAutomatic
        code = self._send(protocol.set_run(enabled), protocol.SET_RUN)
        if code == CommandStatus.Succeeded:
            self.log.info('chiller %s by operator', 'started' if enabled else 'stopped')
            self._refresh()
        return code

    def _set_setpoint(self, celsius):
        code = self._send(protocol.set_setpoint(celsius), protocol.SET_SETPOINT)
        if code == CommandStatus.Succeeded:
            self.log.info('setpoint set to %.1f \u00b0C', celsius)
            self._refresh()
        return code

    def _set_mode(self, mode):
        with self._lock:
            changed, self._mode = self._mode != mode, mode
        if changed:
            self.log.info('mode set to %s', ChillerMode.label(mode))
        if changed and mode == ChillerMode.Automatic:
            self._cycle_now = True  # the interlocks decide as soon as this returns, not a query_delay later
        return CommandStatus.Succeeded

    # What Pyro clients see.
    @query()
    def report_status(self):
        now = status_date()
        with self._lock:
            reading, mode = self._reading, self._mode
            if not self.connected or reading is None:
                return {'date': now, 'mode': mode, 'status': ChillerStatus.Offline,
                        'status_label': ChillerStatus.label(ChillerStatus.Offline),
                        'offline_reason': self.offline_reason or 'connecting'}
            data = {
                'date': now,
                'mode': mode,
                'status': reading.state,
                'status_label': ChillerStatus.label(reading.state),
                'setpoint_temp': reading.setpoint,
                'water_temp': reading.supply,
                'return_temp': reading.return_,
                'ambient_temp': reading.ambient,
                'tec_power': reading.tec_percent,
                'control_mode': protocol.CONTROL_MODES[reading.status.control_mode],
                'pump_on': reading.status.pump_on,
                'alarms': list(protocol.set_bit_indices(reading.alarms)),
                'warnings': list(protocol.set_bit_indices(reading.warnings)),
            }
            data.update(self._interlocks)
            return data

    @command(mode=Integer(ChillerMode.Manual, ChillerMode.Automatic))
    def set_mode(self, mode):
        """0 MANUAL (the operator runs the chiller) or 1 AUTOMATIC (the interlocks do, from
        the query cycle that follows at once); works while offline."""
        return self.on_device(self._set_mode, mode, offline_ok=True)

    @command(enabled=Boolean())
    def set_enabled(self, enabled):
        """Run (True) or stand by (False); MANUAL mode only."""
        if self.mode == ChillerMode.Automatic:
            return CommandStatus.ModeIsAutomatic
        return self.on_device(self._set_enabled, enabled)

    @command(celsius=Number(protocol.SETPOINT_MIN, protocol.SETPOINT_MAX,
                            range_code=CommandStatus.SetpointOutsideLimits))
    def set_setpoint(self, celsius):
        """The water temperature to hold, in deg C (to 0.1 deg C), in either mode."""
        return self.on_device(self._set_setpoint, celsius)

    @command()
    def initialize(self):
        """Connect to the chiller now (also resumes reconnecting after shutdown)."""
        return self.initialize_command()

    @command()
    def shutdown(self):
        """Disconnect and stay so until initialize; the chiller keeps its run state."""
        return self.shutdown_command()


def main(argv=None):
    return service.run('Thermotek T257P chiller daemon', ChillerConfig.load, ChillerDaemon, argv)

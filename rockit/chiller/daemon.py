"""chillerd: one thread owns the chiller's serial line; Pyro clients read the last published
state or queue commands to that thread.

Each query cycle reads everything the chiller reports and, in AUTOMATIC mode, runs the
chiller while an interlock asks for it. The interlock daemons (dome temperature, camera
power) are watched from their own threads (interlocks.py): the serial thread only reads
what they last said, and a change wakes it at once. A source that fails (unreachable, a
missing key, a reading flagged invalid) is logged once and never taken as a reading: the
decision it feeds is held as it was until the source answers again.

Stopping the daemon leaves the chiller as it is: cameras still need cooling without it.
"""
import logging
import threading
from typing import NamedTuple

from rockit.common import service, status, watcher
from rockit.common.arguments import Boolean, Integer, Number
from rockit.common.daemon import Daemon
from rockit.common.device import DeviceLoop
from rockit.common.errors import Refused
from rockit.common.log import ChangeLog
from rockit.common.pyro import command, query
from rockit.common.serial_link import SerialLink

from . import protocol
from .codes import ChillerMode, ChillerStatus, CommandStatus
from .config import ChillerConfig
from .interlocks import Interlocks


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


class ChillerDaemon(Daemon):
    codes = CommandStatus

    def __init__(self, config, log):
        self.loop = DeviceLoop(self, log, 'chiller')
        self.loop.command_timeout = config.command_timeout
        super().__init__(config, log, [self.loop])
        self.link = SerialLink.from_config(config, xonxoff=True)
        self._changes = ChangeLog(log)
        self._lock = threading.Lock()           # guards the published state below
        self._mode = config.initial_mode
        self._reading = None                    # ChillerReading while online
        self._setpoint_pending = config.initial_setpoint
        self.interlocks = Interlocks(config, log, self._interlock_news)
        self._cycle_now = False                 # run the next query cycle without waiting

    def start(self):
        watcher.start_all(self.interlocks.watchers)
        super().start()

    def stop(self):
        watcher.stop_all(self.interlocks.watchers)
        super().stop()

    def _interlock_news(self):
        """A watcher's thread: an interlock source changed; in AUTOMATIC mode the chiller
        decides at once, not a query_delay later (nothing is queued while offline)."""
        if self.mode == ChillerMode.Automatic:
            self.loop.submit(self._cycle_at_once)

    def _cycle_at_once(self):
        self._cycle_now = True

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
        run_wanted, why = self.interlocks.decide(reading.ambient)
        if self.mode == ChillerMode.Automatic and run_wanted != reading.running:
            reading = self._switch_automatically(run_wanted, why) or reading
        with self._lock:
            self._reading = reading

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
        celsius, self._setpoint_pending = self._setpoint_pending, None
        try:
            self._send(protocol.set_setpoint(celsius), protocol.SET_SETPOINT)
        except Refused as e:
            self.log.error('chiller refused the configured setpoint %.1f \u00b0C: %s',
                           celsius, CommandStatus.message(e.code))
        else:
            self.log.info('setpoint set to %.1f \u00b0C from the config', celsius)

    def _send(self, frame, command_id):
        """Send a request frame; Refused with the code for the chiller's refusal."""
        reply = self.link.request(frame, protocol.REPLY_END)
        try:
            protocol.decode_response(reply, command_id)
        except protocol.DeviceReplyError as e:
            raise Refused(CommandStatus.chiller_refused(e.code)) from None

    def _refresh(self):
        reading = self._read_chiller()
        with self._lock:
            self._reading = reading

    def _set_enabled(self, enabled):
        self._refuse_in_automatic()
        self._send(protocol.set_run(enabled), protocol.SET_RUN)
        self.log.info('chiller %s by operator', 'started' if enabled else 'stopped')
        self._refresh()

    def _set_setpoint(self, celsius):
        self._send(protocol.set_setpoint(celsius), protocol.SET_SETPOINT)
        self.log.info('setpoint set to %.1f \u00b0C', celsius)
        self._refresh()

    def _refuse_in_automatic(self):
        if self.mode == ChillerMode.Automatic:
            raise Refused(CommandStatus.ModeIsAutomatic)

    def _set_mode(self, mode):
        with self._lock:
            changed, self._mode = self._mode != mode, mode
        if changed:
            self.log.info('mode set to %s', ChillerMode.label(mode))
        if changed and mode == ChillerMode.Automatic:
            self._cycle_now = True  # the interlocks decide as soon as this returns, not a query_delay later

    # What Pyro clients see.
    @query()
    def report_status(self):
        with self._lock:
            reading = self._reading
            data = status.header(self.loop, has_state=reading is not None)
            data['mode'] = self._mode
            if data['status'] == ChillerStatus.Offline:
                data['status_label'] = ChillerStatus.label(ChillerStatus.Offline)
                data.update(self.interlocks.status(None))
                return data
            data.update({
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
            })
            data.update(self.interlocks.status(reading.ambient))
            return data

    @command(mode=Integer(ChillerMode.Manual, ChillerMode.Automatic))
    def set_mode(self, mode):
        """0 MANUAL (the operator runs the chiller) or 1 AUTOMATIC (the interlocks do, from
        the query cycle that follows at once); works while offline."""
        self.loop.call(self._set_mode, mode, offline_ok=True)
        return CommandStatus.Succeeded

    @command(enabled=Boolean())
    def set_enabled(self, enabled):
        """Run (True) or stand by (False); MANUAL mode only."""
        self._refuse_in_automatic()
        self.loop.call(self._set_enabled, enabled)
        return CommandStatus.Succeeded

    @command(celsius=Number(protocol.SETPOINT_MIN, protocol.SETPOINT_MAX,
                            range_code=CommandStatus.SetpointOutsideLimits))
    def set_setpoint(self, celsius):
        """The water temperature to hold, in deg C (to 0.1 deg C), in either mode."""
        self.loop.call(self._set_setpoint, celsius)
        return CommandStatus.Succeeded


def main(argv=None):
    return service.run('Thermotek T257P chiller daemon', ChillerConfig.load, ChillerDaemon, argv)

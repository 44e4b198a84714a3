"""focusd: one thread owns the focus controller's serial line; Pyro clients read the last
published state or queue commands to that thread.

The controller moves each channel toward its target on its own; the daemon polls it at
moving_loop_delay while anything moves and at idle_loop_delay otherwise, reading one
temperature probe per idle poll (a probe reading blocks the controller for about a second).
"""
import itertools
import threading
import time

from rockit.common import service, status
from rockit.common.arguments import Boolean, Integer
from rockit.common.daemon import Daemon
from rockit.common.device import DeviceLoop
from rockit.common.errors import Blocked, Refused
from rockit.common.pyro import command, query
from rockit.common.serial_link import SerialLink

from . import alpaca, protocol
from .codes import CommandStatus, FocuserStatus
from .config import FocuserConfig

ARRIVAL_MARGIN = 0.02      # s after the predicted arrival, for the last microsteps
MIN_POLL_INTERVAL = 0.05   # s: never poll the controller faster than this

CHANNEL = Integer(1, lambda daemon: daemon.config.channels, range_code=CommandStatus.InvalidChannel)


class FocuserDaemon(Daemon):
    codes = CommandStatus

    def __init__(self, config, log):
        self.loop = DeviceLoop(self, log, 'focuser')
        self.loop.command_timeout = 4 * config.serial_timeout + 5
        super().__init__(config, log, [self.loop])
        self.link = SerialLink.from_config(config)
        self._changed = threading.Condition()   # guards the published state below
        self._targets = {}                      # channel -> target steps
        self._currents = {}                     # channel -> current steps
        self._fans = None
        self._temperatures = {key: None for key in config.temperature_probes}
        self._probe_problems = {}               # probe key -> why it has no reading
        self._probes = itertools.cycle(list(config.temperature_probes.items()))
        self._stop_alpaca = None

    def start(self):
        super().start()
        self._stop_alpaca = alpaca.start(self)

    def stop(self):
        if self._stop_alpaca:
            self._stop_alpaca()
        super().stop()

    # The controller's story, told on the device thread.
    def open_device(self):
        self.link.open()
        self.poll()
        self._read_all_probes()

    def close_device(self):
        self.link.close()

    def poll(self):
        positions = protocol.parse_status(self._ask(protocol.status_query()), self.config.channels)
        fans = protocol.parse_fans(self._ask(protocol.fans_query()))
        moving = any(target != current for target, current in positions)
        probe = next(self._probes, None) if not moving else None
        with self._changed:
            for channel, (target, current) in enumerate(positions, start=1):
                self._targets[channel], self._currents[channel] = target, current
            self._fans = fans
            self._changed.notify_all()
        if probe:
            self._read_probe(*probe)

    def _read_all_probes(self):
        """Every probe once, so that temperatures are known from the start."""
        for key, probe in self.config.temperature_probes.items():
            self._read_probe(key, probe)

    def _read_probe(self, key, probe):
        """A probe that gives no reading leaves it unknown and focusing goes on; the reason
        is logged when it starts and kept in status until the probe reads again."""
        reply = self._ask(protocol.probe_query(probe['address']))
        reading, problem = protocol.parse_temperature(reply), protocol.temperature_problem(reply)
        with self._changed:
            self._temperatures[key] = reading
            before = self._probe_problems.get(key)
            if problem:
                self._probe_problems[key] = problem
            else:
                self._probe_problems.pop(key, None)
        if problem and problem != before:
            self.log.warning('temperature probe %s (%s) has no reading: %s', key, probe['address'], problem)
        elif before and not problem:
            self.log.info('temperature probe %s reads again', key)

    def poll_interval(self):
        """idle_loop_delay when still; while moving, moving_loop_delay or sooner when a
        channel should arrive sooner, so set_focus returns soon after the move ends."""
        with self._changed:
            remaining = [abs(t - self._currents[c]) for c, t in self._targets.items() if t != self._currents[c]]
        if not remaining:
            return self.config.idle_loop_delay
        arrival = min(remaining) / protocol.STEPS_PER_SECOND + ARRIVAL_MARGIN
        return max(MIN_POLL_INTERVAL, min(self.config.moving_loop_delay, arrival))

    def make_safe(self):
        """Stop every moving channel: a daemon that exits must not leave a motor running."""
        for channel in range(1, self.config.channels + 1):
            if self._moving(channel):
                protocol.parse_ack(self._ask(protocol.stop(channel)))
                self.log.info('stopped channel %d', channel)

    def went_offline(self):
        with self._changed:
            self._targets, self._currents, self._fans = {}, {}, None
            self._temperatures = {key: None for key in self.config.temperature_probes}
            self._probe_problems = {}
            self._changed.notify_all()

    def _ask(self, request):
        return self.link.request(request, protocol.REPLY_END)

    def _moving(self, channel):
        with self._changed:
            return self._targets.get(channel) != self._currents.get(channel)

    def _start_move(self, channel, steps, offset):
        """The target the channel now moves to."""
        if self._moving(channel):
            raise Blocked(f'channel {channel} is moving')
        target = self._targets[channel] + steps if offset else steps
        low, high = self.config.limits[channel]
        if not low <= target <= high:
            raise Refused(CommandStatus.PositionOutsideLimits)
        protocol.parse_ack(self._ask(protocol.set_target(channel, target)))
        self.poll()
        self.log.info('channel %d moving to %d', channel, target)
        return target

    def _stop(self, channel):
        protocol.parse_ack(self._ask(protocol.stop(channel)))
        self.poll()

    def _zero(self, channel):
        if self._moving(channel):
            raise Blocked(f'channel {channel} is moving')
        protocol.parse_ack(self._ask(protocol.zero(channel)))
        self.poll()
        self.log.info('channel %d home position reset', channel)

    def _set_fans(self, enabled):
        protocol.parse_ack(self._ask(protocol.set_fans(enabled)))
        self.poll()

    # What Pyro clients see.
    @query()
    def report_status(self):
        with self._changed:
            data = status.header(self.loop, has_state=bool(self._targets))
            if data['status'] == FocuserStatus.Offline:
                return data
            data['fans_enabled'] = self._fans
            data['temperature'] = dict(self._temperatures)
            data['temperature_problems'] = dict(self._probe_problems)
            for channel in range(1, self.config.channels + 1):
                target, current = self._targets[channel], self._currents[channel]
                data[f'target_steps_{channel}'] = target
                data[f'current_steps_{channel}'] = current
                data[f'moving_{channel}'] = target != current
            return data

    @query()
    def temperature_labels(self):
        return {key: probe['label'] for key, probe in self.config.temperature_probes.items()}

    @command(channel=CHANNEL, steps=Integer(-2 * protocol.MAX_POSITION, 2 * protocol.MAX_POSITION,
                                            range_code=CommandStatus.PositionOutsideLimits),
             offset=Boolean())
    def set_focus(self, channel, steps, offset=False):
        """Move a channel to steps (or by steps with offset=True); returns once it stops
        there, or Failed after move_timeout or if it stopped elsewhere."""
        target = self.loop.call(self._start_move, channel, steps, offset)
        deadline = time.monotonic() + self.config.move_timeout
        with self._changed:
            self._changed.wait_for(lambda: not self.loop.connected or self._targets.get(channel) != target
                                   or self._currents.get(channel) == target,
                                   timeout=max(0.0, deadline - time.monotonic()))
            if self._currents.get(channel) == target:
                return CommandStatus.Succeeded
            reason = 'focuser went offline' if not self.loop.connected else \
                'the move was stopped' if self._targets.get(channel) != target else \
                f'the move did not finish within {self.config.move_timeout} s'
        self.log.warning('channel %d did not reach %d: %s', channel, target, reason)
        return CommandStatus.Failed

    @command(channel=CHANNEL)
    def stop_channel(self, channel):
        self.loop.call(self._stop, channel)
        return CommandStatus.Succeeded

    @command(channel=CHANNEL)
    def reset_home_position(self, channel):
        self.loop.call(self._zero, channel)
        return CommandStatus.Succeeded

    @command(enabled=Boolean())
    def enable_fans(self, enabled):
        self.loop.call(self._set_fans, enabled)
        return CommandStatus.Succeeded


def main(argv=None):
    return service.run('Focus controller daemon', FocuserConfig.load, FocuserDaemon, argv)

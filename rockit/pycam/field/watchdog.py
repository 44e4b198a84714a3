"""The data-flow watchdog (PyCam's check_run).

A device loop already reopens a device that fails or stops sending frames. What it cannot
mend is a device that opens and then delivers nothing, or a loop thread stuck inside a
driver call. So: while a device acquires continuously and none of its captures has been
saved for the limit, the watchdog restarts it (closed and opened again, as `pycam restart`
does); when nothing comes within the limit after that either, pycamd asks systemd to
restart it (WATCHDOG=trigger, honoured through the unit's WatchdogSec=), since only a new
process frees a stuck driver. Between those moments it tells systemd it is alive
(WATCHDOG=1) at every tick, so a pycamd whose field thread hangs is restarted as well.

The limit: `watchdog.no_data_s` of the config (default 300 s; 0 turns the watchdog off),
and never less than three capture intervals at the current frame rate.
"""
import datetime
import time

from rockit.common import systemd

DEFAULT_NO_DATA_S = 300.0
INTERVALS = 3               # capture intervals without a capture before the limit may end


class DataWatchdog:
    def __init__(self, settings, parts, restart, frame_rate, log):
        """settings: the config's `watchdog` object or None; parts() -> {device group:
        its status}; restart(group) restarts one; frame_rate() -> Hz."""
        self.no_data_s = float((settings or {}).get('no_data_s', DEFAULT_NO_DATA_S))
        self._parts, self._restart, self._frame_rate = parts, restart, frame_rate
        self.log = log
        self._watched = {}          # group -> [captures saved, since (monotonic s), stage]
        self.restarts = 0
        self.last_restart = None
        self.gave_up = None         # the group whose silence made pycamd ask for a restart

    def limit(self):
        return max(self.no_data_s, INTERVALS / max(self._frame_rate(), 1e-9))

    def tick(self, now):
        if self.no_data_s:
            self._watch(now)
        if self.gave_up is None:
            systemd.notify(b'WATCHDOG=1')

    def _watch(self, now):
        limit, clock = self.limit(), time.monotonic()
        for name, part in self._parts().items():
            saved = part.get('captures_saved')
            if not part.get('continuous') or not isinstance(saved, int):
                self._watched.pop(name, None)
                continue
            watched = self._watched.setdefault(name, [saved, clock, 'flowing'])
            if saved != watched[0]:
                if watched[2] != 'flowing':
                    self.log.info('%s: captures again after the watchdog restart', name)
                    self.gave_up = None if self.gave_up == name else self.gave_up
                self._watched[name] = [saved, clock, 'flowing']
            elif clock - watched[1] >= limit:
                self._act(name, watched, now, clock, limit)

    def _act(self, name, watched, now, clock, limit):
        watched[1] = clock
        if watched[2] == 'restarted':
            self.log.critical('%s: still no capture %.0f s after its restart: asking systemd to restart pycamd',
                              name, limit)
            watched[2] = 'gave up'
            self.gave_up = name
            systemd.notify(b'WATCHDOG=trigger')
            return
        if watched[2] == 'flowing':
            self.log.error('%s: no capture saved for %.0f s while acquiring: restarting it', name, limit)
            watched[2] = 'restarted'
        else:       # not under systemd, or not yet restarted by it: go on trying the device
            self.log.warning('%s: still no capture: restarting it again', name)
        self.restarts += 1
        self.last_restart = now
        self._restart(name)

    def status(self):
        if not self.no_data_s:
            return {'state': 'off'}
        state = 'watching' if self.gave_up is None else f'asked systemd to restart pycamd ({self.gave_up} silent)'
        return {'state': state, 'limit_s': round(self.limit(), 1), 'restarts': self.restarts,
                'last_restart': None if self.last_restart is None else
                self.last_restart.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}


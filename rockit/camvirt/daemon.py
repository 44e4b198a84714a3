"""camvirtd: starts and stops the libvirt domains that run the camera daemons.

libvirt is the device. One thread (the DeviceLoop) owns the libvirt connection: it polls
every managed domain's state, reopens a lost connection with backoff, and runs the
domain operations (domains.py) that commands queue to it. One thread per camera asks its
daemon whether it answers (cameras.py). Both publish into a snapshot; report_status() and
report_camera_status() read only that snapshot, so a slow libvirt or a dead camera never
holds a dashboard up.

initialize() and shutdown() wait for minutes on the Pyro worker thread that called them,
re-reading the snapshot and queueing short libvirt operations; only one runs at a time.
"""
import threading
import time

import libvirt

from rockit.common import service, status, watcher
from rockit.common.daemon import Daemon, OneCommand
from rockit.common.device import DeviceLoop
from rockit.common.errors import DeviceError, NotConnected, NotDisconnected, RaisedToClient
from rockit.common.pyro import command, query

from .cameras import camera_watcher
from .codes import CommandStatus, Outcome
from .config import CamvirtConfig
from .domains import MISSING, RUNNING, SHUTOFF, UNKNOWN, LibvirtDomains, Started

POLL_INTERVAL = 1.0
# The longest a single libvirt operation may keep a command waiting (a real QEMU with a
# guest-agent channel but no agent running can block a shutdown request for 60 s).
LIBVIRT_CALL_TIMEOUT = 75.0
SHUTDOWN_REQUEST_INTERVAL = 1.0
SHUTDOWN_CHECK_INTERVAL = 0.25

# The camera daemon's status while its VM is off or a command runs (as the daemon in service).
STAND_IN = {'state': 0, 'vm_active': False}


def _reason(error):
    """What went wrong, for the log (a TimeoutError from the device thread says nothing)."""
    if isinstance(error, TimeoutError):
        return f'libvirt did not answer within {LIBVIRT_CALL_TIMEOUT:.0f} s'
    return str(error) or type(error).__name__


class CameraVMManager(Daemon):
    codes = CommandStatus

    def __init__(self, config, log):
        self.loop = DeviceLoop(self, log, 'libvirt')
        super().__init__(config, log, [self.loop])
        self.libvirt = LibvirtDomains(config.libvirt_uri, log, self._publish_state)
        self._one_command = OneCommand(log)
        self._closing = threading.Event()       # the daemon is exiting: commands give up
        self._changed = threading.Condition()   # guards the snapshot below
        self._states = {name: UNKNOWN for name in config.domains}
        self._camera_status = {camera_id: None for camera_id in config.cameras}
        self._last_initialize = None
        self._last_shutdown = None
        self._watchers = {
            camera_id: camera_watcher(camera, lambda domain=camera.domain: self._vm_running(domain),
                                      lambda answer, camera_id=camera_id: self._publish_camera(camera_id, answer),
                                      log)
            for camera_id, camera in config.cameras.items()
        }

    def start(self):
        super().start()
        watcher.start_all(self._watchers.values())

    def stop(self):
        """The daemon is exiting: running commands give up, the VMs are left as they are."""
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        watcher.stop_all(self._watchers.values())
        super().stop()

    # The libvirt connection, on the device thread.
    def open_device(self):
        self.libvirt.open()
        self.poll()

    def close_device(self):
        self.libvirt.close()

    def poll(self):
        for name in self.config.domains:
            self.libvirt.refresh(name)

    def poll_interval(self):
        return POLL_INTERVAL

    def went_offline(self):
        with self._changed:
            self._states = {name: UNKNOWN for name in self.config.domains}
            self._changed.notify_all()

    def _on_libvirt(self, fn, *args):
        return self.loop.call(fn, *args, timeout=LIBVIRT_CALL_TIMEOUT)

    def _ensure_libvirt(self, what):
        """Connect now if libvirt is offline (no waiting for the backoff); False if it fails."""
        if self.loop.connected:
            return True
        try:
            self.loop.wait(self.loop.connect(), LIBVIRT_CALL_TIMEOUT)
            return True
        except NotDisconnected:   # connected meanwhile
            return True
        except (DeviceError, TimeoutError) as e:
            self.log.error('%s failed: libvirt is unavailable: %s', what, e)
            return False

    # The snapshot, shared by every thread.
    def _publish_state(self, name, state):
        """Device thread: a domain's state as just read."""
        with self._changed:
            changed = self._states.get(name) != state
            if changed:
                self._states[name] = state
                if state != RUNNING:   # a camera in a stopped VM answers no more
                    for camera_id in self.config.domains[name]:
                        self._camera_status[camera_id] = None
                self._changed.notify_all()
        if changed and state == RUNNING:   # ask its cameras now, not at their next tick
            for camera_id in self.config.domains[name]:
                self._watchers[camera_id].poke()

    def _vm_running(self, domain):
        with self._changed:
            return self._states.get(domain) == RUNNING

    def _publish_camera(self, camera_id, answer):
        with self._changed:
            if self._states[self.config.cameras[camera_id].domain] != RUNNING:
                answer = None   # asked for before its VM stopped
            if (self._camera_status[camera_id] is None) != (answer is None):
                self._changed.notify_all()
            self._camera_status[camera_id] = answer

    def _reset_cameras(self, domain):
        """Forget old answers from a domain about to boot: only a new answer counts."""
        with self._changed:
            for camera_id in self.config.domains[domain]:
                self._camera_status[camera_id] = None

    def _silent_cameras(self, domain):
        return [c for c in self.config.domains[domain] if self._camera_status[c] is None]

    # The two commands' stories, on the calling Pyro worker thread.
    def _initialize(self):
        timeout = self.config.initialize_timeout
        deadline = time.monotonic() + timeout
        outcomes = {}
        if not self._ensure_libvirt('initialize'):
            outcomes = {name: Outcome.LIBVIRT_UNAVAILABLE for name in self.config.domains}
        for name in self.config.domains:
            if name in outcomes:
                continue
            try:
                done = self._on_libvirt(self.libvirt.start, name, lambda: self._reset_cameras(name))
            except (NotConnected, DeviceError, TimeoutError, libvirt.libvirtError) as e:
                self.log.error('initialize: domain %s could not be started: %s', name, _reason(e))
                outcomes[name] = Outcome.FAILED_TO_START
                continue
            if done == Started.MISSING:
                self.log.error('initialize: domain %s is not defined in %s', name, self.config.libvirt_uri)
                outcomes[name] = Outcome.MISSING

        waiting = [name for name in self.config.domains if name not in outcomes]
        with self._changed:
            self._changed.wait_for(
                lambda: self._closing.is_set() or not any(self._silent_cameras(n) for n in waiting),
                timeout=max(0.0, deadline - time.monotonic()))
            silent = {name: self._silent_cameras(name) for name in waiting}
        for name in waiting:
            if not silent[name]:
                outcomes[name] = Outcome.READY
                continue
            outcomes[name] = Outcome.INTERRUPTED if self._closing.is_set() else Outcome.CAMERAS_SILENT
            cameras = ', '.join(f'{c} ({self.config.cameras[c].daemon})' for c in silent[name])
            self.log.error('initialize: domain %s did not come up within %s s: no answer from camera %s',
                           name, timeout, cameras)
        self._publish_outcome('_last_initialize', outcomes)
        if all(outcome == Outcome.READY for outcome in outcomes.values()):
            self.log.info('initialize: every camera answers')
            return CommandStatus.Succeeded
        return CommandStatus.Failed

    def _shutdown(self):
        timeout = self.config.shutdown_timeout
        deadline = time.monotonic() + timeout
        self.libvirt.plain_shutdown.clear()
        if not self._ensure_libvirt('shutdown'):
            self._publish_outcome('_last_shutdown', {name: Outcome.LIBVIRT_UNAVAILABLE for name in self.config.domains})
            return CommandStatus.Failed

        outcomes, running = {}, []
        for name in self.config.domains:
            asked, state = self._stop_step(name, self.libvirt.request_shutdown, name, True)
            if state is None:
                outcomes[name] = Outcome.ERROR
            elif state == MISSING:
                self.log.error('shutdown: domain %s is not defined in %s', name, self.config.libvirt_uri)
                outcomes[name] = Outcome.MISSING
            elif state == SHUTOFF:
                outcomes[name] = self._graceful(name) if asked else Outcome.ALREADY_OFF
            else:
                running.append(name)

        # Check often; ask again once a second until each is off or the time is up.
        next_request = time.monotonic() + SHUTDOWN_REQUEST_INTERVAL
        while running and time.monotonic() < deadline and not self._closing.is_set():
            self._closing.wait(min(SHUTDOWN_CHECK_INTERVAL, max(0.0, deadline - time.monotonic())))
            ask = time.monotonic() >= next_request
            if ask:
                next_request += SHUTDOWN_REQUEST_INTERVAL
            for name in list(running):
                if ask:
                    _, state = self._stop_step(name, self.libvirt.request_shutdown, name, False)
                else:
                    _, state = self._stop_step(name, lambda n: (False, self.libvirt.refresh(n)), name)
                if state is None:
                    outcomes[name] = Outcome.ERROR
                elif state in (SHUTOFF, MISSING):   # a transient domain vanishes once off
                    outcomes[name] = self._graceful(name)
                else:
                    continue
                running.remove(name)

        for name in running:
            outcomes[name] = self._force_off(name, timeout)
        self._publish_outcome('_last_shutdown', outcomes)
        forced = [name for name, outcome in outcomes.items() if outcome == Outcome.DESTROYED]
        if forced:
            self.log.warning('shutdown: forced off after %s s: %s', timeout, ', '.join(forced))
        return CommandStatus.Succeeded if all(o in Outcome.OFF for o in outcomes.values()) else CommandStatus.Failed

    def _stop_step(self, name, fn, *args):
        """Run one shutdown step on the device thread: (asked, state), or (False, None) after
        logging why it failed."""
        try:
            return self._on_libvirt(fn, *args)
        except (NotConnected, DeviceError, TimeoutError, libvirt.libvirtError) as e:
            self.log.error('shutdown: domain %s: %s', name, _reason(e))
            return False, None

    def _graceful(self, name):
        self.log.info('domain %s powered off', name)
        return Outcome.GRACEFUL_PLAIN if name in self.libvirt.plain_shutdown else Outcome.GRACEFUL

    def _force_off(self, name, timeout):
        """The last resort for a domain still running after shutdown_timeout."""
        if self._closing.is_set():
            return Outcome.INTERRUPTED
        if not self.config.destroy_on_timeout:
            self.log.error('shutdown: domain %s is still running after %s s (destroy_on_timeout is off)',
                           name, timeout)
            return Outcome.STILL_RUNNING
        self.log.warning('shutdown: domain %s is still running after %s s; destroying it', name, timeout)
        try:
            destroyed = self._on_libvirt(self.libvirt.destroy, name)
        except (NotConnected, DeviceError, TimeoutError, libvirt.libvirtError) as e:
            self.log.error('shutdown: domain %s could not be destroyed: %s', name, _reason(e))
            return Outcome.STILL_RUNNING
        return Outcome.DESTROYED if destroyed else Outcome.GRACEFUL

    def _publish_outcome(self, attribute, outcomes):
        with self._changed:
            setattr(self, attribute, {name: outcomes[name] for name in self.config.domains})

    # What Pyro clients see.
    @query()
    def report_status(self):
        data = status.header(self.loop)
        with self._changed:
            data.update({
                'libvirt_uri': self.config.libvirt_uri,
                'command': self._one_command.running,
                'domains': {
                    name: {
                        'state': self._states[name],
                        'cameras': {c: self._camera_status[c] is not None for c in cameras},
                    }
                    for name, cameras in self.config.domains.items()
                },
                'last_initialize': self._last_initialize,
                'last_shutdown': self._last_shutdown,
            })
        return data

    @query()
    def report_camera_status(self, camera_id):
        """The camera daemon's own latest status plus vm_active, or the stand-in while its VM
        is not running or a command runs; {'state': 0, 'vm_active': True} while the VM runs
        but the camera daemon does not answer. An unknown camera raises TypeError in the
        client, as the daemon in service does (it indexes None)."""
        if not isinstance(camera_id, str) or camera_id not in self.config.cameras:
            raise RaisedToClient(TypeError(f'unknown camera {camera_id!r}: not one of {sorted(self.config.cameras)}'))
        domain = self.config.cameras[camera_id].domain
        with self._changed:
            if self._one_command.running is not None or self._states[domain] != RUNNING:
                return dict(STAND_IN)
            status = self._camera_status[camera_id]
        return dict(status or {'state': 0}, vm_active=True)

    @command()
    def initialize(self):
        """Start every managed domain that is not running and wait until each camera daemon
        answers: Failed after initialize_timeout, with the silent domains logged."""
        with self._one_command.run('initialize'):
            return self._initialize()

    @command()
    def shutdown(self):
        """Power every managed domain off gracefully, destroying those still running after
        shutdown_timeout (unless destroy_on_timeout is false); last_shutdown says how."""
        with self._one_command.run('shutdown'):
            return self._shutdown()


def main(argv=None):
    return service.run('Camera virtual machine manager daemon', CamvirtConfig.load, CameraVMManager, argv)

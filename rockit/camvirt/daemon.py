"""camvirtd: starts and stops the libvirt domains that run the camera daemons.

libvirt is the device. One thread (the DeviceLoop) owns the libvirt connection: it polls
every managed domain's state, reopens a lost connection with backoff, and runs the
domain operations that commands queue to it. One thread per camera asks its daemon
whether it answers (cameras.py). Both publish into a snapshot; report_status() and
report_camera_status() read only that snapshot, so a slow libvirt or a dead camera never
holds a dashboard up.

initialize() and shutdown() wait for minutes on the Pyro worker thread that called them,
re-reading the snapshot and queueing short libvirt operations; only one runs at a time.
"""
import contextlib
import logging
import threading
import time

import libvirt

from rockit.common import service
from rockit.common.arguments import Choice
from rockit.common.clock import status_date
from rockit.common.device import DeviceLoop, NotConnected
from rockit.common.errors import DeviceError
from rockit.common.log import ChangeLog
from rockit.common.pyro import command, query

from .cameras import CameraWatcher
from .codes import CommandStatus, LibvirtStatus
from .config import CamvirtConfig

# libvirt prints every error to stderr unless told otherwise; ours are logged once, by us.
libvirt.registerErrorHandler(lambda *args: None, None)

POLL_INTERVAL = 1.0
# The longest a single libvirt operation may keep a command waiting (a real QEMU with a
# guest-agent channel but no agent running can block a shutdown request for 60 s).
LIBVIRT_CALL_TIMEOUT = 75.0
SHUTDOWN_REQUEST_INTERVAL = 1.0
SHUTDOWN_CHECK_INTERVAL = 0.25

STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: 'NOSTATE',
    libvirt.VIR_DOMAIN_RUNNING: 'RUNNING',
    libvirt.VIR_DOMAIN_BLOCKED: 'BLOCKED',
    libvirt.VIR_DOMAIN_PAUSED: 'PAUSED',
    libvirt.VIR_DOMAIN_SHUTDOWN: 'SHUTDOWN',
    libvirt.VIR_DOMAIN_SHUTOFF: 'SHUTOFF',
    libvirt.VIR_DOMAIN_CRASHED: 'CRASHED',
    libvirt.VIR_DOMAIN_PMSUSPENDED: 'PMSUSPENDED',
}
MISSING = 'MISSING'   # not defined in libvirt: a config naming the wrong domain
UNKNOWN = 'UNKNOWN'   # libvirt is offline, or would not tell

# The camera daemon's status while its VM is off or a command runs (as the daemon in service).
STAND_IN = {'state': 0, 'vm_active': False}

# Errors with which libvirt refuses shutdown flags it cannot honour (the test driver, and
# hypervisors without guest agent or ACPI support).
FLAGS_REFUSED = (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT)
GRACEFUL_FLAGS = libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT | libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN


def _reason(error):
    """What went wrong, for the log (a TimeoutError from the device thread says nothing)."""
    if isinstance(error, TimeoutError):
        return f'libvirt did not answer within {LIBVIRT_CALL_TIMEOUT:.0f} s'
    return str(error) or type(error).__name__


class CameraVMManager(DeviceLoop):
    codes = CommandStatus

    def __init__(self, config, log):
        super().__init__(log)
        self.config = config
        self.control_ips = config.control_ips
        self._changes = ChangeLog(log)          # domain and camera news, logged on change only
        self._connection = None
        self._plain_shutdown = set()            # domains whose hypervisor refused the flags
        self._command_lock = threading.Lock()   # held by the one command that runs
        self._closing = threading.Event()       # the daemon is exiting: commands give up
        self._changed = threading.Condition()   # guards the snapshot below
        self._states = {name: UNKNOWN for name in config.domains}
        self._camera_status = {camera_id: None for camera_id in config.cameras}
        self._command = None
        self._last_initialize = None
        self._last_shutdown = None
        self._watchers = {
            camera_id: CameraWatcher(camera, lambda domain=camera.domain: self._vm_running(domain),
                                     lambda status, camera_id=camera_id: self._publish_camera(camera_id, status),
                                     self._changes)
            for camera_id, camera in config.cameras.items()
        }

    def start(self):
        super().start()
        for watcher in self._watchers.values():
            watcher.start()

    def stop(self, timeout=5.0):
        """The daemon is exiting: running commands give up, the VMs are left as they are."""
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        for watcher in self._watchers.values():
            watcher.stop()
        for watcher in self._watchers.values():
            watcher.join()
        super().stop(timeout)

    # The libvirt connection, on the device thread.
    def open_device(self):
        try:
            self._connection = libvirt.open(self.config.libvirt_uri)
        except libvirt.libvirtError as e:
            raise DeviceError(f'cannot open {self.config.libvirt_uri}: {e}') from None
        self.poll()

    def close_device(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except libvirt.libvirtError:
                pass

    def poll(self):
        for name in self.config.domains:
            self._refresh(name)

    def poll_interval(self):
        return POLL_INTERVAL

    def went_offline(self):
        with self._changed:
            self._states = {name: UNKNOWN for name in self.config.domains}
            self._changed.notify_all()

    def _lookup(self, name):
        """The domain, or None when libvirt does not define it."""
        try:
            return self._connection.lookupByName(name)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise self._link_failure(e)

    def _refresh(self, name, domain=None):
        """Read one domain's state into the snapshot and return its name."""
        try:
            domain = domain or self._lookup(name)
            state = STATE_NAMES.get(domain.state()[0], UNKNOWN) if domain else MISSING
            detail = f"not defined in {self.config.libvirt_uri}" if domain is None else state
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:  # undefined since the lookup
                state, detail = MISSING, f'not defined in {self.config.libvirt_uri}'
            else:
                self._link_failure(e)
                state, detail = UNKNOWN, f'state unknown: {e}'
        level = logging.ERROR if state in (MISSING, UNKNOWN) else logging.INFO
        self._changes(f'domain:{name}', level, f'domain {name}: {detail}')
        with self._changed:
            changed = self._states.get(name) != state
            if changed:
                self._states[name] = state
                if state != 'RUNNING':   # a camera in a stopped VM answers no more
                    for camera_id in self.config.domains[name]:
                        self._camera_status[camera_id] = None
                self._changed.notify_all()
        if changed and state == 'RUNNING':   # ask its cameras now, not at their next tick
            for camera_id in self.config.domains[name]:
                self._watchers[camera_id].poke()
        return state

    def _link_failure(self, error):
        """Raise DeviceError (the loop then reconnects) when the connection itself is gone;
        otherwise return the libvirt error for the caller to raise or report."""
        try:
            alive = self._connection is not None and self._connection.isAlive() == 1
        except libvirt.libvirtError:
            alive = False
        if not alive:
            raise DeviceError(f'libvirt connection lost: {error}') from None
        return error

    # Domain operations, queued by commands to the device thread.
    def _start_domain(self, name):
        """Start (or resume) one domain; returns what was done: 'started', 'resumed',
        'already running' or 'missing'."""
        domain = self._lookup(name)
        if domain is None:
            self._refresh(name)
            return 'missing'
        state = self._refresh(name, domain)
        if state in ('RUNNING', 'BLOCKED'):
            return 'already running'
        self._reset_cameras(name)
        try:
            if state == 'PAUSED':
                domain.resume()
                done = 'resumed'
            else:
                domain.create()
                done = 'started'
        except libvirt.libvirtError as e:
            raise self._link_failure(e)
        self.log.info('domain %s %s', name, done)
        self._refresh(name, domain)
        return done

    def _request_shutdown(self, name, first):
        """Ask one domain's guest to power off; returns (asked, state after asking).

        The first request tries the guest agent, then ACPI; later ones (a power button
        pressed before the guest has booted is lost) press ACPI only, so that an absent
        agent does not hold the device thread once a second. Where the hypervisor refuses
        the flags, a plain shutdown request is sent instead, this time and every time.
        """
        domain = self._lookup(name)
        state = self._refresh(name, domain)
        if state in (MISSING, 'SHUTOFF', 'SHUTDOWN'):   # gone, off, or already on its way
            return False, state
        try:
            if name in self._plain_shutdown:
                domain.shutdown()
            else:
                if first:
                    self.log.info('domain %s: shutdown requested (guest agent, then ACPI)', name)
                try:
                    domain.shutdownFlags(GRACEFUL_FLAGS if first else libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
                except libvirt.libvirtError as e:
                    if e.get_error_code() not in FLAGS_REFUSED:
                        raise
                    self.log.info('domain %s: the hypervisor refused guest agent/ACPI shutdown (%s); '
                                  'falling back to a plain shutdown request', name, e)
                    self._plain_shutdown.add(name)
                    domain.shutdown()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:  # it stopped meanwhile
                raise self._link_failure(e)
        return True, self._refresh(name, domain)

    def _destroy(self, name):
        """Power one domain off by force; False if it had gone off by itself meanwhile."""
        domain = self._lookup(name)
        if domain is None:
            return False
        try:
            domain.destroy()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise self._link_failure(e)
            self._refresh(name, domain)
            return False
        self._refresh(name, domain)
        return True

    def _on_libvirt(self, fn, *args):
        return self.call(fn, *args, timeout=LIBVIRT_CALL_TIMEOUT)

    def _ensure_libvirt(self, what):
        """Connect now if libvirt is offline (no waiting for the backoff); False if it fails."""
        if self.connected:
            return True
        try:
            self.call(self.connect_now, offline_ok=True, timeout=LIBVIRT_CALL_TIMEOUT)
            return True
        except (DeviceError, TimeoutError) as e:
            self.log.error('%s failed: libvirt is unavailable: %s', what, e)
            return False

    # The snapshot, shared by every thread.
    def _vm_running(self, domain):
        with self._changed:
            return self._states.get(domain) == 'RUNNING'

    def _publish_camera(self, camera_id, status):
        with self._changed:
            if self._states[self.config.cameras[camera_id].domain] != 'RUNNING':
                status = None   # an answer asked for before its VM stopped
            if (self._camera_status[camera_id] is None) != (status is None):
                self._changed.notify_all()
            self._camera_status[camera_id] = status

    def _reset_cameras(self, domain):
        """Forget old answers from a domain about to boot: only a new answer counts."""
        with self._changed:
            for camera_id in self.config.domains[domain]:
                self._camera_status[camera_id] = None

    def _silent_cameras(self, domain):
        return [c for c in self.config.domains[domain] if self._camera_status[c] is None]

    @contextlib.contextmanager
    def _exclusive(self, name):
        """Run the body as the one command (yields True), or yield False if another runs."""
        if not self._command_lock.acquire(blocking=False):
            self.log.info('%s refused: %s is running', name, self._command)
            yield False
            return
        with self._changed:
            self._command = name
        try:
            yield True
        finally:
            with self._changed:
                self._command = None
            self._command_lock.release()

    # The two commands' stories, on the calling Pyro worker thread.
    def _initialize(self):
        timeout = self.config.initialize_timeout
        deadline = time.monotonic() + timeout
        outcomes = {}
        if not self._ensure_libvirt('initialize'):
            outcomes = {name: 'libvirt unavailable' for name in self.config.domains}
        for name in self.config.domains:
            if name in outcomes:
                continue
            try:
                done = self._on_libvirt(self._start_domain, name)
            except (NotConnected, DeviceError, TimeoutError, libvirt.libvirtError) as e:
                self.log.error('initialize: domain %s could not be started: %s', name, _reason(e))
                outcomes[name] = 'failed to start'
                continue
            if done == 'missing':
                self.log.error('initialize: domain %s is not defined in %s', name, self.config.libvirt_uri)
                outcomes[name] = 'missing'

        waiting = [name for name in self.config.domains if name not in outcomes]
        with self._changed:
            self._changed.wait_for(
                lambda: self._closing.is_set() or not any(self._silent_cameras(n) for n in waiting),
                timeout=max(0.0, deadline - time.monotonic()))
            silent = {name: self._silent_cameras(name) for name in waiting}
        for name in waiting:
            if not silent[name]:
                outcomes[name] = 'ready'
                continue
            outcomes[name] = 'interrupted' if self._closing.is_set() else 'cameras not answering'
            cameras = ', '.join(f'{c} ({self.config.cameras[c].daemon})' for c in silent[name])
            self.log.error('initialize: domain %s did not come up within %s s: no answer from camera %s',
                           name, timeout, cameras)
        self._publish_outcome('_last_initialize', outcomes)
        if all(outcome == 'ready' for outcome in outcomes.values()):
            self.log.info('initialize: every camera answers')
            return CommandStatus.Succeeded
        return CommandStatus.Failed

    def _shutdown(self):
        timeout = self.config.shutdown_timeout
        deadline = time.monotonic() + timeout
        self._plain_shutdown.clear()
        if not self._ensure_libvirt('shutdown'):
            self._publish_outcome('_last_shutdown', {name: 'libvirt unavailable' for name in self.config.domains})
            return CommandStatus.Failed

        outcomes, running = {}, []
        for name in self.config.domains:
            asked, state = self._stop_step(name, self._request_shutdown, name, True)
            if state is None:
                outcomes[name] = 'error'
            elif state == MISSING:
                self.log.error('shutdown: domain %s is not defined in %s', name, self.config.libvirt_uri)
                outcomes[name] = 'missing'
            elif state == 'SHUTOFF':
                outcomes[name] = self._graceful(name) if asked else 'already off'
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
                    _, state = self._stop_step(name, self._request_shutdown, name, False)
                else:
                    _, state = self._stop_step(name, lambda n: (False, self._refresh(n)), name)
                if state is None:
                    outcomes[name] = 'error'
                elif state in ('SHUTOFF', MISSING):   # a transient domain vanishes once off
                    outcomes[name] = self._graceful(name)
                else:
                    continue
                running.remove(name)

        for name in running:
            outcomes[name] = self._force_off(name, timeout)
        self._publish_outcome('_last_shutdown', outcomes)
        forced = [name for name, outcome in outcomes.items() if outcome == 'destroyed']
        if forced:
            self.log.warning('shutdown: forced off after %s s: %s', timeout, ', '.join(forced))
        off = ('already off', 'graceful', 'graceful (plain shutdown)', 'destroyed')
        return CommandStatus.Succeeded if all(o in off for o in outcomes.values()) else CommandStatus.Failed

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
        return 'graceful (plain shutdown)' if name in self._plain_shutdown else 'graceful'

    def _force_off(self, name, timeout):
        """The last resort for a domain still running after shutdown_timeout."""
        if self._closing.is_set():
            return 'interrupted'
        if not self.config.destroy_on_timeout:
            self.log.error('shutdown: domain %s is still running after %s s (destroy_on_timeout is off)',
                           name, timeout)
            return 'still running'
        self.log.warning('shutdown: domain %s is still running after %s s; destroying it', name, timeout)
        try:
            destroyed = self._on_libvirt(self._destroy, name)
        except (NotConnected, DeviceError, TimeoutError, libvirt.libvirtError) as e:
            self.log.error('shutdown: domain %s could not be destroyed: %s', name, _reason(e))
            return 'still running'
        return 'destroyed' if destroyed else 'graceful'

    def _publish_outcome(self, attribute, outcomes):
        with self._changed:
            setattr(self, attribute, {name: outcomes[name] for name in self.config.domains})

    # What Pyro clients see.
    @query()
    def report_status(self):
        now = status_date()
        with self._changed:
            data = {
                'date': now,
                'status': LibvirtStatus.Online if self.connected else LibvirtStatus.Offline,
                'libvirt_uri': self.config.libvirt_uri,
                'command': self._command,
                'domains': {
                    name: {
                        'state': self._states[name],
                        'cameras': {c: self._camera_status[c] is not None for c in cameras},
                    }
                    for name, cameras in self.config.domains.items()
                },
                'last_initialize': self._last_initialize,
                'last_shutdown': self._last_shutdown,
            }
        if not self.connected:
            data['offline_reason'] = self.offline_reason or 'connecting'
        return data

    @query(camera_id=Choice(lambda daemon: daemon.config.cameras, code=CommandStatus.UnknownCamera))
    def report_camera_status(self, camera_id):
        """The camera daemon's own latest status plus vm_active, or the stand-in while its VM
        is not running or a command runs; {'state': 0, 'vm_active': True} while the VM runs
        but the camera daemon does not answer."""
        domain = self.config.cameras[camera_id].domain
        with self._changed:
            if self._command is not None or self._states[domain] != 'RUNNING':
                return dict(STAND_IN)
            status = self._camera_status[camera_id]
        return dict(status or {'state': 0}, vm_active=True)

    @command()
    def initialize(self):
        """Start every managed domain that is not running and wait until each camera daemon
        answers: Failed after initialize_timeout, with the silent domains logged."""
        with self._exclusive('initialize') as running:
            return self._initialize() if running else CommandStatus.Blocked

    @command()
    def shutdown(self):
        """Power every managed domain off gracefully, destroying those still running after
        shutdown_timeout (unless destroy_on_timeout is false); last_shutdown says how."""
        with self._exclusive('shutdown') as running:
            return self._shutdown() if running else CommandStatus.Blocked


def main(argv=None):
    return service.run('Camera virtual machine manager daemon', CamvirtConfig.load, CameraVMManager, argv)

"""The libvirt domain operations camvirtd runs on its device thread: look a domain up, read
its state, start or resume it, ask its guest to power off, and power it off by force.

Every state read is handed to publish(name, state), so the manager's snapshot follows each
step; domain news (missing, state unknown) is logged once per change.
"""
import logging

import libvirt

from rockit.common.errors import DeviceError
from rockit.common.log import ChangeLog

# libvirt prints every error to stderr unless told otherwise; ours are logged once, by us.
libvirt.registerErrorHandler(lambda *args: None, None)

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
RUNNING = 'RUNNING'
SHUTOFF = 'SHUTOFF'
MISSING = 'MISSING'   # not defined in libvirt: a config naming the wrong domain
UNKNOWN = 'UNKNOWN'   # libvirt is offline, or would not tell

# Errors with which libvirt refuses shutdown flags it cannot honour (the test driver, and
# hypervisors without guest agent or ACPI support).
FLAGS_REFUSED = (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT)
GRACEFUL_FLAGS = (libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT  # novm: flags, not a union type
                  | libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)


class Started:
    """What start() did."""
    STARTED = 'started'
    RESUMED = 'resumed'
    ALREADY_RUNNING = 'already running'
    MISSING = 'missing'


class LibvirtDomains:
    """One libvirt connection and the operations on its domains; device thread only."""

    def __init__(self, uri, log, publish):
        self.uri, self.log, self._publish = uri, log, publish
        self._changes = ChangeLog(log)
        self._connection = None
        self.plain_shutdown = set()     # domains whose hypervisor refused the shutdown flags

    def open(self):
        try:
            self._connection = libvirt.open(self.uri)
        except libvirt.libvirtError as e:
            raise DeviceError(f'cannot open {self.uri}: {e}') from None

    def close(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except libvirt.libvirtError:
                pass

    def lookup(self, name):
        """The domain, or None when libvirt does not define it."""
        try:
            return self._connection.lookupByName(name)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise self._link_failure(e)

    def refresh(self, name, domain=None):
        """Read one domain's state, publish it and return it."""
        try:
            domain = domain or self.lookup(name)
            state = STATE_NAMES.get(domain.state()[0], UNKNOWN) if domain else MISSING
            detail = f'not defined in {self.uri}' if domain is None else state
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:  # undefined since the lookup
                state, detail = MISSING, f'not defined in {self.uri}'
            else:
                self._link_failure(e)
                state, detail = UNKNOWN, f'state unknown: {e}'
        level = logging.ERROR if state in (MISSING, UNKNOWN) else logging.INFO
        self._changes(f'domain:{name}', level, f'domain {name}: {detail}')
        self._publish(name, state)
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

    def start(self, name, before_boot):
        """Start (or resume) one domain, calling before_boot() first when it is not running;
        returns a Started value."""
        domain = self.lookup(name)
        if domain is None:
            self.refresh(name)
            return Started.MISSING
        state = self.refresh(name, domain)
        if state in (RUNNING, 'BLOCKED'):
            return Started.ALREADY_RUNNING
        before_boot()
        try:
            if state == 'PAUSED':
                domain.resume()
                done = Started.RESUMED
            else:
                domain.create()
                done = Started.STARTED
        except libvirt.libvirtError as e:
            raise self._link_failure(e)
        self.log.info('domain %s %s', name, done)
        self.refresh(name, domain)
        return done

    def request_shutdown(self, name, first):
        """Ask one domain's guest to power off; returns (asked, state after asking).

        The first request tries the guest agent, then ACPI; later ones (a power button
        pressed before the guest has booted is lost) press ACPI only, so that an absent
        agent does not hold the device thread once a second. Where the hypervisor refuses
        the flags, a plain shutdown request is sent instead, this time and every time.
        """
        domain = self.lookup(name)
        state = self.refresh(name, domain)
        if state in (MISSING, SHUTOFF, 'SHUTDOWN'):   # gone, off, or already on its way
            return False, state
        try:
            if name in self.plain_shutdown:
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
                    self.plain_shutdown.add(name)
                    domain.shutdown()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:  # it stopped meanwhile
                raise self._link_failure(e)
        return True, self.refresh(name, domain)

    def destroy(self, name):
        """Power one domain off by force; False if it had gone off by itself meanwhile."""
        domain = self.lookup(name)
        if domain is None:
            return False
        try:
            domain.destroy()
        except libvirt.libvirtError as e:
            if e.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise self._link_failure(e)
            self.refresh(name, domain)
            return False
        self.refresh(name, domain)
        return True

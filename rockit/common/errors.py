"""The exceptions of rockit.common, free of I/O imports so that pure protocol modules can
raise them. A device thread raises DeviceError and the refusals; the @command boundary
(pyro.py) turns them into status codes, and nothing in between passes codes around."""


class ConfigError(Exception):
    """A config file is missing, not JSON, or breaks its schema; str() lists every problem."""


class RegistryError(Exception):
    """A registry file is unreadable or malformed, or a name is not in it."""


class UsageError(Exception):
    """Wrong arguments for a CLI command; the runner prints its usage."""


class DeviceError(Exception):
    """The device or its link failed; the message is the reason shown while OFFLINE."""


class ProtocolError(DeviceError):
    """The device answered something the protocol does not allow (garbage, a bad frame)."""


class Refused(Exception):
    """A command the daemon declines to carry out: answered with `code`, or with the
    daemon's codes.<status> when no code is given."""
    status = 'Failed'

    def __init__(self, code=None, reason=''):
        super().__init__(reason)
        self.code = code

    def code_in(self, codes):
        return self.code if self.code is not None else getattr(codes, self.status, codes.Failed)


class NotConnected(Refused):
    """A command arrived while the device is offline."""
    status = 'NotConnected'

    def __init__(self, reason=''):
        super().__init__(reason=reason)


class NotDisconnected(Refused):
    """initialize() while the device is already connected."""
    status = 'NotDisconnected'

    def __init__(self, reason=''):
        super().__init__(reason=reason)


class Blocked(Refused):
    """Another command is running; the message names it."""
    status = 'Blocked'

    def __init__(self, reason=''):
        super().__init__(reason=reason)


class RaisedToClient(Exception):
    """Where the daemons in service raise to the Pyro client instead of returning a code
    (and other rockit code relies on it), the @query boundary raises `error`, a built-in
    exception that serpent carries to the client, rather than answering Failed."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error

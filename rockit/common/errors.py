"""Device errors, free of I/O imports so that pure protocol modules can raise them."""


class DeviceError(Exception):
    """The device or its link failed; the message is the reason shown while OFFLINE."""


class ProtocolError(DeviceError):
    """The device answered something the protocol does not allow (garbage, a bad frame)."""

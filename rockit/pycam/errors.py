"""pycam's own exceptions (a device's failure is rockit.common.errors.DeviceError)."""


class StorageError(Exception):
    """The disk cannot take a capture; str() is the reason shown in status."""


class NameTaken(Exception):
    """A file of that name exists already: it is kept and the new capture is not saved."""


class NamingError(ValueError):
    """A file name that does not follow the instrument's convention."""

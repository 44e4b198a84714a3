"""Processing's exceptions: each names input that cannot be used, for the CLI to report
and the live processor to log, never a traceback."""


class MissingInput(LookupError):
    """Darks, clear-sky frames or a calibration that processing cannot do without."""


class RegistrationError(ValueError):
    """A warp that cannot be used or found."""


class CalibrationError(ValueError):
    """Calibration data that is missing, inconsistent or unreadable."""


class DoasError(ValueError):
    """Spectra or references that cannot be fitted."""


class LineError(ValueError):
    """An integration line that cannot be read or used."""


class GeometryError(ValueError):
    """A camera geometry that cannot be read or makes no sense."""


class FovError(ValueError):
    """Too few or too flat samples to locate the spectrometer's field of view."""

"""The real spectrometer: seabreeze, imported only when a config asks for it."""
from rockit.common.errors import DeviceError


def opener(serial_number=None):
    """A function opening the spectrometer (the first one found, unless a serial number is
    given), for SO2Spectrometer."""
    def open_spectrometer():
        try:
            from seabreeze.spectrometers import Spectrometer
        except ImportError as e:
            raise DeviceError(f'seabreeze is not available ({e})') from None
        if serial_number:
            return Spectrometer.from_serial_number(serial_number)
        return Spectrometer.from_first_available()
    return open_spectrometer

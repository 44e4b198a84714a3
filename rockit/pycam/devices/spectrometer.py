"""SO2Spectrometer: the Ocean Insight spectrometer through the seabreeze interface, real or
simulated. Spectra are raw counts (no dark or non-linearity correction by the device: dark
spectra are captured and stored like any other), averaged over the co-adds."""
import numpy as np

from rockit.common.errors import DeviceError


class SO2Spectrometer:
    def __init__(self, open_device):
        self._open_device = open_device
        self.device = None
        self.wavelengths = None
        self.max_intensity = None
        self.model = self.serial_number = None
        self._integration_ms = None

    def open(self):
        try:
            self.device = self._open_device()
            self.wavelengths = np.asarray(self.device.wavelengths(), dtype=np.float64)
            self.max_intensity = float(self.device.max_intensity)
            self.model, self.serial_number = str(self.device.model), str(self.device.serial_number)
            self._integration_ms = None
        except DeviceError:
            self.close()
            raise
        except Exception as e:  # seabreeze raises SeaBreezeError, USB errors, ...
            self.close()
            raise DeviceError(f'spectrometer: {e or type(e).__name__}') from None

    def close(self):
        device, self.device = self.device, None
        if device is not None:
            try:
                device.close()
            except Exception:
                pass

    def integration_limits_ms(self):
        """The shortest and longest integration times the device takes (ms)."""
        low, high = self.device.integration_time_micros_limits
        return low / 1000, high / 1000

    def mimic_operator(self, capture_type):
        """Simulators only, as SO2Camera.mimic_operator."""
        mimic = getattr(self.device, 'mimic_operator', None)
        if mimic is not None:
            mimic(capture_type)

    def capture(self, integration_ms, coadds):
        """The mean of coadds spectra (float64 counts, one per pixel).

        After a change of integration time one spectrum is read and dropped: the detector
        may have been integrating with the old time when the change arrived."""
        if self.device is None:
            raise DeviceError('spectrometer is not open')
        try:
            if self._integration_ms != integration_ms:
                self.device.integration_time_micros(int(integration_ms * 1000))
                self._integration_ms = integration_ms
                self.device.intensities(False, False)
            total = np.zeros(self.wavelengths.size, dtype=np.float64)
            for _ in range(coadds):
                total += np.asarray(self.device.intensities(False, False), dtype=np.float64)
        except Exception as e:
            raise DeviceError(f'spectrometer: {e or type(e).__name__}') from None
        return total / coadds

"""The spectrometer's acquisition on its own thread: co-added spectra on the same slots as
the cameras, checked for saturation within a wavelength window, saved as the instrument's
(2, pixels) .npy with a sidecar, then auto integration moved on and the spectrum delivered
to processing."""
import io
import json

import numpy as np

from rockit.common.errors import DeviceError
from rockit.common.status import iso

from . import exposure
from ..instrument import SPECTRUM_DARK_COUNTS, SPECTRUM_FULL_SCALE, SPECTRUM_PIXELS
from .loop import Acquisition
from ..storage import names
from ..storage.saved import SavedSpectrum, read_only

DARK_LEVEL = SPECTRUM_DARK_COUNTS / SPECTRUM_FULL_SCALE     # as a fraction of full scale


def top_mean(counts, wavelengths, window, pixels):
    """Mean of the `pixels` highest counts with wavelengths inside window (nm)."""
    inside = counts[(wavelengths >= window[0]) & (wavelengths <= window[1])]
    if inside.size == 0:
        return 0.0
    count = min(int(pixels), inside.size)
    return float(np.partition(inside, inside.size - count)[inside.size - count:].mean())


class SpectrometerAcquisition(Acquisition):
    device_name = 'spectrometer'
    capture_bytes = 2 * SPECTRUM_PIXELS * 8 + 4096

    def __init__(self, context, config, spectrometer, log):
        super().__init__(context, log)
        self.config = config
        self.spectrometer = spectrometer
        self._published = {'integration_ms': None, 'saturation': None, 'last_file': None,
                           'model': None, 'serial_number': None}

    def open_device(self):
        self.spectrometer.open()
        low, high = self.spectrometer.integration_limits_ms()
        times = self.config.spectrometer.integration_times
        if times[0] < low or times[-1] > high:
            self.spectrometer.close()
            raise DeviceError(f'spectrometer takes {low:g}-{high:g} ms, the integration-time list '
                              f'{times[0]}-{times[-1]} ms')
        with self._lock:
            self._published.update(model=self.spectrometer.model, serial_number=self.spectrometer.serial_number)

    def close_device(self):
        self.spectrometer.close()

    def exposure_choices(self):
        return self.config.spectrometer.integration_times

    def capture_and_save(self, capture_type, moment, dark_exposure=None):
        values, generations = self.context.settings.snapshot()
        integration = dark_exposure or values['spec_integration']
        coadds = values['spec_coadds']
        self.spectrometer.mimic_operator(capture_type)
        counts = self.spectrometer.capture(integration, coadds)
        wavelengths = self.spectrometer.wavelengths
        window, pixels = values['spec_wavelengths'], values['spec_saturation_pixels']
        level = top_mean(counts, wavelengths, window, pixels)
        fraction = level / self.spectrometer.max_intensity
        name = names.spectrum_name(moment, integration, coadds, capture_type)
        metadata = {
            'file': name, 'time': iso(moment), 'type': capture_type, 'integration_ms': int(integration),
            'coadds': int(coadds), 'auto_integration': bool(values['spec_auto']) and dark_exposure is None,
            'model': self.spectrometer.model, 'serial_number': self.spectrometer.serial_number,
            'backend': self.config.spectrometer.backend, 'pixels': int(counts.size),
            'wavelength_range_nm': [float(wavelengths[0]), float(wavelengths[-1])],
            'max_intensity': self.spectrometer.max_intensity, 'dark_corrected': False,
            'saturation': {'top_mean': level, 'fraction': fraction, 'pixels': pixels, 'wavelengths': list(window),
                           'min': values['spec_min_saturation'], 'max': values['spec_max_saturation']},
            'instrument': self.config.daemon,
        }
        spectrum = np.array([wavelengths, counts], dtype=np.float64)
        buffer = io.BytesIO()
        np.save(buffer, spectrum)
        paths = self.context.store.save(moment, [(name, buffer.getvalue()),
                                                 (names.sidecar_name(name), json.dumps(metadata, indent=1).encode())])
        with self._lock:
            self._published.update(integration_ms=int(integration), saturation=round(fraction, 4), last_file=name)
        if dark_exposure is None and capture_type != 'Dark' and values['spec_auto']:
            chosen = exposure.next_exposure(self.config.spectrometer.integration_times, integration, fraction,
                                            values['spec_min_saturation'], values['spec_max_saturation'], DARK_LEVEL)
            if chosen != integration and self.context.settings.set_automatic('spec_integration', chosen,
                                                                             generations['spectrometer']):
                self.log.info('auto integration: %d -> %d ms (saturation %.2f)',
                              integration, chosen, fraction)
        self.deliver(SavedSpectrum(moment, capture_type, paths[0], read_only(spectrum), metadata))
        return paths

    def device_status(self):
        values, _ = self.context.settings.snapshot()
        with self._lock:
            data = dict(self._published)
        data.update(auto_integration=values['spec_auto'], integration_time=values['spec_integration'],
                    coadds=values['spec_coadds'])
        return data

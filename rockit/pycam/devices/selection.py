"""Which device objects a config opens: the real ones (picamera2 and seabreeze, which exist
only on the instrument, are imported by the function that opens them) or the simulators,
which share one simulated scene so that all three instruments see the same plume."""
from rockit.common.errors import DeviceError

from .spectrometer import SO2Spectrometer


def picamera_opener(camera_num):
    """A function opening camera camera_num as a Picamera2 (Raspberry Pi OS's
    python3-picamera2), for SO2Camera."""
    def open_camera():
        try:
            from picamera2 import Picamera2
        except ImportError as e:
            raise DeviceError(f'picamera2 is not available ({e}): install python3-picamera2') from None
        return Picamera2(camera_num)
    return open_camera


def seabreeze_opener(serial_number=None):
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


def _scene(config):
    from ..simulator.scene import PlumeScene
    simulation = config.simulation
    optional = {key: simulation[key] for key in ('sky_aa_gradient', 'extinction_per_km', 'plume_distance_m')
                if key in simulation}
    return PlumeScene(brightness=simulation.get('sky_brightness', 1.0), wind_speed=simulation.get('wind_speed', 15.0),
                      **optional)


def camera_openers(config):
    """{band: function opening that band's camera} for SO2Camera."""
    openers, scene = {}, None
    for band, camera in config.local_cameras.items():
        if camera.backend == 'picamera2':
            openers[band] = picamera_opener(camera.camera_num)
            continue
        from ..simulator.camera import SimulatedPicamera2
        scene = scene or _scene(config)
        seed = config.simulation.get('seed')
        openers[band] = (lambda num=camera.camera_num, band=band, seed=seed:
                         SimulatedPicamera2(num, band, scene, None if seed is None else seed + num))
    return openers


def spectrometer(config, scene=None):
    spec = config.spectrometer
    if spec.backend == 'seabreeze':
        return SO2Spectrometer(seabreeze_opener(spec.serial_number))
    from ..simulator.spectrometer import SimulatedSpectrometer
    scene = scene or _scene(config)
    view, seed = config.simulation.get('spectrometer_view'), config.simulation.get('seed')
    return SO2Spectrometer(lambda: SimulatedSpectrometer(scene, view, seed=seed))

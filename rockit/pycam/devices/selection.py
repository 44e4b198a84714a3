"""Which device objects a config opens: the real backends (imported only when configured)
or the simulators, which share one simulated scene so that all three instruments see the
same plume."""
from . import picamera_backend, seabreeze_backend
from .spectrometer import SO2Spectrometer


def _scene(config):
    from ..simulator.scene import PlumeScene
    simulation = config.simulation
    return PlumeScene(brightness=simulation.get('sky_brightness', 1.0), wind_speed=simulation.get('wind_speed', 15.0))


def camera_openers(config):
    """{band: function opening that band's camera} for SO2Camera."""
    openers, scene = {}, None
    for band, camera in config.local_cameras.items():
        if camera.backend == 'picamera2':
            openers[band] = picamera_backend.opener(camera.camera_num)
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
        return SO2Spectrometer(seabreeze_backend.opener(spec.serial_number))
    from ..simulator.spectrometer import SimulatedSpectrometer
    scene = scene or _scene(config)
    view, seed = config.simulation.get('spectrometer_view'), config.simulation.get('seed')
    return SO2Spectrometer(lambda: SimulatedSpectrometer(scene, view, seed=seed))

"""The real cameras: picamera2, imported only when a config asks for it (it exists only on
Raspberry Pi OS, as python3-picamera2)."""
from rockit.common.errors import DeviceError


def opener(camera_num):
    """A function opening camera camera_num as a Picamera2, for SO2Camera."""
    def open_camera():
        try:
            from picamera2 import Picamera2
        except ImportError as e:
            raise DeviceError(f'picamera2 is not available ({e}): install python3-picamera2') from None
        return Picamera2(camera_num)
    return open_camera

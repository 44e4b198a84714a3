"""pycamd as its executable runs it, keeping a record of what reaches its devices: the
reliability tests' stand-in for an emulator's request log. A serial daemon's emulator sees
every request on the line; pycamd's simulated cameras and spectrometer live inside the
daemon process, so this wrapper records at the edge of the device code instead.

    python tests/reliability/pycamd_recorded.py <config.json>

appends to <config.json>.devices, before the device is touched:
    open <cameras|spectrometer>                     a device group being opened
    capture <cameras|spectrometer> <stamp> <type>   a capture started (the time stamp its
                                                    files will carry)
so a test can tell a command that reached a device from one that was refused, even while
a capture is still exposing and none of its files exist yet.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rockit.pycam import daemon  # noqa: E402
from rockit.pycam.acquisition.cameras import CameraPairAcquisition  # noqa: E402
from rockit.pycam.acquisition.spectrometer import SpectrometerAcquisition  # noqa: E402
from rockit.pycam.storage import names  # noqa: E402

RECORD_SUFFIX = '.devices'


def record_path(config_path):
    return Path(str(config_path) + RECORD_SUFFIX)


def recorder(path):
    """record(line): append one line, in one write (the device threads share the file)."""
    def record(line):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (line + '\n').encode())
        finally:
            os.close(fd)
    return record


def install(record):
    for loop_class in (CameraPairAcquisition, SpectrometerAcquisition):
        def open_device(self, _open=loop_class.open_device):
            record(f'open {self.device_name}')
            return _open(self)

        def capture_and_save(self, capture_type, moment, dark_exposure=None, _capture=loop_class.capture_and_save):
            record(f'capture {self.device_name} {names.stamp(moment)} {capture_type}')
            return _capture(self, capture_type, moment, dark_exposure)

        loop_class.open_device = open_device
        loop_class.capture_and_save = capture_and_save


if __name__ == '__main__':
    if len(sys.argv) == 2:
        install(recorder(record_path(sys.argv[1])))
    sys.exit(daemon.main())

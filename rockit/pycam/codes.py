"""pycamd's status codes (device codes from 10 up, as every rockit daemon) and device states."""
from rockit.common import codes


class CommandStatus(codes.CommandStatus):
    NotConnected = 10
    NotDisconnected = 11
    UnknownSetting = 12
    SettingOutsideLimits = 13
    AutoExposureOn = 14
    InvalidCaptureType = 15
    AcquisitionRunning = 16
    StorageUnavailable = 17
    DeviceNotConfigured = 18
    InvalidDevice = 19
    NothingToSearch = 20

    _messages = {
        10: 'error: device is not connected',
        11: 'error: devices are already connected',
        12: 'error: unknown setting',
        13: 'error: setting outside its limits',
        14: 'error: auto exposure is on: turn it off in the same request (pycam set auto_a off shutter_a 2000)',
        15: 'error: capture type must be Test, Dark, Clear, Plume or <N>ppmm',
        16: 'error: acquisition is running (pycam stop first)',
        17: 'error: data storage is full or unwritable (see pycam status)',
        18: 'error: that device is not configured',
        19: 'error: device must be cameras, spectrometer or all',
        20: 'error: no field of view to search for: it is configured (doas_fov), or no DOAS references',
        -101: 'error: unable to communicate with pycam daemon',
    }


DeviceStatus = codes.LinkStatus

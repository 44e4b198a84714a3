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
    InvalidLine = 21
    InvalidSkyRegion = 22
    InvalidView = 23

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
        20: 'error: no field of view to search for: it is fixed (doas_fov in the config, or set with pycam '
            'geometry), or no DOAS references',
        21: 'error: integration lines: 1 to 8 of {x: [x0, x1], y: [y0, y1], orientation: left|right, name}, '
            'inside the image and at least 2 pixels long (pycam geometry says which)',
        22: 'error: sky region: [x0, y0, x1, y1] in whole pixels, x0 < x1 and y0 < y1, inside the image',
        23: 'error: spectrometer view: [x, y, radius] with its centre inside the image and a radius of 1 pixel '
            'to half the image height, or none to search for it',
        -101: 'error: unable to communicate with pycam daemon',
    }


DeviceStatus = codes.LinkStatus

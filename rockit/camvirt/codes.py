"""camvirtd's status codes (0-2 and 10 are those of the camvirt daemon in service)."""
from rockit.common import codes


class CommandStatus(codes.CommandStatus):
    InvalidControlIP = 10
    UnknownCamera = 11

    _messages = {
        10: 'error: command not accepted from this IP',
        11: 'error: unknown camera id',
        -101: 'error: unable to communicate with camvirt daemon',
    }


LibvirtStatus = codes.LinkStatus  # whether camvirtd holds a working libvirt connection

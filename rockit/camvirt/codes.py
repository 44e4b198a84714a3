"""camvirtd's status codes (0-2 and 10 are those of the camvirt daemon in service)."""
from rockit.common import codes


class CommandStatus(codes.CommandStatus):
    InvalidControlIP = 10

    _messages = {
        10: 'error: command not accepted from this IP',
        -101: 'error: unable to communicate with camvirt daemon',
    }


LibvirtStatus = codes.LinkStatus  # whether camvirtd holds a working libvirt connection


class Outcome:
    """What last_initialize and last_shutdown report for each domain (dashboards read these
    strings: they are part of the wire)."""
    # initialize
    READY = 'ready'
    CAMERAS_SILENT = 'cameras not answering'
    FAILED_TO_START = 'failed to start'
    # shutdown
    GRACEFUL = 'graceful'
    GRACEFUL_PLAIN = 'graceful (plain shutdown)'
    ALREADY_OFF = 'already off'
    DESTROYED = 'destroyed'
    STILL_RUNNING = 'still running'
    ERROR = 'error'
    # either
    MISSING = 'missing'
    LIBVIRT_UNAVAILABLE = 'libvirt unavailable'
    INTERRUPTED = 'interrupted'

    OFF = (GRACEFUL, GRACEFUL_PLAIN, ALREADY_OFF, DESTROYED)   # shutdown succeeded for the domain

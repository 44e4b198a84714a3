"""The focuser's status codes (the numbers are those of the focuser daemon in service)."""
from rockit.common import codes


class CommandStatus(codes.CommandStatus):
    InvalidChannel = 4
    PositionOutsideLimits = 6
    NotConnected = 7
    NotDisconnected = 8

    _messages = {
        4: 'error: invalid channel',
        6: 'error: requested position outside channel range',
        7: 'error: focuser is not connected',
        8: 'error: focuser is already connected',
        -101: 'error: unable to communicate with focus daemon',
    }


class FocuserStatus(codes.LinkStatus):
    """Disabled and Active are the names other rockit software reads."""
    Disabled = codes.LinkStatus.Offline
    Active = codes.LinkStatus.Online

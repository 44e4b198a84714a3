"""The chiller's status codes, states and modes (the numbers dashboards already know are
those of the chiller daemon in service: ModeIsAutomatic 10, states 0-3, modes 0-1)."""
from rockit.common import codes

from .protocol import SETPOINT_MAX, SETPOINT_MIN

# A refusal by the chiller itself (a non-zero error digit in its reply) is answered with
# CHILLER_REFUSED + that digit, so the code names what the chiller complained about.
CHILLER_REFUSED = 20


class CommandStatus(codes.CommandStatus):
    ModeIsAutomatic = 10
    NotConnected = 11
    NotDisconnected = 12
    SetpointOutsideLimits = 13
    ChillerRejectedChecksum = CHILLER_REFUSED + 1
    ChillerRejectedCommand = CHILLER_REFUSED + 2
    ChillerRejectedValue = CHILLER_REFUSED + 3
    ChillerRejectedLength = CHILLER_REFUSED + 4
    ChillerFeatureNotConfigured = CHILLER_REFUSED + 5

    _messages = {
        10: 'error: chiller is in automatic mode (switch to manual mode first: chiller mode manual)',
        11: 'error: chiller is not connected',
        12: 'error: chiller is already connected',
        13: f'error: setpoint outside the chiller range ({SETPOINT_MIN:g} to {SETPOINT_MAX:g} \u00b0C)',
        21: 'error: chiller rejected the request checksum (line noise?)',
        22: 'error: chiller did not recognise the command',
        23: 'error: chiller refused the value as out of bounds',
        24: 'error: chiller rejected the request length',
        25: 'error: feature not configured on the chiller',
        -101: 'error: unable to communicate with chiller daemon',
    }

    @classmethod
    def chiller_refused(cls, error_digit):
        """The code for a reply carrying a non-zero error digit."""
        return CHILLER_REFUSED + error_digit


class ChillerStatus(codes.Labelled):
    Offline = 0
    Disabled = Offline  # the name other rockit software reads
    Idle = 1
    Cooling = 2
    Heating = 3

    _labels = {0: 'OFFLINE', 1: 'IDLE', 2: 'COOLING', 3: 'HEATING'}
    _colors = {0: 'red', 1: 'default', 2: 'cyan', 3: 'yellow'}


class ChillerMode(codes.Labelled):
    """Who decides whether the chiller runs: an operator (MANUAL) or the interlocks."""
    Manual = 0
    Automatic = 1

    _labels = {0: 'MANUAL', 1: 'AUTOMATIC'}
    _colors = {0: 'yellow', 1: 'green'}

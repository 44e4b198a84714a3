"""What goes wrong between chillerd and its chiller: the error digits a chiller reply
carries, and the exceptions raised for them (no I/O here, so the pure protocol module
raises them too). An interlock source that gives nothing usable is a watcher's Unusable
(rockit.common.watcher)."""
from rockit.common.errors import ProtocolError

ERROR_OK = 0
ERROR_CHECKSUM = 1
ERROR_COMMAND = 2
ERROR_BOUNDS = 3
ERROR_LENGTH = 4
ERROR_NOT_CONFIGURED = 5

ERROR_MESSAGES = {
    ERROR_CHECKSUM: 'bad checksum',
    ERROR_COMMAND: 'bad command',
    ERROR_BOUNDS: 'value out of bounds',
    ERROR_LENGTH: 'wrong length',
    ERROR_NOT_CONFIGURED: 'feature not configured',
}


class DeviceReplyError(ProtocolError):
    """The chiller understood the frame but refused it: a non-zero error digit."""

    def __init__(self, code, command_id=''):
        self.code = code
        self.command_id = command_id
        name = ERROR_MESSAGES.get(code, f'unknown error {code}')
        where = f' to command {command_id}' if command_id else ''
        super().__init__(f'chiller replied error {code} ({name}){where}')


class RequestError(ProtocolError):
    """A request the chiller would refuse, with the error digit it would answer (code), or
    code None when it would not answer at all (not a frame addressed to it)."""

    def __init__(self, code, command_id='00', message=''):
        self.code = code
        self.command_id = command_id
        super().__init__(message or ERROR_MESSAGES.get(code, 'not a request for this chiller'))

"""Numeric status codes: what every command returns and every CLI exits with.

serpent cannot carry custom exceptions, so commands answer with integers. The general codes
live here; each device subclasses CommandStatus with its own codes and messages.
"""


class CommandStatus:
    Succeeded = 0
    Failed = 1
    Blocked = 2
    InvalidControlIP = 3
    InvalidArgument = 5

    # Produced by the CLI, never by a daemon.
    UsageError = -1
    TerminatedByUser = -100
    Unreachable = -101

    _messages = {
        0: 'success',
        1: 'error: command failed',
        2: 'error: another command is already running',
        3: 'error: command not accepted from this IP',
        5: 'error: invalid argument',
        -1: 'error: invalid command or arguments',
        -100: 'error: terminated by user',
        -101: 'error: unable to communicate with the daemon',
    }

    @classmethod
    def message(cls, code):
        """The message for code, from the most specific class that defines one."""
        for klass in cls.__mro__:
            messages = klass.__dict__.get('_messages', {})
            if code in messages:
                return messages[code]
        return f'error: unknown error code {code}'


class Labelled:
    """A status or mode enumeration that dashboards receive as a number, with its label
    (in rich markup and its colour with formatting=True, as the rockit CLIs print it)."""
    _labels = {}
    _colors = {}

    @classmethod
    def label(cls, value, formatting=False):
        text = cls._labels.get(value)
        if not formatting:
            return text or 'UNKNOWN'
        color = cls._colors.get(value, 'default') if text else 'red'
        return f'[b][{color}]{text or "UNKNOWN"}[/{color}][/b]'


class LinkStatus(Labelled):
    """report_status()['status'] of a daemon whose device is either reachable or not."""
    Offline = 0
    Online = 1

    _labels = {0: 'OFFLINE', 1: 'ONLINE'}
    _colors = {0: 'red', 1: 'default'}

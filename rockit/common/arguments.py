"""Declarative checks for command arguments, applied before a command reaches the device.

Each check returns None when the value is acceptable, else the status code to answer with.
Bounds may be numbers or callables taking the daemon object (for limits from its config).
"""
import math

from .codes import CommandStatus


def _bound(bound, daemon):
    return bound(daemon) if callable(bound) else bound


class Integer:
    def __init__(self, minimum=None, maximum=None, range_code=CommandStatus.InvalidArgument):
        self.minimum, self.maximum, self.range_code = minimum, maximum, range_code

    def __call__(self, daemon, value):
        if isinstance(value, bool) or not isinstance(value, int):
            return CommandStatus.InvalidArgument
        return _check_range(daemon, value, self.minimum, self.maximum, self.range_code)


class Number:
    """A finite int or float (NaN and infinities are refused)."""
    def __init__(self, minimum=None, maximum=None, range_code=CommandStatus.InvalidArgument):
        self.minimum, self.maximum, self.range_code = minimum, maximum, range_code

    def __call__(self, daemon, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return CommandStatus.InvalidArgument
        return _check_range(daemon, value, self.minimum, self.maximum, self.range_code)


class Boolean:
    def __call__(self, daemon, value):
        return None if isinstance(value, bool) else CommandStatus.InvalidArgument


class Choice:
    def __init__(self, choices, code=CommandStatus.InvalidArgument):
        self.choices, self.code = choices, code

    def __call__(self, daemon, value):
        try:
            return None if value in _bound(self.choices, daemon) else self.code
        except TypeError:  # unhashable values
            return self.code


def _check_range(daemon, value, minimum, maximum, code):
    low, high = _bound(minimum, daemon), _bound(maximum, daemon)
    if (low is not None and value < low) or (high is not None and value > high):
        return code
    return None

"""focusd: the multi-channel stepper focus controller.

Config, CommandStatus and FocuserStatus are what other rockit software (opsd, the focus
script of the reference focuser) imports from here; they load on first use.
"""
from rockit.common.lazy import attributes

__getattr__, __dir__ = attributes(__name__, {
    'Config': ('.client', 'Config'),
    'CommandStatus': ('.codes', 'CommandStatus'),
    'FocuserStatus': ('.codes', 'FocuserStatus'),
})

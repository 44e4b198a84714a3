"""chillerd: the Thermotek T257P camera chiller.

Config, ChillerMode, ChillerStatus and CommandStatus are what other rockit software (the
chiller script of the reference chiller) imports from here; they load on first use.
"""
from rockit.common.lazy import attributes

__getattr__, __dir__ = attributes(__name__, {
    'Config': ('.client', 'Config'),
    'ChillerMode': ('.codes', 'ChillerMode'),
    'ChillerStatus': ('.codes', 'ChillerStatus'),
    'CommandStatus': ('.codes', 'CommandStatus'),
})

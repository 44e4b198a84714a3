"""camvirtd: starts and stops the virtual machines that run the camera daemons.

Config and CommandStatus are what other rockit software (the camvirt script of the
reference camvirt) imports from here; they load on first use.
"""
from rockit.common.lazy import attributes

__getattr__, __dir__ = attributes(__name__, {
    'Config': ('.client', 'Config'),
    'CommandStatus': ('.codes', 'CommandStatus'),
})

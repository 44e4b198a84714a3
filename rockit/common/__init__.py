"""The shared base of every rockit daemon: registry, Pyro, config, logging, CLI, serial links.

Nothing device-specific lives here. The names other rockit software imports from here
(daemons, IP, log, TryLock, print, validation, helpers) load on first use, so a CLI that
needs none of them starts without jsonschema, rich or Pyro4.
"""
from .lazy import attributes

__getattr__, __dir__ = attributes(__name__, {
    'daemons': ('.daemons', None),
    'helpers': ('.helpers', None),
    'log': ('.log', None),
    'validation': ('.validation', None),
    'IP': ('.ip', 'IP'),
    'TryLock': ('.trylock', 'TryLock'),
    'print': ('.terminal', 'print'),
    'validation_errors': ('.validation', 'validation_errors'),
    'validate_config': ('.validation', 'validate_config'),
    'daemon_name_validator': ('.validation', 'daemon_name_validator'),
    'machine_name_validator': ('.validation', 'machine_name_validator'),
    'directory_path_validator': ('.validation', 'directory_path_validator'),
})

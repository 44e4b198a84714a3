"""The shared base of every rockit daemon: registry, Pyro, config, logging, CLI, serial links.

Nothing device-specific lives here. The names other rockit software imports from here
(daemons, IP, log, TryLock, print, validation, helpers) load on first use, so a CLI that
needs none of them starts without jsonschema, rich or Pyro4.
"""
import importlib

_NAMES = {
    'IP': ('.ip', 'IP'),
    'TryLock': ('.trylock', 'TryLock'),
    'print': ('.terminal', 'print'),
    'validation_errors': ('.validation', 'validation_errors'),
    'validate_config': ('.validation', 'validate_config'),
    'daemon_name_validator': ('.validation', 'daemon_name_validator'),
    'machine_name_validator': ('.validation', 'machine_name_validator'),
    'directory_path_validator': ('.validation', 'directory_path_validator'),
}
_MODULES = {'daemons', 'helpers', 'log', 'validation'}


def __getattr__(name):
    if name in _NAMES:
        module, attribute = _NAMES[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
    elif name in _MODULES:
        value = importlib.import_module(f'.{name}', __name__)
    else:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES) | _MODULES)

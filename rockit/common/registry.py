"""The rockit phone book: daemon name -> Pyro address, machine name -> IP.

Data, not code: the packaged registry.json, then every /etc/rockit/*.json in name order,
then the file named by $ROCKIT_REGISTRY, each merged over the last entry by entry.
Every CLI start reads it, so it is kept to modules that Pyro4 loads anyway: no jsonschema,
pathlib or dataclasses, and ipaddress only for an address that is not a plain IPv4 one.
"""
import functools
import json
import os
import re
from collections import namedtuple

from . import json_bounds
from .errors import RegistryError

PACKAGED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'registry.json')
SITE_DIR = '/etc/rockit'
ENVIRONMENT_VARIABLE = 'ROCKIT_REGISTRY'
DEFAULT_TIMEOUT = 5.0


class DaemonAddress(namedtuple('DaemonAddress', 'name object_id host port timeout', defaults=(DEFAULT_TIMEOUT,))):
    __slots__ = ()

    @property
    def uri(self):
        return f'PYRO:{self.object_id}@{self.host}:{self.port}'


class Registry:
    def __init__(self, daemons, machines, sources):
        self._daemons = daemons
        self._machines = machines
        self.sources = sources

    def daemon(self, name):
        try:
            return self._daemons[name]
        except KeyError:
            raise RegistryError(f"unknown daemon '{name}' (not in {', '.join(self.sources)})") from None

    def machine_ip(self, name):
        try:
            return self._machines[name]
        except KeyError:
            raise RegistryError(f"unknown machine '{name}' (not in {', '.join(self.sources)})") from None

    def has_daemon(self, name):
        return name in self._daemons

    def has_machine(self, name):
        return name in self._machines

    def daemon_names(self):
        return list(self._daemons)

    def machine_names(self):
        return list(self._machines)


def _parse(path):
    """Read one registry file, returning (daemons, machines); RegistryError names the file."""
    def bad(problem):
        return RegistryError(f'{path}: {problem}')

    try:
        with open(path) as file:
            data = json_bounds.loads(file.read())
    except OSError as e:
        raise bad(e.strerror or str(e)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f'invalid JSON ({e})') from None
    except json_bounds.OutOfBounds as e:
        raise bad(e) from None
    if not isinstance(data, dict):
        raise bad('expected an object with "daemons" and/or "machines"')
    unknown = set(data) - {'daemons', 'machines'}
    if unknown:
        raise bad(f'unknown key(s) {", ".join(sorted(unknown))}')

    daemons = {}
    for name, entry in _section(data, 'daemons', bad).items():
        if not isinstance(entry, dict):
            raise bad(f'daemons.{name}: expected an object')
        extra = set(entry) - {'object_id', 'host', 'port', 'timeout'}
        if extra:
            raise bad(f'daemons.{name}: unknown key(s) {", ".join(sorted(extra))}')
        for key in ('object_id', 'host'):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise bad(f'daemons.{name}.{key}: expected a non-empty string')
        port = entry.get('port')
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise bad(f'daemons.{name}.port: expected an integer from 1 to 65535')
        timeout = entry.get('timeout', DEFAULT_TIMEOUT)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise bad(f'daemons.{name}.timeout: expected a number of seconds above 0')
        daemons[name] = DaemonAddress(name, entry['object_id'], entry['host'], port, float(timeout))

    machines = {}
    for name, ip in _section(data, 'machines', bad).items():
        address = _ip_address(ip)
        if address is None:
            raise bad(f'machines.{name}: {ip!r} is not an IP address')
        machines[name] = address
    return daemons, machines


def _section(data, key, bad):
    section = data.get(key, {})
    if not isinstance(section, dict):
        raise bad(f'{key}: expected an object')
    return section


# Dotted decimal without leading zeros: exactly the IPv4 text that ipaddress prints back.
_PLAIN_IPV4 = re.compile(r'(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}'
                         r'(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])')


def _ip_address(text):
    """text as ipaddress writes that address, or None if it is not one."""
    if isinstance(text, str) and _PLAIN_IPV4.fullmatch(text):
        return text
    import ipaddress
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def override_files():
    """The site's files in name order, then $ROCKIT_REGISTRY's."""
    files = []
    if os.path.isdir(SITE_DIR):
        files = [os.path.join(SITE_DIR, name) for name in sorted(os.listdir(SITE_DIR)) if name.endswith('.json')]
    if os.environ.get(ENVIRONMENT_VARIABLE):
        files.append(os.environ[ENVIRONMENT_VARIABLE])
    return files


@functools.lru_cache(maxsize=None)
def load():
    """The merged registry (cached: the files are read once per process)."""
    daemons, machines, sources = {}, {}, []
    for path in [PACKAGED] + override_files():
        file_daemons, file_machines = _parse(path)
        daemons.update(file_daemons)
        machines.update(file_machines)
        sources.append(str(path))
    return Registry(daemons, machines, sources)


def daemon(name):
    return load().daemon(name)


def machine_ip(name):
    return load().machine_ip(name)

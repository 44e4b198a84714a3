"""The rockit phone book: daemon name -> Pyro address, machine name -> IP.

Data, not code: the packaged registry.json, then every /etc/rockit/*.json in name order,
then the file named by $ROCKIT_REGISTRY, each merged over the last entry by entry.
Kept free of jsonschema so that CLIs start fast.
"""
import functools
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import RegistryError

PACKAGED = Path(__file__).with_name('registry.json')
SITE_DIR = Path('/etc/rockit')
ENVIRONMENT_VARIABLE = 'ROCKIT_REGISTRY'
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class DaemonAddress:
    name: str
    object_id: str
    host: str
    port: int
    timeout: float = DEFAULT_TIMEOUT

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
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise bad(e.strerror or str(e)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f'invalid JSON ({e})') from None
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
        try:
            machines[name] = str(ipaddress.ip_address(ip))
        except ValueError:
            raise bad(f'machines.{name}: {ip!r} is not an IP address') from None
    return daemons, machines


def _section(data, key, bad):
    section = data.get(key, {})
    if not isinstance(section, dict):
        raise bad(f'{key}: expected an object')
    return section


def override_files():
    files = sorted(SITE_DIR.glob('*.json')) if SITE_DIR.is_dir() else []
    if os.environ.get(ENVIRONMENT_VARIABLE):
        files.append(Path(os.environ[ENVIRONMENT_VARIABLE]))
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

"""Config files: JSON read with one-line errors, validated with JSON Schema (Draft 7), every
violation turned into one line that names the key: `channels: 0 is less than the minimum of 1`.

Two extra schema keywords check names against the registry: `"rockit_daemon": true` and
`"rockit_machine": true`; a third, `pattern_problem`, says in words what is wrong with a
string that does not match its `pattern` (`'-x' must not start with -`). jsonschema is
imported only when validating, so CLIs that only read a few keys from the config start fast.
Nesting and integer size are bounded before the JSON is read (json_bounds.py).

Types are stricter than JSON Schema's: an "integer" is written without a fraction (2.0 is
a JSON Schema integer, but the daemons count with it), and a "number" is finite (Python's
json reads NaN, which every minimum and maximum lets through).
"""
import json
import math

from . import json_bounds, registry
from .json_bounds import key_path
from .errors import ConfigError

# Schema fragments every daemon's config uses.
DAEMON = {'type': 'string', 'rockit_daemon': True}
MACHINES = {'type': 'array', 'items': {'type': 'string', 'rockit_machine': True}}
LOG_NAME = {'type': 'string', 'minLength': 1}
# The keys of a daemon on a serial link (rockit.common.serial_link), as its properties.
SERIAL_LINK = {
    'serial_port': {'type': 'string', 'minLength': 1},
    'serial_baud': {'type': 'integer', 'minimum': 1},
    'serial_timeout': {'type': 'number', 'exclusiveMinimum': 0, 'maximum': 60},
}


def read_json(path):
    """The file's JSON object, or ConfigError: a one-line reason, or, for a problem at a
    key (too deep, an integer too large), the same listing as a schema problem."""
    try:
        with open(path) as file:
            text = file.read()
    except OSError as e:
        raise ConfigError(f'{path}: {e.strerror or e}') from None
    except UnicodeDecodeError:
        raise ConfigError(f'{path}: not a text file') from None
    try:
        data = json_bounds.loads(text)
    except json_bounds.OutOfBounds as e:
        raise invalid(path, [str(e)]) from None
    except json.JSONDecodeError as e:
        raise ConfigError(f'{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}') from None
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a JSON object at the top level')
    return data


def _join(path, key):
    return key_path(list(path) + [key])


def problems(data, schema):
    """Every schema violation of data as a readable line, sorted by key."""
    import jsonschema

    def registry_keyword(exists, noun):
        def check(_validator, wanted, instance, _schema):
            if wanted and isinstance(instance, str):
                try:
                    known = exists(instance)
                except registry.RegistryError as e:
                    yield jsonschema.ValidationError(str(e))
                    return
                if not known:
                    yield jsonschema.ValidationError(f"'{instance}' is not a {noun} in the registry")
        return check

    reg = registry.load()
    types = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many({
        'integer': lambda _checker, value: isinstance(value, int) and not isinstance(value, bool),
        'number': lambda _checker, value: isinstance(value, (int, float)) and not isinstance(value, bool)
        and math.isfinite(value),
    })
    validator_class = jsonschema.validators.extend(jsonschema.Draft7Validator, {
        'rockit_daemon': registry_keyword(reg.has_daemon, 'daemon'),
        'rockit_machine': registry_keyword(reg.has_machine, 'machine'),
    }, type_checker=types)
    lines = []
    for error in validator_class(schema).iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == 'required':
            missing = [k for k in error.validator_value if k not in error.instance]
            lines += [f'{_join(path, key)}: required key is missing' for key in missing]
        elif error.validator == 'additionalProperties' and isinstance(error.instance, dict):
            known = error.schema.get('properties', {})
            lines += [f'{_join(path, key)}: unknown key' for key in error.instance if key not in known]
        elif error.validator in ('minItems', 'minProperties', 'minLength') and not error.instance:
            lines.append(f'{key_path(path)}: {error.instance!r} should be non-empty')   # as jsonschema 4 says
        elif error.validator == 'pattern' and 'pattern_problem' in error.schema:
            lines.append(f'{key_path(path)}: {error.instance!r} {error.schema["pattern_problem"]}')
        else:
            lines.append(f'{key_path(path)}: {error.message}')
    return sorted(set(lines))


def load(path, schema):
    """Read and validate a config file; ConfigError lists every problem, one per line."""
    data = read_json(path)
    found = problems(data, schema)
    if found:
        raise invalid(path, found)
    return data


def invalid(path, found):
    """ConfigError listing the problems found, one per line: control characters are escaped,
    so that a key or value holding a line break cannot split its line."""
    def printable(line):
        return ''.join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return ConfigError(f'{path}: invalid config\n' + '\n'.join('  ' + printable(line) for line in found))


class DaemonConfig:
    """The keys every daemon's config has. A subclass names its schema in its class line
    (class FocuserConfig(DaemonConfig, schema=SCHEMA)), reads its own keys in __init__, and
    may list problems the schema cannot express in extra_problems()."""
    SCHEMA = None

    def __init_subclass__(cls, schema=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if schema is not None:
            cls.SCHEMA = schema

    def __init__(self, data, folder):
        self.daemon = data['daemon']
        self.address = registry.daemon(data['daemon'])
        self.log_name = data['log_name']
        self.control_ips = {registry.machine_ip(m) for m in data.get('control_machines', [])}

    @classmethod
    def extra_problems(cls, data):
        return []

    @classmethod
    def load(cls, path):
        data = load(path, cls.SCHEMA)
        found = cls.extra_problems(data)
        if found:
            raise invalid(path, found)
        from pathlib import Path
        return cls(data, Path(path).resolve().parent)


class SerialDaemonConfig(DaemonConfig):
    """A daemon on a serial link: the SERIAL_LINK keys, for SerialLink.from_config."""

    def __init__(self, data, folder):
        super().__init__(data, folder)
        self.serial_port = data['serial_port']
        self.serial_baud = data['serial_baud']
        self.serial_timeout = data['serial_timeout']


def by_path(config_class):
    """config_class the way other rockit software makes it: Config(path), raising on a bad
    file, with .daemon the daemons.<name> entry (connect(), launch()) instead of the name."""
    from .daemons import PyroDaemon

    def __init__(self, path):
        vars(self).update(vars(config_class.load(path)))
        self.daemon = PyroDaemon.from_address(self.address)

    return type('Config', (config_class,), {'__init__': __init__, '__doc__': config_class.__doc__,
                                            '__module__': config_class.__module__})

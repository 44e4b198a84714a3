"""Config validation as other rockit software calls it: Draft 4 JSON Schema with custom
keywords (`daemon_name`, `machine_name`, `directory_path`), violations raised together.

Our own daemons use rockit.common.config, which names keys and is stricter about types.
"""
import os
import sys
import traceback

import jsonschema

from . import registry

# The reference module validates only when jsonschema imports; here it is a requirement, so
# validation is never disabled (callers read this flag).
disable_validation = False


class ConfigSchemaViolationError(Exception):
    def __init__(self, errors):
        super().__init__('Invalid configuration:\n\t' + '\n\t'.join(errors))


def daemon_name_validator(_validator, _value, instance, _schema):
    """A name of the registry's daemons."""
    if not isinstance(instance, str) or not registry.load().has_daemon(instance):
        yield jsonschema.ValidationError(f'{instance} is not a valid daemon name')


def machine_name_validator(_validator, _value, instance, _schema):
    """A name of the registry's machines."""
    if not isinstance(instance, str) or not registry.load().has_machine(instance):
        yield jsonschema.ValidationError(f'{instance} is not a valid machine name')


def directory_path_validator(_validator, _value, instance, _schema):
    """A directory that exists."""
    if not isinstance(instance, str) or not os.path.isdir(instance):
        yield jsonschema.ValidationError(f'{instance} is not a valid directory path')


def _format_checker():
    checker = getattr(jsonschema.Draft4Validator, 'FORMAT_CHECKER', None)
    return checker if checker is not None else jsonschema.draft4_format_checker


def validation_errors(json, schema, custom_validators=None):
    """The schema violations of json, as jsonschema errors."""
    keywords = dict(jsonschema.Draft4Validator.VALIDATORS, **(custom_validators or {}))
    validator = jsonschema.validators.create(meta_schema=jsonschema.Draft4Validator.META_SCHEMA,
                                             validators=keywords)
    return validator(schema, format_checker=_format_checker()).iter_errors(json)


def validate_config(json, schema, custom_validators=None, print_exception=False):
    """Raise ConfigSchemaViolationError listing every violation as `key->path: message`."""
    try:
        errors = [('->'.join(str(p) for p in error.path) + ': ' if error.path else '') + error.message
                  for error in sorted(validation_errors(json, schema, custom_validators),
                                      key=lambda e: [str(p) for p in e.path])]
    except Exception:  # a broken schema or custom validator must still surface as a config error
        if print_exception:
            traceback.print_exc(file=sys.stdout)
        errors = ['exception while validating']
    if errors:
        raise ConfigSchemaViolationError(errors)

"""The CLI runner, written once: find the config, dispatch to a table of small command
functions, print the message for the status code, exit with that code.

Kept light so that `focus status` starts fast: no jsonschema (the daemon validated its
config at start; the CLI reads the few keys it needs), no pathlib, rich only for a
terminal, and one Pyro connection for all the calls of a command.
"""
import json
import os
import re
import sys

from . import registry
from .codes import CommandStatus
from .config import ConfigError, read_json
from .errors import UsageError
from .usage import command_usage, commands_usage


CONFIG_ROOT = '/etc'


def no_arguments(args):
    """For a command that takes none: anything more is a usage error."""
    if args:
        raise UsageError()


def comma_numbers(text, count, what):
    """count numbers written as one argument, a,b,c; a usage error naming `what` otherwise."""
    try:
        values = [float(v) for v in text.split(',')]
    except ValueError:
        values = []
    if len(values) != count:
        raise UsageError(f'{what} needs {count} numbers separated by commas, not {text!r}')
    return values


class Command:
    """One CLI command: run(client, args) returns a status code. A command with
    needs_client=False works on local files alone: it gets client None, and no config is
    looked for."""

    def __init__(self, run, usage='', help='', needs_client=True):
        self.run, self.usage, self.help, self.needs_client = run, usage, help, needs_client


def init_and_kill(init_help, kill_help, timeout=lambda client, method: None):
    """The 'init' and 'kill' commands, which call the daemon's initialize() and shutdown();
    timeout(client, method) gives the seconds to wait (None: the registry's)."""
    def calling(method):
        def run(client, args):
            no_arguments(args)
            return client.call(method, timeout=timeout(client, method))
        return run
    return {'init': Command(calling('initialize'), '', init_help),
            'kill': Command(calling('shutdown'), '', kill_help)}


def find_config(daemon_dir, env_var):
    """The config path: $<env_var>, else the only JSON file in /etc/<daemon_dir>/."""
    if os.environ.get(env_var):
        return os.environ[env_var]
    folder = os.path.join(CONFIG_ROOT, daemon_dir)
    found = sorted(name for name in os.listdir(folder) if name.endswith('.json')) if os.path.isdir(folder) else []
    if len(found) == 1:
        return os.path.join(folder, found[0])
    what = f'{len(found)} configs in {folder}' if found else f'no config in {folder}'
    raise ConfigError(f'{what}: set {env_var} to the config file to use')


class Client:
    """What a command function gets: the config's keys and calls to its daemon, all over
    one connection."""

    def __init__(self, config, codes):
        self.config = config
        self.codes = codes
        self.address = registry.daemon(config['daemon'])
        self._proxy = None

    def call(self, method, *args, timeout=None):
        if self._proxy is None:
            from . import pyro
            self._proxy = pyro.connect(self.address)
        self._proxy._pyroTimeout = self.address.timeout if timeout is None else timeout
        try:
            return getattr(self._proxy, method)(*args)
        except BaseException:
            # A call cut short (Ctrl-C, a timeout) leaves its reply due on the connection:
            # the next call, such as the stop after a Ctrl-C, opens a new one.
            self.close()
            raise

    def status(self):
        return self.call('report_status')

    def close(self):
        if self._proxy is not None:
            self._proxy._pyroRelease()
            self._proxy = None


_MARKUP = re.compile(r'\[/?(?:bold|dim|red|green|yellow|blue|cyan|magenta)(?: (?:bold|dim|red|green|yellow|blue|cyan|magenta))*\]')


def show(text):
    """Print text with rich markup: in colour on a terminal, as plain text otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console
        Console(highlight=False).print(text)
    else:
        print(_MARKUP.sub('', text))


def _json(client, args):
    """One line, as the rockit CLIs print it, so that scripts can read it line by line."""
    no_arguments(args)
    print(json.dumps(client.status()))
    return 0


def dispatch(prog, commands, codes, daemon_dir, env_var, argv=None):
    """Run one CLI invocation; returns the status code to exit with."""
    argv = sys.argv[1:] if argv is None else argv
    commands = dict(commands)
    commands.setdefault('json', Command(_json, '', 'print the daemon status as JSON'))
    if argv and argv[0] in ('-h', '--help', 'help'):
        print(commands_usage(prog, commands))
        return 0
    if not argv or argv[0] not in commands:
        if argv:
            print(f'{prog}: unknown command {argv[0]!r}', file=sys.stderr)
        print(commands_usage(prog, commands), file=sys.stderr)
        return CommandStatus.UsageError

    name, args = argv[0], argv[1:]
    command = commands[name]
    client = None
    if command.needs_client:
        try:
            client = Client(read_json(find_config(daemon_dir, env_var)), codes)
        except (ConfigError, registry.RegistryError, KeyError) as e:
            print(f'{prog}: error: {e if not isinstance(e, KeyError) else f"config has no key {e}"}',
                  file=sys.stderr)
            return 1

    from .pyro import CommunicationErrors
    from .pyro_client import UnsafeReply
    try:
        code = command.run(client, args)
    except UsageError as e:
        print(f'{prog}: {e}' if str(e) else command_usage(prog, name, command.usage), file=sys.stderr)
        return CommandStatus.UsageError
    except KeyboardInterrupt:
        code = CommandStatus.TerminatedByUser
    except UnsafeReply as e:   # not the daemon, or not ours: say so, not just "unreachable"
        print(f'{prog}: error: {e}', file=sys.stderr)
        code = CommandStatus.Unreachable
    except CommunicationErrors:
        code = CommandStatus.Unreachable
    finally:
        if client:
            client.close()
    if code:
        print(codes.message(code), file=sys.stderr)
    return code or 0

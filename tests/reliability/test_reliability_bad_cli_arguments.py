"""Every command of every CLI, given missing, extra and malformed arguments: a usage error
(exit status 255, the CLI's -1), a message on stderr, no traceback, and no call to the
daemon. The commands are enumerated from each CLI's command table, so a new command is
covered without touching this file; commands taking arguments list one valid argument
list and their malformed ones in the daemon's table entry (reliability_harness).

The CLIs run in-process through their main(argv) (an exception escaping it would be the
traceback a user sees), with no daemon listening, so that any argument that got past the
checks would show up as "unable to communicate" instead of a usage error. One run per CLI
goes through the real executable as well.
"""
import json

import pytest

from support import exit_code, run_cli
from reliability_harness import DAEMONS
from rockit.common.codes import CommandStatus

pytestmark = pytest.mark.parametrize('spec', DAEMONS, ids=str)


def bad_argument_lists(cli):
    """(command, args) for every command: each missing-argument prefix of its valid
    arguments, one extra argument, and its malformed forms."""
    for name in list(cli.module.COMMANDS) + ['json']:
        valid = cli.valid.get(name, [])
        for length in range(len(valid)):
            yield name, valid[:length]
        yield name, valid + ['extra']
        for malformed in cli.malformed.get(name, []):
            yield name, malformed


def explains(err, args):
    """A usage error says what is wrong: the command's usage, what an argument must be, or
    the argument it refuses, quoted (pycam: unknown setting 'nonsense')."""
    return 'usage' in err or 'must be' in err or any(arg and repr(arg) in err for arg in args)


@pytest.fixture
def config_path(spec, test_registry, tmp_path, monkeypatch):
    path = tmp_path / f'{spec.name}.json'
    path.write_text(json.dumps(spec.config(test_registry)))
    monkeypatch.setenv(spec.cli.env_var, str(path))
    return path


def test_every_command_refuses_missing_extra_and_malformed_arguments(spec, config_path, capsys):
    for name, args in bad_argument_lists(spec.cli):
        assert spec.cli.module.main([name] + args) == CommandStatus.UsageError, (name, args)
        out, err = capsys.readouterr()
        assert err.strip() and out == '', (name, args, err)
        assert explains(err, args), (name, args, err)


def test_the_malformed_table_names_real_commands(spec):
    known = set(spec.cli.module.COMMANDS)
    assert set(spec.cli.valid) <= known and set(spec.cli.malformed) <= known


def test_the_executable_exits_255_with_a_message(spec, config_path):
    name, args = next(bad_argument_lists(spec.cli))
    result = run_cli(spec.cli.name, name, *args, 'extra', config_env=spec.cli.env_var, config_path=config_path)
    assert result.returncode == exit_code(CommandStatus.UsageError) == 255
    assert 'usage' in result.stderr and 'Traceback' not in result.stderr

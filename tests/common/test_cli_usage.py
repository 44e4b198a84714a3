"""Every CLI's usage fits in 100 columns, with the descriptions in one column near the
commands: a command with a long argument list goes on a line of its own."""
import sys

import pytest

from rockit.common.cli import Command
from rockit.common.usage import COLUMNS, LONGEST_ALIGNED, command_usage, commands_usage
from tests.support import ROOT, run_cli

CLIS = ['focus', 'chiller', 'camvirt', 'pycam']


def usage_of(executable, *args):
    result = run_cli(executable, *args)
    return (result.stdout + result.stderr).splitlines()


@pytest.mark.parametrize('executable', CLIS)
@pytest.mark.parametrize('args', [(), ('help',)])
def test_every_usage_line_fits_in_100_columns(executable, args):
    lines = usage_of(executable, *args)
    assert any(line.startswith(f'usage: {executable} ') for line in lines)
    assert [line for line in lines if len(line) > COLUMNS] == []


def test_the_standalone_processing_usage_fits_in_100_columns():
    import subprocess
    result = subprocess.run([sys.executable, '-m', 'rockit.pycam.processing.batch.cli'], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    lines = result.stderr.splitlines()
    assert lines[0].startswith('usage: ') and 'process' in result.stderr
    assert [line for line in lines if len(line) > COLUMNS] == []


def test_pycam_descriptions_line_up_near_the_commands_and_process_has_its_own_line():
    lines = usage_of('pycam', 'help')
    help_of = {'status': 'print a human-readable summary of the instrument',
               'process': 'AA images and emission rates from stored pairs',
               'fov': "find where the spectrometer looks in the camera's image"}
    columns = {name: next(line.index(text) for line in lines if line.endswith(text))
               for name, text in help_of.items()}
    assert len(set(columns.values())) == 1 and columns['status'] <= 2 + LONGEST_ALIGNED + 2
    process = next(i for i, line in enumerate(lines) if line.startswith('  process '))
    assert help_of['process'] not in lines[process]


def test_a_long_argument_list_wraps_between_arguments_never_inside_one():
    usage = ' '.join(f'[--option-{n} <a value {n}>]' for n in range(8))
    lines = command_usage('tool', 'go', usage).splitlines()
    assert len(lines) > 1 and all(len(line) <= COLUMNS for line in lines)
    assert lines[0].startswith('usage: tool go [--option-0 <a value 0>]')
    for line in lines[1:]:
        assert line.startswith(' ' * len('usage: tool go ') + '[--option-')
    assert ' '.join(line.strip() for line in lines) == f'usage: tool go {usage}'


def test_commands_that_fit_keep_one_line_each_with_one_gap_of_two_spaces():
    commands = {'status': Command(None, '', 'print it'), 'set': Command(None, '<value>', 'set it')}
    assert commands_usage('tool', commands).splitlines()[3:] == ['  status       print it',
                                                                  '  set <value>  set it']

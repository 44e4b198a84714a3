"""The CLIs' usage texts, within 100 columns on any terminal.

Descriptions line up in one column after the commands; a command whose arguments would push
that column far right (pycam process) goes on a line of its own with its description
under it, and whatever is still too long wraps between arguments, never inside one.
"""
import re

COLUMNS = 100
LONGEST_ALIGNED = 40       # a command line longer than this does not set the column
_ARGUMENT = re.compile(r'(?:\[[^\]]*\]|<[^>]*>|\S)+')


def wrap(text, first, indent):
    """text in lines of at most COLUMNS, the first starting with first, the rest indented
    by indent spaces; breaks only between words, `<a b>` and `[a b]` counting as one."""
    lines, line = [], first
    for word in _ARGUMENT.findall(text):
        separator = '' if not line.strip() or line.endswith(' ') else ' '
        if line.strip() and len(line) + len(separator) + len(word) > COLUMNS:
            lines.append(line)
            line = ' ' * indent + word
        else:
            line += separator + word
    return [line.rstrip() for line in lines + [line]]


def commands_usage(prog, commands):
    """The usage text listing {name: Command} with their descriptions."""
    heads = {name: f'{name} {command.usage}'.rstrip() for name, command in commands.items()}
    column = 2 + max([len(head) for head in heads.values() if len(head) <= LONGEST_ALIGNED],
                     default=LONGEST_ALIGNED) + 2
    lines = [f'usage: {prog} <command> [<args>]', '', 'commands:']
    for name, command in commands.items():
        head = wrap(heads[name], '  ', 6)
        if len(head) == 1 and len(head[0]) <= column - 2:
            lines += wrap(command.help, head[0].ljust(column), column)
        else:
            lines += head + wrap(command.help, ' ' * column, column)
    return '\n'.join(lines)


def command_usage(prog, name, usage):
    """One command's usage line, for its usage error."""
    first = f'usage: {prog} {name}'
    return '\n'.join(wrap(usage, first + ' ', len(first) + 1))

"""print with rich markup (`[b][red]OFFLINE[/red][/b]`), the way the rockit CLIs print.

rich is imported at the first call, not at import, so a CLI pays for it only when it prints.
"""
_console = None
_THEME = {'green': 'bright_green', 'red': 'bright_red', 'cyan': 'bright_cyan', 'yellow': 'bright_yellow'}


def _make_console(file=None):
    from rich.console import Console
    from rich.theme import Theme
    return Console(file=file, theme=Theme(_THEME, inherit=False))


def print(*objects, sep=' ', end='\n', file=None, flush=False):  # noqa: A001 (the rockit name)
    global _console
    if file is not None:
        console = _make_console(file)
    else:
        if _console is None:
            _console = _make_console()
        console = _console
    console.print(*objects, sep=sep, end=end)
    if flush:
        (file or console.file).flush()


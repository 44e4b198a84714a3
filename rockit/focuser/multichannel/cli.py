"""focus: the command line client of focusd."""
from rockit.common import cli
from rockit.common.cli import Command, UsageError, no_arguments, show

from .codes import CommandStatus, FocuserStatus

SET_TIMEOUT_MARGIN = 10


def _channels(client):
    return int(client.config['channels'])


def _channel_and_steps(client, args):
    """`<steps>` on a single-channel focuser, `<channel> <steps>` on a multi-channel one."""
    if _channels(client) == 1 and len(args) == 1:
        args = ['1'] + args
    if len(args) != 2:
        raise UsageError()
    return _int(args[0], 'channel'), _int(args[1], 'steps')


def _channel(client, args):
    if _channels(client) == 1 and not args:
        return 1
    if len(args) != 1:
        raise UsageError()
    return _int(args[0], 'channel')


def _int(text, what):
    try:
        return int(text)
    except ValueError:
        raise UsageError(f'{what} must be a whole number, not {text!r}') from None


def status(client, args):
    no_arguments(args)
    data = client.status()
    if data['status'] != FocuserStatus.Online:
        reason = data.get('offline_reason')
        show('Focuser is [bold red]OFFLINE[/bold red]' + (f' ({reason})' if reason else ''))
        return 0
    labels = client.call('temperature_labels')
    fans = '[bold green]ON[/bold green]' if data['fans_enabled'] else '[bold]OFF[/bold]'
    lines = [f'Focuser is [bold]ONLINE[/bold]; fans are {fans}']
    for channel in range(1, _channels(client) + 1):
        current, target = data[f'current_steps_{channel}'], data[f'target_steps_{channel}']
        moving = f' ([yellow]moving to {target}[/yellow])' if data[f'moving_{channel}'] else ''
        lines.append(f'Channel {channel}: [bold]{current}[/bold] steps{moving}')
    problems = data.get('temperature_problems', {})
    for key, value in data.get('temperature', {}).items():
        problem = f' ({problems[key]})' if key in problems else ''
        reading = f'[bold]{value:.1f} \u00b0C[/bold]' if value is not None else f'[red]no reading[/red]{problem}'
        lines.append(f'{labels.get(key, key)}: {reading}')
    show('\n'.join(lines))
    return 0


def _move(client, args, offset):
    channel, steps = _channel_and_steps(client, args)
    timeout = float(client.config['move_timeout']) + SET_TIMEOUT_MARGIN
    try:
        return client.call('set_focus', channel, steps, offset, timeout=timeout)
    except KeyboardInterrupt:
        # Ctrl-C stops the move it started, rather than leaving it running unattended.
        client.call('stop_channel', channel)
        return CommandStatus.TerminatedByUser


def set_position(client, args):
    return _move(client, args, offset=False)


def offset_position(client, args):
    return _move(client, args, offset=True)


def stop(client, args):
    return client.call('stop_channel', _channel(client, args))


def zero(client, args):
    return client.call('reset_home_position', _channel(client, args))


def fans(client, args):
    if args not in (['enable'], ['disable']):
        raise UsageError()
    return client.call('enable_fans', args[0] == 'enable')


def list_channels(client, args):
    """For shell completion: the channel numbers, one per line."""
    no_arguments(args)
    print('\n'.join(str(c) for c in range(1, _channels(client) + 1)))
    return 0


COMMANDS = {
    'status': Command(status, '', 'print a human-readable summary of the focuser'),
    'set': Command(set_position, '[<channel>] <steps>', 'move a channel to a position and wait'),
    'offset': Command(offset_position, '[<channel>] <delta>', 'move a channel by a number of steps and wait'),
    'stop': Command(stop, '[<channel>]', 'stop a channel where it is'),
    'zero': Command(zero, '[<channel>]', 'make the current position of a channel its zero'),
    'fans': Command(fans, 'enable|disable', 'switch the telescope fans'),
    **cli.init_and_kill('connect to the focus controller', 'disconnect from the focus controller'),
    'list-channels': Command(list_channels, '', 'print the channel numbers'),
}


def main(argv=None):
    return cli.dispatch('focus', COMMANDS, CommandStatus, 'focusd', 'FOCUSD_CONFIG_PATH', argv)

"""chiller: the command line client of chillerd."""
import math

from rockit.common import cli
from rockit.common.cli import Command, UsageError, no_arguments, show

from .codes import ChillerMode, ChillerStatus, CommandStatus
from .config import command_timeout

STATE_COLOURS = {ChillerStatus.Idle: 'bold', ChillerStatus.Cooling: 'bold cyan',
                 ChillerStatus.Heating: 'bold yellow'}
MODES = {'manual': ChillerMode.Manual, 'auto': ChillerMode.Automatic, 'automatic': ChillerMode.Automatic}


def _degrees(value):
    return f'{value:.1f} \u00b0C' if value is not None else '[red]no valid reading[/red]'


def _flags(indices, colour):
    return f'[{colour}]' + ', '.join(str(i) for i in indices) + f'[/{colour}]' if indices else 'none'


def status(client, args):
    no_arguments(args)
    data = client.status()
    mode = ChillerMode.label(data['mode'])
    if data['status'] == ChillerStatus.Offline:
        reason = data.get('offline_reason')
        show(f'Chiller is [bold red]OFFLINE[/bold red] in [bold]{mode}[/bold] mode'
             + (f' ({reason})' if reason else '') + f'\nUpdated: {data["date"]}')
        return 0
    colour = STATE_COLOURS.get(data['status'], 'bold')
    heating = data['status'] == ChillerStatus.Heating
    lines = [
        f'Chiller is [{colour}]{data["status_label"]}[/{colour}] in [bold]{mode}[/bold] mode',
        f'Water: [bold]{_degrees(data["water_temp"])}[/bold] (setpoint {_degrees(data["setpoint_temp"])}, '
        f'return {_degrees(data.get("return_temp"))})',
        f'Ambient: {_degrees(data["ambient_temp"])}',
        f'TEC power: {data["tec_power"]}%' + (' heating' if heating else ''),
    ]
    if 'dome_temp' in data:
        antifreeze = '[bold cyan]ON[/bold cyan]' if data.get('antifreeze_enabled') else 'off'
        lines.append(f'Dome: {_degrees(data["dome_temp"])}; antifreeze {antifreeze}')
    if 'channels_enabled' in data:
        power = data['channels_enabled']
        lines.append('Camera power: ' + ('[red]unknown[/red]' if power is None else 'on' if power else 'off'))
    for source, reason in data.get('interlock_faults', {}).items():
        lines.append(f'[red]{source.capitalize()} unusable: {reason}[/red]')
    lines.append(f'Alarms: {_flags(data.get("alarms", []), "bold red")}')
    lines.append(f'Warnings: {_flags(data.get("warnings", []), "yellow")}')
    lines.append(f'Updated: {data["date"]}')
    show('\n'.join(lines))
    return 0


def _timeout(client, method=None):
    return command_timeout(client.config['serial_timeout']) + 5


def _command(client, method, *args):
    return client.call(method, *args, timeout=_timeout(client))


def mode(client, args):
    if len(args) != 1 or args[0] not in MODES:
        raise UsageError()
    return _command(client, 'set_mode', MODES[args[0]])


def enable(client, args):
    no_arguments(args)
    return _command(client, 'set_enabled', True)


def disable(client, args):
    no_arguments(args)
    return _command(client, 'set_enabled', False)


def setpoint(client, args):
    if len(args) != 1:
        raise UsageError()
    try:
        celsius = float(args[0])
    except ValueError:
        celsius = math.nan
    if not math.isfinite(celsius):
        raise UsageError(f'setpoint must be a temperature in \u00b0C, not {args[0]!r}')
    return _command(client, 'set_setpoint', celsius)


COMMANDS = {
    'status': Command(status, '', 'print a human-readable summary of the chiller'),
    'mode': Command(mode, 'auto|manual', 'let the interlocks (auto) or the operator (manual) run the chiller'),
    'enable': Command(enable, '', 'run the chiller (manual mode)'),
    'disable': Command(disable, '', 'put the chiller in standby (manual mode)'),
    'setpoint': Command(setpoint, '<celsius>', 'set the water temperature to hold'),
    **cli.init_and_kill('connect to the chiller', 'disconnect from the chiller', _timeout),
}


def main(argv=None):
    return cli.dispatch('chiller', COMMANDS, CommandStatus, 'chillerd', 'CHILLERD_CONFIG_PATH', argv)

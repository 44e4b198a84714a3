"""camvirt: the command line client of camvirtd."""
from rockit.common import cli
from rockit.common.cli import Command, no_arguments, show

from .codes import CommandStatus, LibvirtStatus

# Beyond the configured timeout, time for libvirt itself (starting a domain, destroying
# one) so that a slow but successful command is not reported as unreachable.
COMMAND_TIMEOUT_MARGIN = 30

STATE_COLOURS = {'RUNNING': 'bold green', 'SHUTOFF': 'bold', 'MISSING': 'bold red', 'UNKNOWN': 'bold red',
                 'CRASHED': 'bold red'}


def _domain_line(name, domain):
    state = domain['state']
    colour = STATE_COLOURS.get(state, 'bold yellow')
    line = f'{name}: [{colour}]{state}[/{colour}]'
    if state == 'MISSING':
        return line + ' (not defined in libvirt)'
    cameras = [f'camera {camera_id} ' + ('[green]answers[/green]' if answers else '[red]does not answer[/red]')
               for camera_id, answers in domain['cameras'].items()]
    return line + '; ' + ', '.join(cameras)


def _outcomes(label, outcomes):
    return f'{label}: ' + ', '.join(f'{name} {outcome}' for name, outcome in outcomes.items())


def status(client, args):
    no_arguments(args)
    data = client.status()
    if data['status'] == LibvirtStatus.Online:
        lines = [f'libvirt is [bold green]ONLINE[/bold green] ({data["libvirt_uri"]})']
    else:
        lines = [f'libvirt is [bold red]OFFLINE[/bold red] ({data.get("offline_reason")})']
    lines += [_domain_line(name, domain) for name, domain in data['domains'].items()]
    if data.get('command'):
        lines.append(f'[yellow]{data["command"]} is running[/yellow]')
    if data.get('last_initialize'):
        lines.append(_outcomes('last initialize', data['last_initialize']))
    if data.get('last_shutdown'):
        lines.append(_outcomes('last shutdown', data['last_shutdown']))
    show('\n'.join(lines))
    return 0


def _timeout(client, method):
    return float(client.config[f'{method}_timeout']) + COMMAND_TIMEOUT_MARGIN


COMMANDS = {
    'status': Command(status, '', 'print each virtual machine and whether its cameras answer'),
    **cli.init_and_kill('power on the virtual machines and wait for their cameras',
                        'power off the virtual machines', _timeout),
}


def main(argv=None):
    return cli.dispatch('camvirt', COMMANDS, CommandStatus, 'camvirtd', 'CAMVIRTD_CONFIG_PATH', argv)

"""pycam: the command line client of pycamd.

The stored-data processing commands (`process`, `doas`, `calibrate`, ...) live in
rockit/pycam/processing/batch/cli.py as COMMANDS; they work without a daemon or a config, so
they run before the scaffold looks for either. processing/batch/cli.py is imported only when one
of them (or the command list) is asked for, and loads numpy and OpenCV only inside its
commands, keeping `pycam status` fast.
"""
import sys

from rockit.common import cli
from rockit.common.cli import Command, UsageError, comma_numbers, no_arguments, show

from . import image_geometry
from .codes import CommandStatus, DeviceStatus
from .field import status_lines as field_lines
from .instrument import BANDS
from .settings import SETTINGS

DEVICES = ('cameras', 'spectrometer', 'all')
COMMAND_TIMEOUT = 40
CAPTURE_TIMEOUT = 900   # s: the longest exposures, co-adds and frames to apply settings


def _device(args, allowed=DEVICES, default='all'):
    if not args:
        if default is None:
            raise UsageError()
        return default
    if len(args) != 1 or args[0] not in allowed:
        raise UsageError()
    return args[0]


def _size(megabytes):
    return f'{megabytes / 1000:.1f} GB' if megabytes >= 1000 else f'{megabytes:.0f} MB'


def _count(number, one, many):
    return f'{number} {one if number == 1 else many}'


def _loop_line(title, verb, part, nouns):
    if part['status'] != DeviceStatus.Online:
        reason = part.get('offline_reason')
        return f'{title} {verb} [bold red]OFFLINE[/bold red]' + (f' ({reason})' if reason else '')
    mode = part['mode']
    if mode == 'darks':
        activity = f'[yellow]taking darks {part["darks"]["done"]}/{part["darks"]["total"]}[/yellow]'
    elif mode == 'continuous':
        activity = '[bold green]continuous[/bold green]' + (f' (next slot {part["next_slot"]})'
                                                            if part.get('next_slot') else '')
    else:
        activity = 'idle'
    return (f'{title} {verb} [bold]ONLINE[/bold], {activity}: {_count(part["captures_saved"], *nouns)} saved, '
            f'{_count(part["slots_missed"], "slot", "slots")} missed')


def _band_line(band, state):
    mode = 'auto' if state['auto_exposure'] else 'manual'
    measured = f' (measured {state["exposure_us"]} us)' if state.get('exposure_us') is not None else ''
    saturation = f', saturation {state["saturation"]:.2f}' if state.get('saturation') is not None else ''
    last = f', last {state["last_file"]}' if state.get('last_file') else ''
    return f'  {band}: {mode} {state["shutter_speed"]} us{measured}, gain {state["gain"]:g}{saturation}{last}'


def _remote_band_lines(band, part):
    link, pairs = part['link'], part['pairs']
    offset = f'{link["clock_offset_s"]:+.3f} s' if link.get('clock_offset_s') is not None else 'unknown'
    late = pairs['out_of_tolerance']
    late_text = f'[bold red]{late} beyond {pairs["tolerance_ms"]:g} ms[/bold red]' if late else 'all in step'
    lines = [_loop_line(f'{band} camera on {part["camera_on"]}', 'is', part, ('frame', 'frames'))]
    if part['status'] == DeviceStatus.Online:
        lines.append(_band_line(band, part))
    lines.append(f'  link: last contact {link.get("last_contact") or "never"}, backlog {link.get("backlog")}, '
                 f'clock offset {offset}, {link["frames_received"]} frames received; '
                 f'pairs {pairs["matched"]} joined, {late_text}')
    return lines


def status(client, args):
    no_arguments(args)
    data = client.status()
    lines = []
    if 'cameras' in data:
        part = data['cameras']
        lines.append(_loop_line('Cameras', 'are', part, ('pair', 'pairs')))
        lines += [_band_line(band, part[band]) for band in BANDS if band in part]
    for band in BANDS:
        if band in data:        # a camera on the second Pi of a two-Pi instrument
            lines += _remote_band_lines(band, data[band])
    if 'spectrometer' in data:
        part = data['spectrometer']
        lines.append(_loop_line('Spectrometer', 'is', part, ('spectrum', 'spectra')))
        mode = 'auto' if part['auto_integration'] else 'manual'
        saturation = f', saturation {part["saturation"]:.2f}' if part.get('saturation') is not None else ''
        last = f', last {part["last_file"]}' if part.get('last_file') else ''
        lines.append(f'  {part.get("model") or "spectrometer"}: {mode} {part["integration_time"]} ms x '
                     f'{part["coadds"]} co-add{"s" if part["coadds"] != 1 else ""}{saturation}{last}')
    storage = data['storage']
    free = f'{_size(storage["free_mb"])} free' if storage.get('free_mb') is not None else 'free space unknown'
    lines.append(f'Storage: {storage["root"]}, {free} (floor {_size(storage["floor_mb"])}), '
                 f'{storage["files_written"]} files written')
    if storage.get('error'):
        lines.append(f'[bold red]Acquisition stopped: {storage["error"]}[/bold red]')
    lines += field_lines.lines(data)
    lines.append(f'Frame rate: {data["settings"]["frame_rate"]:g} Hz')
    lines += _kept_lines(data.get('kept_settings') or {})
    if (data.get('cell_session') or {}).get('cells'):
        lines.append(_cell_line(data['cell_session']))
    if 'processing' in data:
        lines += _processing_lines(data['processing'])
    if data.get('image_geometry'):
        lines.append(_geometry_line(data['image_geometry']))
    lines.append(f'Updated: {data["date"]}')
    show('\n'.join(lines))
    return 0


def _kept_lines(kept):
    """What the restart restored of the operator's settings, and what it left out."""
    lines = []
    if kept.get('restored'):
        lines.append('Settings kept from before the restart: ' +
                     ', '.join(f'{k} {v}' for k, v in sorted(kept['restored'].items())))
    if kept.get('ignored'):
        lines.append('[yellow]Kept settings left out: ' +
                     '; '.join(f'{k} ({v})' for k, v in sorted(kept['ignored'].items())) + '[/yellow]')
    if kept.get('error'):
        lines.append(f'[bold red]Settings not kept for a restart: {kept["error"]}[/bold red]')
    return lines


def _figure(value, error, unit, digits=2):
    if value is None:
        return '[dim]none yet[/dim]'
    spread = f' \u00b1 {error:.{digits}f}' if error is not None else ''
    return f'[bold]{value:.{digits}f}{spread}[/bold] {unit}'


def _processing_lines(p):
    """The live results first (what the instrument is for), then what they rest on."""
    cal = p.get('calibration') or {}
    calibration = (f'{cal["state"]} ({cal.get("model", "linear")}), {cal["slope"]:.4g} {cal.get("unit", "")} '
                   f'per unit AA at AA 0' + (f' (r2 {cal["r2"]:.3f})' if cal.get('r2') is not None else '')
                   if cal.get('slope') is not None else cal.get('state', 'none')
                   + (f' ({cal["waiting"]})' if cal.get('waiting') else ''))
    lines = [f'SO2 emission rate: {_figure(p.get("emission_rate_kg_s"), p.get("emission_rate_err_kg_s"), "kg/s")}'
             f' at plume speed {_figure(p.get("plume_speed_m_s"), p.get("plume_speed_err_m_s"), "m/s")}'
             f' (pair of {p.get("last_pair_time") or "none"})',
             f'  pairs: {p.get("pairs_processed", 0)} processed, {p.get("pairs_skipped", 0)} skipped, '
             f'{p.get("pairs_failed", 0)} failed; {p.get("processing_ms") or 0:.0f} ms per pair',
             f'  background: {p.get("background") or "none"}; darks: {p.get("darks", 0)}; calibration: {calibration}']
    if p.get('doas_column') is not None:
        view = p.get('doas_fov')
        where = (f'; view ({view["x"]:.0f}, {view["y"]:.0f}) r {view["radius"]:.0f} px, {view["source"]}'
                 if view else '; view not found yet')
        lines.append(f'  DOAS: {p["doas_column"]:.3g} \u00b1 {p.get("doas_error") or 0:.2g} molecules/cm2 '
                     f'({p.get("doas_points", 0)} points{where})')
        if p.get('doas_corrected_column') is not None:
            lines.append(f'  light dilution: corrected {p["doas_corrected_column"]:.3g} \u00b1 '
                         f'{p.get("doas_corrected_error") or 0:.2g} molecules/cm2, dilution factor '
                         f'{p.get("doas_ldf") or 0:.2f} \u00b1 {p.get("doas_ldf_error") or 0:.2f}')
        elif p.get('doas_dilution_note'):
            lines.append(f'  light dilution: not corrected ({p["doas_dilution_note"]})')
    if p.get('last_error'):
        lines.append(f'  [red]last error: {p["last_error"]}[/red]')
    return lines


def start(client, args):
    return client.call('start_acquisition', _device(args), timeout=COMMAND_TIMEOUT)


def stop(client, args):
    return client.call('stop_acquisition', _device(args), timeout=COMMAND_TIMEOUT)


def capture(client, args):
    if not 1 <= len(args) <= 2:
        raise UsageError()
    return client.call('capture', args[0], _device(args[1:]), timeout=CAPTURE_TIMEOUT)


def _cell_line(session):
    seen = ', '.join(f'{ppmm} ppm.m ' + ('+'.join(band for band in ('on', 'off') if counts[band]) or 'none')
                     for ppmm, counts in session['cells'].items())
    state = '[green]complete[/green]' if session['complete'] else 'still to capture: ' + ', '.join(session['missing'])
    return f'Cell session: {seen}; {state}'


def cells(client, args):
    """pycam cells <N>ppmm [--band on|off|both]: one capture with the cell in front of that
    lens (both: a cell on each), then what the session still lacks."""
    band = 'both'
    if '--band' in args:
        at = args.index('--band')
        if at + 1 >= len(args):
            raise UsageError('--band takes on, off or both')
        band, args = args[at + 1], args[:at] + args[at + 2:]
    if len(args) != 1 or not args[0].endswith('ppmm') or not args[0][:-4].isdigit():
        raise UsageError(f"name one cell as <N>ppmm, e.g. 304ppmm, not {' '.join(args)!r}")
    if band not in ('on', 'off', 'both'):
        raise UsageError(f'--band takes on, off or both, not {band!r}')
    code = client.call('capture_cell', int(args[0][:-4]), band, timeout=CAPTURE_TIMEOUT)
    if code == 0:
        show(_cell_line(client.status()['cell_session']))
    return code


def darks(client, args):
    return client.call('capture_darks', _device(args), timeout=CAPTURE_TIMEOUT)


def restart(client, args):
    return client.call('restart_device', _device(args, DEVICES[:2], default=None), timeout=CAPTURE_TIMEOUT)


def search_fov(client, args):
    no_arguments(args)
    return client.call('search_fov', timeout=COMMAND_TIMEOUT)


def parse_geometry(args):
    """['line', '250,60,250,400,left,plume', 'sky', '550,20,600,70', 'view', 'search'] ->
    the request set_image_geometry takes, checked as pycamd will (image_geometry.py)."""
    if not args or len(args) % 2:
        raise UsageError()
    request = {}
    for word, text in zip(args[0::2], args[1::2]):
        if word == 'line':
            parts = text.split(',')
            if not 4 <= len(parts) <= 6:
                raise UsageError(f'line: expected x0,y0,x1,y1[,left|right[,name]], not {text!r}')
            x0, y0, x1, y1 = comma_numbers(','.join(parts[:4]), 4, 'line')
            orientation, name = (parts[4:] + ['left', ''][len(parts) - 4:])[:2]
            request.setdefault('integration_line', []).append(
                {'x': [x0, x1], 'y': [y0, y1], 'orientation': orientation, 'name': name})
        elif word == 'sky':
            request['sky_region'] = comma_numbers(text, 4, 'sky')
        elif word == 'view':
            request['doas_fov'] = None if text == 'search' else comma_numbers(text, 3, 'view')
        else:
            raise UsageError(f'{word!r}: expected line, sky or view')
    try:
        return image_geometry.check(request)
    except image_geometry.GeometryError as e:
        raise UsageError(str(e)) from None


def _geometry_line(geometry):
    """The image geometry in one line of `pycam status` (`pycam geometry` says more)."""
    view = geometry.get('doas_fov')
    parts = [f"line {line['name']} ({line['x'][0]:g}, {line['y'][0]:g})-({line['x'][1]:g}, {line['y'][1]:g}) "
             f"{line['orientation']}" for line in geometry.get('integration_line') or []] or ['no integration line']
    parts.append('sky ' + ','.join(map(str, geometry.get('sky_region') or ['none'])))
    parts.append('view searched for' if view is None else f'view ({view[0]:g}, {view[1]:g}) r {view[2]:g}, '
                 f'{geometry["doas_fov_source"]}')
    kept = f" (set: {', '.join(geometry['set'])})" if geometry.get('set') else ''
    return 'Image geometry: ' + '; '.join(parts) + kept


def geometry_lines(geometry):
    """The image geometry of report_status(), as `pycam geometry` prints it."""
    if not geometry:
        return ['No live processing on this Pi: no image geometry.']
    width, height = geometry['image_size']
    mark = lambda key: ' [cyan](set)[/cyan]' if key in geometry['set'] else ''     # noqa: E731
    lines = [f'Image geometry (on-band pixels of the {width}x{height} image):']
    for line in geometry.get('integration_line') or []:
        lines.append(f"  line {line['name']}: ({line['x'][0]:g}, {line['y'][0]:g}) to ({line['x'][1]:g}, "
                     f"{line['y'][1]:g}), plume flowing to its {line['orientation']}{mark('integration_line')}")
    if not geometry.get('integration_line'):
        lines.append('  no integration line: no emission rates')
    sky = geometry.get('sky_region')
    lines.append('  sky region: ' + (', '.join(map(str, sky)) if sky else 'none') + mark('sky_region'))
    view = geometry.get('doas_fov')
    lines.append('  spectrometer view: ' + ('searched for (pycam status says where)' if view is None else
                                            f'({view[0]:g}, {view[1]:g}) radius {view[2]:g}, '
                                            f'{geometry["doas_fov_source"]}') + mark('doas_fov'))
    if geometry.get('error'):
        lines.append(f"  [bold red]the config's geometry is unusable: {geometry['error']}[/bold red]")
    return lines


def geometry(client, args):
    """pycam geometry: print it; with arguments, set them (every line named replaces the lines)."""
    if not args:
        show('\n'.join(geometry_lines(client.status().get('image_geometry'))))
        return 0
    return client.call('set_image_geometry', parse_geometry(args), timeout=COMMAND_TIMEOUT)


def parse_settings(args):
    """['auto_a', 'off', 'shutter_a', '2000'] -> {'auto_a': False, 'shutter_a': 2000}."""
    if not args or len(args) % 2:
        raise UsageError()
    settings = {}
    for name, text in zip(args[0::2], args[1::2]):
        if name not in SETTINGS:
            raise UsageError(f'unknown setting {name!r} (pycam settings lists them)')
        try:
            settings[name] = SETTINGS[name].parse(text)
        except ValueError as e:
            raise UsageError(f'{name}: {text!r} is not a valid value ({e})') from None
    return settings


def set_settings(client, args):
    return client.call('set_settings', parse_settings(args), timeout=COMMAND_TIMEOUT)


def list_settings(client, args):
    no_arguments(args)
    current = client.status()['settings']
    width = max(len(name) for name in SETTINGS)
    for name, setting in SETTINGS.items():
        if name in current:
            value = current[name]
            text = ':'.join(f'{v:g}' for v in value) if isinstance(value, list) else \
                ('on' if value else 'off') if isinstance(value, bool) else f'{value:g}'
            print(f'{name.ljust(width)}  {text.ljust(12)} {setting.help}')
    return 0


COMMANDS = {
    'status': Command(status, '', 'print a human-readable summary of the instrument'),
    'start': Command(start, '[cameras|spectrometer]', 'start continuous acquisition'),
    'stop': Command(stop, '[cameras|spectrometer]', 'stop continuous acquisition and dark sequences'),
    'capture': Command(capture, '<type> [cameras|spectrometer]',
                       'take one capture: Test, Dark, Clear, Plume or <N>ppmm'),
    'cells': Command(cells, '<N>ppmm [--band on|off|both]',
                     'a calibration cell capture in front of one lens or both, and what is still to capture'),
    'darks': Command(darks, '[cameras|spectrometer]', 'take darks at every exposure of the list'),
    'set': Command(set_settings, '<setting> <value> [...]', 'change settings together (pycam settings)'),
    'settings': Command(list_settings, '', 'list the settings with their current values'),
    'restart': Command(restart, 'cameras|spectrometer', 'close a device and open it again'),
    'search-fov': Command(search_fov, '', "search the images for the spectrometer's view again (after a move)"),
    'geometry': Command(geometry, '[line x0,y0,x1,y1[,left|right[,name]]]... [sky x0,y0,x1,y1] [view x,y,r|search]',
                        'print or set the integration lines, the sky region and the spectrometer view (pixels)'),
    **cli.init_and_kill('connect to the devices', 'stop acquisition and disconnect from the devices',
                        lambda client, method: CAPTURE_TIMEOUT),
}


def offline_commands():
    """The stored-data processing commands (processing/batch/cli.py)."""
    from .processing.batch.cli import COMMANDS as processing_commands
    return dict(processing_commands)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    commands = dict(COMMANDS)
    if not argv or argv[0] not in commands and argv[0] != 'json':   # json: the scaffold's own
        commands.update({name: c for name, c in offline_commands().items() if name not in commands})
    return cli.dispatch('pycam', commands, CommandStatus, 'pycamd', 'PYCAMD_CONFIG_PATH', argv)

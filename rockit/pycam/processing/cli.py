"""pycam process | doas | calibrate: processing of stored data, without a daemon or a config.

The pycam CLI merges COMMANDS into its table; each command ignores its client. Run
standalone as `python -m rockit.pycam.processing.cli <command> ...`. Everything heavy (numpy,
OpenCV, scipy) is imported inside the commands, so `pycam status` does not pay for it.
"""
import argparse
import json
import logging
import math
import sys
from pathlib import Path

from rockit.common.cli import Command, UsageError, show

FAILED = 1
DEFAULT_DISTANCE_M = 5000.0
DEFAULT_TEMPERATURE_K = 273.15


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a UsageError instead of exiting."""

    def error(self, message):
        raise UsageError(f'{message}\n{self.format_usage().strip()}')


def _parser(name, description):
    return _Parser(prog=f'pycam {name}', description=description)


def _fail(message):
    print(f'pycam: {message}', file=sys.stderr)
    return FAILED


class _Warnings(logging.Handler):
    """Processing warnings (e.g. a dark of another exposure used) shown as they happen."""

    def emit(self, record):
        print(f'warning: {record.getMessage()}', file=sys.stderr)


def _show_warnings():
    logger = logging.getLogger('rockit.pycam.processing')
    if not any(isinstance(h, _Warnings) for h in logger.handlers):
        logger.addHandler(_Warnings(logging.WARNING))
    logger.setLevel(logging.WARNING)


def find_beside(folder, pattern, levels=2):
    """A scene file (integration line, registration) in the folder, or in a `geometry`
    folder in it or up to `levels` folders above it: the instrument's data layout keeps
    one geometry per installation beside its dated data folders."""
    folder = Path(folder).resolve()
    places = [folder, folder / 'geometry']
    for parent in list(folder.parents)[:levels]:
        places += [parent, parent / 'geometry']
    for place in places:
        found = sorted(place.glob(pattern)) if place.is_dir() else []
        if found:
            return found[0]
    return None


def _scene(args, folder):
    """ProcessingSettings from the command line and the files found beside the data, and
    notes saying where each came from."""
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.calibration import ColumnUnits
    from rockit.pycam.processing.emission import CameraGeometry, IntegrationLine
    from rockit.pycam.processing.pipeline import DEFAULT_SKY, ProcessingSettings
    from rockit.pycam.processing.registration import Registration
    notes = []
    line_path = Path(args.line) if args.line else find_beside(folder, '*pcs_line*.txt')
    line = IntegrationLine.load(line_path) if line_path else None
    if line_path:
        notes.append(f'line: {line_path}' + ('' if args.line else ' (found beside the data)'))
    registration = None
    if args.registration == 'identity':
        registration = Registration()
        notes.append('registration: none (identity): the cameras are taken to be aligned')
    elif args.registration:
        registration = Registration.load(args.registration)
        notes.append(f'registration: {args.registration}')
    else:
        found = find_beside(folder, '*registration*.npy')
        if found:
            registration = Registration.load(found)
            notes.append(f'registration: {found} (found beside the data)')
    sky = SkyRegion.parse(args.sky) if args.sky else DEFAULT_SKY
    distance = args.distance if args.distance is not None else DEFAULT_DISTANCE_M
    geometry = CameraGeometry(distance, args.pixel_size * 1e-6, args.focal_length * 1e-3)
    settings = ProcessingSettings(sky=sky, line=line, geometry=geometry, units=ColumnUnits(args.temperature),
                                  registration=registration or Registration(), full_frame_flow=args.full_flow)
    notes.append(f'geometry: plume {distance:g} m away'
                 + ('' if args.distance is not None else ' (default: set --distance)')
                 + f', {args.pixel_size:g} um pixels, {args.focal_length:g} mm lens '
                 f'= {geometry.pixel_m:.3f} m per pixel')
    notes.append(f'sky region: x {sky.x0}-{sky.x1}, y {sky.y0}-{sky.y1}; '
                 f'ppm.m <-> molecules/cm^2 at {args.temperature:g} K')
    return settings, registration is not None, notes


def _register_by_ecc(settings, pair, darks):
    """No stored warp: find one on the first plume pair, whose skyline ECC can lock on to."""
    from rockit.pycam.processing.images import counts_per_second, load_png
    from rockit.pycam.processing.registration import RegistrationError, find_registration
    on, off = pair
    on_rate = counts_per_second(load_png(on.path), darks.match('on', on.exposure_us).frame, on.exposure_us)
    off_rate = counts_per_second(load_png(off.path), darks.match('off', off.exposure_us).frame, off.exposure_us)
    try:
        settings.registration = find_registration(on_rate, off_rate)
    except RegistrationError:
        raise RegistrationError(f'no registration: none found beside the data (*registration*.npy in the folder '
                                f'or a geometry/ folder beside it) and ECC found none on {on.path.name}; name a '
                                '2x3 warp with --registration <file.npy>, or --registration identity') from None
    dx, dy = settings.registration.translation
    return f'registration: none stored; found by ECC on {on.path.name}: shift ({dx:.1f}, {dy:.1f}) px'


def _progress(total, describe):
    """A progress callback: a rich bar on a terminal, one plain line per pair otherwise."""
    if sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        bar = Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        task = bar.add_task('processing', total=total)
        bar.start()

        def advance(index, result):
            bar.update(task, advance=1, description=describe(result))
            if index + 1 == total:
                bar.stop()
        return advance, bar.stop

    def line(index, result):
        print(f'[{index + 1}/{total}] {describe(result)}', flush=True)
    return line, lambda: None


def _rate_text(result):
    stamp = result.time.strftime('%Y-%m-%dT%H:%M:%SZ')
    if math.isfinite(result.emission_rate_kg_s):
        return (f'{stamp}  {result.emission_rate_kg_s:.3f} \u00b1 {result.emission_rate_err_kg_s:.3f} kg/s  '
                f'speed {result.speed_m_s:.2f} m/s')
    return f'{stamp}  no emission rate (first pair or no speed yet)'


def process(client, args):
    parser = _parser('process', 'AA images and emission rates for every on/off Plume pair in a folder')
    parser.add_argument('folder')
    parser.add_argument('--out', required=True, help='output folder (emission_rates.csv, so2/)')
    parser.add_argument('--darks', help='folder of Dark frames (default: the folder itself)')
    parser.add_argument('--clear', help="folder of Clear frames, or 'sky' for the sky region (default: the folder)")
    parser.add_argument('--calibration', help='calibration.json, or a folder with one or with cell frames')
    parser.add_argument('--line', help='integration line file (x=x0,x1 / y=y0,y1 / orientation=left|right)')
    parser.add_argument('--registration', help="2x3 affine warp .npy taking off-band onto on-band pixels, or "
                        "'identity' (default: found beside the data, else found by ECC)")
    parser.add_argument('--sky', help='plume-free sky region x0,y0,x1,y1 (default 550,20,600,70)')
    parser.add_argument('--distance', type=float, help=f'distance to the plume in m (default {DEFAULT_DISTANCE_M:g})')
    parser.add_argument('--pixel-size', type=float, default=5.6, help='pixel pitch in um (default 5.6)')
    parser.add_argument('--focal-length', type=float, default=9.0, help='lens focal length in mm (default 9)')
    parser.add_argument('--temperature', type=float, default=DEFAULT_TEMPERATURE_K,
                        help='reference temperature (K) for ppm.m <-> molecules/cm^2 (default 273.15)')
    parser.add_argument('--full-flow', action='store_true', help='optical flow over the whole frame (slow)')
    args = parser.parse_args(args)
    _show_warnings()

    from rockit.pycam.processing.calibration import CalibrationError
    from rockit.pycam.processing.emission import LineError
    from rockit.pycam.processing.images import DarkLibrary
    from rockit.pycam.processing.pipeline import BatchRun, MissingInput, find_inputs
    from rockit.pycam.processing.registration import RegistrationError
    try:
        inputs = find_inputs(args.folder, args.darks, args.clear, args.calibration)
        settings, registered, notes = _scene(args, args.folder)
        if settings.line is None:
            raise MissingInput(f'cannot process {args.folder}:\n  line: no integration line; needs a file '
                               '*pcs_line*.txt (x=<x0>,<x1>, y=<y0>,<y1>, orientation=left|right) in the '
                               'folder or a geometry/ folder beside it, or name one with --line')
        darks = DarkLibrary.from_folder(inputs.darks)
        if not registered:
            notes.append(_register_by_ecc(settings, inputs.pairs[0], darks))
        run = BatchRun(inputs, args.out, settings, darks)
    except (MissingInput, CalibrationError, LineError, RegistrationError, ValueError, OSError) as e:
        return _fail(str(e))

    cal = run.calibration
    show(f'[bold]{len(run)} pairs[/bold] from {inputs.folder}')
    show(f'  darks: {inputs.darks}\n  background: '
         + (f'clear sky from {inputs.clear}' if inputs.clear else 'the sky region of each frame'))
    show(f'  calibration: {cal.method} ({cal.source or inputs.calibration}): column = {cal.slope:.4g} x AA '
         f'{cal.intercept:+.4g} {cal.unit}, r2 {cal.r2:.4f}')
    for note in notes + inputs.notes:
        show(f'  {note}')
    advance, stop = _progress(len(run), _rate_text)
    try:
        rows = run.run(advance)
    except (OSError, ValueError) as e:
        return _fail(f'processing stopped: {e}')
    finally:
        stop()
    rates = [float(r['emission_rate_kg_s']) for r in rows if math.isfinite(r['emission_rate_kg_s'])]
    out = Path(args.out)
    show(f'wrote {len(rows)} rows to {out / "emission_rates.csv"} and {len(rows)} AA images to {out / "so2"}')
    if rates:
        show(f'mean emission rate [bold]{sum(rates) / len(rates):.3f} kg/s[/bold] over {len(rates)} pairs with a speed')
    return 0


def doas(client, args):
    parser = _parser('doas', 'SO2 column and fit error for every Plume spectrum in a folder')
    parser.add_argument('folder')
    parser.add_argument('--json', action='store_true', help='print {"<file>": {"column": ..., "error": ...}}')
    parser.add_argument('--references', help='folder of DOAS references (default: reference/ beside the spectra)')
    parser.add_argument('--temperature', type=float, default=DEFAULT_TEMPERATURE_K,
                        help='reference temperature (K) for the ppm.m column shown (default 273.15)')
    args = parser.parse_args(args)
    from rockit.pycam.processing.calibration import ColumnUnits
    from rockit.pycam.processing.doas import DoasError, DoasReferences, default_reference_folder, fit_folder
    try:
        references = DoasReferences.load(args.references or default_reference_folder(args.folder))
        results = fit_folder(args.folder, references)
    except (DoasError, OSError, ValueError) as e:
        return _fail(str(e))
    if args.json:
        print(json.dumps({name: result.as_json() for name, result in results.items()}, indent=2))
        return 0
    units = ColumnUnits(args.temperature)
    width = max(len(name) for name in results)
    show(f'[bold]{"spectrum".ljust(width)}  {"SO2 molecules/cm^2":>20}  {"ppm.m":>8}[/bold]')
    for name, r in results.items():
        flag = '' if r.success else '  [red]fit did not converge[/red]'
        if r.saturated:
            flag += '  [yellow]saturated in the fit window[/yellow]'
        show(f'{name.ljust(width)}  {r.column:>9.3e} \u00b1 {r.error:.1e}  {units.to_ppmm(r.column):>8.0f}{flag}')
    return 0


def _writable(folder):
    """A folder the user meant to be written: write permission bits set (and granted), so
    reference data published read-only is left alone even when run as root."""
    import os
    import stat
    try:
        marked = os.stat(folder).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        return bool(marked) and os.access(folder, os.W_OK)
    except OSError:
        return False


def calibrate(client, args):
    parser = _parser('calibrate', 'fit the cell calibration of a calibration run and save it for processing')
    parser.add_argument('folder')
    parser.add_argument('--json', action='store_true', help='print {"slope", "intercept", "r2", "cells": {...}}')
    parser.add_argument('--darks', help='folder of Dark frames (default: the folder itself)')
    parser.add_argument('--clear', help='folder of Clear frames (default: the folder itself)')
    parser.add_argument('--registration', help='2x3 affine warp .npy (default: found beside the data)')
    parser.add_argument('--save', help='where to save the calibration (default: <folder>/calibration.json)')
    args = parser.parse_args(args)
    _show_warnings()
    from rockit.pycam.processing.calibration import CALIBRATION_FILE, CalibrationError, cell_calibration
    from rockit.pycam.processing.images import DarkLibrary
    from rockit.pycam.processing.pipeline import HOW_TO_NAME
    from rockit.pycam.processing.registration import Registration, RegistrationError
    folder = Path(args.folder)
    if not folder.is_dir():
        return _fail(f'{folder}: no such folder')
    try:
        darks = DarkLibrary.from_folder(args.darks or folder)
        if not {'on', 'off'} <= darks.bands():
            return _fail(f'cannot calibrate {folder}:\n  darks: none for both cameras in {args.darks or folder}; '
                         f'needs {HOW_TO_NAME["darks"]}')
        warp = Path(args.registration) if args.registration else find_beside(folder, '*registration*.npy')
        registration = Registration.load(warp) if warp else Registration()
        cal = cell_calibration(folder, darks, args.clear, registration)
    except (CalibrationError, RegistrationError, LookupError, OSError, ValueError) as e:
        return _fail(f'cannot calibrate {folder}: {e}')
    target = Path(args.save) if args.save else folder / CALIBRATION_FILE
    saved, reason = False, ''
    if args.save or _writable(folder):
        try:
            cal.save(target)
            saved = True
        except OSError as e:
            reason = str(e)
    else:
        reason = f'{folder} is read-only'
    if args.json:
        print(json.dumps({'slope': cal.slope, 'intercept': cal.intercept, 'r2': cal.r2,
                          'cells': {str(k): v for k, v in cal.cells.items()}}, indent=2))
    else:
        show(f'cell calibration of {folder} ({cal.points} cells, AA in a {cal.region[2]} px disk at '
             f'({cal.region[0]}, {cal.region[1]})' + (f', registration {warp}' if warp else '') + ')')
        show(f'  column = [bold]{cal.slope:.5g}[/bold] x AA {cal.intercept:+.5g} ppm.m   '
             f'r2 [bold]{cal.r2:.4f}[/bold]   residual {cal.residual_std:.3g} ppm.m')
        for ppmm, aa in cal.cells.items():
            show(f'  {ppmm:>6} ppm.m cell: AA {aa:.4f} \u00b1 {cal.cell_scatter.get(ppmm, math.nan):.4f}')
    if saved:
        print(f'saved {target}', file=sys.stderr if args.json else sys.stdout)
    else:
        print(f'pycam: calibration not saved ({reason}): name a file with --save', file=sys.stderr)
    return 0


COMMANDS = {
    'process': Command(process, '<folder> --out <dir> [--darks <folder>] [--clear <folder>|sky] '
                       '[--calibration <folder|file>]', 'AA images and emission rates from stored pairs',
                       needs_client=False),
    'doas': Command(doas, '<spectra folder> [--json]', 'SO2 columns from stored spectra by DOAS',
                    needs_client=False),
    'calibrate': Command(calibrate, '<cal folder> [--json]', 'fit and save the cell calibration',
                         needs_client=False),
}


def main(argv=None):
    """Standalone entry: python -m rockit.pycam.processing.cli <command> [<args>]."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        width = max(len(name) for name in COMMANDS)
        print('usage: python -m rockit.pycam.processing.cli <command> [<args>]\n\ncommands:', file=sys.stderr)
        for name, command in COMMANDS.items():
            print(f'  {name.ljust(width)}  {command.usage}', file=sys.stderr)
        return 0 if argv and argv[0] in ('-h', '--help') else 2
    try:
        return COMMANDS[argv[0]].run(None, argv[1:])
    except UsageError as e:
        print(f'pycam: {e}' if str(e) else f'usage: pycam {argv[0]} {COMMANDS[argv[0]].usage}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())

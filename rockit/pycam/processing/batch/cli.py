"""pycam process | calibrate | doas | fov: processing of stored data, without a daemon or a
config (doas and fov in cli_spectra.py).

The pycam CLI merges COMMANDS into its table; each command ignores its client. Run
standalone as `python -m rockit.pycam.processing.batch.cli <command> ...`. Everything heavy (numpy,
OpenCV, scipy) is imported inside the commands, so `pycam status` does not pay for it.
"""
import json
import math
import os
import sys
from pathlib import Path

from rockit.common.cli import Command, UsageError, show
from rockit.common.usage import command_usage, commands_usage
from rockit.pycam.processing.batch import cli_common as cli
from rockit.pycam.processing.batch.cli_dilution import COMMANDS as DILUTION_COMMANDS
from rockit.pycam.processing.batch.cli_doas import doas_arguments, process_doas
from rockit.pycam.processing.batch.cli_spectra import COMMANDS as SPECTRA_COMMANDS

def _rate_text(result):
    stamp = result.time.strftime('%Y-%m-%dT%H:%M:%SZ')
    if math.isfinite(result.emission_rate_kg_s):
        return (f'{stamp}  {result.emission_rate_kg_s:.3f} \u00b1 {result.emission_rate_err_kg_s:.3f} kg/s  '
                f'speed {result.speed_m_s:.2f} m/s')
    if result.so2 is not None and math.isfinite(result.line_mean_aa):
        return f'{stamp}  line AA {result.line_mean_aa:.3f}, no emission rate'
    return f'{stamp}  no emission rate'


def process(client, args):
    parser = cli.parser('process', 'AA images and emission rates for every on/off Plume pair in a folder')
    parser.add_argument('folder')
    parser.add_argument('--out', required=True, help='output folder (emission_rates.csv, so2/)')
    cli.scene_arguments(parser)
    parser.add_argument('--calibration', help="calibration.json, or a folder with one or with cell frames, or "
                        "'doas' for the archive's own spectra")
    parser.add_argument('--line', action='append', help='integration line file (x=x0,x1 / y=y0,y1 / '
                        'orientation=left|right); repeat for several lines, whose rates are added')
    parser.add_argument('--speed', choices=('flow', 'histogram', 'cross-correlation', 'global'), default='flow',
                        help='plume speed: raw optical flow, flow corrected by its dominant plume motion, the '
                        'travel time between the line and a parallel one, or one given speed (default flow)')
    parser.add_argument('--global-speed', type=float, metavar='M_S',
                        help='--speed global: the plume speed through every line, m/s (pyplis\'s velo_glob)')
    parser.add_argument('--cc-separation', type=float, default=10.0,
                        help='cross-correlation: px between the line and its parallel downstream (default 10)')
    cli.geometry_arguments(parser)
    cli.dilution_arguments(parser)
    cli.model_argument(parser)
    parser.add_argument('--min-column', type=float, metavar='MOLECULES_CM2',
                        help='line pixels at or below this column (molecules/cm^2) are sky, left out of the rate '
                        '(default 5e16, PyCam\'s min_cd)')
    cli.temperature_argument(parser)
    parser.add_argument('--sensitivity-mask', nargs='?', const='', metavar='CELL_FOLDER',
                        help='divide AA images by the per-pixel sensitivity of a calibration cell relative to the '
                        'centre, from the calibration folder or the one named (default off)')
    parser.add_argument('--sensitivity-cell', type=_sensitivity_cell, default='smallest', metavar='CELL',
                        help='the cell the mask is made from: smallest (as pyplis), second_smallest (as PyCam) or the '
                        'one closest to a column in ppm.m (default smallest)')
    parser.add_argument('--full-flow', action='store_true', help='optical flow over the whole frame (slow)')
    parser.add_argument('--jobs', type=int, help=f'runs of consecutive pairs processed at once (default the cores, '
                        f'{os.cpu_count()}, or with --scheduler the cluster\'s worker threads)')
    parser.add_argument('--scheduler', metavar='ADDRESS', help='process the runs on the workers of this Dask '
                        'scheduler (tcp://host:8786); the inputs and --out must be on a file system they share')
    cli.time_zone_argument(parser)
    cli.pycam_outputs_argument(parser)
    doas_arguments(parser)
    parser.add_argument('--follow', action='store_true', help='go on processing pairs as they arrive in the '
                        'folder, until Ctrl-C or SIGTERM (each file once it is complete)')
    parser.add_argument('--poll', type=float, default=2.0, help='--follow: seconds between looks (default 2)')
    args = parser.parse_args(args)
    if args.follow and (args.jobs not in (None, 1) or args.scheduler or args.poll <= 0
                        or args.calibration == 'doas'):
        raise UsageError('--follow processes one pair at a time as they come: no --jobs, --scheduler or '
                         '--calibration doas, and a --poll above 0')
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f'--jobs must be at least 1, not {args.jobs}')
    if args.min_column is not None and not (args.min_column == 0 or args.min_column >= 1e12):
        raise UsageError(f'--min-column is in molecules/cm^2 (PyCam: 5e16), not {args.min_column:g}: '
                         'is it in ppm.m? (1 ppm.m is 2.687e15 at 273.15 K)')
    if (args.light_dilution or args.dilution_windows or args.dilution_grid_size) and args.calibration != 'doas':
        raise UsageError("--light-dilution corrects the spectra's columns of --calibration doas (the camera's "
                         'own correction: --terrain or --extinction)')
    if args.global_speed is not None and not args.global_speed > 0:
        raise UsageError(f'--global-speed must be a speed above 0 m/s, not {args.global_speed:g}')
    if args.scheduler:
        from rockit.pycam.processing.batch import cluster
        try:
            cluster.check(args.scheduler)
        except ValueError as e:
            return cli.fail(str(e))
        _absolute_paths(args)
    cli.show_warnings()

    from rockit.pycam.processing.batch.archive import NoUsablePairs, time_zone, unreadable_warning
    from rockit.pycam.processing.batch.run import BatchRun, find_inputs
    from rockit.pycam.processing.errors import CalibrationError, LineError, MissingInput, RegistrationError
    from rockit.pycam.processing.images import DarkLibrary
    try:
        zone = time_zone(args.time_zone)
    except ValueError as e:
        raise UsageError(str(e)) from None
    unreadable = unreadable_warning([args.folder, args.darks, args.clear, args.calibration], skip=[args.out])
    if unreadable:
        print(f'warning: {unreadable}', file=sys.stderr)
    if args.calibration == 'doas':
        return process_doas(args, zone, _rate_text)
    if args.follow:
        from rockit.pycam.processing.batch.follow import follow, until_stopped, wait_for_a_pair
        stopped = until_stopped()
        show(f'waiting for pairs in {args.folder}')
        if not wait_for_a_pair(args.folder, zone, args.poll, stopped):
            return 0
    try:
        clear = 'sky' if args.background in ('sky', 'surface') else args.clear
        inputs = find_inputs(args.folder, args.darks, clear, args.calibration, zone=zone)
        settings, registered, notes = cli.scene(args, args.folder)
        if settings.line is None:
            raise MissingInput(f'cannot process {args.folder}:\n  line: no integration line; needs a file '
                               '*pcs_line*.txt (x=<x0>,<x1>, y=<y0>,<y1>, orientation=left|right) in the '
                               'folder or a geometry/ folder beside it, or name one with --line')
        darks = DarkLibrary.from_folder(inputs.darks)
        if not registered:
            notes.append(cli.register_by_ecc(settings, inputs.pairs[0], darks))
        if args.sensitivity_mask is not None:
            from rockit.pycam.processing.calibration.sensitivity import mask_of_folder
            settings.sensitivity = mask_of_folder(args.sensitivity_mask or inputs.calibration, settings.registration,
                                                  args.sensitivity_cell)
            mask = settings.sensitivity.mask
            notes.append(f'sensitivity mask: the {settings.sensitivity.cell_ppmm:g} ppm.m cell of '
                         f'{settings.sensitivity.source}, {mask.min():.2f}-{mask.max():.2f} of the centre')
        run = BatchRun(inputs, args.out, settings, darks)
    except NoUsablePairs as e:
        cli.fail(str(e))
        return cli.NOTHING_TO_PROCESS
    except (MissingInput, CalibrationError, LineError, RegistrationError, LookupError, ValueError, OSError) as e:
        return cli.fail(str(e))

    cal = run.calibration
    show(f'[bold]{len(run)} pairs[/bold] from {inputs.folder}'
         + (f' (names in {zone.key} time, written in UTC)' if zone else ''))
    show(f'  darks: {inputs.darks}\n  background: '
         + (f'clear sky from {inputs.clear}' if inputs.clear else 'a surface fitted to each frame'
            if settings.background == 'surface' else 'the sky region of each frame'))
    show(f'  calibration: {cal.method} ({cal.source or inputs.calibration}): {cal.describe()}, r2 {cal.r2:.4f}')
    for note in notes + inputs.notes:
        show(f'  {note}')
    jobs = args.jobs or os.cpu_count() or 1
    if args.scheduler:
        try:
            run.cluster = cluster.connect(args.scheduler)
        except OSError as e:
            return cli.fail(str(e))
        jobs = args.jobs or cluster.threads(run.cluster)
        show(f'  cluster: {args.scheduler}, {cluster.threads(run.cluster)} worker threads')
    advance, stop = cli.progress(len(run), _rate_text)
    if args.pycam_outputs:
        advance = cli.with_pycam_outputs(advance, args.out, settings)
    try:
        if args.follow:
            show('following: Ctrl-C to stop')
            rows = follow(run, zone, args.poll, stopped, lambda index, result: print(_rate_text(result), flush=True))
        else:
            rows = run.run(advance, jobs)
    except (OSError, ValueError) as e:
        return cli.fail(f'processing stopped: {e}')
    finally:
        stop()
        if run.cluster is not None:
            run.cluster.close()
    rates = [float(r['emission_rate_kg_s']) for r in rows if math.isfinite(r['emission_rate_kg_s'])]
    out = Path(args.out)
    show(f'wrote {len(rows)} rows to {out / "emission_rates.csv"} and {len(rows)} AA and SO2 column images '
         f'to {out / "so2"}')
    if rates:
        show(f'mean emission rate [bold]{sum(rates) / len(rates):.3f} kg/s[/bold] over {len(rates)} pairs with a speed')
    elif settings.geometry is None:
        show(f'no emission rates: {settings.geometry_notes[-1]}')
    return 0


def _sensitivity_cell(text):
    import argparse
    from rockit.pycam.processing.calibration.sensitivity import check_cell_choice
    try:
        value = float(text)
    except ValueError:
        value = text
    try:
        return check_cell_choice(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _absolute_paths(args):
    """The folders the cluster's workers read and write, as absolute paths: their working
    folders are not this one."""
    for name in ('folder', 'out', 'darks', 'clear'):
        value = getattr(args, name)
        if value and value != 'sky':
            setattr(args, name, os.path.abspath(value))


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
    parser = cli.parser('calibrate', 'fit the cell calibration of a calibration run and save it for processing')
    parser.add_argument('folder')
    parser.add_argument('--json', action='store_true',
                        help='print {"model", "coeffs", "slope", "intercept", "r2", "cells": {...}, "fitted": {...}}')
    cli.model_argument(parser)
    parser.add_argument('--darks', help='folder of Dark frames (default: the folder itself)')
    parser.add_argument('--clear', help='folder of Clear frames (default: the folder itself)')
    parser.add_argument('--registration', help='2x3 affine warp .npy (default: found beside the data)')
    parser.add_argument('--save', help='where to save the calibration (default: <folder>/calibration.json)')
    args = parser.parse_args(args)
    cli.show_warnings()
    from rockit.pycam.processing.batch.run import HOW_TO_NAME
    from rockit.pycam.processing.calibration.columns import CALIBRATION_FILE, cell_calibration
    from rockit.pycam.processing.errors import CalibrationError, RegistrationError
    from rockit.pycam.processing.images import DarkLibrary
    from rockit.pycam.processing.registration import Registration
    folder = Path(args.folder)
    if not folder.is_dir():
        return cli.fail(f'{folder}: no such folder')
    try:
        darks = DarkLibrary.from_folder(args.darks or folder)
        if not {'on', 'off'} <= darks.bands():
            return cli.fail(f'cannot calibrate {folder}:\n  darks: none for both cameras in {args.darks or folder}; '
                         f'needs {HOW_TO_NAME["darks"]}')
        warp = Path(args.registration) if args.registration else cli.find_beside(folder, '*registration*.npy')
        registration = Registration.load(warp) if warp else Registration()
        cal = cell_calibration(folder, darks, args.clear, registration, model=args.model)
    except (CalibrationError, RegistrationError, LookupError, OSError, ValueError) as e:
        return cli.fail(f'cannot calibrate {folder}: {e}')
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
        print(json.dumps({'model': cal.model, 'coeffs': cal.coeffs, 'slope': cal.slope, 'intercept': cal.intercept,
                          'r2': cal.r2 if math.isfinite(cal.r2) else None,
                          'cells': {str(k): v for k, v in cal.cells.items()},
                          'fitted': {str(k): v for k, v in cal.fitted().items()}}, indent=2))
    else:
        show(f'cell calibration of {folder} ({cal.points} cells, AA in a {cal.region[2]} px disk at '
             f'({cal.region[0]}, {cal.region[1]})' + (f', registration {warp}' if warp else '') + ')')
        show(f'  [bold]{cal.describe()}[/bold]   r2 {cal.r2:.4f}   residual {cal.residual_std:.3g} ppm.m')
        fitted = cal.fitted()
        for ppmm, aa in cal.cells.items():
            show(f'  {ppmm:>6} ppm.m cell: AA {aa:.4f} \u00b1 {cal.cell_scatter.get(ppmm, math.nan):.4f}'
                 f'  reads back {fitted[ppmm]:.1f} ppm.m')
    if saved:
        print(f'saved {target}', file=sys.stderr if args.json else sys.stdout)
    else:
        print(f'pycam: calibration not saved ({reason}): name a file with --save', file=sys.stderr)
    return 0


COMMANDS = {
    'process': Command(process, '<folder> --out <dir> [--darks <folder>] [--clear <folder>|sky] '
                       '[--calibration <folder|file>]', 'AA images and emission rates from stored pairs',
                       needs_client=False),
    'calibrate': Command(calibrate, '<cal folder> [--json] [--model linear|poly2|kern2015]',
                         'fit and save the cell calibration', needs_client=False),
    **SPECTRA_COMMANDS,
    **DILUTION_COMMANDS,
}


def main(argv=None):
    """Standalone entry: python -m rockit.pycam.processing.batch.cli <command> [<args>]."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(commands_usage('python -m rockit.pycam.processing.batch.cli', COMMANDS), file=sys.stderr)
        return 0 if argv and argv[0] in ('-h', '--help') else 2
    try:
        return COMMANDS[argv[0]].run(None, argv[1:])
    except UsageError as e:
        print(f'pycam: {e}' if str(e) else command_usage('pycam', argv[0], COMMANDS[argv[0]].usage), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())

"""`pycam process <archive> --calibration doas`: the archive calibrated by its own spectra
(replay.py), as pycamd would have live."""
import sys
from pathlib import Path

from rockit.common.cli import UsageError, show

from . import cli_common as cli
from .cli_spectra import dilution_arguments, dilution_settings


def doas_arguments(parser):
    group = parser.add_argument_group("--calibration doas (calibrated by the archive's own spectra)")
    group.add_argument('--doas-fov', metavar='X,Y,RADIUS', help="where the spectrometer looks in the on-band "
                       'image, px (default: searched for in the data, as live)')
    group.add_argument('--references', help='folder of DOAS references (default: the ones pycam ships)')
    group.add_argument('--min-doas-points', type=int, default=10,
                       help='spectra paired with images before a calibration is fitted (default 10)')
    dilution_arguments(parser, grid_file=False)


def _fov(text):
    if text is None:
        return None
    try:
        x, y, radius = (float(v) for v in text.split(','))
    except ValueError:
        raise UsageError(f'--doas-fov must be x,y,radius in pixels, not {text!r}') from None
    if radius <= 0:
        raise UsageError(f'--doas-fov: the radius must be above 0, not {radius:g}')
    return [x, y, radius]


def process_doas(args, zone, rate_text):
    from ..errors import CalibrationError, DoasError, LineError, MissingInput, RegistrationError
    from ..images import DarkLibrary
    from .archive import NoUsablePairs
    from .replay import archive_events, replay
    from .run import find_inputs
    from ...references import FOLDER as SHIPPED_REFERENCES
    from ...storage.names import spectra_in
    fov = _fov(args.doas_fov)
    dilution = dilution_settings(args)
    if args.min_doas_points < 1:
        raise UsageError(f'--min-doas-points must be at least 1, not {args.min_doas_points}')
    try:
        inputs = find_inputs(args.folder, args.darks, args.clear, None, need_calibration=False, zone=zone)
        if not spectra_in(inputs.folder, kind='Plume'):
            raise MissingInput(f'cannot calibrate {inputs.folder} by DOAS: no Plume spectra in it or below it '
                               '(<time>_<ms>ss_<N>coadd_Plume.npy)')
        settings, registered, notes = cli.scene(args, args.folder)
        if settings.line is None:
            raise MissingInput(f'cannot process {args.folder}: no integration line; name one with --line')
        if not registered:
            notes.append(cli.register_by_ecc(settings, inputs.pairs[0], DarkLibrary.from_folder(inputs.darks)))
        references = Path(args.references) if args.references else SHIPPED_REFERENCES
        events = archive_events(inputs.folder, zone, args.darks, args.clear)
    except NoUsablePairs as e:
        cli.fail(str(e))
        return cli.NOTHING_TO_PROCESS
    except (MissingInput, CalibrationError, DoasError, LineError, RegistrationError, LookupError, ValueError,
            OSError) as e:
        return cli.fail(str(e))
    spectra = sum(1 for kind, _ in events if kind == 'spectrum')
    show(f'[bold]{len(inputs.pairs)} pairs[/bold] and {spectra} spectra from {inputs.folder}'
         + (f' (names in {zone.key} time, written in UTC)' if zone else ''))
    show(f'  calibration: DOAS from the archive\'s spectra, references {references}, field of view '
         + (f'at {fov[0]:g},{fov[1]:g} r {fov[2]:g} px' if fov else 'searched for')
         + (', columns corrected for light dilution' if dilution else ''))
    for note in notes + inputs.notes:
        show(f'  {note}')
    if args.jobs not in (None, 1) or args.scheduler:
        return _by_day(args, events, settings, references, fov, dilution)
    advance, stop = cli.progress(len(inputs.pairs), rate_text)
    try:
        status = replay(events, args.out, settings, references, fov, args.min_doas_points, advance, dilution,
                        args.pycam_outputs)
    finally:
        stop()
    show(f'wrote the rows to {Path(args.out)}/<day>/emission_rates.csv, DOAS columns beside them; calibration '
         f"{status['calibration']['state']}, {status['pairs_processed']} pairs processed, "
         f"{status['late_pairs_recomputed']} again once calibrated, {status['pairs_failed']} failed")
    if status['pairs_failed']:
        print(f"warning: {status['pairs_failed']} pairs failed; the last: {status['last_error']}", file=sys.stderr)
    if status['calibration']['state'] != 'doas':
        return cli.fail('no DOAS calibration could be fitted: too few spectra paired with images in the field of '
                        'view, or too little AA spread among them')
    return 0


def _by_day(args, events, settings, references, fov, dilution):
    """--jobs or --scheduler: each UTC day replayed by itself, from no calibration."""
    import os
    from .replay import by_day, replay_days
    days = by_day(events)
    client = None
    if args.scheduler:
        from . import cluster
        try:
            client = cluster.connect(args.scheduler)
        except OSError as e:
            return cli.fail(str(e))
    jobs = args.jobs or os.cpu_count() or 1
    show(f'  {len(days)} days, each replayed by itself from no calibration, '
         + (f'on the cluster at {args.scheduler}' if client else f'{min(jobs, len(days))} at once'))
    try:
        statuses = replay_days(days, args.out, settings, references, fov, args.min_doas_points, jobs, client,
                               say=lambda text: show(f'  {text}'), dilution=dilution,
                               pycam_outputs=args.pycam_outputs)
    except OSError as e:
        return cli.fail(f'processing stopped: {e}')
    finally:
        if client is not None:
            client.close()
    uncalibrated = [day for day, status in statuses.items() if status['calibration']['state'] != 'doas']
    if uncalibrated:
        return cli.fail(f'no DOAS calibration could be fitted on {", ".join(uncalibrated)}: too few spectra '
                        'paired with images in the field of view, or too little AA spread among them')
    return 0

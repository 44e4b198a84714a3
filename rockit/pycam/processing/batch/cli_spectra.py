"""pycam doas | fov: the spectrometer's stored spectra, by themselves (SO2 columns by DOAS)
and against the camera's images (where in the image the spectrometer looks)."""
import json
from pathlib import Path

from rockit.common.cli import Command, UsageError, comma_numbers, show

from . import cli_common as cli

PAIRING_S = 5.0     # a spectrum pairs with the AA image of a pair taken this close to it


def _fit(args):
    """{name: (DoasResult, DilutionResult or None)} of the folder's Plume spectra."""
    from ..doas.fit import DoasFitter, DoasReferences, default_reference_folder, plume_spectra
    folder = args.references or default_reference_folder(args.folder)
    fitter = DoasFitter(DoasReferences.load(folder))
    correction = _dilution(args, folder)
    return {name: (fitter.fit(wavelengths, counts, dark),
                   correction.correct(wavelengths, counts, dark) if correction else None)
            for name, wavelengths, counts, dark in plume_spectra(args.folder)}


def dilution_arguments(parser, grid_file=True):
    """The spectrometer's light dilution flags (grid_file: where its grid is kept may be given)."""
    group = parser.add_argument_group('light dilution (SO2 fitted in two windows, inverted on a grid of true '
                                      'column and dilution factor: docs/processing.md)')
    group.add_argument('--light-dilution', action='store_true',
                       help='add the corrected column and the light dilution factor to each spectrum')
    group.add_argument('--dilution-windows', metavar='LOW1,HIGH1,LOW2,HIGH2',
                       help='the two fit windows in nm (default 306,316,312,322)')
    group.add_argument('--dilution-grid-size', metavar='SO2_MAX,SO2_POINTS,LDF_MAX,LDF_POINTS',
                       help='the grid: largest column (molecules/cm^2) and points, largest dilution factor and '
                            'points (default 1.2e19,16,0.9,10)')
    if grid_file:
        group.add_argument('--dilution-grid', metavar='FILE',
                           help='where the grid is kept (default: light_dilution_grid.npz in --out, else in '
                                '~/.cache/rockit-pycam/); made from the first spectrum when absent or made otherwise')


def dilution_settings(args):
    """The DilutionSettings the flags ask for, or None."""
    grid_file = getattr(args, 'dilution_grid', None)
    if not args.light_dilution:
        if args.dilution_windows or args.dilution_grid_size or grid_file:
            given = [flag for flag, value in (('--dilution-windows', args.dilution_windows),
                                              ('--dilution-grid-size', args.dilution_grid_size),
                                              ('--dilution-grid', grid_file)) if value]
            raise UsageError(f'{", ".join(given)} need --light-dilution')
        return None
    from ..doas.dilution import DilutionSettings
    windows = grid = None
    if args.dilution_windows:
        low1, high1, low2, high2 = comma_numbers(args.dilution_windows, 4, '--dilution-windows')
        windows = [[low1, high1], [low2, high2]]
    if args.dilution_grid_size:
        so2_max, so2_points, ldf_max, ldf_points = comma_numbers(args.dilution_grid_size, 4, '--dilution-grid-size')
        grid = {'so2_max': so2_max, 'so2_points': so2_points, 'ldf_max': ldf_max, 'ldf_points': ldf_points}
    try:
        return DilutionSettings.checked(windows, grid)
    except ValueError as e:
        raise UsageError(str(e).replace('light_dilution_windows', '--dilution-windows')
                         .replace('light_dilution_grid', '--dilution-grid-size')) from None


def _dilution(args, references):
    """The DilutionCorrection the flags ask for, or None."""
    settings = dilution_settings(args)
    if settings is None:
        return None
    import os
    from ..doas.dilution import DilutionCorrection
    from ..output_names import DILUTION_GRID_NAME
    if args.dilution_grid:
        path = Path(args.dilution_grid)
    elif args.out:
        path = Path(args.out) / DILUTION_GRID_NAME
    else:
        path = Path(os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache') / 'rockit-pycam' / DILUTION_GRID_NAME
    return DilutionCorrection(references, settings, path)


def doas(client, args):
    parser = cli.parser('doas', 'SO2 column and fit error for every Plume spectrum in a folder')
    parser.add_argument('folder')
    parser.add_argument('--json', action='store_true', help='print {"<file>": {"column": ..., "error": ...}}')
    parser.add_argument('--out', help='folder to write doas_columns.csv in (one row per spectrum)')
    parser.add_argument('--references',
                        help='folder of DOAS references (default: reference/ beside the spectra, else the shipped ones)')
    cli.temperature_argument(parser)
    cli.pycam_outputs_argument(parser)
    cli.time_zone_argument(parser)
    dilution_arguments(parser)
    args = parser.parse_args(args)
    if args.pycam_outputs and not args.out:
        raise UsageError('--pycam-outputs writes beside --out: name the folder')
    from .archive import time_zone, utc_time
    try:
        zone = time_zone(args.time_zone)
    except ValueError as e:
        raise UsageError(str(e)) from None
    from ..calibration.columns import ColumnUnits
    from ..errors import DoasError
    from ..output_names import DOAS_CSV_NAME
    from ..outputs import doas_log, doas_row
    from ...storage.names import parse_spectrum_name
    units = ColumnUnits(args.temperature)
    try:
        fits = _fit(args)
        results = {name: result for name, (result, _) in fits.items()}
        if args.out:
            log = doas_log(Path(args.out))
            if log.path.exists():
                log.path.unlink()          # a run's table, rewritten whole
            for name, (result, diluted) in fits.items():
                log.append(doas_row(utc_time(parse_spectrum_name(name), zone), name, result, units, diluted))
            if args.pycam_outputs:
                from ..pycam_outputs import write_doas_results
                write_doas_results(args.out, sorted(((utc_time(parse_spectrum_name(name), zone), result)
                                                     for name, result in results.items()), key=lambda f: f[0]))
    except (DoasError, OSError, ValueError) as e:
        return cli.fail(str(e))
    if args.json:
        print(json.dumps({name: dict(result.as_json(), **({'light_dilution': diluted.as_json()} if diluted else {}))
                          for name, (result, diluted) in fits.items()}, indent=2))
        return 0
    width = max(len(name) for name in results)
    dilution_head = f'  {"corrected":>20}  {"dilution":>11}' if args.light_dilution else ''
    show(f'[bold]{"spectrum".ljust(width)}  {"SO2 molecules/cm^2":>20}  {"ppm.m":>8}{dilution_head}[/bold]')
    for name, (r, diluted) in fits.items():
        flag = '' if r.success else '  [red]fit did not converge[/red]'
        if r.saturated:
            flag += '  [yellow]saturated in the fit window[/yellow]'
        corrected = ''
        if diluted is not None:
            corrected = (f'  {diluted.column:>9.3e} \u00b1 {diluted.error:.1e}  {diluted.ldf:.2f} \u00b1 {diluted.ldf_error:.2f}'
                         if diluted.corrected else '  [yellow]not corrected[/yellow]')
            corrected += f'  [yellow]{diluted.reason}[/yellow]' if diluted.reason else ''
        show(f'{name.ljust(width)}  {r.column:>9.3e} \u00b1 {r.error:.1e}  {units.to_ppmm(r.column):>8.0f}{corrected}{flag}')
    if args.out:
        show(f'wrote {len(results)} rows to {Path(args.out) / DOAS_CSV_NAME}')
    return 0


def fov(client, args):
    parser = cli.parser('fov', "where the spectrometer looks in the on-band image: the folder's Plume spectra "
                        'correlated with the AA of the pairs taken with them')
    parser.add_argument('folder', help='a folder of Plume pairs and Plume spectra (as pycamd stores a day)')
    parser.add_argument('--json', action='store_true', help='print {"x", "y", "radius", "correlation"}')
    parser.add_argument('--references',
                        help='folder of DOAS references (default: reference/ beside the spectra, else the shipped ones)')
    cli.scene_arguments(parser)
    args = parser.parse_args(args)
    cli.show_warnings()
    from ..errors import DoasError, FovError, MissingInput, RegistrationError
    try:
        found, used = _search(args)
    except (MissingInput, DoasError, FovError, RegistrationError, LookupError, OSError, ValueError) as e:
        return cli.fail(f'cannot find the field of view in {args.folder}: {e}')
    if args.json:
        print(json.dumps(found.as_json()))
    else:
        show(f'spectrometer view: centre ([bold]{found.x:.0f}, {found.y:.0f}[/bold]), radius '
             f'[bold]{found.radius:.0f}[/bold] px, correlation {found.correlation:.3f} over {used} spectra')
    return 0


def _search(args):
    """(FieldOfView, number of spectra paired) for the folder."""
    import numpy as np
    from ..doas import fov as fov_search
    from .run import build_background, find_inputs
    from ..pipeline import LivePipeline
    from ..images import DarkLibrary, load_png
    from ...storage.names import parse_spectrum_name
    from ..doas.fit import DoasReferences, default_reference_folder, fit_folder
    fits = fit_folder(args.folder, DoasReferences.load(args.references or default_reference_folder(args.folder)))
    columns = {parse_spectrum_name(name).time: r.column for name, r in fits.items() if r.success}
    inputs = find_inputs(args.folder, args.darks, args.clear, need_calibration=False)
    settings, registered, _ = cli.scene(args, args.folder)
    darks = DarkLibrary.from_folder(inputs.darks)
    if not registered:
        cli.register_by_ecc(settings, inputs.pairs[0], darks)
    pipeline = LivePipeline(settings, darks, build_background(settings, darks, inputs.clear))
    images, series = [], []
    times = np.array([t.timestamp() for t in columns])
    values = list(columns.values())
    for on, off in inputs.pairs:
        gaps = np.abs(times - on.time.timestamp())
        if gaps.size == 0 or gaps.min() > PAIRING_S:
            continue
        aa, _ = pipeline.absorbance_image(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us)
        images.append(fov_search.binned(aa))
        series.append(values[int(np.argmin(gaps))])
    if not images:
        raise LookupError(f'no Plume spectrum within {PAIRING_S:g} s of a Plume pair')
    return fov_search.search(images, series), len(images)


COMMANDS = {
    'doas': Command(doas, '<spectra folder> [--json] [--out <dir>]', 'SO2 columns from stored spectra by DOAS',
                    needs_client=False),
    'fov': Command(fov, '<folder> [--json]', "find where the spectrometer looks in the camera's image",
                   needs_client=False),
}

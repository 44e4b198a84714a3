"""pycam doas | fov: the spectrometer's stored spectra, by themselves (SO2 columns by DOAS)
and against the camera's images (where in the image the spectrometer looks)."""
import json
from pathlib import Path

from rockit.common.cli import Command, UsageError, show

from . import cli_common as cli

PAIRING_S = 5.0     # a spectrum pairs with the AA image of a pair taken this close to it


def _fit(args):
    from ..doas.fit import DoasReferences, default_reference_folder, fit_folder
    references = DoasReferences.load(args.references or default_reference_folder(args.folder))
    return fit_folder(args.folder, references)


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
        results = _fit(args)
        if args.out:
            log = doas_log(Path(args.out))
            if log.path.exists():
                log.path.unlink()          # a run's table, rewritten whole
            for name, result in results.items():
                log.append(doas_row(utc_time(parse_spectrum_name(name), zone), name, result, units))
            if args.pycam_outputs:
                from ..pycam_outputs import write_doas_results
                write_doas_results(args.out, sorted(((utc_time(parse_spectrum_name(name), zone), result)
                                                     for name, result in results.items()), key=lambda f: f[0]))
    except (DoasError, OSError, ValueError) as e:
        return cli.fail(str(e))
    if args.json:
        print(json.dumps({name: result.as_json() for name, result in results.items()}, indent=2))
        return 0
    width = max(len(name) for name in results)
    show(f'[bold]{"spectrum".ljust(width)}  {"SO2 molecules/cm^2":>20}  {"ppm.m":>8}[/bold]')
    for name, r in results.items():
        flag = '' if r.success else '  [red]fit did not converge[/red]'
        if r.saturated:
            flag += '  [yellow]saturated in the fit window[/yellow]'
        show(f'{name.ljust(width)}  {r.column:>9.3e} \u00b1 {r.error:.1e}  {units.to_ppmm(r.column):>8.0f}{flag}')
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
    columns = {parse_spectrum_name(name).time: r.column for name, r in _fit(args).items() if r.success}
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

"""pycam dilution: each band's extinction coefficient from the dark terrain of a capture's
Plume pairs, with the fit's quality, to check the terrain and ambient region before they
go into processing, or to fix the coefficients (`pycam process --extinction ON,OFF`)."""
import json
import math

from rockit.common.cli import Command, show

from . import cli_common as cli

DEFAULT_PAIRS = 10


def dilution(client, args):
    parser = cli.parser('dilution', 'extinction coefficients per band from terrain at known distances in a '
                        'capture (Campion et al. 2015)')
    parser.add_argument('folder')
    parser.add_argument('--terrain', action='append', required=True, metavar='X0,Y0,X1,Y1,M',
                        help='a line (or a point x,y,m) on dark terrain and its distance in m, on-band pixels; '
                        'repeat, 3 distances at least')
    parser.add_argument('--ambient-region', required=True, metavar='X0,Y0,X1,Y1',
                        help='plume-free sky near the horizon whose mean is the ambient light')
    parser.add_argument('--pairs', type=int, default=DEFAULT_PAIRS,
                        help=f'the first N Plume pairs, averaged before the fit (default {DEFAULT_PAIRS})')
    parser.add_argument('--darks', help='folder of Dark frames (default: the folder itself)')
    parser.add_argument('--registration', help="2x3 affine warp .npy, or 'identity' (default: found beside the "
                        'data, else found by ECC)')
    parser.add_argument('--json', action='store_true', help='print {"on": {...}, "off": {...}, "pairs": N, ...}')
    cli.time_zone_argument(parser)
    args = parser.parse_args(args)
    if args.pairs < 1:
        return cli.fail(f'--pairs must be at least 1, not {args.pairs}')
    cli.show_warnings()
    import argparse

    import numpy as np

    from ..background import SkyRegion
    from ..dilution import DilutionError, TerrainFeature, estimate
    from ..errors import MissingInput, RegistrationError
    from ..images import DarkLibrary, counts_per_second, load_png
    from .archive import NoUsablePairs, time_zone
    from .run import find_inputs
    try:
        terrain = [TerrainFeature.parse(t) for t in args.terrain]
        ambient = SkyRegion.parse(args.ambient_region)
        inputs = find_inputs(args.folder, args.darks, 'sky', need_calibration=False, zone=time_zone(args.time_zone))
        settings, registered, _ = cli.scene(argparse.Namespace(registration=args.registration), args.folder)
        darks = DarkLibrary.from_folder(inputs.darks)
        if not registered:
            cli.register_by_ecc(settings, inputs.pairs[0], darks)
        pairs = inputs.pairs[:args.pairs]
        sums, per_pair = {'on': 0.0, 'off': 0.0}, []
        for on, off in pairs:
            images = {'on': counts_per_second(load_png(on.path), darks.match('on', on.exposure_us).frame,
                                              on.exposure_us),
                      'off': settings.registration.apply(counts_per_second(
                          load_png(off.path), darks.match('off', off.exposure_us).frame, off.exposure_us))}
            for band in sums:
                sums[band] = sums[band] + images[band]
            per_pair.append(estimate(images, terrain, ambient))
        fits = estimate({band: total / len(pairs) for band, total in sums.items()}, terrain, ambient)
    except NoUsablePairs as e:
        cli.fail(str(e))
        return cli.NOTHING_TO_PROCESS
    except (DilutionError, MissingInput, RegistrationError, LookupError, ValueError, OSError) as e:
        return cli.fail(f'no extinction from {args.folder}: {e}')
    spread = {band: float(np.std([fit[band].per_km for fit in per_pair])) for band in fits}
    report = {band: {**_json_safe(fit.as_dict()), 'pair_spread_per_km': spread[band]} for band, fit in fits.items()}
    report.update(pairs=len(pairs), terrain=[t.describe() for t in terrain], ambient_region=ambient.as_list())
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    show(f'extinction from {len(terrain)} terrain features in {len(pairs)} pairs of {args.folder} '
         f'(ambient light in {ambient.as_list()})')
    for band, fit in fits.items():
        show(f'  {band}-band: [bold]{fit.per_km:.5f} \u00b1 {fit.per_km_err:.5f} per km[/bold]  r2 {fit.r2:.4f}  '
             f'rms residual {fit.rms_residual:.2%} of the ambient  pair spread {spread[band]:.5f}')
    show(f'  pycam process ... --extinction {fits["on"].per_km:.5g},{fits["off"].per_km:.5g}')
    return 0


def _json_safe(values):
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}


COMMANDS = {
    'dilution': Command(dilution, '<folder> --terrain X0,Y0,X1,Y1,M ... --ambient-region X0,Y0,X1,Y1 [--json]',
                        'extinction coefficients per band from terrain, with the fit quality', needs_client=False),
}

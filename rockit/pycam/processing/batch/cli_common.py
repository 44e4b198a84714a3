"""What the stored-data commands (pycam process, calibrate, doas, fov) share: argument
parsing that reports instead of exiting, the geometry, model and temperature options, the
scene found beside the data, and warnings shown as they happen."""
import argparse
import logging
import sys
from pathlib import Path

from rockit.common.cli import UsageError

FAILED = 1
NOTHING_TO_PROCESS = 2      # an archive without a usable pair: an error, not an empty success
DEFAULT_TEMPERATURE_K = 273.15   # the cells' ppm.m are stated at 0 degC and 1 atm (calibration/columns.py)
MODELS = ('linear', 'poly2', 'kern2015')


def scene_arguments(parser):
    """Where darks, clear sky and the registration come from, and the sky region."""
    parser.add_argument('--darks', help='folder of Dark frames (default: the folder itself)')
    parser.add_argument('--clear', help="folder of Clear frames, or 'sky' for the sky region (default: the folder)")
    parser.add_argument('--registration', help="2x3 affine warp .npy taking off-band onto on-band pixels, or "
                        "'identity' (default: found beside the data, else found by ECC)")
    parser.add_argument('--sky', help='plume-free sky region x0,y0,x1,y1 (default 550,20,600,70)')
    parser.add_argument('--background', choices=('clear', 'sky', 'surface'), default='clear',
                        help='I0: clear-sky frames (pyplis mode 1), the sky region of each frame, or a polynomial '
                        'surface fitted to plume-free regions of each frame (pyplis mode 0; no clear frame needed) '
                        '(default clear)')
    parser.add_argument('--surface-region', action='append', metavar='X0,Y0,X1,Y1',
                        help='plume-free region the surface is fitted to; repeat for several (default the sky region)')
    parser.add_argument('--surface-order', type=int, default=2, help='order of the surface polynomial, 1-4 '
                        '(default 2, as pyplis)')
    parser.add_argument('--sky-gradient', choices=('none', 'linear', 'quadratic'), default='none',
                        help='take off the sky AA\'s change with the row, fitted in --gradient-region (pyplis modes '
                        '2 and 3) (default none)')
    parser.add_argument('--gradient-region', metavar='X0,Y0,X1,Y1',
                        help='a tall strip of plume-free sky for --sky-gradient')


def geometry_arguments(parser):
    group = parser.add_argument_group('geometry (emission rates need a distance and a lens)')
    group.add_argument('--distance', type=float, help='distance to the plume along the view, m')
    group.add_argument('--focal-length', type=float, help='lens focal length, mm')
    group.add_argument('--fov', type=float, help='horizontal field of view, degrees (instead of --focal-length)')
    group.add_argument('--pixel-size', type=float, help="pixel pitch, um (default the sensor's, 5.6)")
    group.add_argument('--geometry', help="PyCam cam_geom file: camera lat, lon, elev, azim, and source_lat, "
                       "source_lon [, plume_dir]; the flags above take precedence")
    group.add_argument('--distance-per-pixel', action='store_true',
                       help="each line point's distance along its own line of sight, from --geometry")


def dilution_arguments(parser):
    group = parser.add_argument_group('light dilution (Campion et al. 2015, as pyplis\'s DilutionCorr; default off)')
    group.add_argument('--terrain', action='append', metavar='X0,Y0,X1,Y1,M',
                       help='a line (or a point x,y,m) on dark terrain and its distance in m, on-band pixels; '
                       'repeat, 3 distances at least: each band\'s extinction is fitted to them in every pair')
    group.add_argument('--ambient-region', metavar='X0,Y0,X1,Y1',
                       help='plume-free sky near the horizon whose mean is the ambient light of the terrain fit')
    group.add_argument('--extinction', metavar='ON,OFF',
                       help='fixed extinction coefficients per km of the on- and off-band, instead of --terrain')
    group.add_argument('--dilution-distance', type=float, metavar='M',
                       help='the plume\'s distance for the correction, m (default --distance)')


def dilution_settings(args, settings, notes):
    """--terrain, --ambient-region, --extinction, --dilution-distance: the correction or None."""
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.dilution import DilutionCorrection, TerrainFeature
    terrain, fixed = getattr(args, 'terrain', None), getattr(args, 'extinction', None)
    if not terrain and fixed is None:
        if getattr(args, 'ambient_region', None) or getattr(args, 'dilution_distance', None) is not None:
            raise ValueError('--ambient-region and --dilution-distance need --terrain or --extinction')
        return None
    if terrain and fixed is not None:
        raise ValueError('give either --terrain (coefficients fitted to each pair) or --extinction (fixed), not both')
    distance = args.dilution_distance
    if distance is None:
        if settings.geometry is None:
            raise ValueError('light dilution needs the plume\'s distance: --dilution-distance or --distance')
        distance = settings.geometry.distance_m
    if fixed is not None:
        try:
            on, off = (float(v) for v in fixed.split(','))
        except ValueError:
            raise ValueError(f'--extinction {fixed!r}: expected ON,OFF, per km') from None
        correction = DilutionCorrection(distance, per_km={'on': on, 'off': off})
        notes.append(f'light dilution: plume at {distance:g} m, extinction {on:g} (on) and {off:g} (off) per km')
        return correction
    features = tuple(TerrainFeature.parse(t) for t in terrain)
    if not args.ambient_region:
        raise ValueError('--terrain needs --ambient-region x0,y0,x1,y1: plume-free sky near the horizon')
    correction = DilutionCorrection(distance, terrain=features,
                                    ambient_region=SkyRegion.parse(args.ambient_region))
    notes.append(f'light dilution: plume at {distance:g} m, extinction fitted in each pair to {len(terrain)} '
                 f'terrain features, ambient light in {correction.ambient_region.as_list()}')
    return correction


def time_zone_argument(parser):
    parser.add_argument('--time-zone', help="IANA zone the data's names are stamped in, as PyCam's time_zone "
                        "setting (e.g. America/Santiago); outputs are in UTC whatever it is (default UTC)")


def pycam_outputs_argument(parser):
    parser.add_argument('--pycam-outputs', action='store_true', help="also write PyCam's own output files, "
                        'with its column names, for scripts that read them')


def with_pycam_outputs(advance, out, settings):
    """A progress callback that also appends each pair to PyCam's emission-rate files."""
    from rockit.pycam.processing.pycam_outputs import PycamEmissionFiles
    files = PycamEmissionFiles(out, settings)

    def both(index, result):
        files.append(result)
        advance(index, result)
    return both


def model_argument(parser, default='poly2'):
    parser.add_argument('--model', choices=MODELS, default=default,
                        help=f'calibration curve for cells: column = f(AA) (default {default})')


def temperature_argument(parser):
    parser.add_argument('--temperature', type=float, default=DEFAULT_TEMPERATURE_K,
                        help='reference temperature (K) for ppm.m <-> molecules/cm^2 (default 273.15, '
                        'the cells\' stated conditions)')


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a UsageError instead of exiting."""

    def error(self, message):
        raise UsageError(f'{message}\n{self.format_usage().strip()}')


def parser(name, description):
    return _Parser(prog=f'pycam {name}', description=description)


def fail(message):
    print(f'pycam: {message}', file=sys.stderr)
    return FAILED


class _Warnings(logging.Handler):
    """Processing warnings (e.g. a dark of another exposure used) shown as they happen."""

    def emit(self, record):
        print(f'warning: {record.getMessage()}', file=sys.stderr)


def show_warnings():
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


def scene(args, folder):
    """ProcessingSettings from the command line and the files found beside the data, and
    notes saying where each came from."""
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.calibration.columns import DEFAULT_CELL_MODEL, ColumnUnits
    from rockit.pycam.processing.emission import IntegrationLine, distinct_names
    from rockit.pycam.processing.geometry import resolve as resolve_geometry
    from rockit.pycam.processing.pipeline import DEFAULT_SKY, ProcessingSettings
    from rockit.pycam.processing.registration import Registration
    def arg(name, default=None):        # commands offer only the options they need
        return getattr(args, name, default)

    notes = []
    line_paths = [Path(p) for p in arg('line') or []] or [p for p in [find_beside(folder, '*pcs_line*.txt')] if p]
    lines = distinct_names([IntegrationLine.load(p) for p in line_paths])
    for path in line_paths:
        notes.append(f'line: {path}' + ('' if arg('line') else ' (found beside the data)'))
    registration = None
    if arg('registration') == 'identity':
        registration = Registration()
        notes.append('registration: none (identity): the cameras are taken to be aligned')
    elif arg('registration'):
        registration = Registration.load(args.registration)
        notes.append(f'registration: {args.registration}')
    else:
        found = find_beside(folder, '*registration*.npy')
        if found:
            registration = Registration.load(found)
            notes.append(f'registration: {found} (found beside the data)')
    sky = SkyRegion.parse(args.sky) if arg('sky') else DEFAULT_SKY
    focal, pixel = arg('focal_length'), arg('pixel_size')
    geometry, geometry_notes = resolve_geometry(arg('distance'), focal and focal * 1e-3, arg('fov'),
                                                pixel and pixel * 1e-6, arg('geometry'), arg('distance_per_pixel', False))
    temperature = arg('temperature', DEFAULT_TEMPERATURE_K)
    settings = ProcessingSettings(sky=sky, line=lines[0] if lines else None, extra_lines=tuple(lines[1:]),
                                  speed_mode=arg('speed', 'flow'), cc_separation_px=arg('cc_separation', 10.0),
                                  geometry=geometry, geometry_notes=geometry_notes,
                                  units=ColumnUnits(temperature), registration=registration or Registration(),
                                  full_frame_flow=arg('full_flow', False),
                                  calibration_model=arg('model', DEFAULT_CELL_MODEL))
    background_settings(args, settings, notes)
    settings.dilution = dilution_settings(args, settings, notes)
    if arg('min_column') is not None:
        settings.min_column = args.min_column
    if settings.speed_mode == 'global':
        if arg('global_speed') is None:
            raise ValueError('--speed global needs --global-speed <m/s>')
        settings.global_speed_m_s = args.global_speed
        notes.append(f'speed: {args.global_speed:g} m/s through every line (global)')
    notes += [f'geometry: {note}' for note in geometry_notes]
    notes.append(f'sky region: x {sky.x0}-{sky.x1}, y {sky.y0}-{sky.y1}; '
                 f'ppm.m <-> molecules/cm^2 at {temperature:g} K')
    return settings, registration is not None, notes


def background_settings(args, settings, notes):
    """--background, --surface-region, --surface-order, --sky-gradient, --gradient-region."""
    from rockit.pycam.processing.background import GRADIENTS, SkyGradient, SkyRegion
    background = getattr(args, 'background', 'clear')
    if getattr(args, 'clear', None) == 'sky' and background == 'clear':
        background = 'sky'
    settings.background = background
    if background == 'surface':
        settings.surface_regions = tuple(SkyRegion.parse(r) for r in args.surface_region or ())
        if not 1 <= args.surface_order <= 4:
            raise ValueError(f'--surface-order must be 1-4, not {args.surface_order}')
        settings.surface_order = args.surface_order
        regions = '; '.join(str(r.as_list()) for r in settings.surface_regions or (settings.sky,))
        notes.append(f'background: a surface of order {settings.surface_order} fitted to {regions} in each frame')
    order = GRADIENTS[getattr(args, 'sky_gradient', 'none')]
    if order is not None:
        if not args.gradient_region:
            raise ValueError(f'--sky-gradient {args.sky_gradient} needs --gradient-region x0,y0,x1,y1, a tall strip '
                             'of plume-free sky')
        settings.sky_gradient = SkyGradient(SkyRegion.parse(args.gradient_region), order)
        notes.append(f'sky gradient: {args.sky_gradient} in the row, fitted in {settings.sky_gradient.region.as_list()}')


def register_by_ecc(settings, pair, darks):
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


def progress(total, describe):
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

"""pycamd's `processing` config keys to the pipeline's ProcessingSettings."""


def settings_from_config(config, base=None):
    """ProcessingSettings from pycamd's config keys (all optional):

    sky_region [x0, y0, x1, y1]; integration_line (line file path, or {"x": [x0, x1],
    "y": [y0, y1], "orientation": "left", "name": ...}, or a list of them: each line's rate
    and their total); speed_mode (flow, histogram, cross-correlation), with cc_separation_px
    (default 10) and cc_window (images, default 20) for cross-correlation; registration (.npy
    path or a 2x3 list);
    plume_distance_m, focal_length_m or field_of_view_deg, pixel_size_m (default the
    sensor's), or geometry_file (PyCam's cam_geom format): without a distance and a lens no
    emission rates; reference_temperature_k (default 273.15); calibration_model (linear,
    poly2, kern2015; default poly2), doas_calibration_model (default linear),
    doas_calibration_offset (default false: the DOAS curve fitted through AA 0, column 0;
    true: fitted with an offset, which is kept);
    min_column (molecules/cm^2, default 5e16); flow_margin_px; sensitivity_mask (a folder
    of calibration cell frames with its darks and clear sky: AA divided by the cell's
    per-pixel sensitivity relative to the centre; default off), sensitivity_cell (smallest,
    the default, second_smallest, or a column in ppm.m: the cell the mask is made from);
    background: 'clear' (default: Clear captures once there are some), 'sky' (the sky
    region of each frame, e.g. when Clear captures cannot avoid the plume) or 'surface' (a
    polynomial surface fitted to surface_regions, default the sky region, of order
    surface_order, default 2); sky_gradient ('none', 'linear', 'quadratic') fitted in
    sky_gradient_region; speed_mode 'global' with global_speed_m_s; distance_per_pixel
    (true: each line point's distance along its line of sight, from geometry_file);
    light dilution (default off): dilution_extinction_per_km {"on": .., "off": ..} fixed, or
    dilution_terrain [{"line": [x0, y0, x1, y1] or "point": [x, y], "distance_m": m}, ...]
    (3 distances at least) with dilution_ambient_region [x0, y0, x1, y1], fitted each pair;
    dilution_distance_m the plume's (default plume_distance_m).
    """
    from ..background import SkyRegion
    from ..calibration.columns import DEFAULT_TEMPERATURE_K, ColumnUnits
    from ..calibration.models import check_model
    from ..emission import distinct_names
    from ..motion.speed import SPEED_MODES
    from ..geometry import resolve as resolve_geometry
    from ..pipeline import ProcessingSettings
    from ..registration import Registration
    import numpy as np
    settings = base or ProcessingSettings()
    if config.get('sky_region'):
        settings.sky = SkyRegion(*[int(v) for v in config['sky_region']])
    line = config.get('integration_line')
    lines = distinct_names([_line(item) for item in (line if isinstance(line, list) else [line] if line else [])])
    if lines:
        settings.line, settings.extra_lines = lines[0], tuple(lines[1:])
    _background(config, settings)
    if 'min_column_ppmm' in config:
        raise ValueError('processing: min_column_ppmm is no longer read: give min_column in molecules/cm^2 '
                         '(1 ppm.m is 2.687e15 at 273.15 K)')
    if config.get('min_column') is not None:
        settings.min_column = _number(config, 'min_column', float, 0)
    if config.get('speed_mode'):
        if config['speed_mode'] not in SPEED_MODES:
            raise ValueError(f'processing: speed_mode must be one of {", ".join(SPEED_MODES)}, '
                             f'not {config["speed_mode"]!r}')
        settings.speed_mode = config['speed_mode']
    if settings.speed_mode == 'global':
        if config.get('global_speed_m_s') is None:
            raise ValueError('processing: speed_mode global needs global_speed_m_s (the plume speed, m/s)')
        settings.global_speed_m_s = _number(config, 'global_speed_m_s', float, 0)
    if config.get('cc_separation_px') is not None:
        settings.cc_separation_px = _number(config, 'cc_separation_px', float, 1)
    if config.get('cc_window') is not None:
        settings.cc_window = _number(config, 'cc_window', int, 3)
    warp = config.get('registration')
    if isinstance(warp, (list, tuple)):
        settings.registration = Registration(np.array(warp, np.float32), source='config')
    elif warp:
        settings.registration = Registration.load(warp)
    settings.geometry, settings.geometry_notes = resolve_geometry(
        config.get('plume_distance_m'), config.get('focal_length_m'), config.get('field_of_view_deg'),
        config.get('pixel_size_m'), config.get('geometry_file'), _flag(config, 'distance_per_pixel'))
    settings.units = ColumnUnits(float(config.get('reference_temperature_k', DEFAULT_TEMPERATURE_K)))
    if config.get('flow_margin_px'):
        settings.flow_margin = int(config['flow_margin_px'])
    for key in ('calibration_model', 'doas_calibration_model'):
        if key in config:
            setattr(settings, key, check_model(config[key]))
    if 'doas_calibration_offset' in config:
        settings.doas_calibration_offset = _flag(config, 'doas_calibration_offset')
    if config.get('sensitivity_mask') not in (None, False, ''):
        settings.sensitivity = _sensitivity(config['sensitivity_mask'], settings.registration,
                                            _sensitivity_cell(config.get('sensitivity_cell', 'smallest')))
    elif 'sensitivity_cell' in config:
        _sensitivity_cell(config['sensitivity_cell'])
    settings.dilution = _dilution(config, settings)
    return settings


DILUTION_KEYS = ('dilution_extinction_per_km', 'dilution_terrain', 'dilution_ambient_region', 'dilution_distance_m')


def _dilution(config, settings):
    """The light-dilution correction the dilution_* keys ask for, or None."""
    from ..dilution import DilutionCorrection, DilutionError, TerrainFeature
    fixed, terrain = config.get('dilution_extinction_per_km'), config.get('dilution_terrain')
    if fixed is None and terrain is None:
        extra = [key for key in DILUTION_KEYS if config.get(key) is not None]
        if extra:
            raise ValueError(f'processing: {", ".join(extra)}: no use without dilution_terrain or '
                             'dilution_extinction_per_km')
        return None
    if fixed is not None and terrain is not None:
        raise ValueError('processing: give dilution_terrain (fitted each pair) or dilution_extinction_per_km '
                         '(fixed), not both')
    if config.get('dilution_distance_m') is not None:
        distance = _number(config, 'dilution_distance_m', float, 0)
        if distance <= 0:
            raise ValueError('processing: dilution_distance_m must be above 0 m, not 0')
    elif settings.geometry is not None:
        distance = settings.geometry.distance_m
    else:
        raise ValueError('processing: light dilution needs the plume\'s distance: dilution_distance_m or '
                         'plume_distance_m')
    try:
        if fixed is not None:
            if not (isinstance(fixed, dict) and set(fixed) == {'on', 'off'}):
                raise DilutionError(f'needs {{"on": <per km>, "off": <per km>}}, not {fixed!r}')
            return DilutionCorrection(distance, per_km=dict(fixed))
        key = 'dilution_terrain'
        if not isinstance(terrain, list):
            raise DilutionError(f'needs a list of {{"line": [x0, y0, x1, y1] or "point": [x, y], "distance_m": m}}, '
                                f'not {terrain!r}')
        features = tuple(_terrain_feature(item, TerrainFeature) for item in terrain)
        if config.get('dilution_ambient_region') is None:
            key = 'dilution_ambient_region'
            raise DilutionError('needs [x0, y0, x1, y1]: plume-free sky near the horizon, the ambient light')
        ambient = _region(config, 'dilution_ambient_region', config['dilution_ambient_region'])
        return DilutionCorrection(distance, terrain=features, ambient_region=ambient)
    except DilutionError as e:
        which = key if fixed is None else 'dilution_extinction_per_km'
        raise ValueError(f'processing: {which}: {e}') from None


def _terrain_feature(item, kind):
    from ..dilution import DilutionError
    size = 4 if isinstance(item, dict) and 'line' in item else 2
    where = item.get('line', item.get('point')) if isinstance(item, dict) else None
    if not isinstance(item, dict) or ('line' in item) == ('point' in item) or not _is_number(item.get('distance_m')) \
            or not (isinstance(where, list) and len(where) == size and all(_is_number(v) for v in where)):
        raise DilutionError('each item needs "line" [x0, y0, x1, y1] or "point" [x, y], and "distance_m", '
                            f'not {item!r}')
    x0, y0, x1, y1 = where if size == 4 else where * 2
    return kind(x0, y0, x1, y1, float(item['distance_m']))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _background(config, settings):
    from ..background import BACKGROUNDS, GRADIENTS, SkyGradient
    background = config.get('background', 'clear')
    if background not in BACKGROUNDS:
        raise ValueError(f'processing: background must be one of {", ".join(BACKGROUNDS)}, not {background!r}')
    settings.background = background
    if config.get('surface_regions') is not None:
        regions = config['surface_regions']
        if not isinstance(regions, list) or not regions:
            raise ValueError(f'processing: surface_regions must be a list of [x0, y0, x1, y1], not {regions!r}')
        settings.surface_regions = tuple(_region(config, 'surface_regions', r) for r in regions)
    if config.get('surface_order') is not None:
        settings.surface_order = _number(config, 'surface_order', int, 1)
        if settings.surface_order > 4:
            raise ValueError(f'processing: surface_order must be 1-4, not {config["surface_order"]!r}')
    gradient = config.get('sky_gradient', 'none')
    if gradient not in GRADIENTS:
        raise ValueError(f'processing: sky_gradient must be one of {", ".join(GRADIENTS)}, not {gradient!r}')
    if GRADIENTS[gradient] is not None:
        if config.get('sky_gradient_region') is None:
            raise ValueError(f'processing: sky_gradient {gradient} needs sky_gradient_region [x0, y0, x1, y1], '
                             'a tall strip of plume-free sky')
        settings.sky_gradient = SkyGradient(_region(config, 'sky_gradient_region', config['sky_gradient_region']),
                                            GRADIENTS[gradient])


def _region(config, key, value):
    from ..background import SkyRegion
    if not (isinstance(value, (list, tuple)) and len(value) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f'processing: {key} needs [x0, y0, x1, y1] in whole pixels, not {value!r}')
    try:
        return SkyRegion(*value)
    except ValueError as e:
        raise ValueError(f'processing: {key}: {e}') from None


def _flag(config, key):
    value = config.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f'processing: {key} must be true or false, not {value!r}')
    return value


def _number(config, key, kind, minimum):
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)) \
            or value < minimum:
        raise ValueError(f'processing: {key} must be {"an integer" if kind is int else "a number"} of at least '
                         f'{minimum}, not {value!r}')
    return kind(value)


def _sensitivity_cell(cell):
    from ..calibration.sensitivity import check_cell_choice
    try:
        return check_cell_choice(cell)
    except ValueError as e:
        raise ValueError(f'processing: sensitivity_cell: {e}') from None


def _sensitivity(folder, registration, cell):
    from ..errors import CalibrationError
    from ..calibration.sensitivity import mask_of_folder
    if not isinstance(folder, str):
        raise ValueError(f'processing: sensitivity_mask must be a folder of calibration cell frames, not {folder!r}')
    try:
        return mask_of_folder(folder, registration, cell)
    except (CalibrationError, LookupError, OSError) as e:
        raise ValueError(f'processing: sensitivity_mask: {e}') from None


def _line(item):
    from ..emission import IntegrationLine
    if isinstance(item, dict):
        return IntegrationLine(item['x'][0], item['y'][0], item['x'][1], item['y'][1],
                               item.get('orientation', 'left'), item.get('name', ''))
    return IntegrationLine.load(item)


LIVE_LIMITS = {                     # key: (default, smallest)
    'doas_window_s': (1800.0, 1.0),             # DOAS points kept for the calibration (PyCam: 30 min)
    'doas_pairing_s': (2.0, 0.0),               # a spectrum pairs with AA images this close to it
    'doas_calibration_max_age_s': (3600.0, 1.0),   # a DOAS calibration older than this is not used
    'cell_calibration_max_age_s': (86400.0, 1.0),  # nor cells captured longer ago than this
}


def live_limits(config):
    """pycamd's live-only numbers (LIVE_LIMITS), each checked: a wrong one named."""
    limits = {}
    for key, (default, minimum) in LIVE_LIMITS.items():
        limits[key] = default if config.get(key) is None else _number(config, key, float, minimum)
    return limits


def light_dilution(config):
    """The spectrometer's light dilution correction from pycamd's keys, or None when off:
    light_dilution (true/false, default false), light_dilution_windows ([[low, high],
    [low, high]] nm, default [[306, 316], [312, 322]]) and light_dilution_grid ({"so2_max":
    molecules/cm^2, "so2_points", "ldf_max", "ldf_points"}); each checked, a wrong one named."""
    from ..doas.dilution import DilutionSettings
    enabled = _flag(config, 'light_dilution')
    try:
        settings = DilutionSettings.checked(config.get('light_dilution_windows'), config.get('light_dilution_grid'))
    except ValueError as e:
        raise ValueError(f'processing: {e}') from None
    return settings if enabled else None


def apply_geometry(settings, changes):
    """An operator's integration lines and sky region (image_geometry.py's checked forms)
    into ProcessingSettings; the view is the DOAS side's (doas.LiveDoas.set_view)."""
    from ..background import SkyRegion
    from ..emission import distinct_names
    if 'integration_line' in changes:
        lines = distinct_names([_line(item) for item in changes['integration_line']])
        settings.line, settings.extra_lines = lines[0], tuple(lines[1:])
    if 'sky_region' in changes:
        settings.sky = SkyRegion(*changes['sky_region'])


def configured_geometry(config):
    """The lines, sky region and view pycamd's `processing` keys give processing (a line
    file read, the default sky region where none is given), in image_geometry.py's forms."""
    from ..emission import distinct_names
    from ..pipeline import DEFAULT_SKY
    line = config.get('integration_line')
    lines = distinct_names([_line(item) for item in (line if isinstance(line, list) else [line] if line else [])])
    sky = config.get('sky_region')
    view = config.get('doas_fov')
    return {'integration_line': [{'x': [line.x0, line.x1], 'y': [line.y0, line.y1], 'orientation': line.orientation,
                                  'name': line.name} for line in lines],
            'sky_region': [int(v) for v in sky] if sky else DEFAULT_SKY.as_list(),
            'doas_fov': [float(v) for v in view] if view else None}

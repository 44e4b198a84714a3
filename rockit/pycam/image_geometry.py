"""Where live processing looks in the image, set by an operator: the integration lines
(each with the side the plume flows to), the sky region and the spectrometer's field of
view, in pixels of the stored on-band image. The values have the config's forms and names
(processing integration_line, sky_region, doas_fov); a request names any of them and is
checked whole before anything changes.

Kept free of numpy: the CLI checks a request with this before sending it.
"""
import math
import re

from .instrument import IMAGE_HEIGHT, IMAGE_WIDTH

KEYS = ('integration_line', 'sky_region', 'doas_fov')
MAX_LINES = 8
MIN_LINE_PX = 2.0           # processing's shortest line (emission.IntegrationLine)
NAME = re.compile(r'^[A-Za-z0-9_-]{0,32}$')   # names become file and column names
ORIENTATIONS = ('left', 'right')


class GeometryError(ValueError):
    """A value that cannot be taken: key names the field (one of KEYS, or 'geometry')."""

    def __init__(self, key, problem):
        super().__init__(f'{key}: {problem}')
        self.key = key


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value):
    """A whole number as an int (JSON shows 250, not 250.0)."""
    return int(value) if float(value).is_integer() else float(value)


def _pair(key, where, item, name, limit):
    value = item.get(name)
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) for v in value)):
        raise GeometryError(key, f'{where}: {name} must be two numbers [{name}0, {name}1], not {value!r}')
    for v in value:
        if not 0 <= v <= limit - 1:
            raise GeometryError(key, f'{where}: {name} {v:g} is outside the image (0 to {limit - 1})')
    return [_plain(v) for v in value]


def check_lines(value, width=IMAGE_WIDTH, height=IMAGE_HEIGHT):
    """[{'x': [x0, x1], 'y': [y0, y1], 'orientation', 'name'}, ...] of a line or a list of
    them, each inside the image and at least MIN_LINE_PX long; unnamed lines get line<N>."""
    key = 'integration_line'
    lines = [value] if isinstance(value, dict) else value
    if not isinstance(lines, (list, tuple)) or not 1 <= len(lines) <= MAX_LINES:
        raise GeometryError(key, f'1 to {MAX_LINES} lines of {{"x": [x0, x1], "y": [y0, y1], "orientation": '
                                 f'"left"|"right", "name": ...}}, not {value!r}')
    checked, names = [], set()
    for index, item in enumerate(lines):
        where = f'line {index + 1}'
        if not isinstance(item, dict):
            raise GeometryError(key, f'{where} must be {{"x": [x0, x1], "y": [y0, y1], ...}}, not {item!r}')
        extra = sorted(set(item) - {'x', 'y', 'orientation', 'name'})
        if extra:
            raise GeometryError(key, f'{where}: unknown {", ".join(map(repr, extra))} (x, y, orientation, name)')
        xs, ys = _pair(key, where, item, 'x', width), _pair(key, where, item, 'y', height)
        if math.hypot(xs[1] - xs[0], ys[1] - ys[0]) < MIN_LINE_PX:
            raise GeometryError(key, f'{where} is shorter than {MIN_LINE_PX:g} pixels')
        orientation = item.get('orientation', 'left')
        if orientation not in ORIENTATIONS:
            raise GeometryError(key, f'{where}: orientation must be left or right, not {orientation!r}')
        name = item.get('name') or ''
        if not isinstance(name, str) or not NAME.match(name):
            raise GeometryError(key, f'{where}: name must be up to 32 letters, digits, _ or -, not {name!r}')
        name = name or f'line{index + 1}'
        if name in names:
            raise GeometryError(key, f'{where}: the name {name!r} is taken by another line')
        names.add(name)
        checked.append({'x': xs, 'y': ys, 'orientation': orientation, 'name': name})
    return checked


def check_sky_region(value, width=IMAGE_WIDTH, height=IMAGE_HEIGHT):
    """[x0, y0, x1, y1] in whole pixels, x0 < x1 <= width and y0 < y1 <= height."""
    key = 'sky_region'
    if not (isinstance(value, (list, tuple)) and len(value) == 4 and all(_is_number(v) for v in value)):
        raise GeometryError(key, f'must be [x0, y0, x1, y1] in pixels, not {value!r}')
    if not all(float(v).is_integer() for v in value):
        raise GeometryError(key, f'must be whole pixels, not {list(value)!r}')
    x0, y0, x1, y1 = (int(v) for v in value)
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise GeometryError(key, f'[{x0}, {y0}, {x1}, {y1}] is not a rectangle x0 < x1, y0 < y1 inside the '
                                 f'{width}x{height} image')
    return [x0, y0, x1, y1]


def check_view(value, width=IMAGE_WIDTH, height=IMAGE_HEIGHT):
    """[x, y, radius] with the centre inside the image and a radius of 1 pixel to half the
    image's height; None: processing searches for the view."""
    key = 'doas_fov'
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 3 and all(_is_number(v) for v in value)):
        raise GeometryError(key, f'must be [x, y, radius] in pixels, or null to search for it, not {value!r}')
    x, y, radius = value
    if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
        raise GeometryError(key, f'the centre ({x:g}, {y:g}) is outside the {width}x{height} image')
    if not 1 <= radius <= height / 2:
        raise GeometryError(key, f'the radius {radius:g} is not 1 to {height / 2:g} pixels')
    return [_plain(x), _plain(y), _plain(radius)]


CHECKS = {'integration_line': check_lines, 'sky_region': check_sky_region, 'doas_fov': check_view}


def check(request, width=IMAGE_WIDTH, height=IMAGE_HEIGHT):
    """{key: checked value} of a request {key: value} naming any of KEYS; GeometryError
    naming the first field that cannot be taken."""
    if not isinstance(request, dict) or not request:
        raise GeometryError('geometry', f'name at least one of {", ".join(KEYS)}, not {request!r}')
    unknown = sorted(str(k) for k in request if k not in KEYS)
    if unknown:
        raise GeometryError('geometry', f'unknown {", ".join(map(repr, unknown))} (one of {", ".join(KEYS)})')
    return {key: CHECKS[key](value, width, height) for key, value in request.items()}

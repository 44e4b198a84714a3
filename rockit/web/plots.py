"""The pages' pictures as PNG bytes, drawn with matplotlib's Agg backend (no display).

Every figure is FIGURE_SIZE inches at DPI, so every PNG is WIDTH x HEIGHT pixels.
"""
import datetime
import io

import matplotlib

matplotlib.use('Agg')
from matplotlib.dates import DateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

FIGURE_SIZE = (8, 5)
DPI = 80
WIDTH, HEIGHT = FIGURE_SIZE[0] * DPI, FIGURE_SIZE[1] * DPI
RUN_GAP = datetime.timedelta(minutes=5)   # emission rates further apart belong to separate runs


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=DPI)
    return buffer.getvalue()


def _figure():
    return Figure(figsize=FIGURE_SIZE, dpi=DPI, layout='constrained')


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float('nan')


def _time(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


SKY_COLOUR = '#ffffff'       # the sky region's outline on the AA image
VIEW_COLOUR = '#ff7f0e'      # the spectrometer's field of view on it


def so2_image(image, step, line, name, sky_region=None, view=None):
    """The apparent-absorbance image colour-mapped with its colour bar, the integration
    line (a dict, or a list of them) drawn where processing integrates, the sky region its
    background comes from and the spectrometer's field of view (all in full-image pixels),
    so an operator sees what processing uses."""
    figure = _figure()
    axes = figure.add_subplot()
    shown = axes.imshow(image, cmap='viridis', extent=(0, image.shape[1] * step, image.shape[0] * step, 0))
    figure.colorbar(shown, ax=axes, label='apparent absorbance (AA)')
    for one in line if isinstance(line, list) else [line] if line else []:
        axes.plot(one['x'], one['y'], color='red', linewidth=2, label=one.get('name') or 'integration line')
    if sky_region:
        x0, y0, x1, y1 = sky_region
        axes.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color=SKY_COLOUR, linewidth=2.5, label='sky region')
    if view:
        axes.add_patch(Circle((view['x'], view['y']), max(float(view['radius']), 3.0), fill=False,
                              color=VIEW_COLOUR, linewidth=2.5, label='spectrometer view'))
    if line or sky_region or view:      # below: the sky region is usually at the top
        axes.legend(loc='lower left', fontsize='small')
    axes.set_title(name)
    axes.set_xlabel('x (pixel)')
    axes.set_ylabel('y (pixel)')
    return _png(figure)


def emission_rates(rows):
    """The day's SO2 emission rate with its uncertainty band, and the plume speed."""
    times, rate, error, speed = [], [], [], []
    for row in rows:
        moment = _time(row['time'])
        if times and moment - times[-1] > RUN_GAP:      # a gap between runs: break the lines
            times.append(times[-1] + RUN_GAP / 2)
            rate.append(float('nan')), error.append(float('nan')), speed.append(float('nan'))
        times.append(moment)
        rate.append(_float(row.get('emission_rate_kg_s')))
        error.append(_float(row.get('emission_rate_err_kg_s')))
        speed.append(_float(row.get('plume_speed_m_s')))
    figure = _figure()
    axes = figure.add_subplot()
    axes.fill_between(times, [r - e for r, e in zip(rate, error)], [r + e for r, e in zip(rate, error)],
                      color='tab:blue', alpha=0.25, label='uncertainty')
    axes.plot(times, rate, color='tab:blue', marker='.', label='emission rate')
    axes.set_ylabel('SO2 emission rate (kg/s)')
    axes.set_xlabel('time (UTC)')
    speed_axes = axes.twinx()
    speed_axes.plot(times, speed, color='tab:orange', marker='.', linestyle=':', label='plume speed')
    speed_axes.set_ylabel('plume speed (m/s)')
    handles = axes.get_legend_handles_labels()[0] + speed_axes.get_legend_handles_labels()[0]
    axes.legend(handles=handles, loc='upper left', fontsize='small')
    axes.set_title(f'SO2 emission rate {times[-1]:%Y-%m-%d}')
    axes.tick_params(axis='x', labelrotation=30)
    return _png(figure)


FIT_COLOUR = '#d62728'     # the DOAS model, drawn over the measured counts
DOAS_POINTS_COLOUR = '#2ca02c'   # the DOAS columns a calibration was fitted to


def spectrum(data, name, fit=None):
    """The latest plume spectrum, counts against wavelength; with live DOAS, below it the
    newest fit: the corrected counts in the fit window and the model fitted to them, so a
    poor fit (a shifted wavelength scale, stray light) shows at a glance."""
    figure = _figure()
    axes = figure.add_subplot(2 if fit else 1, 1, 1)
    axes.plot(data[0], data[1], color='tab:purple', linewidth=1)
    axes.set_xlabel('wavelength (nm)')
    axes.set_ylabel('counts')
    axes.set_title(name)
    if fit:
        window = figure.add_subplot(2, 1, 2)
        window.plot(fit['wavelengths'], fit['measured'], color='tab:purple', linewidth=1, label='measured')
        window.plot(fit['wavelengths'], fit['fitted'], color=FIT_COLOUR, linestyle='--', linewidth=1.5,
                    label='DOAS fit')
        window.set_xlabel('wavelength (nm)')
        window.set_ylabel('counts')
        window.legend(loc='lower right', fontsize='small')
        window.set_title(f'{fit["spectrum"]}: SO2 {float(fit["column"]):.3g} ± {float(fit["error"]):.2g} '
                         'molecules/cm²', fontsize='small')
    return _png(figure)


def chiller_history(history):
    """The chiller's temperatures over the hours kept."""
    times = [datetime.datetime.fromtimestamp(t, datetime.timezone.utc) for t, _ in history]
    figure = _figure()
    axes = figure.add_subplot()
    for key, label in (('water_temp', 'supply'), ('return_temp', 'return'), ('ambient_temp', 'ambient'),
                       ('setpoint_temp', 'setpoint')):
        values = [_float(values.get(key)) for _, values in history]
        axes.plot(times, values, label=label, marker='.' if len(times) < 60 else None,
                  linestyle='--' if key == 'setpoint_temp' else '-')
    # At least the last ten minutes, so that the first few readings have a time axis to sit on.
    axes.set_xlim(min(times[0], times[-1] - datetime.timedelta(minutes=10)), times[-1] + datetime.timedelta(seconds=30))
    axes.xaxis.set_major_formatter(DateFormatter('%H:%M'))
    axes.set_ylabel('temperature (°C)')
    axes.set_xlabel('time (UTC)')
    axes.legend(loc='upper left', fontsize='small')
    axes.tick_params(axis='x', labelrotation=30)
    return _png(figure)


LINE_RATE = 'emission_rate_kg_s_'     # a column of each integration line's rate, with several lines


def day_history(day, rates, columns):
    return _png(day_figure(day, rates, columns))


def day_figure(day, rates, columns):
    """A day's SO2 emission rate (with its uncertainty band, and each integration line's
    where there are several) above its DOAS columns, on one time axis."""
    figure = Figure(figsize=(FIGURE_SIZE[0], FIGURE_SIZE[1] * 1.4), dpi=DPI, layout='constrained')
    top, bottom = figure.subplots(2, 1, sharex=True)
    times = [_time(row['time']) for row in rates]
    rate = [_float(row.get('emission_rate_kg_s')) for row in rates]
    error = [_float(row.get('emission_rate_err_kg_s')) for row in rates]
    top.fill_between(times, [r - e for r, e in zip(rate, error)], [r + e for r, e in zip(rate, error)],
                     color='tab:blue', alpha=0.25, label='uncertainty')
    top.plot(times, rate, color='tab:blue', marker='.', markersize=2, linewidth=0.8, label='total emission rate')
    lines = [key for key in (rates[0] if rates else {}) if key.startswith(LINE_RATE)]
    for key in lines:
        top.plot(times, [_float(row.get(key)) for row in rates], marker='.', markersize=1, linewidth=0.6,
                 label=f'line {key[len(LINE_RATE):]}')
    top.set_ylabel('SO2 emission rate (kg/s)')
    top.legend(loc='upper left', fontsize='small')
    top.set_title(f'SO2 on {day} (UTC)')
    bottom.plot([_time(row['time']) for row in columns], [_float(row.get('so2_molecules_cm2')) for row in columns],
                color='tab:purple', marker='.', markersize=2, linewidth=0.8, label='DOAS column')
    bottom.set_ylabel('SO2 column (molecules/cm²)')
    bottom.set_xlabel('time (UTC)')
    bottom.legend(loc='upper left', fontsize='small')
    bottom.xaxis.set_major_formatter(DateFormatter('%H:%M'))
    return figure


def calibration(curve):
    """The calibration processing applies: the fitted curve of column against AA, the
    calibration cells or the DOAS points it was fitted on (cells with their scatter over
    frames, DOAS columns with their fit errors), its model and fit."""
    figure = _figure()
    axes = figure.add_subplot()
    unit = 'ppm.m' if curve.get('unit') in ('ppmm', 'ppm.m') else 'molecules/cm²'
    axes.plot(curve['aa'], curve['column'], color='tab:red', label=f"{curve['model']} model")
    points = [p for p in curve.get('doas_points') or [] if p[0] is not None and p[1] is not None]
    if points:
        axes.errorbar([p[0] for p in points], [p[1] for p in points], yerr=[p[2] or 0.0 for p in points],
                      fmt='.', color=DOAS_POINTS_COLOUR, label=f'DOAS points ({len(points)})')
    cells = curve.get('cells') or {}
    if cells:
        columns = [_float(column) for column in cells]
        axes.errorbar([aa for aa, _ in cells.values()], columns, xerr=[scatter for _, scatter in cells.values()],
                      fmt='o', color='tab:blue', label='calibration cells')
    r2 = curve.get('r2')
    fit = f", r² {r2:.3f}" if isinstance(r2, (int, float)) else ''
    axes.set_title(f"{curve.get('method') or 'calibration'}: {curve.get('points') or len(cells)} points{fit}, "
                   f"made {curve.get('created') or '?'}", fontsize='small')
    axes.set_xlabel('apparent absorbance (AA)')
    axes.set_ylabel(f'SO2 column ({unit})')
    axes.legend(loc='upper left', fontsize='small')
    return _png(figure)


def fov_correlation(correlation, binning, view, at):
    """The last field-of-view search: each (binned) pixel's correlation of its AA with the
    DOAS columns, in full-image pixels, with the view found circled."""
    figure = _figure()
    axes = figure.add_subplot()
    height, width = correlation.shape
    shown = axes.imshow(correlation, cmap='RdBu_r', vmin=-1, vmax=1, extent=(0, width * binning, height * binning, 0))
    figure.colorbar(shown, ax=axes, label='Pearson r of AA with the DOAS columns')
    if view:
        axes.add_patch(Circle((view['x'], view['y']), max(float(view['radius']), 3.0), fill=False, color=VIEW_COLOUR,
                              linewidth=2.5, label=f"view found, r = {view['correlation']:.2f}"))
        axes.legend(loc='lower left', fontsize='small')
    axes.set_title(f'field-of-view search of {at}' + ('' if view else ': no view beyond chance'), fontsize='small')
    axes.set_xlabel('x (pixel)')
    axes.set_ylabel('y (pixel)')
    return _png(figure)


def background(figures):
    """The last pair's background: the sky region's mean and scatter in each band and in
    the AA, and the AA the sky gradient took off each row (with the offset taken off all)."""
    figure = _figure()
    bands, profile = figure.subplots(1, 2)
    names = [name for name in ('on', 'off') if figures[name]['mean'] is not None]
    bands.bar(names, [figures[n]['mean'] for n in names], yerr=[figures[n]['std'] for n in names],
              color=['tab:purple', 'tab:blue'][:len(names)], capsize=6)
    bands.set_ylabel('sky region (counts/s)')
    aa = figures['aa']
    bands.set_title(f"{figures['kind']}; sky AA {_number(aa['mean'])} ± {_number(aa['std'])}", fontsize='small')
    rows = list(range(int((figures.get('shape') or [0])[0]) or 1))
    coefficients = figures.get('gradient') or [0.0]
    removed = [sum(c * row ** (len(coefficients) - 1 - i) for i, c in enumerate(coefficients)) for row in rows]
    profile.plot(removed, rows, color='tab:red', label='sky gradient' if figures.get('gradient') else 'no gradient')
    y0, y1 = figures['sky_region'][1], figures['sky_region'][3]
    profile.axhspan(y0, y1, color='tab:gray', alpha=0.3, label='sky region rows')
    profile.invert_yaxis()
    profile.set_xlabel('AA taken off')
    profile.set_ylabel('row (pixel)')
    profile.set_title(f"offset {_number(figures['offset_aa'])} AA" + (
        f", order {figures['gradient_order']} gradient" if figures.get('gradient') else ''), fontsize='small')
    profile.legend(loc='lower right', fontsize='small')
    figure.suptitle(f"background of the pair of {figures['at']}", fontsize='small')
    return _png(figure)


def _number(value):
    return '-' if value is None else f'{value:.3g}'


def flow_histogram(flow):
    """The last pair's optical flow around the line: how its vectors spread in direction,
    in length and through the line, the displacement the speed took marked."""
    figure = _figure()
    direction, length, across = figure.subplots(1, 3)
    for axes, key, label, colour in ((direction, 'direction_deg', 'direction (° from right, clockwise)', 'tab:blue'),
                                     (length, 'length_px', 'length (pixels per pair)', 'tab:green'),
                                     (across, 'across_px', 'through the line (pixels per pair)', 'tab:orange')):
        edges, counts = flow[key]['edges'], flow[key]['counts']
        axes.stairs(counts, edges, fill=True, color=colour)
        axes.set_xlabel(label, fontsize='small')
    direction.set_ylabel('flow vectors')
    if flow.get('peak_px') is not None:
        across.axvline(flow['peak_px'], color='black', linestyle='--', label=f"peak {flow['peak_px']:.2f}")
        across.axvspan(flow['peak_px'] - flow['width_px'], flow['peak_px'] + flow['width_px'], color='gray', alpha=0.3,
                       label=f"± {flow['width_px']:.2f}")
        across.legend(loc='upper left', fontsize='x-small')
    figure.suptitle(f"flow at {flow['line']} for the pair of {flow['at']}: {flow['vectors']} of {flow['of']} "
                    f"vectors moving plume ({flow['mode']} speed)", fontsize='small')
    return _png(figure)

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


def day_history(day, rates, columns):
    """A day's SO2 emission rate (with its uncertainty band) above its DOAS columns, on one
    time axis."""
    figure = Figure(figsize=(FIGURE_SIZE[0], FIGURE_SIZE[1] * 1.4), dpi=DPI, layout='constrained')
    top, bottom = figure.subplots(2, 1, sharex=True)
    times = [_time(row['time']) for row in rates]
    rate = [_float(row.get('emission_rate_kg_s')) for row in rates]
    error = [_float(row.get('emission_rate_err_kg_s')) for row in rates]
    top.fill_between(times, [r - e for r, e in zip(rate, error)], [r + e for r, e in zip(rate, error)],
                     color='tab:blue', alpha=0.25, label='uncertainty')
    top.plot(times, rate, color='tab:blue', marker='.', markersize=2, linewidth=0.8, label='total emission rate')
    top.set_ylabel('SO2 emission rate (kg/s)')
    top.legend(loc='upper left', fontsize='small')
    top.set_title(f'SO2 on {day} (UTC)')
    bottom.plot([_time(row['time']) for row in columns], [_float(row.get('so2_molecules_cm2')) for row in columns],
                color='tab:purple', marker='.', markersize=2, linewidth=0.8, label='DOAS column')
    bottom.set_ylabel('SO2 column (molecules/cm²)')
    bottom.set_xlabel('time (UTC)')
    bottom.legend(loc='upper left', fontsize='small')
    bottom.xaxis.set_major_formatter(DateFormatter('%H:%M'))
    return _png(figure)


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

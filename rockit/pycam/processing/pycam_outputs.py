"""PyCam's own output files, for the scripts that read them, written beside ours:

    line_<id>/<YYYYMMDD>_EmissionRates_<mode>.txt    per line (0, 1, ...) and their total
    doas_results_<YYYY-MM-DDTHHMMSS>.csv              per run of spectra, named by its first
                                                      (live: per UTC day, rows appended)

as PyCam writes them (pandas CSV): the emission rates with columns datetime,
flux_(kg/s), flux_err, velo_eff_(m/s), velo_eff_err, frac_optflow_ok,
frac_optflow_ok_ica, ICA_mass_(kg/m), values rounded to 3 decimals; the DOAS results with
Time, Column density (molecules/cm^2), CD error, LDF. Times are UTC, written
`YYYY-MM-DD HH:MM:SS` without a zone as PyCam's are; what we do not measure (the shares
of optical flow vectors PyCam counts; the light dilution factor unless the spectrometer's
correction is on) is left empty, as PyCam leaves a missing value.
"""
import math
from pathlib import Path

from rockit.common.csvlog import CsvLog

EMISSION_COLUMNS = ['datetime', 'flux_(kg/s)', 'flux_err', 'velo_eff_(m/s)', 'velo_eff_err', 'frac_optflow_ok',
                    'frac_optflow_ok_ica', 'ICA_mass_(kg/m)']
DOAS_COLUMNS = ['Time', 'Column density', 'CD error', 'LDF']
# Our speed modes under PyCam's names for its velocity modes.
FLOW_MODES = {'flow': 'flow_raw', 'histogram': 'flow_histo', 'cross-correlation': 'flow_glob'}
TOTAL = 'total'


def pycam_time(when):
    return when.strftime('%Y-%m-%d %H:%M:%S')


def _rounded(value):
    """As pandas writes a float rounded to 3 decimals; NaN and None empty."""
    if value is None or not math.isfinite(value):
        return ''
    return repr(round(float(value), 3))


def _exact(value):
    return '' if value is None or not math.isfinite(value) else repr(float(value))


def _line_figures(result, lines):
    """{line id: (rate, error, speed, speed error, ICA mass)}: the lines by their index, as
    PyCam numbers them, and their total."""
    total = (result.emission_rate_kg_s, result.emission_rate_err_kg_s, result.speed_m_s, result.speed_err_m_s,
             result.line_column_kg_m)
    if len(lines) <= 1:
        return {'0': total, TOTAL: total}
    figures = {}
    for index, (name, part) in enumerate(result.lines.items()):
        figures[str(index)] = (part['emission_rate_kg_s'], part['emission_rate_err_kg_s'], part['speed_m_s'],
                               math.nan, math.nan)
    figures[TOTAL] = total
    return figures


class PycamEmissionFiles:
    """Appends each pair's figures to PyCam's per-line emission-rate files under out."""

    def __init__(self, out, settings, fresh=True):
        """fresh: files of this run's days start anew (a batch rerun), else rows are added
        (live, across restarts)."""
        self.out = Path(out)
        self.fresh = fresh
        self.mode = FLOW_MODES.get(settings.speed_mode, 'flow_raw')
        self.lines = settings.lines
        self._logs = {}

    def path(self, line_id, when):
        return self.out / f'line_{line_id}' / f'{when:%Y%m%d}_EmissionRates_{self.mode}.txt'

    def append(self, result):
        for line_id, (rate, error, speed, speed_err, ica) in _line_figures(result, self.lines).items():
            path = self.path(line_id, result.time)
            if path not in self._logs:
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.fresh and path.exists():
                    path.unlink()
                self._logs[path] = CsvLog(path, EMISSION_COLUMNS)
            self._logs[path].append({'datetime': pycam_time(result.time), 'flux_(kg/s)': _rounded(rate),
                                     'flux_err': _rounded(error), 'velo_eff_(m/s)': _rounded(speed),
                                     'velo_eff_err': _rounded(speed_err), 'ICA_mass_(kg/m)': _rounded(ica)})


def write_doas_results(out, fits):
    """PyCam's doas_results_<first time>.csv from [(time, DoasResult), ...] in time order,
    written whole; returns its path (None without fits)."""
    from rockit.common.files import atomic_write
    if not fits:
        return None
    path = Path(out) / f'doas_results_{fits[0][0]:%Y-%m-%dT%H%M%S}.csv'
    lines = [','.join(DOAS_COLUMNS)]
    for when, result in fits:
        lines.append(f'{pycam_time(when)},{_exact(result.column)},{_exact(result.error)},')
    atomic_write(path, ('\n'.join(lines) + '\n').encode())
    return path


class PycamDoasResults:
    """PyCam's doas_results file as spectra come (live): one per UTC day in out, named by
    the day's first spectrum, a row appended for each fit; the LDF is the light dilution
    correction's when there is one."""

    def __init__(self, out):
        self.out = Path(out)
        self._day, self._log = None, None

    def append(self, when, result, dilution=None):
        day = when.strftime('%Y-%m-%d')
        if day != self._day:
            begun = sorted(self.out.glob(f'doas_results_{day}T*.csv'))
            path = begun[0] if begun else self.out / f'doas_results_{when:%Y-%m-%dT%H%M%S}.csv'
            self._day, self._log = day, CsvLog(path, DOAS_COLUMNS)
        self._log.append({'Time': pycam_time(when), 'Column density': _exact(result.column),
                          'CD error': _exact(result.error), 'LDF': _exact(getattr(dilution, 'ldf', None))})

"""`make bench`: every benchmark, printed and written to bench/RESULTS.md with the machine
and date. Figures, never pass/fail: each ratio is against a baseline from the same run.

A benchmark is a module with run() (or a function) returning rows
(name, median, p99, n, ratio), optionally followed by `against`, the baseline row of that
ratio when it differs from the section's note, and `spread`, the (lowest, highest) ratio
of the rounds when the runs took turns with their baseline (bench/compare.py). Add one by
appending (title, module, note) to BENCHMARKS. `bench/run.py focuser daemons` runs only the
named modules and keeps the other sections of RESULTS.md.
"""
import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_startup  # noqa: E402
import compare  # noqa: E402
import daemons  # noqa: E402
import focuser  # noqa: E402
import focuser_alpaca  # noqa: E402
import load  # noqa: E402
import pycam_dilution_camera  # noqa: E402
import pycam_dilution_spectra  # noqa: E402
import pycam_frames  # noqa: E402
import pycam_export  # noqa: E402
import pycam_link  # noqa: E402
import pycam_processing  # noqa: E402
import slow_clients  # noqa: E402
import reconnect  # noqa: E402
import web_pages  # noqa: E402
import web_pollers  # noqa: E402

TURNS = ('Runs take turns with their baselines in an order that changes each round; ratio = the median '
         'of the rounds\' ratios, spread = their lowest-highest, against = the baseline row. "server CPU per '
         'call (us)" is the server process\'s CPU time over the calls it answered (p99 column: the highest round). '
         'CPU time = the CLI process\'s user + system time; the package is byte-compiled first, as installed.')
BENCHMARKS = [
    ('focusd: Pyro round trips (ms)', focuser,
     f'{TURNS} The {load.POLLERS} pollers are threads in {load.PROCESSES} processes calling report_status() back '
     f'to back, {compare.LOAD_SECONDS:g} s a turn, {compare.LOAD_REPEATS} turns each; "one more client" calls in '
     'turn meanwhile, as a dashboard would.'),
    ("focusd's Alpaca interface (ms)", focuser_alpaca,
     'ratio = median / the median of the row named under "against", on the same focusd'),
    ('CLI start-up (ms)', cli_startup, TURNS),
    ('Slow clients: another client while sockets trickle a byte per second (ms)', slow_clients,
     f'{slow_clients.ROUNDS} rounds take turns, quiet and under the trickle, {slow_clients.CALLS} calls of each '
     'kind a round, each on a new connection; ratio = the median of the rounds\' ratios, spread = their '
     'lowest-highest. The trickling sockets beyond an address\'s share are closed at once; those within it are '
     'cut 10 s after their first byte. Without these bounds (Pyro4\'s own daemon; 64 Alpaca connections from '
     'anyone) all 200 calls under the trickle failed, of each kind (2026-12-07, this machine).'),
    ('Reconnection after a replug, retry waits scaled tenfold (s)', reconnect,
     'ratio = the round\'s 1 s outage / its 0.05 s outage, taken in turn; the median of the rounds, spread their '
     'lowest and highest'),
    (f'Every daemon: report_status() idle and under {load.POLLERS} pollers, CLI status (ms)', daemons,
     f'{TURNS} The {load.POLLERS} pollers as above; each daemon against a bare Pyro4 object returning its status.'),
    ('pycamd frames: per-frame cost of a 2592 x 1944 RAW10 frame (ms)', pycam_frames,
     'ratio = median / straightforward NumPy median (unpack with shifts, np.delete, cv2.resize INTER_AREA, '
     'argsort, cv2.imencode)'),
    ('pycamd two-Pi link: frames from the second Pi to the master', pycam_link,
     'ratio = median / the bare call median, or for frames per second / the 1 Hz the instrument needs; '
     'p99 of a rate is the rate at the p99 time; 100 Mbit/s rows are computed from the bytes on the wire'),
    ("pycamd frame export: one export_next_frame and acknowledge_frame's work with a day of backlog (ms)",
     pycam_export,
     f'Before = the export code of commit {pycam_export.BEFORE}, loaded from git, which scanned the day folder on '
     f'every call. The two take turns, {pycam_export.ROUNDS} rounds, the first of each alternating; ratio = the '
     "median of the rounds' before / now, spread = their lowest-highest. Each call also writes the "
     'acknowledgement record (atomically, with fsync), most of what a call costs now.'),
    ('pycam processing: per on/off pair at 648 x 486 (ms)', pycam_processing,
     'ratio = median / pyplis-only pipeline median; speed row: plume speed agreement along the integration '
     'line in % (median, max), ratio = live / full-resolution Farneback speed. Batch rows: whole runs of '
     '`pycam process` taking turns, ratio = median of the rounds\' --jobs 2 / --jobs 1 times, spread their '
     'lowest and highest; a 2-core machine shared with other work gives --jobs 2 less than two cores.'),
    ("pycam spectrometer light dilution: the grid's build and each spectrum's correction (ms)", pycam_dilution_spectra,
     'ratio = median / one DOAS fit median (308-318 nm, the same spectra, the same run); the 2019-05-29 rows are '
     "columns of its 6 plume spectra, ratio = median / the uncorrected median. The grid's sky is the folder's "
     'first spectrum (clear sky); no truth exists there.'),
    ('pycam light dilution: the live pair with the correction on, simulated day at 648 x 486 (ms)', pycam_dilution_camera,
     'The live pipeline without the correction, with fixed coefficients and with coefficients fitted to five '
     'terrain lines in every pair take turns pair by pair, the first of each round rotating; ratio = the median '
     'of the rounds\' ratios to "off", spread = their lowest-highest. The live pair must stay under 60 ms.'),
    ('rockit-web: one poller per daemon, 1 and 50 HTTP clients', web_pollers,
     f'ratio = against the 1-client row of the same kind. Each client reads /api/<daemon>/status back to back '
     f'for {web_pollers.SECONDS:g} s; the daemon is a stand-in counting its report_status() calls (the first '
     'row\'s median and p99 are calls per second).'),
    ("rockit-web pages on the demo: Pyro calls per daemon with 1 and 50 browsers, the pycamd page's load",
     web_pages,
     f'Calls: each daemon of `make demo` behind a counting relay; each browser polls its page\'s status once a '
     f'second, fetches each picture whose version changed and opens the history, {web_pages.SECONDS:g} s per count '
     '(median = p99 = calls per second over the window, n = browsers per page; ratio against 1 browser). Loads: '
     f'headless chromium, cache off, {web_pages.LOADS} loads of each page taking turns; p99 = the slowest; ratio = '
     'median / the static page\'s median (a page of the same pictures as files), spread = the fastest and '
     'slowest load over that median. "first/last picture" = when its bytes had arrived.'),
]


def table(rows):
    """A markdown table; rows may add `against` and a (lowest, highest) spread of the ratio."""
    against = any(len(row) > 5 and row[5] for row in rows)
    spread = any(len(row) > 6 and row[6] for row in rows)
    lines = ['| measurement | median | p99 | n | ratio |' + (' spread |' if spread else '') + (' against |' if against else ''),
             '|---|---:|---:|---:|---:|' + ('---:|' if spread else '') + ('---|' if against else '')]
    for row in rows:
        name, median, p99, n, ratio = row[:5]
        line = f'| {name} | {median:.3f} | {p99:.3f} | {n} | {"" if ratio is None else f"{ratio:.2f}"} |'
        if spread:
            low_high = row[6] if len(row) > 6 else None
            line += f' {f"{low_high[0]:.2f}-{low_high[1]:.2f}" if low_high else ""} |'
        if against:
            line += f' {row[5] if len(row) > 5 and row[5] else ""} |'
        lines.append(line)
    return '\n'.join(lines)


def main(names=None):
    """Run every benchmark, or those whose module is named (`bench/run.py focuser daemons`):
    then only their sections of RESULTS.md are replaced, under the new date. Sections that
    other tools write (make soak's) are kept as they are."""
    names = sys.argv[1:] if names is None else names
    machine = f'{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}'
    now = datetime.datetime.now(datetime.timezone.utc)
    path = Path(__file__).parent / 'RESULTS.md'
    kept = _sections(path.read_text()) if path.exists() else {}
    measured = _date(path.read_text()) if kept else None
    sections = [f'# Benchmark results\n\n{now:%Y-%m-%d %H:%M} UTC on {machine}\n']
    for title, benchmark, note in BENCHMARKS:
        if names and benchmark.__name__ not in names:
            if title in kept:
                section = kept[title]
                if '\n(measured ' not in section:
                    section += f'\n(measured {measured})\n'
                sections.append(section)
            continue
        print(f'== {title}', flush=True)
        text = f'## {title}\n\n{table(getattr(benchmark, "run", benchmark)())}\n\n{note}\n'
        print(text, flush=True)
        sections.append(text)
    titles = {title for title, _, _ in BENCHMARKS}
    sections += [section for title, section in kept.items() if title not in titles]   # e.g. make soak's
    path.write_text('\n'.join(sections))


def _date(text):
    """The 'YYYY-MM-DD HH:MM UTC on machine' line of a RESULTS.md."""
    lines = text.splitlines()
    return lines[2] if len(lines) > 2 else 'earlier'


def _sections(text):
    """{title: its whole section} of a RESULTS.md."""
    parts = text.split('\n## ')[1:]
    return {part.split('\n', 1)[0]: '## ' + part.rstrip('\n') + '\n' for part in parts}


if __name__ == '__main__':
    main()

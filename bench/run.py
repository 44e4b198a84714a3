"""`make bench`: every benchmark, printed and written to bench/RESULTS.md with the machine
and date. Figures, never pass/fail: each ratio is against a baseline from the same run.

A benchmark is a module with run() (or a function) returning rows
(name, median, p99, n, ratio) or (name, median, p99, n, ratio, against), where `against`
names the baseline row of that ratio when it differs from the section's note. Add one by
appending (title, module, note) to BENCHMARKS.
"""
import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_startup  # noqa: E402
import focuser  # noqa: E402
import load  # noqa: E402
import pycam_frames  # noqa: E402
import pycam_link  # noqa: E402
import pycam_processing  # noqa: E402

BENCHMARKS = [
    ('focusd: Pyro round trips (ms)', focuser, 'ratio = median / bare Pyro4 call median'),
    ('CLI start-up (ms)', cli_startup, "ratio = median / `python -c 'import Pyro4'` median"),
    (f'Every daemon: report_status() idle and under {load.POLLERS} pollers, CLI status (ms)', load,
     f'ratio = median / the median of the row named under "against". The {load.POLLERS} pollers are threads '
     f'in {load.PROCESSES} processes calling report_status() back to back for {load.LOAD_SECONDS:g} s; '
     '"one more client" calls in turn meanwhile, as a dashboard would.'),
    ('pycamd frames: per-frame cost of a 2592 x 1944 RAW10 frame (ms)', pycam_frames,
     'ratio = median / straightforward NumPy median (unpack with shifts, np.delete, cv2.resize INTER_AREA, '
     'argsort, cv2.imencode)'),
    ('pycamd two-Pi link: frames from the second Pi to the master', pycam_link,
     'ratio = median / the bare call median, or for frames per second / the 1 Hz the instrument needs; '
     'p99 of a rate is the rate at the p99 time; 100 Mbit/s rows are computed from the bytes on the wire'),
    ('pycam processing: per on/off pair at 648 x 486 (ms)', pycam_processing,
     'ratio = median / pyplis-only pipeline median; last row: plume speed agreement along the integration '
     'line in % (median, max), ratio = live / full-resolution Farneback speed'),
]


def table(rows):
    against = any(len(row) > 5 and row[5] for row in rows)
    lines = ['| measurement | median | p99 | n | ratio |' + (' against |' if against else ''),
             '|---|---:|---:|---:|---:|' + ('---|' if against else '')]
    for row in rows:
        name, median, p99, n, ratio = row[:5]
        line = f'| {name} | {median:.3f} | {p99:.3f} | {n} | {"" if ratio is None else f"{ratio:.2f}"} |'
        if against:
            line += f' {row[5] if len(row) > 5 and row[5] else ""} |'
        lines.append(line)
    return '\n'.join(lines)


def main():
    machine = f'{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}'
    now = datetime.datetime.now(datetime.timezone.utc)
    sections = [f'# Benchmark results\n\n{now:%Y-%m-%d %H:%M} UTC on {machine}\n']
    for title, benchmark, note in BENCHMARKS:
        print(f'== {title}', flush=True)
        text = f'## {title}\n\n{table(getattr(benchmark, "run", benchmark)())}\n\n{note}\n'
        print(text, flush=True)
        sections.append(text)
    (Path(__file__).parent / 'RESULTS.md').write_text('\n'.join(sections))


if __name__ == '__main__':
    main()

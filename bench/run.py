"""`make bench`: every benchmark, printed and written to bench/RESULTS.md with the machine
and date. Figures, never pass/fail: each ratio is against a baseline from the same run."""
import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_startup  # noqa: E402
import focuser  # noqa: E402

BENCHMARKS = [
    ('focusd: Pyro round trips (ms)', focuser, 'ratio = median / bare Pyro4 call median'),
    ('CLI start-up (ms)', cli_startup, "ratio = median / `python -c 'import Pyro4'` median"),
]


def table(rows):
    lines = ['| measurement | median | p99 | n | ratio |', '|---|---:|---:|---:|---:|']
    for name, median, p99, n, ratio in rows:
        lines.append(f'| {name} | {median:.3f} | {p99:.3f} | {n} | {"" if ratio is None else f"{ratio:.2f}"} |')
    return '\n'.join(lines)


def main():
    machine = f'{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}'
    sections = [f'# Benchmark results\n\n{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}\n']
    for title, module, note in BENCHMARKS:
        print(f'== {title}', flush=True)
        text = f'## {title}\n\n{table(module.run())}\n\n{note}\n'
        print(text, flush=True)
        sections.append(text)
    (Path(__file__).parent / 'RESULTS.md').write_text('\n'.join(sections))


if __name__ == '__main__':
    main()

"""`make soak`: every daemon soaked at once on its emulator or simulator, each for
SOAK_MINUTES (default 10), beside pycamd killed with SIGKILL while it writes (KILL_TRIALS,
default 200); each run stops by itself. The figures are printed and written to
bench/RESULTS.md as its "Soak" section (the rest of the file is left as it is).
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / 'bench' / 'RESULTS.md'
TITLE = '## Soak'

RUNS = {
    'focusd': ['bench.soak.serial_daemons', 'focusd'],
    'chillerd': ['bench.soak.serial_daemons', 'chillerd'],
    'camvirtd': ['bench.soak.camvirtd'],
    'pycamd': ['bench.soak.pycamd'],
}


def main():
    seconds = float(os.environ.get('SOAK_MINUTES', 10)) * 60
    trials = int(os.environ.get('KILL_TRIALS', 200))
    seed = int(os.environ.get('SOAK_SEED', 13))
    out = Path(tempfile.mkdtemp(prefix='rockit-soak-'))
    running = {}
    for index, (name, module) in enumerate(RUNS.items()):
        running[name] = _spawn(module + [str(seconds), str(seed + index), str(out / f'{name}.json')], out / name)
    if trials:
        running['kill -9'] = _spawn(['bench.soak.kill_while_writing', str(trials), str(seed),
                                     str(out / 'kill.json')], out / 'kill')
    results, failed = {}, []
    for name, process in running.items():
        timeout = seconds + 600
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
        path = out / ('kill.json' if name == 'kill -9' else f'{name}.json')
        if process.returncode == 0 and path.exists():
            results[name] = json.loads(path.read_text())
        else:
            failed.append(f'{name} (exit {process.returncode}; see {out / name.split()[0]}.log)')
    text = section(results, seconds, trials, failed)
    print(text)
    write(text)
    return 1 if failed else 0


def _spawn(argv, log_stem):
    log = open(f'{log_stem}.log', 'w')
    return subprocess.Popen([sys.executable, '-m'] + argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def section(results, seconds, trials, failed):
    machine = f'{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}'
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [TITLE, '', f'{now:%Y-%m-%d %H:%M} UTC on {machine}; `make soak`, {seconds / 60:g} min per daemon, '
             'all four at once, 20 pollers each (one report_status() per 0.1 s each) and one client sending '
             'commands in random order.', '',
             '| daemon | faults applied (worst recovery) | status calls | over 2 s | slowest (s) | worst recovery (s) '
             '| not recovered | commands | raised | threads start/end | RSS MB start/end |',
             '|---|---|---:|---:|---:|---|---:|---:|---:|---|---|']
    for name in ('focusd', 'chillerd', 'camvirtd', 'pycamd'):
        r = results.get(name)
        if r is None:
            continue
        worst = r.get('worst_recovery_by_fault', {})
        faults = ', '.join(f'{k} {v}' + (f' ({worst[k]} s)' if k in worst else '') for k, v in r['faults'].items())
        lines.append(f"| {name} | {faults} | {r['status_calls']} | {r['status_over_2s']} | {r['slowest_status']} "
                     f"| {r['worst_recovery']} ({r['worst_recovery_fault']}) | {r['not_recovered']} | {r['commands']} "
                     f"| {r['raised']} | {r['threads'][0]}/{r['threads'][1]} "
                     f"| {r['rss_kb'][0] / 1024:.1f}/{r['rss_kb'][1] / 1024:.1f} |")
    lines += ['', 'Recovery: from the fault cleared (focusd: from each replug of its 20-replug loose cable) to '
              'report_status() online. Threads and memory are read 10 s after the clients start and at the end, '
              'with the same clients connected.']
    pycam = results.get('pycamd')
    if pycam:
        lines += ['', f"pycamd at the end: acquisition resumed: {pycam['acquisition_resumed']}; {pycam['files']} files "
                  f"in its data folder ({pycam['disk']}): {pycam['temporary_left']} temporary left, "
                  f"{pycam['unparsable']} unparsable, {pycam['without_sidecar']} without a sidecar."]
    kill = results.get('kill -9')
    if kill:
        lines += ['', f"pycamd killed with SIGKILL while writing ({kill['disk']}): {kill['trials']} trials, "
                  f"{kill['killed_while_writing']} with a temporary file on disk at the kill; after each restart "
                  f"{kill['temporary_left']} temporary files left, {kill['unparsable']} unparsable files, "
                  f"{kill['without_sidecar']} without a sidecar, acquisition resumed in {kill['resumed']} of "
                  f"{kill['trials']}; {kill['files']} files and {kill['csv_rows']} emission-rate CSV rows checked "
                  f"at the end; restart to first new capture median {kill['resume_median_s']} s, "
                  f"max {kill['resume_max_s']} s."]
    if failed:
        lines += ['', 'Did not finish: ' + '; '.join(failed)]
    return '\n'.join(lines) + '\n'


def write(text):
    current = RESULTS.read_text() if RESULTS.exists() else '# Benchmark results\n'
    start = current.find(TITLE + '\n')
    if start >= 0:
        end = current.find('\n## ', start + len(TITLE))
        current = current[:start].rstrip('\n') + ('\n' + current[end:] if end >= 0 else '')
    RESULTS.write_text(current.rstrip('\n') + '\n\n' + text)


if __name__ == '__main__':
    sys.exit(main())

"""Same-run comparisons that hold on a shared machine: a daemon and its baselines take
turns, in an order that changes from round to round, so a burst of someone else's load
falls on all of them alike. Each round gives one ratio per target; a table row shows the
median over all samples, and the median ratio with the spread (lowest-highest) of the
rounds' ratios. The server's CPU time per call comes from the kernel's clock for that
process, which other processes' load hardly moves.
"""
import statistics
import time

import load
from harness import latencies, summary
from rockit.common import pyro

ROUNDS = 12          # idle: rounds of CALLS calls to each target
CALLS = 200
LOAD_REPEATS = 3     # under load: turns of each target
LOAD_SECONDS = 6.0  # measured, after 1 s of warm-up


class Target:
    """A Pyro object to measure: its table label, registry address and server process id."""

    def __init__(self, label, address, pid):
        self.label, self.address, self.pid = label, address, pid


def process_cpu(pid):
    """Seconds of CPU time used so far by process pid (Linux: the CPU-time clock that
    clock_getcpuclockid(3) names for another process)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def turns(targets, round_number):
    """The targets in this round's order: rotated each round, reversed every other one."""
    shift = round_number % len(targets)
    order = targets[shift:] + targets[:shift]
    return order[::-1] if round_number % 2 else order


def idle(targets, rounds=None, calls=CALLS):
    """{label: {'ms': every latency, 'round': each round's median, 'cpu_us': per round}}"""
    rounds = rounds or ROUNDS
    proxies = {t.label: pyro.connect(t.address) for t in targets}
    results = {t.label: {'ms': [], 'round': [], 'cpu_us': []} for t in targets}
    try:
        for target in targets:
            latencies(proxies[target.label].report_status, calls)
        for number in range(rounds):
            for target in turns(targets, number):
                before = process_cpu(target.pid)
                times = latencies(proxies[target.label].report_status, calls)
                cpu = process_cpu(target.pid) - before
                result = results[target.label]
                result['ms'] += times
                result['round'].append(statistics.median(times))
                result['cpu_us'].append(cpu / calls * 1e6)
    finally:
        for proxy in proxies.values():
            proxy._pyroRelease()
    return results


def loaded(targets, repeats=None, pollers=None, seconds=None):
    """Like idle(), under `pollers` pollers calling report_status() back to back: 'ms' are
    the latencies of one more client calling in turn meanwhile, 'polls' the pollers' own,
    'round' and 'polls_round' the medians of each turn."""
    repeats, pollers, seconds = repeats or LOAD_REPEATS, pollers or load.POLLERS, seconds or LOAD_SECONDS
    results = {t.label: {'ms': [], 'round': [], 'polls': [], 'polls_round': [], 'cpu_us': []} for t in targets}
    for number in range(repeats):
        for target in turns(targets, number):
            started = load.spawn_pollers(target.address.uri, pollers, load.PROCESSES, warmup=1.0, duration=seconds)
            time.sleep(1.0)
            before = process_cpu(target.pid)
            probe = []
            with pyro.connect(target.address) as proxy:
                end = time.monotonic() + seconds - 0.5
                while time.monotonic() < end:
                    probe += latencies(proxy.report_status, 1)
            cpu = process_cpu(target.pid) - before
            polls = load.collect(started)
            if polls['errors']:
                print(f'{target.label}: {polls["errors"]} poller errors, e.g. {polls["first_errors"]}', flush=True)
            result = results[target.label]
            result['ms'] += probe
            result['round'].append(statistics.median(probe))
            result['polls'] += polls['latencies_ms']
            result['polls_round'].append(statistics.median(polls['latencies_ms']))
            result['cpu_us'].append(cpu / max(1, len(probe) + polls['calls']) * 1e6)
    return results


def row(label, samples, rounds, base=None):
    """(label, median, p99, n, median ratio, against, (lowest, highest) ratio) where the
    ratios are round by round against base = (label, its rounds); no ratio without base."""
    found = summary(samples)
    if base is None:
        return label, found['median'], found['p99'], found['n'], None, None, None
    ratios = [mine / theirs for mine, theirs in zip(rounds, base[1])]
    return (label, found['median'], found['p99'], found['n'], statistics.median(ratios), base[0],
            (min(ratios), max(ratios)))


def cpu_row(label, cpu_us, base=None):
    """Server CPU time per call in microseconds, as a row (n = rounds)."""
    ratios = None if base is None else [mine / theirs for mine, theirs in zip(cpu_us, base[1])]
    return (label, statistics.median(cpu_us), max(cpu_us), len(cpu_us),
            None if ratios is None else statistics.median(ratios), None if base is None else base[0],
            None if ratios is None else (min(ratios), max(ratios)))


def start_up(commands, runs, env=None):
    """{label: {'ms': wall times, 'cpu_ms': CPU times}} of each command (label -> argv),
    run in turns like idle()'s targets, once per run each."""
    import resource
    import subprocess

    def children_cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    labels = list(commands)
    results = {label: {'ms': [], 'cpu_ms': []} for label in labels}
    for number in range(runs):
        for label in turns(labels, number):
            cpu, started = children_cpu(), time.perf_counter()
            subprocess.run(commands[label], env=env, stdout=subprocess.DEVNULL, check=True)
            results[label]['ms'].append((time.perf_counter() - started) * 1000)
            results[label]['cpu_ms'].append((children_cpu() - cpu) * 1000)
    return results


def start_up_rows(results, base_label):
    """Wall-time and CPU-time rows of start_up()'s results, each run's ratio against the
    base command's run of the same turn."""
    base = results[base_label]
    rows = []
    for label, found in results.items():
        against = None if label == base_label else base
        rows.append(row(label, found['ms'], found['ms'], against and (base_label, base['ms'])))
        rows.append(row(f'{label}: CPU time', found['cpu_ms'], found['cpu_ms'],
                        against and (f'{base_label}: CPU time', base['cpu_ms'])))
    return rows

"""One daemon's soak run: pollers and a commanding client on it for `duration` seconds while
random faults come and go, then the figures.

A fault is (name, apply(rng), clear()): applied for a random while, then cleared, after
which the time until the daemon says it is online again is its recovery.
"""
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from .clients import Commander, Pollers, proc_status, wait_online

WARM_UP = 10.0          # s of clients before the start figures (Pyro's worker pool filled)
FAULT_LENGTH = (0.5, 8.0)
HEALTHY = (2.0, 10.0)   # s between faults
RECOVERY_WAIT = 60.0    # s a recovery is waited for before it counts as none


@dataclass
class Fault:
    name: str
    apply: Callable
    clear: Callable
    length: tuple = FAULT_LENGTH


def soak(name, pid, address, faults, commands, duration, seed, is_online=None, prelude=None, pollers=20):
    """Run the soak; returns its figures as a dict. prelude(address, rng) -> recoveries runs
    first (the focuser's loose cable), inside the same clients and duration."""
    rng = random.Random(seed)
    is_online = is_online or (lambda status: status['status'] != 0)
    polling = Pollers(address, pollers).start()
    commander = Commander(address, commands, seed).start()
    started = time.monotonic()
    deadline = started + duration
    time.sleep(WARM_UP)
    threads_start, rss_start = proc_status(pid)
    recoveries, applied = [], Counter()
    if prelude:
        recoveries += [('replug', seconds) for seconds in prelude(address, rng)]
        applied['replug'] += len(recoveries)
    while time.monotonic() < deadline - 2 * max(FAULT_LENGTH) - WARM_UP:
        fault = rng.choice(faults)
        fault.apply(rng)
        applied[fault.name] += 1
        time.sleep(rng.uniform(*fault.length))
        fault.clear()
        recoveries.append((fault.name, wait_online(address, RECOVERY_WAIT, is_online)))
        time.sleep(rng.uniform(*HEALTHY))
    time.sleep(max(0.0, deadline - time.monotonic()))
    threads_end, rss_end = proc_status(pid)
    commander.stop()
    polling.stop()
    worst = max(recoveries, key=lambda r: float('inf') if r[1] is None else r[1], default=(None, 0.0))
    by_fault = {}
    for fault, seconds in recoveries:
        if seconds is not None:
            by_fault[fault] = round(max(seconds, by_fault.get(fault, 0.0)), 2)
    return {
        'daemon': name, 'seconds': round(time.monotonic() - started), 'faults': dict(applied),
        'status_calls': polling.calls, 'status_over_2s': polling.slow, 'slowest_status': round(polling.slowest, 3),
        'status_errors': polling.errors,
        'worst_recovery': None if worst[1] is None else round(worst[1], 2), 'worst_recovery_fault': worst[0],
        'worst_recovery_by_fault': by_fault,
        'not_recovered': sum(seconds is None for _, seconds in recoveries),
        'commands': commander.count, 'codes': {str(k): v for k, v in sorted(commander.answered.items())},
        'raised': len(commander.raised), 'raised_examples': commander.raised[:5],
        'threads': [threads_start, threads_end], 'rss_kb': [rss_start, rss_end],
    }

"""Reconnection: how soon the device loop is back after a replug, on the tests' line device
(tests/line_device.py: a real serial link, retry waits scaled tenfold, 0.1 s to 0.5 s). A
long outage (1 s) drives the waits to their longest; a short one (0.05 s), in turn with it
in every round, is the baseline. Both are at most the longest wait plus one attempt.
tests/common/test_reconnect.py holds what must happen (back online after every replug)."""
import logging
import random
import time

from harness import summary
from line_device import LineDevice, LineModel
from rockit.common.emulator import EmulatorLink

ROUNDS = 12
OUTAGES = {'short': 0.05, 'long': 1.0}   # s unplugged
CEILING = 30.0                            # s: a recovery not seen by then is an error


def wait(predicate):
    deadline = time.monotonic() + CEILING
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError('the line device did not change state within 30 s')
        time.sleep(0.005)
    return time.monotonic()


def recovery(link, loop, outage):
    """Seconds from a replug to connected, after `outage` seconds unplugged."""
    link.unplug()
    wait(lambda: not loop.connected)
    time.sleep(outage)
    link.replug()
    replugged = time.monotonic()
    return wait(lambda: loop.connected) - replugged


def run():
    link = EmulatorLink(LineModel()).start()
    log = logging.getLogger('rockit-bench-line')
    log.propagate, log.disabled = False, True      # an outage a round, not worth a line each
    device = LineDevice(link.url, log)
    device.loop.start()
    try:
        wait(lambda: device.loop.connected)
        rng = random.Random(3)
        times = {kind: [] for kind in OUTAGES}
        ratios = []
        for _ in range(ROUNDS):
            order = list(OUTAGES)
            rng.shuffle(order)
            this_round = {kind: recovery(link, device.loop, OUTAGES[kind]) for kind in order}
            for kind, seconds in this_round.items():
                times[kind].append(seconds)
            ratios.append(this_round['long'] / this_round['short'])
    finally:
        device.loop.stop()
        link.stop()
    short, long_ = summary(times['short']), summary(times['long'])
    ratios.sort()
    return [('back online after a 0.05 s outage (s)', short['median'], short['p99'], short['n'], 1.0),
            ('back online after a 1 s outage, waits at their longest (s)', long_['median'], long_['p99'], long_['n'],
             ratios[len(ratios) // 2], 'the 0.05 s outage', (ratios[0], ratios[-1]))]


if __name__ == '__main__':
    for row in run():
        print(row)

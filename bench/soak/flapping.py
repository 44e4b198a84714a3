"""A loose cable: the device unplugged and replugged at random, as a field engineer sees
it. Each replug is followed by the time the daemon takes to say it is online again; the
device stays plugged for a random while from the replug, and at least until the daemon is
back (or `bound` has passed), so that every cycle measures a recovery."""
import time

from .clients import wait_online


def flap(link, address, rng, cycles, connected=(2.0, 6.0), unplugged=(0.5, 5.0), bound=10.0):
    """Unplug and replug `cycles` times; returns each replug's recovery in seconds (None:
    not online within bound)."""
    recoveries = []
    for _ in range(cycles):
        link.unplug()
        time.sleep(rng.uniform(*unplugged))
        link.replug()
        replugged = time.monotonic()
        recoveries.append(wait_online(address, bound))
        time.sleep(max(0.0, replugged + rng.uniform(*connected) - time.monotonic()))
    return recoveries

"""A loose cable on a busy focusd: its controller unplugged and replugged at random (2-6 s
connected, 0.5-5 s unplugged) while 20 pollers read its status and a client keeps
commanding moves. After every replug it is online again (RECOVERY is a ceiling for a busy
machine; the longest retry wait is 5 s), every status call is answered (none fails or
reaches the pollers' 30 s timeout), and every command answers a code. `make soak` runs the
same with 20 replugs and reports the recoveries and the slowest status call; this is its
short version."""
import random

import pytest

from bench.soak.clients import Commander, Pollers
from bench.soak.flapping import flap

RECOVERY = 30.0   # s from a replug to ONLINE, whatever the outages before
REPLUGS = 4
MOVES = [('set_focus', lambda rng: (rng.randint(1, 2), rng.randint(-200, 200))), ('stop_channel', (1,)),
         ('enable_fans', (True,))]


@pytest.mark.slow
def test_a_flapping_controller_is_back_online_after_every_replug(make_focuser):
    focuser = make_focuser()
    address = focuser.daemon.address
    pollers = Pollers(address, 20).start()
    commander = Commander(address, MOVES, seed=13, pause=(0.0, 0.3), timeout=30).start()
    try:
        recoveries = flap(focuser.link, address, random.Random(13), REPLUGS, bound=RECOVERY)
    finally:
        commander.stop()
        pollers.stop()
    assert None not in recoveries, recoveries
    assert pollers.calls > 0 and pollers.errors == 0, pollers.errors
    assert commander.raised == [] and commander.count > 0
    assert focuser.daemon.process.poll() is None
    assert len(commander.answered) >= 2, commander.answered   # succeeded, and refused while offline

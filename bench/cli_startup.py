"""CLI start-up: `focus status` wall time against the interpreter alone and against
`import Pyro4`, measured in the same run (people type these; dashboards shell out)."""
import os
import subprocess
import sys
import time

from harness import ROOT, latencies, start_focusd, stop, summary
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

RUNS = 20


def run():
    link, config, _, daemon = start_focusd('bench_cli_focuser', FocusControllerEmulator(channels=2))
    env = dict(os.environ, FOCUSD_CONFIG_PATH=str(config))
    time.sleep(1)

    def timed(argv):
        return summary(latencies(lambda: subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True), RUNS))

    try:
        rows = {
            "python -c pass": timed([sys.executable, '-c', 'pass']),
            "python -c 'import Pyro4'": timed([sys.executable, '-c', 'import Pyro4']),
            'focus status': timed([sys.executable, str(ROOT / 'focus'), 'status']),
            'focus json': timed([sys.executable, str(ROOT / 'focus'), 'json']),
        }
    finally:
        stop(daemon)
        link.stop()
    base = rows["python -c 'import Pyro4'"]['median']
    return [(name, r['median'], r['p99'], r['n'], r['median'] / base) for name, r in rows.items()]

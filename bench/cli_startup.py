"""CLI start-up: `focus status` wall time against the interpreter alone and against
`import Pyro4`, measured in the same run (people type these; dashboards shell out)."""
import json
import os
import subprocess
import sys
import time

from harness import ROOT, WORK, latencies, register, start, stop, summary
from rockit.common.emulator import EmulatorLink
from rockit.focuser.emulator import FocusControllerEmulator

RUNS = 20


def run():
    model = FocusControllerEmulator(channels=2)
    link = EmulatorLink(model).start()
    address = register('bench_cli_focuser')
    config = WORK / 'focusd-cli.json'
    config.write_text(json.dumps({
        'daemon': 'bench_cli_focuser', 'log_name': 'focusd@bench', 'control_machines': ['LocalHost'],
        'serial_port': link.url, 'serial_baud': 9600, 'serial_timeout': 5, 'channels': 2,
        'idle_loop_delay': 5, 'moving_loop_delay': 0.5, 'move_timeout': 180}))
    daemon = start([ROOT / 'focusd', config], address, 'focusd-cli')
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

"""CLI start-up: `focus status` against `python -c 'import Pyro4'` (what any Pyro client
must load) and the interpreter alone, in turns in the same run, wall and CPU time
(people type these; dashboards shell out)."""
import os
import sys
import time

import compare
from harness import ROOT, compile_bytecode, start_focusd, stop
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

RUNS = 30
BASE = "python -c 'import Pyro4'"


def run():
    compile_bytecode()
    link, config, _, daemon = start_focusd('bench_cli_focuser', FocusControllerEmulator(channels=2))
    env = dict(os.environ, FOCUSD_CONFIG_PATH=str(config))
    time.sleep(1)
    try:
        results = compare.start_up({
            BASE: [sys.executable, '-c', 'import Pyro4'],
            'python -c pass': [sys.executable, '-c', 'pass'],
            'focus status': [sys.executable, str(ROOT / 'focus'), 'status'],
            'focus json': [sys.executable, str(ROOT / 'focus'), 'json'],
        }, RUNS, env)
    finally:
        stop(daemon)
        link.stop()
    return compare.start_up_rows(results, BASE)

"""The benchmark `make bench` prints as its daemon table: report_status() latency of each
daemon idle and under load.POLLERS pollers, in turns with a bare Pyro4 object returning the
same status (bench/compare.py), and each CLI's `status` wall and CPU time against
`python -c 'import Pyro4'`. Under load two figures are kept: one more client calling in
turn (what a dashboard sees) and the pollers' own calls.
Adding a daemon is one entry in DAEMONS: a function that starts it and its CLI's name.
"""
import json
import os
import sys
import time

import compare
import harness
from harness import ROOT
from load import POLLERS

CLI_RUNS = 20


# Each daemon on its emulator (libvirt's test driver for camvirtd).
def _focusd(harness):
    from rockit.common.emulator import EmulatorLink
    from rockit.focuser.multichannel.emulator import DEMO_PROBES, FocusControllerEmulator
    link = EmulatorLink(FocusControllerEmulator(channels=2, probes=DEMO_PROBES)).start()
    config = {'control_machines': ['LocalHost'], 'serial_port': link.url, 'serial_baud': 9600,
              'serial_timeout': 5, 'channels': 2, 'idle_loop_delay': 5, 'moving_loop_delay': 0.5,
              'move_timeout': 180,
              'temperature_probes': {f'probe{i}': {'label': f'Probe {i}', 'address': address}
                                     for i, address in enumerate(DEMO_PROBES)}}
    return config, link.stop


def _chillerd(harness):
    from rockit.chiller.emulator import ChillerEmulator
    from rockit.common.emulator import EmulatorLink
    link = EmulatorLink(ChillerEmulator()).start()
    config = {'control_machines': ['LocalHost'], 'serial_port': link.url, 'serial_baud': 9600,
              'serial_timeout': 5, 'query_delay': 30}
    return config, link.stop


def _camvirtd(harness):
    node = harness.WORK / 'node.xml'
    node.write_text('<node>' + ''.join(
        f'<domain type="test"><name>cam{i}</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>'
        for i in (1, 2)) + '</node>\n')
    for i in (1, 2):
        harness.register(f'bench_cam{i}')
    config = {'control_machines': ['LocalHost'], 'initialize_timeout': 60, 'shutdown_timeout': 60,
              'libvirt_uri': f'test://{node}', 'domains': {f'cam{i}': {f'cam{i}': f'bench_cam{i}'} for i in (1, 2)}}
    return config, lambda: None


DAEMONS = [  # (executable, CLI, CLI config variable, start(harness) -> (config without daemon/log_name, stop))
    ('focusd', 'focus', 'FOCUSD_CONFIG_PATH', _focusd),
    ('chillerd', 'chiller', 'CHILLERD_CONFIG_PATH', _chillerd),
    ('camvirtd', 'camvirt', 'CAMVIRTD_CONFIG_PATH', _camvirtd),
]


def run():
    """The rows of `make bench`'s daemon table: each daemon in turns with a bare Pyro4
    object returning the same status (bench/compare.py), and each CLI's `status` in turns
    with `python -c 'import Pyro4'`."""
    harness.compile_bytecode()
    rows = []
    for executable, cli, variable, setup in DAEMONS:
        name = f'bench_load_{executable}'
        address = harness.register(name)
        config, stop_device = setup(harness)
        path = harness.WORK / f'{name}.json'
        path.write_text(json.dumps({'daemon': name, 'log_name': f'{executable}@bench', **config}))
        servers = [harness.start([ROOT / executable, path], address, name)]
        try:
            bare = harness.register(f'{name}_bare')
            servers.append(harness.baseline_server(bare, _online_status(address)))
            targets = [compare.Target(f'{executable}: bare Pyro4, same status', bare, servers[1].pid),
                       compare.Target(f'{executable} report_status', address, servers[0].pid)]
            rows += _rows(compare.idle(targets), 'idle', compare)
            loaded = compare.loaded(targets)
            rows += _rows(loaded, f'{POLLERS} pollers: one more client', compare)
            rows += _rows(loaded, f"{POLLERS} pollers: the pollers' calls", compare, 'polls', 'polls_round')
            python = "python -c 'import Pyro4'"
            started = compare.start_up({python: [sys.executable, '-c', 'import Pyro4'],
                                        f'{cli} status': [sys.executable, str(ROOT / cli), 'status']},
                                       CLI_RUNS, dict(os.environ, **{variable: str(path)}))
            rows += [row for row in compare.start_up_rows(started, python) if row[0].startswith(cli)]
        finally:
            for server in servers:
                harness.stop(server)
            stop_device()
    return rows


def _online_status(address):
    """The daemon's status once it is online (or after 30 s, whatever it is then)."""
    from rockit.common import pyro
    with pyro.connect(address) as proxy:
        deadline = time.monotonic() + 30
        while proxy.report_status()['status'] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        return proxy.report_status()


def _rows(results, case, compare, key='ms', rounds_key='round'):
    """The daemon's latencies and server CPU per call, each against the bare object's."""
    (bare_label, bare), (label, mine) = results.items()
    rows = [compare.row(f'{label}, {case}', mine[key], mine[rounds_key], (f'{bare_label}, {case}', bare[rounds_key]))]
    if key == 'ms':
        cpu = f'{case.split(":")[0]}: server CPU per call (us)'
        rows.append(compare.cpu_row(f'{label}, {cpu}', mine['cpu_us'], (f'{bare_label}, {cpu}', bare['cpu_us'])))
    return rows

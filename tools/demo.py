"""`make demo`: every daemon on its emulator on free loopback ports, then each CLI's status.
`make demo-two-pi` (tools/demo.py --two-pi): the two-Pi SO2 camera instead, a master pycamd
and a second one owning the off-band camera, both simulated.

Everything lives in .demo/ (registry, configs, logs, pycamd's data; --dir names another
folder), so that two demos in two folders never share a file. Then
rockit-web shows them all, at the URL printed. On a terminal (or with --keep) the daemons
keep running until Ctrl-C or SIGTERM, with the commands to drive them printed; otherwise
they stop once the status has been shown.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / '.demo'
PYTHON = sys.executable


class Demo:
    def __init__(self, title, daemon, cli, env_var, config, registry_name, emulator=None, steps=(),
                 also_registered=(), stand_ins=None, ready=None, settle=0, label=None):
        self.label = label or daemon     # names its config and log in .demo/
        self.title, self.daemon, self.cli, self.env_var = title, daemon, cli, env_var
        self.config, self.registry_name, self.emulator, self.steps = config, registry_name, emulator, steps
        # Other daemons the config names (given free ports too), and a module serving
        # stand-ins for them from the config (`python -m MODULE CONFIG`).
        self.also_registered, self.stand_ins = also_registered, stand_ins
        # s to let the steps take effect before the status is shown; with ready, at most
        # that long until ready(status as `json` prints it) holds.
        self.settle, self.ready = settle, ready


def rate_known(status):
    """pycamd has processed a pair into an SO2 emission rate with its uncertainty."""
    processing = status.get('processing') or {}
    return processing.get('emission_rate_kg_s') is not None and processing.get('emission_rate_err_kg_s') is not None


def doas_calibrated_rate_known(status):
    """pycamd has found where its spectrometer looks, calibrated by DOAS, and processed a
    pair into an SO2 emission rate with its uncertainty (about 40 s after the start)."""
    return ((status.get('processing') or {}).get('calibration') or {}).get('state') == 'doas' and rate_known(status)


DEMOS = [
    Demo('Focuser (2 channels, emulated controller)', 'focusd', 'focus', 'FOCUSD_CONFIG_PATH',
         'config/focusd/test.json', 'localhost_test', emulator='rockit.focuser.multichannel.emulator',
         steps=[['set', '1', '250'], ['fans', 'enable']]),
    Demo('Chiller (Thermotek T257P, emulated)', 'chillerd', 'chiller', 'CHILLERD_CONFIG_PATH',
         'config/chillerd/test.json', 'localhost_test2', emulator='rockit.chiller.emulator',
         steps=[['setpoint', '12.5'], ['mode', 'manual'], ['enable']]),
    Demo('Camera VMs (libvirt test driver, camera daemon stand-ins)', 'camvirtd', 'camvirt',
         'CAMVIRTD_CONFIG_PATH', 'config/camvirtd/test.json', 'localhost_test3',
         steps=[['init'], ['kill'], ['init']], also_registered=['localhost_test4', 'localhost_test5'],
         stand_ins='rockit.camvirt.emulator'),
    Demo('SO2 camera (simulated Pi cameras and spectrometer)', 'pycamd', 'pycam', 'PYCAMD_CONFIG_PATH',
         'config/pycamd/test.json', 'localhost_test6',
         steps=[['capture', 'Dark'], ['capture', 'Clear', 'cameras'], ['capture', '0ppmm', 'cameras'],
                ['capture', '1257ppmm', 'cameras'], ['start']], settle=120, ready=doas_calibrated_rate_known),
]

TWO_PI_DEMOS = [
    Demo('SO2 camera, second Pi (the simulated off-band camera alone)', 'pycamd', 'pycam', 'PYCAMD_CONFIG_PATH',
         'config/pycamd/test-two-pi-second.json', 'localhost_test7', label='pycamd-second'),
    Demo('SO2 camera, master Pi (on-band camera, spectrometer, the off-band camera through the second Pi)',
         'pycamd', 'pycam', 'PYCAMD_CONFIG_PATH', 'config/pycamd/test-two-pi-master.json', 'localhost_test8',
         label='pycamd-master',
         steps=[['capture', 'Dark', 'cameras'], ['capture', 'Clear', 'cameras'], ['capture', '0ppmm', 'cameras'],
                ['capture', '304ppmm', 'cameras'], ['capture', '1257ppmm', 'cameras'], ['start']],
         settle=60, ready=rate_known),
]


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_emulator(module, log):
    process = subprocess.Popen([PYTHON, '-m', module, '--tcp', '0'], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=log, text=True)
    return process, process.stdout.readline().strip()


def cli(demo, *args, env):
    return subprocess.run([PYTHON, str(ROOT / demo.cli), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


def wait_status(demo, env, condition, timeout):
    """Poll the CLI's `json` until condition(status) holds; False after timeout s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = cli(demo, 'json', env=env)
        if result.returncode == 0 and condition(json.loads(result.stdout)):
            return True
        time.sleep(0.3)
    return False


def wait_online(demo, env, timeout=20):
    return wait_status(demo, env, lambda status: status.get('status'), timeout)


def start_web(demos, env, processes):
    """rockit-web over every demo daemon, on a free loopback port; returns its URL."""
    port = free_port()
    config = {'port': port, 'host': '127.0.0.1', 'daemons': [demo.registry_name for demo in demos],
              'control_machines': ['LocalHost'], 'log_name': 'rockit-web@demo'}
    (DEMO / 'rockit-web.json').write_text(json.dumps(config, indent=2))
    log = open(DEMO / 'rockit-web.log', 'w')
    processes.append(subprocess.Popen([PYTHON, str(ROOT / 'rockit-web'), str(DEMO / 'rockit-web.json')],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    url = f'http://127.0.0.1:{port}/'
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + 'api/status', timeout=2).read()
            return url
        except OSError:
            time.sleep(0.3)
    return None


def main():
    global DEMO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dir', type=Path, default=DEMO, help='folder for the registry, configs and logs')
    parser.add_argument('--keep', action='store_true', help='keep running without a terminal too')
    parser.add_argument('--two-pi', action='store_true', help='the two-Pi SO2 camera instead')
    args = parser.parse_args()
    DEMO = args.dir.resolve()
    demos = TWO_PI_DEMOS if args.two_pi else DEMOS
    DEMO.mkdir(exist_ok=True)
    registry = {'daemons': {}, 'machines': {'LocalHost': '127.0.0.1'}}
    for demo in demos:
        for name in [demo.registry_name, *demo.also_registered]:
            registry['daemons'][name] = {'object_id': f'{name}_demo', 'host': '127.0.0.1', 'port': free_port()}
    (DEMO / 'registry.json').write_text(json.dumps(registry, indent=2))
    env = dict(os.environ, ROCKIT_REGISTRY=str(DEMO / 'registry.json'))

    processes = []
    try:
        for demo in demos:
            log = open(DEMO / f'{demo.label}.log', 'w')
            config = json.loads((ROOT / demo.config).read_text())
            if demo.emulator:
                emulator, url = start_emulator(demo.emulator, log)
                processes.append(emulator)
                config['serial_port'] = url
            if config.get('libvirt_uri', '').startswith('test:') and not config['libvirt_uri'].startswith('test:/'):
                # A node file named relative to the config's folder, which is not .demo/.
                config['libvirt_uri'] = f"test://{(ROOT / demo.config).parent / config['libvirt_uri'][5:]}"
            if 'data_root' in config:
                config['data_root'] = str(DEMO / f'{demo.label}-data')
            config_path = DEMO / f'{demo.label}.json'
            config_path.write_text(json.dumps(config, indent=2))
            if demo.stand_ins:
                stand_ins = subprocess.Popen([PYTHON, '-m', demo.stand_ins, str(config_path)], cwd=ROOT, env=env,
                                             stdout=subprocess.PIPE, stderr=log, text=True)
                processes.append(stand_ins)
                stand_ins.stdout.readline()  # one line once every stand-in listens
            processes.append(subprocess.Popen([PYTHON, str(ROOT / demo.daemon), str(config_path)],
                                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
            env[demo.env_var] = str(config_path)

        failed = False
        for demo in demos:
            env[demo.env_var] = str(DEMO / f'{demo.label}.json')
            print(f'\n=== {demo.title}: ./{demo.cli} status')
            if not wait_online(demo, env):
                print(f'{demo.daemon} did not come online; see {DEMO / (demo.label + ".log")}')
                failed = True
                continue
            for step in demo.steps:
                result = cli(demo, *step, env=env)
                print(f'$ ./{demo.cli} {" ".join(step)}  -> exit {result.returncode} {result.stderr.strip()}')
            if demo.ready:
                wait_status(demo, env, demo.ready, demo.settle)
            else:
                time.sleep(demo.settle)
            print(cli(demo, 'status', env=env).stdout.rstrip())

        url = start_web(demos, env, processes)
        if url:
            print(f'\n=== Web pages of every daemon: {url}', flush=True)
        else:
            print(f'\nrockit-web did not start; see {DEMO / "rockit-web.log"}', flush=True)
            failed = True

        if (sys.stdin.isatty() or args.keep) and not failed:
            print('\nThe daemons keep running. In another shell:')
            print(f'  export ROCKIT_REGISTRY={DEMO / "registry.json"}')
            for demo in demos:
                print(f'  export {demo.env_var}={DEMO / (demo.label + ".json")}')
            print('  ./focus status; ./focus set 2 -300; ./focus json')
            print('  ./chiller status; ./chiller disable; ./chiller mode auto; ./chiller json')
            print('  ./camvirt status; ./camvirt kill; ./camvirt init')
            print('  ./pycam status; ./pycam stop; ./pycam json')
            print('Press Ctrl-C here to stop them.', flush=True)
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            while True:
                time.sleep(3600)
        return 1 if failed else 0
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):  # each daemon before its emulator
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == '__main__':
    sys.exit(main())

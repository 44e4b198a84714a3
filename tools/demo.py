"""`make demo`: every daemon on its emulator on free loopback ports, then each CLI's status.

Everything lives in .demo/ (registry, configs, logs). On a terminal the daemons keep
running until Ctrl-C, with the commands to drive them printed; otherwise they stop once
the status has been shown.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / '.demo'
PYTHON = sys.executable


class Demo:
    def __init__(self, title, daemon, cli, env_var, config, registry_name, emulator=None, steps=()):
        self.title, self.daemon, self.cli, self.env_var = title, daemon, cli, env_var
        self.config, self.registry_name, self.emulator, self.steps = config, registry_name, emulator, steps


DEMOS = [
    Demo('Focuser (2 channels, emulated controller)', 'focusd', 'focus', 'FOCUSD_CONFIG_PATH',
         'config/focusd/test.json', 'localhost_test', emulator='rockit.focuser.emulator',
         steps=[['set', '1', '250'], ['fans', 'enable']]),
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


def wait_online(demo, env, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = cli(demo, 'json', env=env)
        if result.returncode == 0 and json.loads(result.stdout).get('status'):
            return True
        time.sleep(0.3)
    return False


def main():
    DEMO.mkdir(exist_ok=True)
    registry = {'daemons': {}, 'machines': {'LocalHost': '127.0.0.1'}}
    for demo in DEMOS:
        registry['daemons'][demo.registry_name] = {
            'object_id': f'{demo.daemon}_demo', 'host': '127.0.0.1', 'port': free_port()}
    (DEMO / 'registry.json').write_text(json.dumps(registry, indent=2))
    env = dict(os.environ, ROCKIT_REGISTRY=str(DEMO / 'registry.json'))

    processes = []
    try:
        for demo in DEMOS:
            log = open(DEMO / f'{demo.daemon}.log', 'w')
            config = json.loads((ROOT / demo.config).read_text())
            if demo.emulator:
                emulator, url = start_emulator(demo.emulator, log)
                processes.append(emulator)
                config['serial_port'] = url
            config_path = DEMO / f'{demo.daemon}.json'
            config_path.write_text(json.dumps(config, indent=2))
            processes.append(subprocess.Popen([PYTHON, str(ROOT / demo.daemon), str(config_path)],
                                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
            env[demo.env_var] = str(config_path)

        failed = False
        for demo in DEMOS:
            print(f'\n=== {demo.title}: ./{demo.cli} status')
            if not wait_online(demo, env):
                print(f'{demo.daemon} did not come online; see {DEMO / (demo.daemon + ".log")}')
                failed = True
                continue
            for step in demo.steps:
                result = cli(demo, *step, env=env)
                print(f'$ ./{demo.cli} {" ".join(step)}  -> exit {result.returncode} {result.stderr.strip()}')
            print(cli(demo, 'status', env=env).stdout.rstrip())

        if sys.stdin.isatty() and not failed:
            print('\nThe daemons keep running. In another shell:')
            print(f'  export ROCKIT_REGISTRY={DEMO / "registry.json"}')
            for demo in DEMOS:
                print(f'  export {demo.env_var}={DEMO / (demo.daemon + ".json")}')
            print('  ./focus status; ./focus set 2 -300; ./focus json')
            print('Press Ctrl-C here to stop them.')
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

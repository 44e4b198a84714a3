"""Soak focusd and chillerd on their emulators, with the CLASP serial timings: the cable
unplugged and replugged, the device silent, answering garbage, or answering slowly (half
to one and a half serial timeouts). focusd starts with the loose cable of 20 replugs.

    python -m bench.soak.serial_daemons focusd|chillerd DURATION SEED OUT.json
"""
import json
import sys

from bench import harness
from rockit.chiller.emulator import ChillerEmulator
from rockit.common.emulator import EmulatorLink
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

from .flapping import flap
from .soak import Fault, soak

SERIAL_TIMEOUT = 5
REPLUGS = 20


def link_faults(link):
    def switch(name, on):
        return lambda *_: setattr(link, name, on)
    return [
        Fault('unplug', lambda rng: link.unplug(), link.replug),
        Fault('silence', switch('silent', True), switch('silent', False)),
        Fault('garbage', switch('garbage', True), switch('garbage', False)),
        Fault('slow replies', lambda rng: setattr(link, 'delay', rng.uniform(0.5, 1.5) * SERIAL_TIMEOUT),
              switch('delay', 0.0), length=(5.0, 20.0)),
    ]


def focusd(duration, seed):
    model = FocusControllerEmulator(channels=2, probes={'28FF4A1B6117045D': 12.5})
    link, _, address, process = harness.start_focusd('soak_focus', model)
    commands = [('set_focus', lambda rng: (rng.randint(1, 2), rng.randint(-300, 300))), ('stop_channel', (1,)),
                ('reset_home_position', (2,)), ('enable_fans', (True,)), ('enable_fans', (False,)),
                ('initialize', ())]
    try:
        return soak('focusd', process.pid, address, link_faults(link), commands, duration, seed,
                    prelude=lambda address, rng: flap(link, address, rng, REPLUGS))
    finally:
        harness.stop(process)
        link.stop()


def chillerd(duration, seed):
    link = EmulatorLink(ChillerEmulator()).start()
    address = harness.register('soak_chiller')
    config = harness.WORK / 'soak_chiller.json'
    config.write_text(json.dumps({
        'daemon': 'soak_chiller', 'log_name': 'chillerd@soak', 'control_machines': ['LocalHost'],
        'serial_port': link.url, 'serial_baud': 9600, 'serial_timeout': SERIAL_TIMEOUT, 'query_delay': 5}))
    process = harness.start([harness.ROOT / 'chillerd', config], address, 'soak_chiller')
    commands = [('set_mode', lambda rng: (rng.randint(0, 1),)), ('set_enabled', lambda rng: (rng.random() < 0.5,)),
                ('set_setpoint', lambda rng: (round(rng.uniform(5, 25), 1),)), ('initialize', ())]
    try:
        return soak('chillerd', process.pid, address, link_faults(link), commands, duration, seed)
    finally:
        harness.stop(process)
        link.stop()


if __name__ == '__main__':
    name, duration, seed, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    result = {'focusd': focusd, 'chillerd': chillerd}[name](duration, seed)
    with open(out, 'w') as f:
        json.dump(result, f)

"""A focuser under test: the emulated controller on a TCP port and a real focusd process."""
import re
import threading

import pytest

from support import DaemonUnderTest, run_cli, wait_until
from rockit.common.emulator import EmulatorLink
from rockit.focuser.multichannel.emulator import FocusControllerEmulator

MIRROR, TUBE = '28FF4A1B6117045D', '28AA9C3E1D130219'


class Focuser(DaemonUnderTest):
    """One emulated controller with its focusd; proxy() opens a fresh Pyro proxy."""

    def __init__(self, model, link, daemon, config):
        self.model, self.link, self.daemon, self.config = model, link, daemon, config

    def set_requests(self):
        return [r for r in self.link.requests if re.fullmatch(rb'[1-9][+-][0-9]+', r)]

    def cli(self, *args, **kwargs):
        return run_cli('focus', *args, config_env='FOCUSD_CONFIG_PATH', config_path=self.daemon.config_path,
                       **kwargs)

    def wait_online(self, timeout=60):
        wait_until(lambda: self.status()['status'] == 1, timeout, message='focuser online')


@pytest.fixture
def make_focuser(test_registry, daemons):
    links = []

    def make(channels=2, speed=2000.0, **overrides):
        model = FocusControllerEmulator(channels=channels, probes={MIRROR: 12.5, TUBE: -1.5},
                                        steps_per_second=speed, probe_delay=0.05)
        link = EmulatorLink(model).start()
        links.append(link)
        address = test_registry.add('focus_test')
        config = {
            'daemon': 'focus_test', 'log_name': 'focusd@test', 'control_machines': ['LocalHost'],
            'serial_port': link.url, 'serial_baud': 9600, 'serial_timeout': 0.5, 'channels': channels,
            'idle_loop_delay': 0.5, 'moving_loop_delay': 0.1, 'move_timeout': 20,
            'temperature_probes': {'mirror': {'label': 'Primary Mirror', 'address': MIRROR},
                                   'tube': {'label': 'Tube', 'address': TUBE}},
        }
        config.update(overrides)
        focuser = Focuser(model, link, daemons('focusd', config, address), config)
        focuser.wait_online()
        return focuser

    yield make
    for link in links:
        link.stop()


def in_background(fn, *args):
    """Run fn in a thread; returns a list that receives its result, or the exception it
    raised (a call cut off by a daemon that exits is an expected outcome in some tests)."""
    result = []

    def run():
        try:
            result.append(fn(*args))
        except Exception as e:
            result.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return result, thread

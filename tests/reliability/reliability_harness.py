"""The daemons under test, one table entry each: every reliability, security and bad-input
test runs against every entry it applies to, so adding a daemon is one entry in DAEMONS,
not a new copy of each test.

An entry starts its daemon through the fixtures of that daemon's own tests (emulator,
libvirt test driver or simulators, real daemon process, registry on free ports) and says
what the generic tests cannot guess: a valid call of each method, which requests count as
commands sent to the device, the code for "device offline", the CLI, the config and the
folder it writes files in.
"""
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from pycam_harness import config_for as pycam_config_for, read_png
from support import DaemonProcess, wait_until
from rockit.camvirt import cli as camvirt_cli, daemon as camvirt_daemon
from rockit.camvirt.codes import CommandStatus as CamvirtCodes
from rockit.camvirt.config import CamvirtConfig
from rockit.chiller import cli as chiller_cli, daemon as chiller_daemon, protocol as chiller_protocol
from rockit.chiller.codes import CommandStatus as ChillerCodes
from rockit.chiller.config import ChillerConfig
from rockit.common import pyro
from rockit.focuser.multichannel import cli as focus_cli, daemon as focus_daemon
from rockit.focuser.multichannel.codes import CommandStatus as FocusCodes
from rockit.focuser.multichannel.config import FocuserConfig
from rockit.pycam import cli as pycam_cli, daemon as pycam_daemon
from rockit.pycam.codes import CommandStatus as PycamCodes
from rockit.pycam.config import PycamConfig
from rockit.pycam.errors import NamingError as PycamNamingError
from rockit.pycam.instrument import IMAGE_HEIGHT, IMAGE_WIDTH
from rockit.pycam.kept_settings import FILE_NAME as KEPT_SETTINGS
from rockit.pycam.storage import names as pycam_names


class Device:
    """A running daemon as the generic tests see it, whatever its device."""

    def __init__(self, spec, process, link=None, model=None, commands_sent=None):
        self.spec, self.process, self.link, self.model = spec, process, link, model
        self._commands_sent = commands_sent

    @property
    def pid(self):
        return self.process.process.pid

    def proxy(self, timeout=30):
        return self.process.proxy(timeout)

    def call(self, method, *args, timeout=30):
        with self.proxy(timeout) as proxy:
            return getattr(proxy, method)(*args)

    def status(self):
        return self.call('report_status')

    def log(self):
        return self.process.output()

    def commands_sent(self):
        """The commands the device received so far (queries and polls excluded)."""
        return self._commands_sent()

    def wait_online(self, timeout=60):
        return wait_until(lambda: (s := self.status())['status'] != 0 and s, timeout,
                          message=f'{self.spec.name} online')

    def wait_offline(self, timeout=60):
        return wait_until(lambda: (s := self.status())['status'] == 0 and s, timeout,
                          message=f'{self.spec.name} offline')


@dataclass(frozen=True)
class CliSpec:
    """A CLI and, for each command taking arguments, one valid argument list and the
    malformed ones it must refuse as a usage error."""
    name: str
    module: object
    env_var: str
    valid: dict
    malformed: dict = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class DaemonSpec:
    name: str                   # the executable
    start: Callable             # start(request, **config overrides) -> Device, online
    daemon_class: type
    codes: type
    calls: dict                 # method -> the arguments of a valid call
    config_class: type
    config: Callable            # config(test_registry) -> a valid config dict
    main: Callable              # main(argv) -> exit code, as the executable runs it
    cli: CliSpec
    device_command: tuple = None   # (method, args): a quick command that talks to the device
    serial: bool = False        # the device is on a serial line served by an EmulatorLink
    slow_command: Callable = None  # slow_command(device) -> (method, args, under_way()): a command
                                   # that takes a while, and how to tell it has reached the device
    left_as_promised: Callable = None  # left_as_promised(device): the device is as a stopping daemon
                                       # promises to leave it (read from the emulator, not the daemon)
    data_folder: Callable = None   # data_folder(device) -> the folder it writes files in (None: it writes none)

    def __str__(self):
        return self.name

    __repr__ = __str__


# focusd
def _start_focusd(request, **overrides):
    focuser = request.getfixturevalue('make_focuser')(**overrides)
    queries = (b'?', b'#')
    return Device(FOCUSD, focuser.daemon, focuser.link, focuser.model,
                  lambda: [r for r in focuser.link.requests if r not in queries and not r.startswith(b'@')])


def _focusd_config(test_registry):
    test_registry.add('focus_test')
    return {'daemon': 'focus_test', 'log_name': 'focusd@test', 'control_machines': ['LocalHost'],
            'serial_port': '/dev/focuser', 'serial_baud': 9600, 'serial_timeout': 5, 'channels': 2,
            'idle_loop_delay': 5, 'moving_loop_delay': 0.5, 'move_timeout': 180,
            'temperature_probes': {'mirror': {'label': 'Mirror', 'address': '28FF4A1B6117045D'}},
            'soft_limits': {'1': {'min': -100, 'max': 100}}}


FOCUSD = DaemonSpec(
    name='focusd', start=_start_focusd, daemon_class=focus_daemon.FocuserDaemon, codes=FocusCodes,
    calls={'report_status': (), 'temperature_labels': (), 'set_focus': (1, 100), 'stop_channel': (1,),
           'reset_home_position': (1,), 'enable_fans': (True,), 'initialize': (), 'shutdown': ()},
    config_class=FocuserConfig, config=_focusd_config, main=focus_daemon.main,
    cli=CliSpec('focus', focus_cli, 'FOCUSD_CONFIG_PATH',
                valid={'set': ['1', '100'], 'offset': ['1', '-5'], 'stop': ['1'], 'zero': ['1'], 'fans': ['enable']},
                malformed={'set': [['one', '100'], ['1', '1.5'], ['1', '1e3'], ['1', ''], ['1', '0x10']],
                           'offset': [['1', 'ten'], ['1', '-'], ['1.0', '5']],
                           'stop': [['first'], ['']], 'zero': [['-']],
                           'fans': [['on'], ['1'], ['ENABLE']]}),
    device_command=('enable_fans', (True,)), serial=True)


# chillerd
def _start_chillerd(request, **overrides):
    chiller = request.getfixturevalue('make_chiller')(**overrides)
    commands = (chiller_protocol.SET_RUN, chiller_protocol.SET_SETPOINT)
    return Device(CHILLERD, chiller.daemon, chiller.link, chiller.model,
                  lambda: [r for r in chiller.link.requests if r[3:5].decode(errors='replace') in commands])


def _chillerd_config(test_registry):
    test_registry.add('chiller_test')
    test_registry.add('dome_test')
    test_registry.add('power_test')
    return {'daemon': 'chiller_test', 'log_name': 'chillerd@test', 'control_machines': ['LocalHost'],
            'serial_port': '/dev/chiller', 'serial_baud': 9600, 'serial_timeout': 5, 'query_delay': 30,
            'initial_mode': 'manual', 'initial_setpoint': 15.0,
            'antifreeze_enable_below': 3.0, 'antifreeze_disable_above': 6.0,
            'temperature_daemon': 'dome_test', 'temperature_value_key': 'temperature',
            'temperature_valid_key': 'valid', 'power_daemon': 'power_test', 'power_channels': ['cam1']}


def _chiller_slow_command(device):
    """A setpoint change on a chiller that runs (a stopping daemon leaves it running) and
    answers slowly, so that the command is still on the line when the daemon is stopped."""
    assert device.call('set_enabled', True) == 0
    device.link.delay = 0.3
    sent = len(device.commands_sent())
    return 'set_setpoint', (12.0,), lambda: len(device.commands_sent()) > sent


CHILLERD = DaemonSpec(
    name='chillerd', start=_start_chillerd, daemon_class=chiller_daemon.ChillerDaemon, codes=ChillerCodes,
    calls={'report_status': (), 'set_mode': (0,), 'set_enabled': (True,), 'set_setpoint': (12.0,),
           'initialize': (), 'shutdown': ()},
    config_class=ChillerConfig, config=_chillerd_config, main=chiller_daemon.main,
    cli=CliSpec('chiller', chiller_cli, 'CHILLERD_CONFIG_PATH',
                valid={'mode': ['auto'], 'setpoint': ['12']},
                malformed={'mode': [['1'], ['AUTO'], ['']],
                           'setpoint': [['warm'], ['nan'], ['-inf'], ['1e999'], [''], ['12,5']]}),
    device_command=('set_setpoint', (12.0,)), serial=True,
    slow_command=_chiller_slow_command, left_as_promised=lambda device: device.model.running)


# camvirtd: libvirt's test driver keeps its domains inside the daemon process, so the
# commands it sent are read from its log.
CAMVIRT_ACTIONS = re.compile(r'domain \S+ (started|resumed|powered off)|shutdown requested|falling back|destroying')


def _start_camvirtd(request, **overrides):
    setup = request.getfixturevalue('camvirt')({'cam1': False, 'cam2': True}, **overrides)
    device = Device(CAMVIRTD, setup.process,
                    commands_sent=lambda: CAMVIRT_ACTIONS.findall(setup.process.output()))
    device.wait_online()
    return device


def _camvirtd_config(test_registry):
    test_registry.add('test_camvirt')
    test_registry.add('test_cam1')
    return {'daemon': 'test_camvirt', 'log_name': 'camvirtd@test', 'control_machines': ['LocalHost'],
            'initialize_timeout': 10, 'shutdown_timeout': 5, 'libvirt_uri': 'test:///default',
            'destroy_on_timeout': True, 'domains': {'test': {'cam1': 'test_cam1'}}}


CAMVIRTD = DaemonSpec(
    name='camvirtd', start=_start_camvirtd, daemon_class=camvirt_daemon.CameraVMManager, codes=CamvirtCodes,
    calls={'report_status': (), 'report_camera_status': ('cam1',), 'initialize': (), 'shutdown': ()},
    config_class=CamvirtConfig, config=_camvirtd_config, main=camvirt_daemon.main,
    cli=CliSpec('camvirt', camvirt_cli, 'CAMVIRTD_CONFIG_PATH', valid={}),
    device_command=('shutdown', ()),
    # initialize starts cam1's domain, then waits for camera daemons that never answer: it
    # runs until stopped. It is under way once the start is logged, not when it is queued.
    slow_command=lambda device: ('initialize', (), lambda: device.status()['command'] == 'initialize'
                                 and 'started' in device.commands_sent()))


# pycamd: the simulated cameras and spectrometer live inside the daemon process, so it runs
# through pycamd_recorded.py, which records each device opening and capture as it starts
# (beside the config, outside the data folder). What reached the devices is that record,
# with every capture file in the data folder and every setting changed since the daemon
# came online: a capture counts once, from the moment it starts exposing until its files
# are in place.
PYCAMD_RECORDED = Path(__file__).resolve().parent / 'pycamd_recorded.py'


class PycamSite:
    """A pycamd's files as the tests see them: its data folder inside a tree of the
    test's own (deep enough that ../../ from a date folder stays inside it), its config
    and its device record."""

    def __init__(self, tmp_path):
        self.tree = tmp_path
        self.data_root = tmp_path / 'site' / 'pycamd' / 'data'
        self.config_path = tmp_path / 'site' / 'pycamd.json'
        self.record_path = Path(str(self.config_path) + '.devices')
        self.baseline = self.settings = None

    def record(self):
        return self.record_path.read_text().splitlines() if self.record_path.exists() else []

    def captures_started(self):
        return sum(line.startswith('capture ') for line in self.record())

    def data_files(self):
        """The files of captures in the data folder (the operator's kept settings beside them
        are the daemon's state, kept_settings.py)."""
        if not self.data_root.exists():
            return []
        return sorted(p for p in self.data_root.rglob('*') if p.is_file() and p != self.data_root / KEPT_SETTINGS)

    def capture_of(self, path):
        """The record line of the capture a data file belongs to (its sidecar and its
        unfinished temporary file included), or 'file <path>' for a file no capture explains."""
        name = path.name
        if name.startswith('.') and name.endswith('.tmp'):   # .<name>.<hex>.tmp, .<name>.<hex>.group.tmp
            name = re.sub(r'\.[0-9a-f]+(\.group)?\.tmp$', '', name[1:])
        stem = name.rsplit('.', 1)[0]
        for device, parse, suffix in (('cameras', pycam_names.parse_image_name, '.png'),
                                      ('spectrometer', pycam_names.parse_spectrum_name, '.npy')):
            if name.endswith((suffix, '.json')):
                try:
                    parsed = parse(stem + suffix)
                except PycamNamingError:
                    continue
                return f'capture {device} {parsed.stamp} {parsed.kind}'
        return f'file {path.relative_to(self.data_root)}'

    def changed_settings(self, device):
        """The settings that differ from those at start (the last ones read, once the daemon
        is gone)."""
        try:
            self.settings = device.status()['settings']
        except pyro.CommunicationErrors:
            pass
        return [f'setting {k}={v!r}' for k, v in sorted(self.settings.items()) if self.baseline.get(k) != v]

    def commands_sent(self, device):
        record = self.record()
        files = sorted({self.capture_of(path) for path in self.data_files()} - set(record))
        return record + files + self.changed_settings(device)

    def whole_captures(self):
        """Every capture started has all its files, whole, and nothing else is in the data
        folder (no temporary file, no file without its sidecar)."""
        files = self.data_files()
        names = {path.name for path in files}
        for path in files:
            assert not path.name.startswith('.'), f'unfinished file left: {path}'
            assert self.capture_of(path).startswith('capture '), f'not a capture file: {path}'
            if path.suffix == '.json':
                assert json.loads(path.read_text())['file'] in names, path
            elif path.suffix == '.npy':
                assert np.load(path).shape[0] == 2, path
            else:
                assert read_png(path).shape == (IMAGE_HEIGHT, IMAGE_WIDTH), path
            assert path.with_suffix('.json').name in names, f'{path} has no sidecar'
        saved = {self.capture_of(path) for path in files}
        started = {line for line in self.record() if line.startswith('capture ')}
        assert saved == started, (saved, started)
        return True


def _start_pycamd(request, **overrides):
    """pycamd on its simulators as its own tests run it (pycam_harness.config_for), the
    cameras and the spectrometer online and idle."""
    test_registry = request.getfixturevalue('test_registry')
    site = PycamSite(request.getfixturevalue('tmp_path'))
    address = test_registry.add('pycam_test', timeout=30)
    config = pycam_config_for('pycam_test', site.data_root, **overrides)
    site.data_root.mkdir(parents=True)
    site.config_path.write_text(json.dumps(config))
    process = DaemonProcess(str(PYCAMD_RECORDED), site.config_path, address, site.tree / 'pycamd.log')
    request.addfinalizer(process.stop)
    process.start()
    device = Device(PYCAMD, process, model=site, commands_sent=lambda: site.commands_sent(device))
    site.baseline = site.settings = device.wait_online()['settings']
    return device


def _pycamd_config(test_registry):
    test_registry.add('pycam_test')
    return pycam_config_for('pycam_test', 'pycamd-data')


def _pycamd_slow_command(device):
    """A spectrum of five co-added 300 ms integrations, about 2 s on the simulator."""
    assert device.call('set_settings', {'spec_auto': False, 'spec_integration': 300, 'spec_coadds': 5}) == 0
    started = device.model.captures_started()
    return 'capture', ('Plume', 'spectrometer'), lambda: device.model.captures_started() > started


PYCAMD = DaemonSpec(
    name='pycamd', start=_start_pycamd, daemon_class=pycam_daemon.PycamDaemon, codes=PycamCodes,
    calls={'report_status': (), 'set_settings': ({'frame_rate': 0.5},), 'start_acquisition': (),
           'stop_acquisition': (), 'capture': ('Test',), 'capture_darks': (), 'capture_cell': (304,), 'search_fov': (),
           'set_image_geometry': ({'sky_region': [10, 10, 50, 50]},),
           'restart_device': ('cameras',),
           'initialize': (), 'shutdown': (), 'export_next_frame': (), 'day_csv': ('2030-01-01', 'doas_columns'),
           'acknowledge_frame': ('2030-01-01T000000_fltrB_1ag_4000ss_Plume.png',)},
    config_class=PycamConfig, config=_pycamd_config, main=pycam_daemon.main,
    cli=CliSpec('pycam', pycam_cli, 'PYCAMD_CONFIG_PATH',
                valid={'capture': ['Test'], 'set': ['frame_rate', '0.5'], 'restart': ['cameras']},
                malformed={'start': [['telescope'], ['Cameras'], ['']], 'stop': [['camera']],
                           'darks': [['spectrometers']],
                           'capture': [['Test', 'telescope'], ['Test', ''], ['Test', 'cameras', 'all']],
                           'set': [['nonsense', '1'], ['../../etc/x', '1'], ['auto_a', 'maybe'],
                                   ['gain_a', 'high'], ['shutter_a', '2000.5'], ['saturation_rows', '20'],
                                   ['saturation_rows', '20:30:40'], ['frame_rate', '0.5', 'gain_a']],
                           'restart': [['all'], ['telescope'], ['']]}),
    device_command=('capture', ('Test', 'spectrometer')),
    # A stopping pycamd finishes the capture under way: every file in place is whole.
    slow_command=_pycamd_slow_command, left_as_promised=lambda device: device.model.whole_captures(),
    data_folder=lambda device: device.model.data_root)


DAEMONS = [FOCUSD, CHILLERD, CAMVIRTD, PYCAMD]
SERIAL = [spec for spec in DAEMONS if spec.serial]


def timed(fn, *args):
    """(fn(*args), seconds it took)."""
    started = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - started


def proc_status(pid, key):
    """A field of /proc/<pid>/status as an int (VmRSS in kB, Threads)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(key + ':'):
            return int(line.split()[1])
    raise KeyError(key)


def alive(device):
    return device.process.process.poll() is None and os.path.exists(f'/proc/{device.pid}')


# Methods that raise TypeError in the client for an unknown id, as the daemons in service do.
RAISE_FOR_UNKNOWN_ID = {('camvirtd', 'report_camera_status'): 'unknown camera'}

"""pycamd: the SO2 camera's acquisition daemon. Two owner threads run the devices: one the
camera pair (both cameras are triggered for the same slot), one the spectrometer. Pyro
clients change settings (checked, then applied as one step), start and stop acquisition,
take single captures and dark sequences; report_status() reads only what those threads
published and never waits on a device or the disk.

Saved captures other than Test go to live processing, when the processing package offers
a processor (storage/saved.py describes the hook).

On a two-Pi instrument a band's camera may be on the second Pi (devices/remote.py): its
own thread here drives that Pi's pycamd, and the pair matcher joins its halves with this
Pi's before processing. The second Pi's pycamd, configured with that band alone, serves
its frames to the master (export.py) and processes nothing itself.
"""
import logging

from rockit.common import service, status
from rockit.common.arguments import Choice
from rockit.common.daemon import Daemon, wait_all
from rockit.common.errors import Refused
from rockit.common.log import ChangeLog
from rockit.common.pyro import command, query

from .acquisition.cameras import CameraPairAcquisition
from .acquisition.cells import CellSession
from .acquisition.loop import AcquisitionContext, StorageState
from .acquisition.pairing import PairMatcher
from .acquisition.spectrometer import SpectrometerAcquisition
from .codes import CommandStatus, DeviceStatus
from .config import PycamConfig
from .devices import camera, remote, selection
from .errors import StorageError
from .instrument import OFF_BAND, ON_BAND
from .export import FrameExportQueries
from .field.scheduler import Acquisition as ScheduledAcquisition
from .field.station import FieldStation
from .field.watchdog import DataWatchdog
from .geometry_command import ImageGeometry
from .products import Products
from .kept_settings import KeptSettings
from .settings import AcquisitionSettings, SettingsCheck
from .storage import names
from .storage.store import DataStore

COMMAND_TIMEOUT = 30.0      # s for commands that only reach a device thread

DEVICE = Choice(('cameras', 'spectrometer', 'all'), CommandStatus.InvalidDevice)
ONE_DEVICE = Choice(('cameras', 'spectrometer'), CommandStatus.InvalidDevice)
CELL_BAND = Choice(('on', 'off', 'both'), CommandStatus.InvalidDevice)


def _capture_type(daemon, value):
    return None if names.valid_capture_type(value) else CommandStatus.InvalidCaptureType


def _cell_ppmm(daemon, value):
    ok = isinstance(value, int) and not isinstance(value, bool) and names.valid_capture_type(f'{value}ppmm')
    return None if ok else CommandStatus.InvalidCaptureType


def load_processor(config, log):
    """The live processor from processing.make_live_processor(config, log), or None when the
    config asks for none; a processor that fails to load never stops acquisition."""
    try:
        from .processing import make_live_processor
        return make_live_processor(config, log)
    except Exception:
        log.exception('live processing could not start')
        return None


class PycamDaemon(Products, FrameExportQueries, ImageGeometry, Daemon):
    codes = CommandStatus

    def __init__(self, config, log, processor=None):
        self.devices = config.devices
        self.settings = AcquisitionSettings(config.initial_settings())
        self.store = DataStore(config.data_root, config.floor_bytes)
        self.store.on_saved.append(self._frames_written)
        self.storage = StorageState(self.store)
        self.processor = processor
        self._changes = ChangeLog(log)
        self.cells = CellSession()
        remote_cameras = config.remote_cameras
        self.pairs = None
        if remote_cameras:
            tolerance = min(camera.pair_tolerance_ms for camera in remote_cameras.values()) / 1000
            self.pairs = PairMatcher(self._deliver, tolerance, log)
        deliver = self._deliver if self.pairs is None else self._deliver_half
        context = AcquisitionContext(self.settings, self.store, self.storage, deliver, self._halt_all)
        self.groups = {}    # device group name -> its Acquisition
        if config.cameras:
            self.groups['cameras'] = CameraPairAcquisition(context, config, selection.camera_openers(config), log)
        for band, camera_config in remote_cameras.items():
            self.groups[band] = remote.RemoteBand(context, band, camera_config, self.pairs, log)
        if config.spectrometer:
            self.groups['spectrometer'] = SpectrometerAcquisition(context, config, selection.spectrometer(config), log)
        super().__init__(config, log, [group.loop for group in self.groups.values()])
        self.kept_settings = KeptSettings(config.data_root)
        self.kept_settings.restore(self, self.settings)
        self._start_geometry()
        self.field = FieldStation(config, self.store, ScheduledAcquisition(
            start=lambda: self._start('all'), stop=lambda: self._stop('all'),
            darks=lambda: self._on_groups(self._selected('all'), 'start_darks', timeout_for=self._capture_timeout),
            acquiring=lambda: any(group.continuous for group in self.groups.values()),
            taking_darks=lambda: any(group.status()['mode'] == 'darks' for group in self.groups.values())), log,
            DataWatchdog(config.watchdog, self._watched_parts, lambda name: self.groups[name].loop.restart(),
                         lambda: self.settings.values()['frame_rate'], log))

    def _watched_parts(self):
        """The status of the device groups on this Pi (a second Pi's camera has its own)."""
        return {name: group.status() for name, group in self.groups.items()
                if not isinstance(group, remote.RemoteBand)}

    def start(self):
        try:
            removed = self.store.remove_leftovers()
            if removed:
                self.log.info('removed %d unfinished file(s) left by an earlier run', removed)
        except OSError as e:
            self.log.error('cannot tidy %s: %s', self.store.root, e)
        self.storage.refresh()
        super().start()
        self.field.start()

    def stop(self):
        self.field.stop()
        for group in self.groups.values():
            group.halt()
        super().stop()
        if self.processor is not None and hasattr(self.processor, 'close'):
            try:
                self.processor.close()
            except Exception:
                self.log.exception('live processing did not close cleanly')

    # Called by the device threads.
    def _deliver(self, saved):
        if self.processor is None:
            return
        try:
            self.processor(saved)
            self._changes('processing', logging.INFO, 'live processing accepts captures')
        except Exception as e:
            self._changes('processing', logging.ERROR, f'live processing failed: {type(e).__name__}: {e}')

    def _deliver_half(self, saved):
        """This Pi's half of a pair goes to the matcher; spectra go straight on."""
        if hasattr(saved, 'images'):
            self.pairs.add(saved)
        else:
            self._deliver(saved)

    def _halt_all(self, reason):
        self.storage.fail(reason)
        for group in self.groups.values():
            group.halt()

    # Helpers of the Pyro methods.
    def _selected(self, device):
        """The groups a device argument names; Refused when one is not configured."""
        if device == 'all':
            return list(self.groups.values())
        if device not in self.groups:
            raise Refused(CommandStatus.DeviceNotConfigured)
        return [self.groups[device]] + [group for group in self.groups.values()
                                        if getattr(group, 'part_of', None) == device]

    def _on_groups(self, groups, method, *args, timeout_for):
        """Run group.<method>(*args) on each group's thread at the same time, allowing each
        timeout_for(group) seconds; raises the first failure once every one has ended."""
        errors = wait_all([(group.loop, group.loop.submit(getattr(group, method), *args,
                                                          offline_ok=getattr(group, 'commands_offline', False)),
                            timeout_for(group)) for group in groups])
        failures = [e for e in errors if e is not None]
        if failures:
            raise failures[0]
        return CommandStatus.Succeeded

    def _capture_timeout(self, group):
        values = self.settings.values()
        if group.device_name != 'spectrometer':
            longest = self.config.shutter_speeds[-1] / 1e6
            return 2 * (camera.APPLY_FRAMES + 1) * max(longest, 0.07) + COMMAND_TIMEOUT
        longest = self.config.spectrometer.integration_times[-1] / 1000
        return (values['spec_coadds'] + 2) * longest + COMMAND_TIMEOUT

    # What Pyro clients see.
    @query()
    def report_status(self):
        parts = {name: group.status() for name, group in self.groups.items()}
        online = all(part['status'] == DeviceStatus.Online for part in parts.values())
        state = DeviceStatus.Online if online else DeviceStatus.Offline
        data = {'date': status.utc_now(), 'status': state,
                'status_label': DeviceStatus.label(state), 'settings': self.settings.values(),
                'storage': {**self.storage.snapshot(), **self.field.storage_status()}, **parts,
                'cell_session': self.cells.status(), 'kept_settings': self.kept_settings.status(),
                'image_geometry': self.geometry_status(),
                **self.field.status()}
        if self.processor is not None and hasattr(self.processor, 'status'):
            try:
                data['processing'] = self.processor.status()
            except Exception as e:
                data['processing'] = {'error': f'{type(e).__name__}: {e}'}
        return data

    @command(settings=SettingsCheck())
    def set_settings(self, settings):
        """Change acquisition settings {name: value} (settings.py): all or nothing."""
        code = self.settings.apply(settings)
        if code == CommandStatus.Succeeded:
            self.log.info('settings changed: %s', ', '.join(f'{k}={v}' for k, v in sorted(settings.items())))
            self.kept_settings.record(settings)
        return code

    @command(device=DEVICE)
    def start_acquisition(self, device='all'):
        """Start continuous acquisition (from the next slot)."""
        code = self._start(device)
        if code == CommandStatus.Succeeded:
            self.field.operator_started()
        return code

    @command(device=DEVICE)
    def stop_acquisition(self, device='all'):
        """Stop continuous acquisition and any dark sequence; returns at once."""
        self.field.operator_stopped()
        return self._stop(device)

    def _start(self, device):
        groups = self._selected(device)
        try:
            self.store.check_space(sum(group.capture_bytes for group in groups))
        except StorageError as e:
            self.storage.fail(str(e))
            raise Refused(CommandStatus.StorageUnavailable, str(e)) from None
        self.storage.clear()
        return self._on_groups(groups, 'start_continuous', timeout_for=lambda group: COMMAND_TIMEOUT)

    def _stop(self, device):
        for group in self._selected(device):
            if group.halt():
                group.log.info('acquisition stopped')
        return CommandStatus.Succeeded

    @command(capture_type=_capture_type, device=DEVICE)
    def capture(self, capture_type, device='all'):
        """One capture of a type (Test, Dark, Clear, Plume, <N>ppmm); returns once saved."""
        return self._on_groups(self._selected(device), 'capture_single', capture_type,
                               timeout_for=self._capture_timeout)

    @command(ppmm=_cell_ppmm, band=CELL_BAND)
    def capture_cell(self, ppmm, band='both'):
        """One capture of a calibration cell of ppmm ppm.m in front of one lens (band on or
        off) or both. With one cell moved from lens to lens, the other camera sees clear
        sky: its frame is saved as Clear, so cells are fitted only from frames that saw the
        cell. What each camera has seen so far is in status['cell_session']."""
        groups = self._selected('cameras')
        cell = f'{ppmm}ppmm'
        if band == 'both':
            kinds = cell
        elif len(groups) > 1:
            raise Refused(CommandStatus.InvalidDevice, 'one lens at a time needs both cameras on this Pi')
        else:
            covered = ON_BAND if band == 'on' else OFF_BAND
            kinds = {b: cell if b == covered else 'Clear' for b in (ON_BAND, OFF_BAND)}
        code = self._on_groups(groups, 'capture_single', kinds, timeout_for=self._capture_timeout)
        self.cells.record(ppmm, ('on', 'off') if band == 'both' else (band,))
        return code

    @command()
    def search_fov(self):
        """Search the AA images for the spectrometer's field of view again, from the next
        pairings: after the instrument was moved, say (a view found by a search is
        otherwise kept until a DOAS refit over it is refused)."""
        if self.processor is None:
            raise Refused(CommandStatus.DeviceNotConfigured, 'no live processing on this Pi')
        reason = self.processor.request_fov_search()
        if reason:
            self.log.warning('field of view search refused: %s', reason)
            raise Refused(CommandStatus.NothingToSearch, reason)
        self.log.info('field of view search requested')
        return CommandStatus.Succeeded

    @command(device=DEVICE)
    def capture_darks(self, device='all'):
        """Start a dark sequence over every exposure of the list; progress in status."""
        return self._on_groups(self._selected(device), 'start_darks', timeout_for=self._capture_timeout)

    @command(device=ONE_DEVICE)
    def restart_device(self, device):
        """Close a device and open it again."""
        group = self._selected(device)[0]
        group.loop.wait(group.loop.restart(), self._capture_timeout(group))
        group.log.info('restarted')
        return CommandStatus.Succeeded

    @command()
    def shutdown(self):
        """Stop acquisition and disconnect every device until initialize."""
        for group in self.groups.values():
            group.halt()
        self.disconnect_all()
        return CommandStatus.Succeeded


def make_daemon(config, log):
    if config.single_band:      # a second Pi's: its master processes the pairs
        return PycamDaemon(config, log)
    return PycamDaemon(config, log, load_processor(config, log))


def main(argv=None):
    return service.run('SO2 camera daemon (two Pi cameras and a spectrometer)', PycamConfig.load, make_daemon, argv)

"""A camera band on a second Pi: the master's side of a two-Pi instrument.

The second Pi runs its own pycamd with that band alone; it captures on the same wall-clock
grid and keeps every frame until the master has written it (export.py there). Here one
thread per remote band (its DeviceLoop, so a dead or slow link delays neither this Pi's
camera nor its spectrometer) asks for the oldest frame the master lacks, writes it into the
master's store unchanged, acknowledges it and hands it to the pair matcher, then brings the
second Pi into line with what the operator asked of the master: the band's settings,
continuous acquisition on or off. Single captures and dark sequences are forwarded as
commands. Each answer also measures the clock offset between the Pis.

A second Pi that does not answer takes the band OFFLINE with the reason; the loop retries
by itself, and once it answers the backlog follows, a frame per poll without pause.
"""
import datetime
import json
import logging
import threading
import time

import cv2
import numpy as np
import serpent

from rockit.common import pyro, registry
from rockit.common.device import DeviceLoop
from rockit.common.errors import DeviceError, NotConnected, Refused, RegistryError
from rockit.common.log import ChangeLog
from rockit.common.status import iso, link

from ..acquisition.loop import DeviceLog
from ..codes import CommandStatus, DeviceStatus
from ..errors import NameTaken, NamingError, StorageError
from ..instrument import BAND_SUFFIX, IMAGE_HEIGHT, IMAGE_WIDTH
from ..storage import names
from ..storage.saved import SavedImagePair, read_only

POLL_INTERVAL = 0.25       # s between questions while no backlog is waiting
LINK_TIMEOUT = 5.0         # s a question may take before the link counts as down
COMMAND_TIMEOUT = 60.0     # s a forwarded capture may take (exposures and settling frames)
SHARED_SETTINGS = ('frame_rate', 'min_saturation', 'max_saturation', 'saturation_pixels', 'saturation_rows')
REMOTE_STATE = ('mode', 'continuous', 'captures_saved', 'slots_missed', 'captures_failed', 'last_capture',
                'darks', 'last_darks')


def _bytes(value):
    """Pyro's serpent wire carries bytes as base64; this gives them back."""
    return serpent.tobytes(value) if isinstance(value, dict) else bytes(value)


class RemoteBand:
    """The story of one band whose camera another pycamd owns; the daemon treats it as a
    member of the 'cameras' group that also accepts commands while offline (remembered)."""
    part_of = 'cameras'
    commands_offline = True
    capture_bytes = IMAGE_WIDTH * IMAGE_HEIGHT * 2 + 4096   # a PNG and its sidecar

    def __init__(self, context, band, camera, pairs, log):
        self.band, self.device_name, self.remote_name = band, band, camera.daemon
        self.suffix = next(suffix for suffix, name in BAND_SUFFIX.items() if name == band)
        self.context, self.pairs = context, pairs
        self.log = DeviceLog(log, f'{band} on {camera.daemon}')
        self._changes = ChangeLog(self.log)
        self._bands = {'exposure_us': None, 'saturation': None, 'last_file': None}
        self.loop = DeviceLoop(self, self.log, band)
        self._lock = threading.Lock()
        self._proxy = None
        self.continuous = False        # what the operator asked for; the second Pi follows
        self._stop_wanted = False
        self._more = False
        self._offset = None            # s the second Pi's clock is ahead of this one's
        self._remote = None            # the second Pi's cameras status, as last answered
        self._remote_settings = {}     # and its settings
        self._link = {'last_contact': None, 'backlog': None, 'clock_offset_s': None, 'frames_received': 0}

    # DeviceLoop hooks.
    def open_device(self):
        try:
            address = registry.daemon(self.remote_name)
        except RegistryError as e:
            raise DeviceError(str(e)) from None
        self._proxy = pyro.connect(address, min(address.timeout, LINK_TIMEOUT))
        self.poll()

    def close_device(self):
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            proxy._pyroRelease()

    def poll_interval(self):
        return 0.0 if self._more else POLL_INTERVAL

    def poll(self):
        sent = time.time()
        answer = self._call('export_next_frame')
        received = time.time()
        frame = answer['frame']
        if frame is None or self._offset is None:   # a frame's bytes make the round trip lopsided
            self._offset = answer['clock'] - (sent + received) / 2
        written = frame is not None and self._write(frame, self._offset)
        with self._lock:
            self._remote = answer['cameras']
            self._link.update(last_contact=received, backlog=answer['backlog'] - written,
                              clock_offset_s=round(self._offset, 3))
            self._link['frames_received'] += written
        self._more = written and answer['backlog'] > 1
        self._follow(answer['settings'], answer['cameras'])

    def went_offline(self):
        self._more = False

    # Frames.
    def _write(self, frame, offset):
        """Write a frame into the master's store, acknowledge it and pass it on; False if
        the master's disk cannot take it (it stays on the second Pi)."""
        name, png, sidecar = frame['name'], _bytes(frame['png']), _bytes(frame['sidecar'])
        try:
            parsed = names.parse_image_name(name)
            metadata = json.loads(sidecar)
        except (NamingError, ValueError) as e:
            raise DeviceError(f'the second Pi sent a frame this Pi cannot read: {e}') from None
        if parsed.filter != self.band:
            raise DeviceError(f'the second Pi sent a {parsed.filter} frame for the {self.band} band')
        moment = datetime.datetime.fromisoformat(metadata['time'].replace('Z', '+00:00'))
        try:
            paths = self.context.store.save(moment, [(name, png), (names.sidecar_name(name), sidecar)])
        except NameTaken:      # written before the acknowledgement was lost: it is safe already
            paths = [self.context.store.folder(moment) / name]
        except StorageError as e:      # logged once; the frame waits on the second Pi
            self._changes('storage', logging.ERROR, f'cannot write frames: {e}')
            self.context.halt_all(str(e))
            return False
        self._changes.forget('storage')
        self.context.storage.refresh(len(paths))
        self._call('acknowledge_frame', name)
        with self._lock:
            self._bands = {'exposure_us': metadata.get('exposure_us'), 'last_file': name,
                           'saturation': round(metadata.get('saturation', {}).get('fraction', 0.0), 4)}
        if parsed.kind != names.TEST_TYPE:
            image = read_only(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED))
            self.pairs.add(SavedImagePair(moment, parsed.kind, {self.band: paths[0]}, {self.band: image},
                                          {self.band: metadata}), offset)
        return True

    # Bringing the second Pi into line.
    def _follow(self, remote_settings, remote_cameras):
        self._remote_settings = dict(remote_settings)
        self._push_settings()
        mode = (remote_cameras or {}).get('mode')
        if self._stop_wanted:
            self._stop_wanted = False
            if mode != 'idle':
                self._push('stop_acquisition', 'cameras')
        elif self.continuous and mode == 'idle':
            self._push('start_acquisition', 'cameras')

    def _push_settings(self):
        """The band's settings and the shared ones, where the second Pi's differ (as it
        last answered); before a forwarded capture too, so it is taken as asked."""
        remote_settings = self._remote_settings
        values, generations = self.context.settings.snapshot()
        band_keys = [f'auto_{self.suffix}', f'gain_{self.suffix}', f'shutter_{self.suffix}']
        adopt = {key: remote_settings[key] for key in band_keys if key not in values and key in remote_settings}
        if adopt:         # first contact: the band starts as the second Pi's config sets it
            self.context.settings.apply(adopt)
            values, generations = self.context.settings.snapshot()
        auto, shutter = f'auto_{self.suffix}', f'shutter_{self.suffix}'
        wanted = {key: values[key] for key in (*SHARED_SETTINGS, *band_keys) if key in values}
        if wanted.get(auto):
            wanted.pop(shutter, None)        # the second Pi's auto exposure moves it
            if remote_settings.get(shutter) != values.get(shutter):
                self.context.settings.set_automatic(shutter, remote_settings[shutter], generations[self.band])
        changes = {key: value for key, value in wanted.items() if remote_settings.get(key) != value}
        if changes and self._push('set_settings', changes):
            remote_settings.update(changes)

    def _push(self, method, *args):
        """A command the second Pi should follow; a refusal is logged once and retried.
        True if it was carried out."""
        code = self._call(method, *args)
        if code == CommandStatus.Succeeded:
            self._changes(method, logging.INFO, f'{self.remote_name} accepts {method}', state='ok')
        else:
            self._changes(method, logging.ERROR, f'{self.remote_name} refuses {method}: '
                          f'{CommandStatus.message(code)}', state=code)
        return code == CommandStatus.Succeeded

    def _call(self, method, *args, timeout=None):
        if self._proxy is None:
            raise DeviceError('not connected')
        try:
            if timeout is not None:
                self._proxy._pyroTimeout, before = timeout, self._proxy._pyroTimeout
            try:
                return getattr(self._proxy, method)(*args)
            finally:
                if timeout is not None:
                    self._proxy._pyroTimeout = before
        except pyro.CommunicationErrors as e:
            raise DeviceError(f'{self.remote_name} does not answer: {e or type(e).__name__}') from None

    def _command(self, method, *args, timeout=None):
        code = self._call(method, *args, timeout=timeout)
        if code != CommandStatus.Succeeded:
            self.log.error('%s on %s: %s', method, self.remote_name, CommandStatus.message(code))
            raise Refused(code)

    # Commands (loop thread; start_continuous also while offline: remembered).
    def start_continuous(self):
        """The second Pi starts at the next poll, or when it answers again."""
        with self._lock:
            self.continuous, self._stop_wanted = True, False
        self.loop.wake()

    def halt(self):
        """Any thread: stop the second Pi's acquisition at the next poll."""
        with self._lock:
            running = self.continuous or (self._remote or {}).get('mode') not in (None, 'idle')
            self.continuous, self._stop_wanted = False, True
        self.loop.wake()
        return running

    def capture_single(self, capture_type):
        self._ready()
        self._command('capture', capture_type, 'cameras', timeout=COMMAND_TIMEOUT)

    def start_darks(self):
        self._ready()
        self._command('capture_darks', 'cameras', timeout=COMMAND_TIMEOUT)

    def _ready(self):
        if not self.loop.connected:
            raise NotConnected(self.loop.offline_reason)
        self._push_settings()

    # Status, from any thread.
    def status(self):
        data = link(self.loop)
        with self._lock:
            remote, link_state = self._remote, dict(self._link)
            band = dict(self._bands)
        if data['status'] == DeviceStatus.Online and remote and remote['status'] != DeviceStatus.Online:
            data = {'status': DeviceStatus.Offline,
                    'offline_reason': f'on {self.remote_name}: {remote.get("offline_reason")}'}
        values, _ = self.context.settings.snapshot()
        data.update({key: (remote or {}).get(key) for key in REMOTE_STATE})
        data.update(band, status_label=DeviceStatus.label(data['status']), camera_on=self.remote_name,
                    auto_exposure=values.get(f'auto_{self.suffix}'), shutter_speed=values.get(f'shutter_{self.suffix}'),
                    gain=values.get(f'gain_{self.suffix}'), wanted_continuous=self.continuous,
                    pairs=self.pairs.status())
        contact = link_state.pop('last_contact')
        if contact is not None:
            contact = iso(datetime.datetime.fromtimestamp(contact, datetime.timezone.utc))
        link_state['last_contact'] = contact
        data['link'] = link_state
        return data

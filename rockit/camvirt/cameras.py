"""Watching the camera daemons that run inside the virtual machines.

Each camera gets its own thread that asks its daemon for report_status() about once a
second while the VM is running, and hands the answer (or None when it did not answer) to
the manager's snapshot. A camera that is slow or unreachable then delays nobody: not the
libvirt thread, not the other cameras, and never a Pyro client reading the snapshot.
"""
import logging
import threading

from rockit.common import pyro

POLL_INTERVAL = 1.0
# A camera daemon on the local virtual network answers in milliseconds; one that takes
# longer is treated as not (yet) up.
QUERY_TIMEOUT = 2.0


class CameraWatcher:
    def __init__(self, camera, vm_running, publish, changes):
        """camera: a config.Camera; vm_running(): whether its domain runs now;
        publish(status or None): store the latest answer; changes: a ChangeLog."""
        self.camera = camera
        self._vm_running = vm_running
        self._publish = publish
        self._changes = changes
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f'camera-{camera.camera_id}', daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        """Ask the thread to end; join() waits for it (at most one query's timeout)."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout=QUERY_TIMEOUT + 1):
        if self._thread.is_alive():
            self._thread.join(timeout)

    def poke(self):
        """Ask again now rather than at the next tick (a command has just started the VM)."""
        self._wake.set()

    def _run(self):
        while not self._stopping.is_set():
            self._wake.clear()
            self._publish(self._ask() if self._vm_running() else self._vm_off())
            self._wake.wait(POLL_INTERVAL)

    def _vm_off(self):
        # Logged below INFO: silence is expected while the VM is off, and the next boot's
        # "answers" line is then logged again.
        self._changes(self._key, logging.DEBUG, f'{self._name}: VM not running')
        return None

    def _ask(self):
        try:
            with pyro.connect(self.camera.address, QUERY_TIMEOUT) as proxy:
                status = proxy.report_status()
        except Exception as e:  # anything a remote daemon can raise: it does not answer usefully
            self._changes(self._key, logging.WARNING, f'{self._name} does not answer: {e or type(e).__name__}')
            return None
        if not isinstance(status, dict):
            self._changes(self._key, logging.WARNING, f'{self._name} answered {type(status).__name__}, '
                                                      'not a status dict')
            return None
        self._changes(self._key, logging.INFO, f'{self._name} answers')
        return status

    @property
    def _key(self):
        return f'camera:{self.camera.camera_id}'

    @property
    def _name(self):
        return f'camera {self.camera.camera_id} ({self.camera.daemon})'

"""Watching the camera daemons that run inside the virtual machines.

Each camera gets its own watcher thread (rockit.common.watcher) that asks its daemon for
report_status() about once a second while the VM is running, and hands the answer (or None
when it did not answer) to the manager's snapshot. A camera that is slow or unreachable
then delays nobody: not the libvirt thread, not the other cameras, and never a Pyro client
reading the snapshot.
"""
from rockit.common.watcher import Unusable, Watcher

POLL_INTERVAL = 1.0
# A camera daemon on the local virtual network answers in milliseconds; one that takes
# longer is treated as not (yet) up.
QUERY_TIMEOUT = 2.0


def _status(proxy):
    status = proxy.report_status()
    if not isinstance(status, dict):
        raise Unusable(f'answered {type(status).__name__}, not a status dict')
    return status


def camera_watcher(camera, vm_running, publish, log):
    """camera: a config.Camera; vm_running(): whether its domain runs now; publish(status
    or None): store the latest answer."""
    return Watcher(camera.address, _status, label=f'camera {camera.camera_id} ({camera.daemon})',
                   interval=POLL_INTERVAL, timeout=QUERY_TIMEOUT, log=log,
                   idle=lambda: None if vm_running() else 'VM not running',
                   on_update=lambda observation: publish(observation.current))

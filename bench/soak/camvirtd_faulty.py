"""camvirtd as its executable runs it, on libvirt connections the soak can break: a fault
file beside the config, re-read every 0.2 s, holds {"lost": bool, "crash": [domain, ...]}.
While lost, libvirt refuses new connections and every call on an open one fails as a
dropped connection does (isAlive() 0); a domain named in crash is powered off under the
daemon's feet, once per listing, as a crashed guest goes.

    python bench/soak/camvirtd_faulty.py <config.json>      (faults in <config.json>.faults)
"""
import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

import libvirt  # noqa: E402

from rockit.camvirt import daemon  # noqa: E402

LOST = threading.Event()
_connections = []


def _dropped():
    return libvirt.libvirtError('End of file while reading data: Input/output error')


class Breakable:
    """A libvirt connection or domain whose calls fail while LOST is set."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if LOST.is_set():
                if name == 'isAlive':
                    return 0
                raise _dropped()
            result = attribute(*args, **kwargs)
            return Breakable(result) if isinstance(result, libvirt.virDomain) else result
        return call


def _open(uri, _real=libvirt.open):
    if LOST.is_set():
        raise _dropped()
    connection = _real(uri)
    _connections.append(connection)
    return Breakable(connection)


def _watch(path):
    crashed = set()
    while True:
        try:
            faults = json.loads(path.read_text())
        except (OSError, ValueError):
            faults = {}
        LOST.set() if faults.get('lost') else LOST.clear()
        for name in set(faults.get('crash', [])) - crashed:
            for connection in _connections[-1:]:
                try:
                    connection.lookupByName(name).destroy()
                except libvirt.libvirtError:
                    pass
        crashed = set(faults.get('crash', []))
        time.sleep(0.2)


if __name__ == '__main__':
    libvirt.open = _open
    threading.Thread(target=_watch, args=(Path(sys.argv[1] + '.faults'),), daemon=True).start()
    sys.exit(daemon.main())

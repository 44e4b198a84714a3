"""Camera daemon stand-ins, for trying camvirtd where no camera VM exists.

camvirtd only asks each camera daemon for report_status(); this serves one small object
per camera of a camvirtd config, at the camera's registry address, so that with the
test driver's domains `camvirt init` sees every camera answer:

    python -m rockit.camvirt.emulator config/camvirtd/test.json

It prints one line once every stand-in listens, then serves until SIGTERM or Ctrl-C.
"""
import argparse
import signal
import sys
import threading

from rockit.common import pyro, registry
from rockit.common.config import ConfigError, read_json


class CameraDaemonStandIn:
    """Answers like an idle camera daemon in a running VM."""

    def __init__(self, camera_id, daemon_name):
        self.camera_id, self.daemon_name = camera_id, daemon_name

    @pyro.query()
    def report_status(self):
        return {'state': 1, 'camera_id': self.camera_id, 'daemon': self.daemon_name}


def serve(config, stop):
    """Serve a stand-in for every camera in config (a camvirtd config dict) until stop is set."""
    servers = []
    try:
        for domain_cameras in config['domains'].values():
            for camera_id, daemon_name in domain_cameras.items():
                server = pyro.BackgroundServer(CameraDaemonStandIn(camera_id, daemon_name),
                                               registry.daemon(daemon_name))
                servers.append((camera_id, server))
        print(f'serving {len(servers)} camera stand-ins: ' +
              ', '.join(f'{camera_id} at {server.location}' for camera_id, server in servers), flush=True)
        stop.wait()
    finally:
        for _, server in servers:
            server.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description='Serve camera daemon stand-ins for a camvirtd config')
    parser.add_argument('config', help='path to the camvirtd JSON config file')
    args = parser.parse_args(argv)
    try:
        config = read_json(args.config)
        config['domains'].items()
    except (ConfigError, KeyError, AttributeError) as e:
        print(f'error: {args.config}: {e if isinstance(e, ConfigError) else "no domains"}', file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        serve(config, stop)
    except (registry.RegistryError, OSError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The start of every daemon: read and validate its config, set up logging, start the
device owner, serve it over Pyro until SIGTERM, leave the device safe."""
import argparse
import sys

from . import log, pyro
from .config import ConfigError
from .registry import RegistryError


def run(description, load_config, make_daemon, argv=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='path to the JSON config file')
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except (ConfigError, RegistryError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    logger = log.configure(config.log_name)
    daemon = make_daemon(config, logger)
    daemon.start()
    try:
        pyro.serve(daemon, config.address, on_stop=daemon.stop, log=logger)
    except OSError as e:  # the port is taken or the host is not ours
        logger.error('cannot serve on %s:%s: %s', config.address.host, config.address.port, e)
        daemon.stop()
        return 1
    return 0

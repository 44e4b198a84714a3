"""`rockit-web CONFIG`: start a poller per configured daemon, serve the pages until
SIGTERM or Ctrl-C, then stop the pollers."""
import argparse
import logging
import sys

from rockit.common import log as rockit_log
from rockit.common.errors import ConfigError, RegistryError

from .config import WebConfig


def main(argv=None):
    parser = argparse.ArgumentParser(prog='rockit-web', description='web pages for rockit daemons')
    parser.add_argument('config', help='config/rockit-web/<site>.json')
    args = parser.parse_args(argv)
    try:
        config = WebConfig.load(args.config)
    except (ConfigError, RegistryError) as e:
        print(f'rockit-web: {e}', file=sys.stderr)
        return 2

    import uvicorn
    from .app import make_app
    from .poller import Poller

    log = rockit_log.configure(config.log_name)
    pollers = {name: Poller(address, config, log) for name, address in config.daemons.items()}
    for poller in pollers.values():
        poller.start()
    log.info('serving http://%s:%d/ for %s', config.host, config.port, ', '.join(pollers))
    try:
        uvicorn.run(make_app(config, pollers), host=config.host, port=config.port, log_level='warning',
                    access_log=False)
    finally:
        for poller in pollers.values():
            poller.watcher.stop()
        for poller in pollers.values():
            poller.watcher.join()
        logging.shutdown()
    return 0

"""`rockit-web CONFIG`: start a poller per configured daemon, serve the pages until
SIGTERM or Ctrl-C, then stop the pollers.

The listening socket is bound here, before uvicorn starts, so that a port in use is one
clear line and exit status 1, and systemd hears READY=1 only once pages can be served.
"""
import argparse
import logging
import signal
import socket
import sys

from rockit.common.errors import ConfigError, RegistryError


def main(argv=None):
    parser = argparse.ArgumentParser(prog='rockit-web', description='web pages for rockit daemons')
    parser.add_argument('config', help='config/rockit-web/<site>.json')
    args = parser.parse_args(argv)
    from .config import WebConfig    # after the arguments: --help needs no dependencies
    try:
        config = WebConfig.load(args.config)
    except (ConfigError, RegistryError) as e:
        print(f'rockit-web: {e}', file=sys.stderr)
        return 2

    try:
        listener = socket.create_server((config.host, config.port), reuse_port=False)
    except OSError as e:
        print(f'rockit-web: cannot listen on {config.host}:{config.port}: {e.strerror or e}', file=sys.stderr)
        return 1

    import uvicorn
    from rockit.common import log as rockit_log, systemd, watcher
    from .app import make_app
    from .connections import ACCEPT_BURST, KEEP_ALIVE, capped_protocol
    from .poller import Poller

    log = rockit_log.configure(config.log_name)
    pollers = {name: Poller(address, config, log) for name, address in config.daemons.items()}
    watcher.start_all([poller.watcher for poller in pollers.values()])
    log.info('serving http://%s:%d/ for %s', config.host, config.port, ', '.join(pollers))
    # Proxy headers (X-Forwarded-For) only from configured proxies: uvicorn would otherwise
    # believe them from 127.0.0.1, and any local process could pose as a control machine.
    server = uvicorn.Server(uvicorn.Config(
        make_app(config, pollers, log), fd=listener.fileno(), log_level='warning', access_log=False,
        http=capped_protocol(log), backlog=ACCEPT_BURST, timeout_keep_alive=KEEP_ALIVE,
        proxy_headers=bool(config.trusted_proxies), forwarded_allow_ips=config.trusted_proxies or None))

    # uvicorn answers SIGTERM and SIGINT while it serves, then raises the signal again for
    # the handler it found: this one, which also covers a signal that comes before it serves.
    def stop(*_):
        server.should_exit = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    systemd.notify(b'READY=1')
    try:
        server.run()
    finally:
        systemd.notify(b'STOPPING=1')
        listener.close()
        watcher.stop_all([poller.watcher for poller in pollers.values()])
        for poller in pollers.values():
            poller.save_history()
        logging.shutdown()
    return 0

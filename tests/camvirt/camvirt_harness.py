"""What the camvirt tests share: libvirt test-driver nodes, small real camera daemons on
loopback, and a camvirtd subprocess configured for them."""
from dataclasses import dataclass

import pytest

from support import DaemonProcess, wait_until
from rockit.common import pyro


class TinyCameraDaemon:
    """A camera daemon as camvirtd sees one: it answers report_status()."""
    def __init__(self, name):
        self.name = name

    @pyro.query()
    def report_status(self):
        return {'state': 1, 'camera': self.name}


def write_node(path, domains):
    """A test-driver node file: {domain name: running at start}."""
    xml = ['<node>']
    for name, running in domains.items():
        xml += ['  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">',
                f'    <name>{name}</name>',
                '    <memory unit="MiB">64</memory>',
                '    <os><type>hvm</type></os>',
                '    <test:runstate>1</test:runstate>' if running else '    <test:runstate>5</test:runstate>',
                '  </domain>']
    xml.append('</node>')
    path.write_text('\n'.join(xml) + '\n')


@dataclass
class Camvirt:
    """A running camvirtd and the camera daemons named in its config."""
    process: DaemonProcess
    cameras: dict          # camera id -> registry address of its daemon
    config: dict

    def proxy(self, timeout=None):
        return self.process.proxy(timeout)

    def status(self):
        with self.proxy() as proxy:
            return proxy.report_status()

    def states(self):
        return {name: domain['state'] for name, domain in self.status()['domains'].items()}

    def log(self):
        return self.process.output()


@pytest.fixture
def camvirt(tmp_path, test_registry, daemons):
    """start(node, domains=None, **config): camvirtd on a test-driver node.

    node: {domain: running at start} written to node.xml; domains: the config's
    {domain: [camera id]} (default: one camera per node domain, named like it). Each
    camera id gets a registry entry `test_<id>`; no camera daemon runs until the test
    serves one.
    """
    def start(node, domains=None, wait=True, **overrides):
        write_node(tmp_path / 'node.xml', node)
        domains = domains or {name: [name] for name in node}
        cameras = {c: test_registry.add(f'test_{c}') for cams in domains.values() for c in cams}
        config = {
            'daemon': 'test_camvirt',
            'log_name': 'camvirtd@test',
            'control_machines': ['LocalHost'],
            'initialize_timeout': 10,
            'shutdown_timeout': 5,
            'libvirt_uri': f'test://{tmp_path}/node.xml',
            'domains': {name: {c: f'test_{c}' for c in cams} for name, cams in domains.items()},
        }
        config.update(overrides)
        address = test_registry.add('test_camvirt')
        return Camvirt(daemons('camvirtd', config, address, wait=wait), cameras, config)

    return start


def wait_for_status(setup, predicate, message, timeout=60):
    return wait_until(lambda: predicate(setup.status()), timeout=timeout, message=message)


def call(setup, method, *args, timeout=30):
    with setup.proxy(timeout) as proxy:
        return getattr(proxy, method)(*args)


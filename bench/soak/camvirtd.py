"""Soak camvirtd on libvirt's test driver: the libvirt connection lost and back, and a
domain that crashes (powered off behind the daemon's back), while a client initializes and
shuts the cameras down at random.

    python -m bench.soak.camvirtd DURATION SEED OUT.json
"""
import json
import sys
from pathlib import Path

from bench import harness
from rockit.common import pyro

from .soak import Fault, soak

FAULTY = Path(__file__).resolve().parent / 'camvirtd_faulty.py'
NODE = '''<node>
  <domain type="test"><name>cam1</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>
  <domain type="test"><name>cam2</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>
</node>
'''


class Camera:
    """A camera daemon as camvirtd sees one: it answers report_status()."""

    @pyro.query()
    def report_status(self):
        return {'state': 1}


def camvirtd(duration, seed):
    node = harness.WORK / 'soak_node.xml'
    node.write_text(NODE)
    address = harness.register('soak_camvirt')
    cameras = {name: harness.register(f'soak_{name}') for name in ('cam1', 'cam2')}
    servers = [pyro.BackgroundServer(Camera(), camera) for camera in cameras.values()]
    config = harness.WORK / 'soak_camvirt.json'
    config.write_text(json.dumps({
        'daemon': 'soak_camvirt', 'log_name': 'camvirtd@soak', 'control_machines': ['LocalHost'],
        'initialize_timeout': 10, 'shutdown_timeout': 5, 'libvirt_uri': f'test://{node}',
        'destroy_on_timeout': True, 'domains': {name: {name: camera.name} for name, camera in cameras.items()}}))
    faults_path = Path(str(config) + '.faults')

    def set_faults(**faults):
        faults_path.write_text(json.dumps(faults))

    faults = [
        Fault('libvirt connection lost', lambda rng: set_faults(lost=True), set_faults),
        Fault('domain crashed', lambda rng: set_faults(crash=[rng.choice(['cam1', 'cam2'])]), set_faults),
    ]
    commands = [('initialize', ()), ('shutdown', ())]
    process = harness.start([FAULTY, config], address, 'soak_camvirt')
    try:
        return soak('camvirtd', process.pid, address, faults, commands, duration, seed)
    finally:
        harness.stop(process)
        for server in servers:
            server.close()


if __name__ == '__main__':
    duration, seed, out = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    result = camvirtd(duration, seed)
    with open(out, 'w') as f:
        json.dump(result, f)

"""Opt-in (ROCKIT_LIBVIRT_SESSION=1): camvirtd against a real, unprivileged libvirtd.

The test starts its own session libvirtd in a temporary folder (as ROCKIT_LIBVIRT_USER,
default `nobody`, when run as root, since libvirt sends root's session URIs to the system
daemon) and reaches it through its socket. The domain has no disk and no OS, so it runs
under software emulation but ignores the ACPI power button: only the destroy fallback can
power it off.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from camvirt_harness import call
from support import wait_until
from rockit.camvirt.codes import CommandStatus

pytestmark = pytest.mark.integration

SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
DOMAIN = f'rockit-camvirt-test-{os.getpid()}'
DOMAIN_XML = f'''<domain type="qemu">
  <name>{DOMAIN}</name>
  <memory unit="MiB">32</memory>
  <vcpu>1</vcpu>
  <os><type arch="x86_64">hvm</type></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices><emulator>{{emulator}}</emulator></devices>
</domain>'''


@pytest.fixture
def session_libvirt():
    """The URI of a fresh session libvirtd holding one defined, shut-off diskless domain."""
    if os.environ.get('ROCKIT_LIBVIRT_SESSION') != '1':
        pytest.skip('opt-in: set ROCKIT_LIBVIRT_SESSION=1 to run against a real libvirtd')
    libvirtd = shutil.which('libvirtd', path=SYSTEM_PATH)
    emulator = shutil.which('qemu-system-x86_64', path=SYSTEM_PATH)
    if not libvirtd or not emulator:
        pytest.skip('libvirtd or qemu-system-x86_64 is not installed (Debian: libvirt-daemon, '
                    'libvirt-daemon-driver-qemu, qemu-system-x86)')
    import libvirt
    libvirt.registerErrorHandler(lambda *args: None, None)

    base = Path(tempfile.mkdtemp(prefix='rockit-libvirt-'))
    home, runtime = base / 'home', base / 'run'
    home.mkdir(), runtime.mkdir(mode=0o700)
    as_user = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam(os.environ.get('ROCKIT_LIBVIRT_USER', 'nobody'))
        for path in (home, runtime):
            os.chown(path, user.pw_uid, user.pw_gid)
        base.chmod(0o755)
        as_user = {'user': user.pw_uid, 'group': user.pw_gid, 'extra_groups': []}
    env = {'HOME': str(home), 'XDG_RUNTIME_DIR': str(runtime), 'PATH': SYSTEM_PATH,
           'XDG_CONFIG_HOME': str(home / '.config'), 'XDG_CACHE_HOME': str(home / '.cache')}
    log = open(base / 'libvirtd.log', 'wb')
    daemon = subprocess.Popen([libvirtd, '--timeout', '600'], env=env, stdout=log, stderr=subprocess.STDOUT,
                              **as_user)
    socket = runtime / 'libvirt' / 'libvirt-sock'
    uri = f'qemu+unix:///session?socket={socket}'
    connection = None
    try:
        deadline = time.monotonic() + 20
        while not socket.exists() and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not socket.exists():
            pytest.skip(f'libvirtd did not start: {(base / "libvirtd.log").read_text(errors="replace")[-500:]}')
        try:
            connection = libvirt.open(uri)
            connection.defineXML(DOMAIN_XML.format(emulator=emulator))
        except libvirt.libvirtError as e:
            pytest.skip(f'the session libvirtd cannot define a QEMU domain: {e}')
        yield uri
    finally:
        if connection is not None:
            try:
                domain = connection.lookupByName(DOMAIN)
                if domain.isActive():
                    domain.destroy()
                domain.undefine()
            except libvirt.libvirtError:
                pass
            connection.close()
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


def test_a_guest_that_ignores_acpi_is_destroyed_after_shutdown_timeout(session_libvirt, test_registry, daemons,
                                                                      camera_servers):
    camera = test_registry.add('test_vm_camera')
    camera_servers(camera)
    config = {
        'daemon': 'test_camvirt', 'log_name': 'camvirtd@session', 'control_machines': ['LocalHost'],
        'initialize_timeout': 30, 'shutdown_timeout': 3, 'libvirt_uri': session_libvirt,
        'domains': {DOMAIN: {'cam1': 'test_vm_camera'}},
    }
    process = daemons('camvirtd', config, test_registry.add('test_camvirt'))

    class Setup:
        def proxy(self, timeout=None):
            return process.proxy(timeout)
    setup = Setup()

    def state():
        return call(setup, 'report_status')['domains'][DOMAIN]['state']

    assert wait_until(lambda: state() == 'SHUTOFF', message='the domain to be seen')
    assert call(setup, 'initialize', timeout=60) == CommandStatus.Succeeded
    assert state() == 'RUNNING'
    assert call(setup, 'report_camera_status', 'cam1')['vm_active'] is True

    started = time.monotonic()
    assert call(setup, 'shutdown', timeout=60) == CommandStatus.Succeeded
    elapsed = time.monotonic() - started

    status = call(setup, 'report_status')
    assert status['domains'][DOMAIN]['state'] == 'SHUTOFF'
    assert status['last_shutdown'] == {DOMAIN: 'destroyed'}
    assert 3 <= elapsed < 3 + 20
    log = process.output()
    assert f'domain {DOMAIN} is still running after 3 s; destroying it' in log
    assert 'plain shutdown' not in log   # QEMU accepted the guest agent/ACPI request

"""Every Pyro proxy rockit opens accepts serpent only: a fake daemon that answers in pickle
(whose unpickling would create a marker file) is refused by the CLI, rockit-web's poller,
chillerd's interlock watcher and pycamd's remote camera backend, and the marker never
appears."""
import json
import logging
import pickle
import socket
import threading
import types
import zlib

import Pyro4.errors
import pytest
import serpent
from Pyro4 import message, util
from Pyro4.socketutil import SocketConnection

from support import run_cli, wait_until
from rockit.common import daemons, pyro
from rockit.common.pyro_client import UnsafeReply

PICKLE_ID = util.get_serializer('pickle').serializer_id
SERPENT_ID = util.get_serializer('serpent').serializer_id
REFUSAL = 'not serpent: refused without decoding it'


class Trap:
    """Unpickling this creates the marker file: code the client must never run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, 'w')


class FakeDaemon:
    """A raw TCP server at a registry address that speaks Pyro's framing but answers with
    a pickle payload: at the handshake ('handshake'), or at the first call after a serpent
    handshake ('reply'); or answers the calls with a compressed serpent reply that inflates
    far beyond the message limit ('inflating'), with a header declaring a reply beyond it ('large'),
    or with a SystemExit ('exiting')."""

    def __init__(self, address, marker, when):
        self.marker, self.when = marker, when
        self.connections = 0
        self._sock = socket.create_server((address.host, address.port))
        self._sock.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                client, _ = self._sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(client,), daemon=True).start()

    def _talk(self, client):
        client.settimeout(10)
        conn = SocketConnection(client)
        try:
            hello = message.Message.recv(conn, [message.MSG_CONNECT])
            trap = pickle.dumps(Trap(self.marker))
            if self.when == 'handshake':
                conn.send(message.Message(message.MSG_CONNECTOK, trap, PICKLE_ID, 0, hello.seq).to_bytes())
                return
            meta = {'methods': ['report_status', 'value', 'export_next_frame'], 'oneway': [], 'attrs': []}
            answer = serpent.dumps({'handshake': 'hello', 'meta': meta})
            conn.send(message.Message(message.MSG_CONNECTOK, answer, SERPENT_ID,
                                      message.FLAGS_META_ON_CONNECT, hello.seq).to_bytes())
            call = message.Message.recv(conn, [message.MSG_INVOKE])
            if self.when == 'exiting':      # every call answered with a SystemExit for the caller to raise
                while True:
                    exit_ = serpent.dumps({'__class__': 'builtins.SystemExit', '__exception__': True,
                                           'args': [0], 'attributes': {}})
                    conn.send(message.Message(message.MSG_RESULT, exit_, SERPENT_ID, message.FLAGS_EXCEPTION,
                                              call.seq).to_bytes())
                    call = message.Message.recv(conn, [message.MSG_INVOKE])
            if self.when == 'inflating':    # 8 MiB of serpent in a few kB
                bomb = zlib.compress(serpent.dumps('x' * 8 * pyro.MAX_MESSAGE_SIZE), 9)
                conn.send(message.Message(message.MSG_RESULT, bomb, SERPENT_ID, message.FLAGS_COMPRESSED,
                                          call.seq).to_bytes())
            elif self.when == 'large':
                large = message.Message(message.MSG_RESULT, serpent.dumps('x'), SERPENT_ID, 0, call.seq)
                large.data_size = 2 * pyro.MAX_MESSAGE_SIZE   # declared, never sent: the client must not wait for it
                conn.send(large.to_bytes())
            else:
                conn.send(message.Message(message.MSG_RESULT, trap, PICKLE_ID, 0, call.seq).to_bytes())
            message.Message.recv(conn)   # until the client hangs up
        except Exception:  # the client hung up: what it did is what the test checks
            pass
        finally:
            conn.close()

    def close(self):
        self._stopping.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture(params=['handshake', 'reply'])
def fake(request, test_registry, tmp_path):
    address = test_registry.add('fake_test')
    marker = tmp_path / 'marker'
    daemon = FakeDaemon(address, marker, request.param)
    yield types.SimpleNamespace(address=address, marker=marker, daemon=daemon)
    daemon.close()
    assert not marker.exists(), 'the client ran code from a pickle answer'


def test_the_proxy_refuses_a_pickle_answer(fake):
    with pytest.raises(UnsafeReply, match=REFUSAL):
        with pyro.connect(fake.address) as proxy:
            proxy.report_status()
    with pytest.raises(UnsafeReply, match=REFUSAL):
        with daemons.fake_test.connect() as proxy:
            proxy.report_status()


def test_the_cli_refuses_a_pickle_answer(fake, tmp_path):
    config = tmp_path / 'focusd.json'
    config.write_text(json.dumps({'daemon': 'fake_test'}))
    result = run_cli('focus', 'status', config_env='FOCUSD_CONFIG_PATH', config_path=config)
    assert result.returncode != 0
    assert REFUSAL in result.stderr and 'Traceback' not in result.stderr
    assert fake.daemon.connections >= 1


def test_the_web_poller_refuses_a_pickle_answer(fake):
    from rockit.web.poller import Poller
    config = types.SimpleNamespace(poll_interval=1, history_hours=1, history_dir=None)
    poller = Poller(fake.address, config, logging.getLogger('test'))
    observation = poller.watcher.observe()
    assert REFUSAL in observation.error and observation.value is None


def test_the_interlock_watcher_refuses_a_pickle_answer(make_chiller, fake, test_registry):
    chiller = make_chiller(power_daemon='fake_test', power_channels=['cam1'])
    faults = wait_until(lambda: chiller.status().get('interlock_faults'), timeout=60, message='an interlock fault')
    assert any(REFUSAL in fault for fault in faults.values()), faults


def test_the_remote_camera_backend_refuses_a_pickle_answer(fake):
    from rockit.common.errors import DeviceError
    from rockit.pycam.devices.remote import RemoteBand
    band = RemoteBand(None, 'fltrB', types.SimpleNamespace(daemon='fake_test'), None, logging.getLogger('test'))
    with pytest.raises(DeviceError, match=REFUSAL):
        band.open_device()
    band.close_device()


def test_a_serpent_daemon_still_answers(test_registry):
    class Lamp:
        @pyro.query()
        def report_status(self):
            return {'on': True, 'data': b'\x00\x01'}

    address = test_registry.add('lamp')
    server = pyro.BackgroundServer(Lamp(), address)
    try:
        with pyro.connect(address) as proxy:
            assert proxy.report_status()['on'] is True
            assert proxy._pyroSerializer == 'serpent'
    finally:
        server.close()


def test_proxies_leave_the_global_serializer_alone(test_registry, monkeypatch):
    """A host process that chose another serializer for its own proxies keeps it, and ours
    still speak serpent."""
    import Pyro4
    monkeypatch.setattr(Pyro4.config, 'SERIALIZER', 'json')
    address = test_registry.add('anything')
    proxy = pyro.connect(address)
    assert proxy._pyroSerializer == 'serpent' and Pyro4.config.SERIALIZER == 'json'


@pytest.mark.parametrize('when', ['inflating', 'large'])
def test_a_reply_larger_than_a_daemon_sends_is_refused(test_registry, tmp_path, when):
    """Whatever answers at a daemon's address cannot make a client hold more than a daemon
    ever sends: neither a few kB that inflate without bound, nor a header that declares a
    huge reply (the host process's global MAX_MESSAGE_SIZE is its owner's, 0 by default)."""
    address = test_registry.add('fake_test')
    daemon = FakeDaemon(address, tmp_path / 'marker', when)
    try:
        with pytest.raises(Pyro4.errors.MessageTooLargeError):
            with pyro.connect(address) as proxy:
                proxy.report_status()
    finally:
        daemon.close()


def test_a_watcher_outlives_an_answer_that_says_exit(make_chiller, test_registry, tmp_path):
    """A client raises the exception an answer carries: a SystemExit from whatever answers
    at a daemon's address silently ended chillerd's interlock watcher, whose interlock then
    stayed 'not asked yet'. Now it is refused as any other bad answer, and asked again."""
    address = test_registry.add('fake_test')
    daemon = FakeDaemon(address, tmp_path / 'marker', 'exiting')
    try:
        with pytest.raises(Pyro4.errors.SerializeError, match='SystemExit'):
            with pyro.connect(address) as proxy:
                proxy.report_status()
        chiller = make_chiller(power_daemon='fake_test', power_channels=['cam1'])
        wait_until(lambda: any('SystemExit' in fault for fault in (chiller.status().get('interlock_faults') or {}).values()),
                   timeout=60, message='an interlock fault naming the refused SystemExit')
        asked = daemon.connections
        wait_until(lambda: daemon.connections > asked + 1, timeout=60, message='the watcher to ask again')
    finally:
        daemon.close()

"""What other rockit code relies on beyond the names: rockit.common behaves as the reference
module does where a caller can tell, checked in real processes over real Pyro on loopback."""
import json
import subprocess
import sys
import textwrap

import Pyro4

from support import ROOT
from rockit.common import pyro


class ObservatoryLog:
    """A stand-in for the observatory log daemon: it keeps what it is sent."""

    def __init__(self):
        self.messages = []

    @Pyro4.expose
    def log_info(self, table, message):
        self.messages.append(('info', table, message))

    @Pyro4.expose
    def log_warning(self, table, message):
        self.messages.append(('warning', table, message))

    @Pyro4.expose
    def log_error(self, table, message):
        self.messages.append(('error', table, message))


def run_python(code, timeout=60):
    """code in a fresh interpreter, as another rockit program would run it (the registry
    override comes through the environment the test_registry fixture set)."""
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_a_short_lived_process_loses_no_log_message(test_registry):
    stand_in = ObservatoryLog()
    server = pyro.BackgroundServer(stand_in, test_registry.add('observatory_log'))
    try:
        result = run_python('''
            from rockit.common import log
            log.info('opsd', 'dome open')
            log.warning('opsd', 'wind rising')
            log.error('opsd', 'dome closed')
        ''')
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ['INFO opsd: dome open', 'WARN opsd: wind rising',
                                              'ERROR opsd: dome closed']
        # The process has exited: everything it logged had arrived before it returned.
        assert stand_in.messages == [('info', 'opsd', 'dome open'), ('warning', 'opsd', 'wind rising'),
                                     ('error', 'opsd', 'dome closed')]
    finally:
        server.close()


def test_a_log_daemon_that_is_down_is_printed_not_raised(test_registry):
    test_registry.add('observatory_log', timeout=1)     # registered, nobody serving
    result = run_python('''
        from rockit.common import log
        log.warning('opsd', 'wind rising')
        print('carried on')
    ''')
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'WARN opsd: wind rising' and lines[-1] == 'carried on'
    assert any(line.startswith('Failed to log warning message') for line in lines)


def test_get_daemon_is_the_log_daemons_entry(test_registry):
    from rockit.common import daemons, log
    test_registry.data['daemons']['observatory_log'] = {'object_id': 'observatory_log_daemon',
                                                        'host': '192.0.2.1', 'port': 9016}
    test_registry._write()
    assert log.get_daemon() is None                      # not on this machine's network
    test_registry.add('observatory_log')
    assert log.get_daemon() is daemons.observatory_log
    assert log.get_daemon().name == 'observatory_log_daemon'


def test_importing_log_prints_remote_tracebacks_of_uncaught_pyro_errors():
    result = run_python('''
        import sys
        from rockit.common import log
        assert sys.excepthook is not sys.__excepthook__
        error = ValueError('bad setpoint')
        error._pyroTraceback = ['Traceback (most recent call last):\\n', '  in set_setpoint\\n',
                                'ValueError: bad setpoint\\n']
        raise error
    ''')
    assert result.returncode == 1
    assert 'Remote traceback' in result.stderr and '  in set_setpoint' in result.stderr


HOST_PROCESS = '''
    import json, signal, sys, threading
    import Pyro4
    # The host's own settings, as a program that uses pickle and a long timeout has them.
    Pyro4.config.SERIALIZERS_ACCEPTED = {'serpent', 'json'}
    Pyro4.config.COMMTIMEOUT = 123.0
    Pyro4.config.MAX_MESSAGE_SIZE = 0
    before = Pyro4.config.asDict()
    handlers = [signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)]

    from rockit.common import daemons, log
    log.info('opsd', 'first message')

    @Pyro4.expose
    class Power:
        def value(self, name):
            return name == 'camera'

    failures = []
    def launch():
        try:
            daemons.localhost_test.launch(Power())
        except Exception as e:
            failures.append(repr(e))
    threading.Thread(target=launch, daemon=True).start()
    for _ in range(600):
        try:
            with daemons.localhost_test.connect(timeout=1) as proxy:
                if proxy.value('camera') is True:
                    break
        except Pyro4.errors.CommunicationError:
            if failures:
                break
    after = Pyro4.config.asDict()
    print(json.dumps({'failures': failures,
                      'changed': sorted(k for k in before if before[k] != after[k]),
                      'handlers_kept': handlers == [signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)]}))
'''


def test_logging_and_launch_leave_the_host_processes_pyro_settings_alone(test_registry):
    stand_in = ObservatoryLog()
    server = pyro.BackgroundServer(stand_in, test_registry.add('observatory_log'))
    test_registry.add('localhost_test')
    try:
        result = run_python(HOST_PROCESS, timeout=120)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        assert report == {'failures': [], 'changed': [], 'handlers_kept': True}
        assert stand_in.messages == [('info', 'opsd', 'first message')]
    finally:
        server.close()


def test_daemons_entries_are_the_same_object_on_every_access(test_registry):
    from rockit.common import daemons
    test_registry.add('localhost_test')
    first = daemons.localhost_test
    assert daemons.localhost_test is first and daemons.localhost_test == first
    assert {first: 'power'}[daemons.localhost_test] == 'power'
    moved = test_registry.add('localhost_test')        # the registry entry changes: a new entry
    assert daemons.localhost_test.port == moved.port and daemons.localhost_test is not first


def test_validation_is_never_disabled():
    from rockit.common import validation
    assert validation.disable_validation is False


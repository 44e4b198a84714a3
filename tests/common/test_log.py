"""Logging to the observatory log daemon: delivered when it is there, never in the way."""
import logging

import pytest

from support import wait_until
from rockit.common import log, pyro


class ObservatoryLog:
    def __init__(self):
        self.messages = []

    @pyro.query()
    def log_info(self, table, message):
        self.messages.append(('info', table, message))

    @pyro.query()
    def log_warning(self, table, message):
        self.messages.append(('warning', table, message))

    @pyro.query()
    def log_error(self, table, message):
        self.messages.append(('error', table, message))


@pytest.fixture
def observatory_log(test_registry):
    address = test_registry.add(log.OBSERVATORY_LOG)
    obj = ObservatoryLog()
    server = pyro.BackgroundServer(obj, address)
    yield obj, address
    server.close()


def test_messages_reach_the_observatory_log_with_their_level(observatory_log, capsys):
    obj, _ = observatory_log
    logger = log.configure('focusd@logtest1')
    logger.info('online')
    logger.warning('slow')
    logger.error('offline')
    wait_until(lambda: len(obj.messages) == 3, message='three messages delivered')
    assert obj.messages == [('info', 'focusd@logtest1', 'online'), ('warning', 'focusd@logtest1', 'slow'),
                            ('error', 'focusd@logtest1', 'offline')]
    assert 'INFO focusd@logtest1: online' in capsys.readouterr().out


def test_an_absent_log_daemon_never_blocks_or_breaks_the_caller(test_registry, capsys):
    test_registry.add(log.OBSERVATORY_LOG)   # registered, but nothing listens there
    logger = log.configure('focusd@logtest2')
    for i in range(2000):                    # more than the queue holds: oldest are dropped
        logger.error('message %d', i)
    wait_until(lambda: 'observatory log unavailable' in capsys.readouterr().err, message='outage reported')
    assert logging.getLogger('focusd@logtest2').handlers   # still logging, still standing


def test_change_log_logs_a_persistent_condition_once(caplog):
    logger = logging.getLogger('rockit-test-changes')
    logger.propagate = True
    changes = log.ChangeLog(logger)
    with caplog.at_level(logging.INFO, logger='rockit-test-changes'):
        for _ in range(5):
            changes('dome', logging.WARNING, 'dome temperature unavailable')
        changes('dome', logging.INFO, 'dome temperature back')
    assert [r.getMessage() for r in caplog.records] == ['dome temperature unavailable', 'dome temperature back']


def test_change_log_by_state_logs_once_whatever_the_message_until_forgotten(caplog):
    logger = logging.getLogger('rockit-test-states')
    logger.propagate = True
    changes = log.ChangeLog(logger)
    with caplog.at_level(logging.INFO, logger='rockit-test-states'):
        for reason in ('no reply', 'cannot open', 'no reply'):
            changes('link', logging.ERROR, f'offline: {reason}', state='offline')
        changes.forget('link')
        changes('link', logging.ERROR, 'offline: no reply', state='offline')
    assert [r.getMessage() for r in caplog.records] == ['offline: no reply', 'offline: no reply']

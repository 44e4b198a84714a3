"""Watching another daemon over real Pyro on loopback: the last usable answer kept with its
time, each outage logged once, a hung daemon bounded by the timeout, idle sources not asked."""
import logging
import threading
import time

import pytest

from support import wait_until
from rockit.common import pyro
from rockit.common.watcher import Unusable, Watcher


class Thermometer:
    """A daemon with one query; hang() makes it accept calls and never answer them."""

    def __init__(self):
        self.reading = 10.0
        self.calls = 0
        self.answering = threading.Event()
        self.answering.set()

    @pyro.query()
    def temperature(self):
        self.calls += 1
        self.answering.wait()
        return self.reading


def read_temperature(proxy):
    value = proxy.temperature()
    if value is None:
        raise Unusable('no reading')
    return value


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))

    def count(self, text, level=None):
        return sum(text in line and level in (None, lvl) for lvl, line in self.lines)


@pytest.fixture
def served(test_registry):
    """(Thermometer, its address, stop(), start()) served on a free loopback port."""
    address = test_registry.add('thermometer_test')
    thermometer = Thermometer()
    servers = [pyro.BackgroundServer(thermometer, address)]

    def stop():
        thermometer.answering.set()
        servers.pop().close()

    def start():
        servers.append(pyro.BackgroundServer(thermometer, address))

    yield thermometer, address, stop, start
    if servers:
        stop()


@pytest.fixture
def lines():
    logger = logging.getLogger('rockit.test.watcher')
    logger.setLevel(logging.DEBUG)
    handler = Lines()
    logger.addHandler(handler)
    handler.logger = logger
    yield handler
    logger.removeHandler(handler)


def watch(address, lines, **kwargs):
    settings = dict(label='dome temperature', interval=30, timeout=1.0, log=lines.logger)
    settings.update(kwargs)
    return Watcher(address, read_temperature, **settings)


def test_the_last_usable_answer_is_kept_through_an_outage_which_is_logged_once(served, lines):
    thermometer, address, stop, start = served
    watcher = watch(address, lines)
    assert watcher.latest.error == 'not asked yet' and watcher.latest.current is None

    before = time.time()
    observation = watcher.observe()
    assert (observation.value, observation.error, observation.current) == (10.0, None, 10.0)
    assert before <= observation.at <= time.time()
    assert lines.count('dome temperature usable', logging.INFO) == 1

    thermometer.reading = None                  # answers, with nothing usable
    observation = watcher.observe()
    assert (observation.value, observation.error, observation.current) == (10.0, 'no reading', None)
    stop()                                      # then does not answer at all: the same outage
    for _ in range(3):
        observation = watcher.observe()
    assert observation.error.startswith('thermometer_test did not answer')
    assert observation.value == 10.0 and observation.at < time.time()
    assert lines.count('dome temperature unusable', logging.WARNING) == 1

    thermometer.reading = 12.5
    start()
    assert watcher.observe().current == 12.5
    assert lines.count('dome temperature usable again', logging.INFO) == 1
    stop()
    watcher.observe()
    assert lines.count('dome temperature unusable', logging.WARNING) == 2   # a second outage


def test_a_hung_daemon_costs_one_timeout_per_question(served, lines):
    thermometer, address, _, _ = served
    watcher = watch(address, lines, timeout=0.5)
    thermometer.answering.clear()
    observation = watcher.observe()             # returns: the timeout bounds the question
    assert 'did not answer' in observation.error and observation.value is None
    assert thermometer.calls == 1


def test_the_thread_asks_on_its_interval_publishes_each_answer_and_pokes_ask_at_once(served, lines):
    thermometer, address, _, _ = served
    seen = []
    watcher = watch(address, lines, on_update=seen.append)
    watcher.start()
    try:
        wait_until(lambda: seen, message='first answer')
        assert seen[0].current == 10.0
        thermometer.reading = 3.0
        watcher.poke()                          # the interval is 30 s: only the poke asks
        wait_until(lambda: seen[-1].current == 3.0, message='answer after the poke')
    finally:
        watcher.stop()
        watcher.join()
    assert not watcher._thread.is_alive()


def test_an_idle_source_is_not_asked_and_its_silence_is_no_outage(served, lines):
    thermometer, address, _, _ = served
    running = [False]
    watcher = watch(address, lines, idle=lambda: None if running[0] else 'VM not running')
    observation = watcher.observe()
    assert (observation.error, thermometer.calls) == ('VM not running', 0)
    assert lines.count('unusable') == 0
    running[0] = True
    assert watcher.observe().current == 10.0
    running[0] = False
    watcher.observe()
    running[0] = True
    watcher.observe()
    assert lines.count('dome temperature usable', logging.INFO) == 2   # news again after each idle spell
    assert lines.count('usable again') == 0

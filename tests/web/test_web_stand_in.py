"""rockit-web over a daemon that goes away and comes back, commands from its page in a
browser (and not from another site's page), and bad configs."""
import contextlib
import json
import re
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.webdriver.common.by import By

from web_support import after_updates, cards, colour, http, run_web, submit, text, updates
from stand_in import StandIn
from support import free_port, wait_until


@pytest.fixture
def stand_in(test_registry):
    served = StandIn(test_registry.add('web_focus', timeout=2)).start()
    yield served
    served.stop()


def state(web_process, name='web_focus'):
    return http(web_process.url + f'api/{name}/status').json()


def test_a_daemon_that_goes_away_mid_page_keeps_the_page_up(stand_in, web, browser, screenshot):
    site = web(['web_focus'])
    browser.get(site.url + 'web_focus')
    after_updates(browser, lambda b: text(b, 'state') == 'ONLINE', message='ONLINE')
    stand_in.stop()
    after_updates(browser, lambda b: text(b, 'state') == 'OFFLINE', message='OFFLINE')
    refreshes = updates(browser)      # its script still runs:
    after_updates(browser, lambda b: updates(b) > refreshes, message='a refresh after OFFLINE')
    assert 'web_focus did not answer' in text(browser, 'reason')
    assert text(browser, 'position-1') == '0'    # the last answer is still shown
    screenshot('away')
    browser.get(site.url)
    card = after_updates(browser, lambda b: cards(b).get('card-web_focus'), message='the card')
    assert 'OFFLINE' in card and 'did not answer' in card
    assert colour(browser, '#card-web_focus .state') == 'rgb(198, 40, 40)'
    screenshot('overview')
    stand_in.start()
    after_updates(browser, lambda b: 'ONLINE' in cards(b).get('card-web_focus', ''), message='back')


def test_a_command_form_says_running_until_its_long_command_succeeds(stand_in, web, browser, screenshot):
    """A move lasting longer than the registry's 2 s timeout is a success, and the page
    says it runs meanwhile."""
    stand_in.focuser.release.clear()
    stand_in.focuser.move_seconds = 3.0
    site = web(['web_focus'])
    browser.get(site.url + 'web_focus')
    after_updates(browser, lambda b: text(b, 'state') == 'ONLINE' and b.find_elements(By.TAG_NAME, 'form'),
                  message='ONLINE with its forms')
    submit(browser, 'Move channel', channel=1, steps=123)
    wait_until(stand_in.focuser.moving.is_set, timeout=30, message='the move to start')
    assert text(browser, 'answer') == 'Move channel: running...'
    screenshot('running')
    stand_in.focuser.release.set()
    after_updates(browser, lambda b: text(b, 'answer') != 'Move channel: running...', message='the answer')
    assert text(browser, 'answer') == 'Move channel: success'
    assert stand_in.focuser.target == 123
    screenshot('done')


class OtherSite:
    """A page of another origin (another loopback port) whose script tries to command
    rockit-web through the browser in every way a page can without rockit-web's consent."""

    PAGE = """<!DOCTYPE html><html><body><script>
const target = %s;
const body = JSON.stringify({channel: 1, steps: 999});
const tries = [
  fetch(target, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body}),
  fetch(target, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'application/json'}, body}),
  fetch(target, {method: 'POST', headers: {'Content-Type': 'application/json'}, body}),
  fetch(target, {method: 'POST', mode: 'no-cors', body: new URLSearchParams({channel: '1', steps: '999'})}),
];
Promise.allSettled(tries).then(results => {
  document.body.dataset.tried = results.map(r => r.status).join(' ');
});
</script></body></html>"""

    def __init__(self, target):
        page = (self.PAGE % json.dumps(target)).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_another_sites_page_cannot_command_through_the_browser(stand_in, web, browser):
    site = web(['web_focus'])
    wait_until(lambda: state(site)['online'], timeout=20, message='online')
    other = OtherSite(site.url + 'api/web_focus/set')
    try:
        browser.get(other.url)
        tried = wait_until(lambda: browser.execute_script('return document.body.dataset.tried'), timeout=60,
                           message="the other site's script to finish its tries")
    finally:
        other.close()
    assert len(tried.split()) == 4
    assert stand_in.focuser.target == 0 and not stand_in.focuser.moving.is_set()
    log = site.log_path.read_text()
    assert 'Traceback' not in log
    # the same browser, on rockit-web's own page, commands fine
    browser.get(site.url + 'web_focus')
    after_updates(browser, lambda b: b.find_elements(By.TAG_NAME, 'form'), message='its forms')
    submit(browser, 'Move channel', channel=1, steps=7)
    after_updates(browser, lambda b: text(b, 'answer') == 'Move channel: success', message='success')
    assert stand_in.focuser.target == 7


def test_pages_forbid_framing_and_inline_script(stand_in, web):
    site = web(['web_focus'])
    for path in ('', 'web_focus', 'nobody', 'static/rockit-web.js', 'api/status'):
        headers = http(site.url + path).headers
        policy = dict(part.strip().split(' ', 1) for part in headers['content-security-policy'].split(';'))
        assert policy['frame-ancestors'] == "'none'" and headers['x-frame-options'] == 'DENY'
        assert policy['script-src'] == "'self'" and policy['default-src'] == "'self'"
    for page in ('', 'web_focus'):
        assert '<script>' not in http(site.url + page).body.decode()   # only <script src=...>


def test_status_and_commands_while_a_daemon_is_away(stand_in, web):
    site = web(['web_focus'])
    wait_until(lambda: state(site)['online'], message='online')
    stand_in.stop()
    view = wait_until(lambda: (lambda v: v if not v['online'] else None)(state(site)), timeout=20, message='offline')
    assert view['state'] == 'OFFLINE' and 'did not answer' in view['reason'] and view['kind'] == 'focuser'
    response = http(site.url + 'api/web_focus/set', {'channel': 1, 'steps': 5})
    assert response.status == 502 and response.json()['code'] == -101
    assert http(site.url).status == 200 and http(site.url + 'web_focus').status == 200
    stand_in.start()
    wait_until(lambda: state(site)['online'], timeout=20, message='online again')
    assert http(site.url + 'api/web_focus/set', {'channel': 1, 'steps': 5}).status == 200
    assert stand_in.focuser.target == 5
    log = site.log_path.read_text()     # who commanded what, and what came of it
    assert 'web_focus: set_focus from 127.0.0.1' in log
    assert re.search(r'web_focus: set_focus answered in [0-9.]+ s: error: unable to communicate', log)
    assert re.search(r'web_focus: set_focus answered in [0-9.]+ s: success', log)


class SilentLink:
    """A loopback TCP relay to rockit-web that can go silent: while silent, nothing is passed
    on either way, not even a close (a link lost without a reset), on the connections open
    already as on new ones."""

    def __init__(self, target_port):
        self.silent = threading.Event()
        self.listener = socket.create_server(('127.0.0.1', free_port()))
        self.url = f'http://127.0.0.1:{self.listener.getsockname()[1]}/'
        self.target_port = target_port
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(('127.0.0.1', self.target_port))
            self.connections += [client, server]
            threading.Thread(target=self._pass, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pass, args=(server, client), daemon=True).start()

    def _pass(self, source, sink):
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                if self.silent.is_set():
                    if data:
                        continue
                    return      # a close is lost too: the other end is left waiting
                if not data:
                    break
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def restore(self):
        """The link is back: the connections it left hanging are reset, as TCP does at the
        next segment either end sends."""
        self.silent.clear()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                connection.close()

    def close(self):
        self.listener.close()


def test_a_status_request_that_never_settles_does_not_stop_the_page(stand_in, web, browser):
    site = web(['web_focus'])
    link = SilentLink(int(site.url.rsplit(':', 1)[1].strip('/')))
    try:
        browser.get(link.url + 'web_focus')
        after_updates(browser, lambda b: text(b, 'state') == 'ONLINE', message='ONLINE')
        link.silent.set()
        said = wait_until(lambda: (lambda shown: shown if 'no answer within' in shown else None)(text(browser, 'updated')),
                          timeout=100, message='the page to give up its status request')
        assert said.startswith('rockit-web does not answer: /api/web_focus/status: no answer within 15 s')
        link.restore()
        refreshes = updates(browser)
        wait_until(lambda: updates(browser) >= refreshes + 2 and text(browser, 'updated').startswith('updated '),
                   timeout=100, message='the page refreshing again')
    finally:
        link.close()


def test_one_poller_asks_a_daemon_for_every_client(stand_in, web):
    """Many clients reading status only ever read what the one poller kept."""
    site = web(['web_focus'])
    wait_until(lambda: state(site)['online'], message='online')
    before = stand_in.focuser.calls
    for _ in range(300):
        assert state(site)['status']['target_steps_1'] == 0
    # 300 reads in well over a second would be 300 calls if each were forwarded; the poller
    # asks once per interval (1 s), so far fewer.
    assert stand_in.focuser.calls - before < 100


@pytest.mark.parametrize('config, problem', [
    ({'daemons': ['web_focus']}, 'port: required key is missing'),
    ({'port': 0, 'daemons': ['web_focus']}, 'port: 0 is less than the minimum of 1'),
    ({'port': 8080, 'daemons': ['nobody']}, "daemons[0]: 'nobody' is not a daemon in the registry"),
    ({'port': 8080, 'daemons': []}, 'daemons: [] should be non-empty'),
    ({'port': 8080, 'daemons': ['web_focus'], 'control_machines': ['Nowhere']},
     "control_machines[0]: 'Nowhere' is not a machine in the registry"),
    ({'port': 8080, 'daemons': ['web_focus'], 'colour': 'red'}, 'colour: unknown key'),
])
def test_a_bad_config_is_refused_naming_the_key(tmp_path, test_registry, config, problem):
    test_registry.add('web_focus')
    path = tmp_path / 'web.json'
    path.write_text(json.dumps(config))
    result = run_web(path)
    assert result.returncode == 2
    assert problem in result.stderr, result.stderr


def test_a_port_in_use_is_a_clear_error(tmp_path, test_registry):
    import socket
    test_registry.add('web_focus')
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        path = tmp_path / 'web.json'
        path.write_text(json.dumps({'port': taken.getsockname()[1], 'host': '127.0.0.1', 'daemons': ['web_focus']}))
        result = run_web(path)
    assert result.returncode != 0
    assert 'address already in use' in (result.stdout + result.stderr).lower()


def test_forms_are_disabled_with_the_reason_away_from_control_machines(stand_in, web, browser, screenshot):
    site = web(['web_focus'], control_machines=())
    browser.get(site.url + 'web_focus')
    note = after_updates(browser, lambda b: text(b, 'control-note'), message='the note on commands')
    assert note == 'commands are taken only from control machines, not from 127.0.0.1'
    assert browser.execute_script("return Array.from(document.querySelectorAll('#controls button'), b => b.disabled)") \
        == [True] * 6
    screenshot()


FIGURES = """return [sci(2.8892154307417016e+18), sci(-4.2e-7), molecules(9.87e16), megabytes(74376.7),
  megabytes(100), celsius(17.64), kgPerS(3.7724), percent(0.7439), microseconds(31998.4), settingText([300, 335]),
  settingText(false), plusMinus(3.7724, 2.84, twoDigits, 'kg/s'), plusMinus(null, 1, twoDigits, 'kg/s'), celsius(null)]"""


def test_figures_are_shown_with_units_and_sensible_digits(stand_in, web, browser):
    site = web(['web_focus'])
    browser.get(site.url + 'web_focus')
    after_updates(browser, lambda b: text(b, 'state') == 'ONLINE', message='ONLINE')
    assert browser.execute_script(FIGURES) == [
        '2.89 × 10¹⁸', '-4.20 × 10⁻⁷', '9.87 × 10¹⁶ molecules/cm²', '74.4 GB', '100 MB', '17.6 °C', '3.77 kg/s',
        '74 %', '31998 µs', '300:335', 'off', '3.77 ± 2.84 kg/s', 'none yet', '-']


WARNINGS = """return [KINDS.pycam.warnings({storage: {error: 'disk full'},
                                        cameras: {status: 0, offline_reason: 'no camera'},
                                        processing: {last_error: 'bad pair'},
                                        health: {throttled: {under_voltage: true, raw: 5}}}),
                      KINDS.chiller.warnings({alarms: [3], warnings: [], interlock_faults: {dome: 'no reading'}}),
                      KINDS.focuser.warnings({temperature: {tube: null, mirror: 12.5}})]"""


def test_warnings_are_said_first_in_words(stand_in, web, browser):
    site = web(['web_focus'])
    browser.get(site.url + 'web_focus')
    after_updates(browser, lambda b: text(b, 'state') == 'ONLINE', message='ONLINE')
    assert browser.execute_script(WARNINGS) == [
        ['cameras OFFLINE: no camera', 'Acquisition stopped: disk full', "processing's last error: bad pair",
         'the Pi is under_voltage'],
        ['dome unusable: no reading', 'alarm 3'],
        ['tube: no reading']]
    order = browser.execute_script("return Array.from(document.body.children, e => e.id).filter(Boolean)")
    assert order.index('warnings') < order.index('view')

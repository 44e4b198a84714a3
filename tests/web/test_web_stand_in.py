"""rockit-web over a daemon that goes away and comes back, and over bad configs."""
import json
import subprocess
import sys

import pytest
from selenium.webdriver.common.by import By

from web_support import http, updated
from stand_in import StandIn
from support import ROOT, free_port, wait_until


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
    wait_until(lambda: browser.find_element(By.ID, 'state').text == 'ONLINE', timeout=15, message='ONLINE')
    stand_in.stop()
    wait_until(lambda: browser.find_element(By.ID, 'state').text == 'OFFLINE', timeout=20, message='OFFLINE')
    updated(browser)      # its script still runs
    assert 'web_focus did not answer' in browser.find_element(By.ID, 'reason').text
    assert browser.find_element(By.ID, 'position-1').text == '0'    # the last answer is still shown
    screenshot('away')
    browser.get(site.url)
    updated(browser)
    card = browser.find_element(By.ID, 'card-web_focus')
    assert 'OFFLINE' in card.text and 'did not answer' in card.text
    assert card.find_element(By.CLASS_NAME, 'state').value_of_css_property('background-color') == 'rgba(198, 40, 40, 1)'
    screenshot('overview')
    stand_in.start()
    wait_until(lambda: 'ONLINE' in browser.find_element(By.ID, 'card-web_focus').text, timeout=20, message='back')


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


def run_web(config_path):
    return subprocess.run([sys.executable, str(ROOT / 'rockit-web'), str(config_path)], capture_output=True,
                          text=True, timeout=60)


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

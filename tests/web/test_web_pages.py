"""Every kind of page in headless chromium, after its scripts ran, over the demo's daemons:
what it shows is what the daemons report, and the SO2 camera's pictures are real PNGs."""
import json
import os

import pytest
from selenium.webdriver.common.by import By

from conftest import http, updated
from support import wait_until
from rockit.common import pyro, registry
from rockit.web import plots


@pytest.fixture
def daemon_status(demo, monkeypatch):
    """report_status() of a demo daemon, asked over Pyro as any client would."""
    monkeypatch.setenv(registry.ENVIRONMENT_VARIABLE, str(demo['registry']))
    registry.load.cache_clear()

    def status(name):
        with pyro.connect(registry.daemon(name)) as proxy:
            return proxy.report_status()
    yield status
    registry.load.cache_clear()


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def test_overview_shows_every_daemon_with_its_state(demo, browser, screenshot):
    browser.get(demo['url'])
    updated(browser)
    cards = {card.get_attribute('id'): card.text for card in browser.find_elements(By.CLASS_NAME, 'card')}
    assert sorted(cards) == ['card-localhost_test', 'card-localhost_test2', 'card-localhost_test3',
                             'card-localhost_test6']
    assert 'ONLINE' in cards['card-localhost_test'] and 'channel 1: 250' in cards['card-localhost_test']
    assert 'COOLING' in cards['card-localhost_test2'] and 'MANUAL' in cards['card-localhost_test2']
    assert 'cam1: RUNNING' in cards['card-localhost_test3']
    assert 'SO2 emission rate' in cards['card-localhost_test6'] and 'kg/s' in cards['card-localhost_test6']
    color = browser.find_element(By.CSS_SELECTOR, '#card-localhost_test .state').value_of_css_property('background-color')
    assert color == 'rgba(46, 125, 50, 1)'     # ONLINE is green
    screenshot()


def test_focuser_page_shows_the_emulator_positions(demo, browser, screenshot, daemon_status):
    browser.get(demo['url'] + 'localhost_test')
    updated(browser)
    status = daemon_status('localhost_test')
    assert text(browser, 'state') == 'ONLINE'
    for channel in (1, 2):
        assert text(browser, f'position-{channel}') == str(status[f'current_steps_{channel}'])
    assert text(browser, 'position-1') == '250'
    assert text(browser, 'fans') == 'ON'
    assert 'primary_mirror' in text(browser, 'temperatures')
    screenshot()


def test_chiller_page_shows_its_temperatures_and_plot(demo, browser, screenshot, daemon_status):
    browser.get(demo['url'] + 'localhost_test2')
    wait_until(lambda: browser.find_elements(By.ID, 'plot-chiller'), timeout=30, message='the chiller plot')
    updated(browser)
    status = daemon_status('localhost_test2')
    assert text(browser, 'mode') == 'MANUAL'
    assert abs(float(text(browser, 'water_temp')) - status['water_temp']) < 1
    image = browser.find_element(By.ID, 'plot-chiller')
    assert browser.execute_script('return arguments[0].naturalWidth', image) == plots.WIDTH
    screenshot()


def test_camvirt_page_shows_domains_and_cameras(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test3')
    updated(browser)
    assert text(browser, 'domain-cam1') == 'RUNNING'
    assert 'cam1 answers' in text(browser, 'domains')
    screenshot()


def test_pycam_page_shows_so2_image_emission_plot_and_state(demo, browser, screenshot):
    page = demo['url'] + 'localhost_test6'
    browser.get(page)
    wait_until(lambda: browser.find_elements(By.ID, 'plot-so2') and browser.find_elements(By.ID, 'plot-emission'),
               timeout=30, message='the SO2 image and emission plot')
    updated(browser)
    for name in ('so2', 'emission', 'spectrum'):
        image = browser.find_element(By.ID, f'plot-{name}')
        size = browser.execute_script('return [arguments[0].complete, arguments[0].naturalWidth, '
                                      'arguments[0].naturalHeight]', image)
        assert size == [True, plots.WIDTH, plots.HEIGHT], name
        png = http(image.get_attribute('src'))
        assert png.status == 200 and png.headers['content-type'] == 'image/png'
        assert png.body[:8] == b'\x89PNG\r\n\x1a\n'
        assert int.from_bytes(png.body[16:20], 'big') == plots.WIDTH   # IHDR width
    assert 'SO2 emission rate' in text(browser, 'emission') and 'kg/s' in text(browser, 'emission')
    assert 'continuous' in text(browser, 'group-cameras').lower() or 'fltrA' in text(browser, 'group-cameras')
    assert 'free_bytes' in text(browser, 'storage') or 'root' in text(browser, 'storage')
    screenshot()


def test_unknown_page_is_a_404_page(demo, browser, screenshot):
    browser.get(demo['url'] + 'no_such_daemon')
    assert text(browser, 'detail') == "no daemon 'no_such_daemon' here"
    screenshot()

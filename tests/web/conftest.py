"""rockit-web's fixtures: the demo's four daemons with rockit-web over them (once for the
folder, as `make demo` runs them), rockit-web over stand-ins, HTTP from any loopback
address, and headless chromium driven by selenium, its screenshots kept as artefacts."""
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from support import ROOT, free_port, wait_until

ARTEFACTS = ROOT / 'tests' / 'artefacts' / 'web'    # screenshots; gitignored
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--window-size=1280,2000']


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def http(url, body=None, source='127.0.0.1', raw=None):
    """GET url, or POST body as JSON (raw bytes as they are), from the loopback address source."""
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        connection.request('GET' if data is None else 'POST', parts.path or '/', body=data,
                           headers={'Content-Type': 'application/json'} if data is not None else {})
        response = connection.getresponse()
        return Response(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


class WebProcess:
    """rockit-web run as a subprocess on a config file."""

    def __init__(self, config_path, log_path):
        self.config_path, self.log_path = config_path, log_path
        self.url = f"http://127.0.0.1:{json.loads(config_path.read_text())['port']}/"

    def start(self):
        self.log = open(self.log_path, 'wb')
        self.process = subprocess.Popen([sys.executable, str(ROOT / 'rockit-web'), str(self.config_path)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        wait_until(self.answers, timeout=20, message='rockit-web to answer')
        return self

    def answers(self):
        assert self.process.poll() is None, self.log_path.read_text()
        try:
            return http(self.url + 'api/status').status == 200
        except OSError:
            return False

    def stop(self):
        self.process.terminate()
        self.process.wait(15)
        self.log.close()


@pytest.fixture
def web(tmp_path, test_registry):
    """Start rockit-web over the named daemons of the test registry."""
    started = []

    def start(daemons, control_machines=('LocalHost',), **extra):
        path = tmp_path / f'rockit-web-{len(started)}.json'
        path.write_text(json.dumps({'port': free_port(), 'host': '127.0.0.1', 'daemons': list(daemons),
                                    'control_machines': list(control_machines), **extra}))
        process = WebProcess(path, tmp_path / f'rockit-web-{len(started)}.log')
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """`make demo` kept running for one module: the four demo daemons and rockit-web;
    yields its URL and the registry it wrote."""
    folder = tmp_path_factory.mktemp('demo')
    process = subprocess.Popen([sys.executable, '-u', str(ROOT / 'tools' / 'demo.py'), '--dir', str(folder), '--keep'],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    output, url = [], None
    for line in process.stdout:
        output.append(line)
        if 'Web pages of every daemon: ' in line:
            url = line.split(': ', 1)[1].strip()
            break
    if url is None:
        process.wait(30)
        pytest.fail('the demo printed no URL:\n' + ''.join(output))
    yield {'url': url, 'registry': folder / 'registry.json', 'folder': folder, 'output': ''.join(output)}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope='session')
def browser(tmp_path_factory):
    """Headless chromium with a fresh profile; skips where Debian's chromium is missing."""
    chromium, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (chromium and driver):
        pytest.skip('chromium and chromium-driver are not installed (tools/debian-packages)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS + [f'--user-data-dir={tmp_path_factory.mktemp("chromium-profile")}']:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


@pytest.fixture
def screenshot(request, browser):
    """Save the browser's page as tests/artefacts/web/<test name>[-<label>].png."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    def save(label=''):
        path = ARTEFACTS / f"{request.node.name}{'-' + label if label else ''}.png"
        browser.save_screenshot(str(path))
        return path
    return save


def updated(browser, times=2, timeout=20):
    """Wait until the page's script has drawn at least `times` updates since this call."""
    start = int(browser.find_element('tag name', 'body').get_attribute('data-updates') or 0)
    wait_until(lambda: int(browser.find_element('tag name', 'body').get_attribute('data-updates') or 0)
               >= start + times, timeout=timeout, message='the page to update')

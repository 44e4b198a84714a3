"""rockit-web's fixtures: the demo's four daemons with rockit-web over them (once for the
module, as `make demo` runs them), rockit-web over stand-ins, and headless chromium driven
by selenium, its screenshots kept as artefacts. Helpers are in web_support.py."""
import json
import shutil
import signal
import subprocess
import sys

import pytest

from support import ROOT, free_port
from web_support import WebProcess
from rockit.common import pyro, registry

ARTEFACTS = ROOT / 'tests' / 'artefacts' / 'web'    # screenshots; gitignored
LOG_LINES = 60    # of each demo log in a failure's report
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--window-size=1280,2000']


@pytest.fixture
def web(tmp_path, test_registry):
    """Start rockit-web over the named daemons of the test registry."""
    started = []

    def start(daemons, control_machines=('LocalHost',), max_files=None, **extra):
        path = tmp_path / f'rockit-web-{len(started)}.json'
        path.write_text(json.dumps({'port': free_port(), 'host': '127.0.0.1', 'daemons': list(daemons),
                                    'control_machines': list(control_machines), **extra}))
        process = WebProcess(path, tmp_path / f'rockit-web-{len(started)}.log')
        started.append(process)
        return process.start(max_files)

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """`make demo` kept running for the test_web_demo*.py modules, which run on one worker
    (tests/conftest.py): the four demo daemons and rockit-web; yields its URL and the
    registry it wrote."""
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


@pytest.fixture
def daemon_status(demo, monkeypatch):
    """report_status() of a demo daemon, asked over Pyro as any client would."""
    monkeypatch.setenv(registry.ENVIRONMENT_VARIABLE, str(demo['registry']))
    registry.load.cache_clear()

    def status(name):
        with pyro.connect(registry.daemon(name), 30) as proxy:
            return proxy.report_status()
    yield status
    registry.load.cache_clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test over the demo reports the end of each demo log: what the daemons and
    rockit-web did meanwhile is gone with the demo's folder."""
    outcome = yield
    report = outcome.get_result()
    demo = item.funcargs.get('demo') if report.when == 'call' and report.failed else None
    for log in sorted(demo['folder'].glob('*.log')) if demo else ():
        lines = log.read_text(errors='replace').splitlines()[-LOG_LINES:]
        report.sections.append((f'end of the demo log {log.name}', '\n'.join(lines)))


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

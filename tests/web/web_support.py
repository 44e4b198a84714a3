"""rockit-web's test helpers: HTTP from any loopback address, rockit-web run as a
subprocess, and waiting for a page's script to update it."""
import json
import os
import resource
import subprocess
import sys
import time

from support import ROOT, wait_until


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def http(url, body=None, source='127.0.0.1', raw=None, headers=None):
    """GET url, or POST body as JSON (raw bytes as they are), from the loopback address
    source. A POST carries what rockit-web's own page would send (Content-Type
    application/json, Origin the page's origin); headers adds to that or, with None as a
    value, takes one away."""
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {} if data is None else {'Content-Type': 'application/json',
                                        'Origin': f'{parts.scheme}://{parts.netloc}'}
        sent.update(headers or {})
        connection.request('GET' if data is None else 'POST', (parts.path or '/') + (f'?{parts.query}' if parts.query else ''),
                           body=data,
                           headers={k: v for k, v in sent.items() if v is not None})
        response = connection.getresponse()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def run_web(config_path):
    """rockit-web run to its end on a config (one that it refuses)."""
    return subprocess.run([sys.executable, str(ROOT / 'rockit-web'), str(config_path)], capture_output=True,
                          text=True, timeout=60)


class WebProcess:
    """rockit-web run as a subprocess on a config file."""

    def __init__(self, config_path, log_path):
        self.config_path, self.log_path = config_path, log_path
        self.url = f"http://127.0.0.1:{json.loads(config_path.read_text())['port']}/"

    def start(self, max_files=None):
        """Start it (with a file limit of max_files, as systemd's default 1024 would be)."""
        def limit_files():
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))
        self.log = open(self.log_path, 'wb')
        self.process = subprocess.Popen([sys.executable, str(ROOT / 'rockit-web'), str(self.config_path)],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy(),
                                        preexec_fn=limit_files if max_files else None)
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


def updates(browser):
    """The page's own count of finished refreshes (its body's data-updates)."""
    return int(browser.execute_script('return Number(document.body ? document.body.dataset.updates || 0 : 0)'))


def updated(browser, times=2, timeout=60):
    """Wait until the page's script has finished at least `times` refreshes since this call."""
    start = updates(browser)
    wait_until(lambda: updates(browser) >= start + times, timeout=timeout, message='the page to update')


def text(browser, element_id):
    """An element's text as shown, read in one step (None while there is none): nothing is
    held across the page's redraws, so nothing goes stale."""
    return browser.execute_script('const e = document.getElementById(arguments[0]); return e ? e.innerText : null',
                                  element_id)


def cards(browser):
    """The overview's cards, {id: text}, read in one step."""
    return browser.execute_script("return Object.fromEntries(Array.from(document.querySelectorAll('.card'), "
                                  "card => [card.id, card.innerText]))")


def colour(browser, selector):
    """The background colour of the first element matching selector, as rgb(r, g, b)."""
    return browser.execute_script('return getComputedStyle(document.querySelector(arguments[0])).backgroundColor',
                                  selector)


def after_updates(browser, condition, timeout=120, message='the page'):
    """Read the page after each of its refreshes until condition(browser) gives a true
    value, and return it; a generous ceiling, and the last reading in the failure."""
    deadline = time.monotonic() + timeout
    seen, value = -1, None
    while time.monotonic() < deadline:
        count = updates(browser)
        if count != seen:
            seen, value = count, condition(browser)
            if value:
                return value
        time.sleep(0.05)
    raise AssertionError(f'timed out after {timeout} s waiting for {message}; last seen: {value!r}')


def submit(browser, label, **fields):
    """Fill in and submit the page's command form whose button says label, as a person
    would: type into a text or number field, pick a select's option by its value, tick or
    untick a checkbox (True or False). The form is found afresh for each step: forms are
    built once, but nothing of the page is held across its refreshes."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    form = f"//form[button[text()='{label}']]"
    for name, value in fields.items():
        field = browser.find_element(By.XPATH, form).find_element(By.NAME, name)
        if field.tag_name == 'select':
            Select(field).select_by_value(str(value))
        elif field.get_attribute('type') == 'checkbox':
            if field.is_selected() != bool(value):
                field.click()
        else:
            field.clear()
            field.send_keys(str(value))
    browser.find_element(By.XPATH, form).find_element(By.TAG_NAME, 'button').click()


def answered(browser, label, timeout=120):
    """Wait for the answer to the command whose form says label, and return it. The form
    writes its answer when the command returns, not at a refresh: so it is read as often
    as it may change, not after each refresh."""
    deadline = time.monotonic() + timeout
    shown = None
    while time.monotonic() < deadline:
        shown = text(browser, 'answer')
        if shown and shown.startswith(label + ': ') and not shown.endswith('running...'):
            return shown
        time.sleep(0.1)
    raise AssertionError(f'timed out after {timeout} s waiting for the answer to {label}; last seen: {shown!r} '
                         f'after {updates(browser)} refreshes of the page')

"""rockit-web's test helpers: HTTP from any loopback address, rockit-web run as a
subprocess, and waiting for a page's script to update it."""
import json
import os
import subprocess
import sys

from support import ROOT, wait_until


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


def updated(browser, times=2, timeout=20):
    """Wait until the page's script has drawn at least `times` updates since this call."""
    start = int(browser.find_element('tag name', 'body').get_attribute('data-updates') or 0)
    wait_until(lambda: int(browser.find_element('tag name', 'body').get_attribute('data-updates') or 0)
               >= start + times, timeout=timeout, message='the page to update')

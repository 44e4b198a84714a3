"""rockit-web's pages on the demo (`make demo`'s four daemons on their emulators and
simulator): the Pyro calls each daemon answers while 1 and then 50 browsers keep its page
open, and how fast the pycamd page with its pictures loads in headless chromium.

Calls are counted at the daemon's side of rockit-web: a relay served under its own name
forwards every call to the real daemon and counts it, so rockit-web talks to it as to the
daemon. A browser here does what the page's script does: the daemon's status once a second,
each picture whose version changed, and the history's days and day picture when it opens.
"""
import collections
import functools
import http.client
import http.server
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

import Pyro4

from harness import ROOT, WORK, register, stop

from rockit.common import pyro, registry

SECONDS = 30.0              # each browser count's window
BROWSERS = (1, 50)
LOADS = 15                  # page loads of each kind, taking turns
DAEMONS = {'localhost_test': 'focusd', 'localhost_test2': 'chillerd', 'localhost_test3': 'camvirtd',
           'localhost_test6': 'pycamd'}
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--window-size=1280,2000']


def start_demo():
    """tools/demo.py in WORK/demo: (process, its rockit-web URL, its registry path)."""
    folder = WORK / 'demo'
    process = subprocess.Popen([sys.executable, '-u', str(ROOT / 'tools' / 'demo.py'), '--dir', str(folder), '--keep'],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    for line in process.stdout:
        if 'Web pages of every daemon: ' in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()    # keep its pipe drained
            return process, line.split(': ', 1)[1].strip(), folder / 'registry.json'
    raise RuntimeError('the demo printed no URL')


def stop_demo(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


def relay(address, calls):
    """A Pyro object with the daemon's methods, each counted in calls[name] and forwarded."""
    with pyro.connect(address, 30) as proxy:
        proxy._pyroBind()
        methods = sorted(proxy._pyroMethods)
    local = threading.local()
    lock = threading.Lock()

    def forward(name):
        def call(self, *args, **kwargs):
            with lock:
                calls[name] += 1
            if getattr(local, 'proxy', None) is None:
                local.proxy = pyro.connect(address, 60)
            return getattr(local.proxy, name)(*args, **kwargs)
        call.__name__ = name
        return Pyro4.expose(call)
    return type('Relay', (), {name: forward(name) for name in methods})()


def get(url, source='127.0.0.1'):
    """GET url from a loopback source address (rockit-web caps connections per address, as
    per machine: each browser has its own)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(source, 0))
    try:
        connection.request('GET', parts.path + (f'?{parts.query}' if parts.query else ''))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError(f'{url}: HTTP {response.status}')
        return body
    finally:
        connection.close()


def browser_loop(base, daemon, source, stop_at, reads):
    """What one open page of a daemon asks rockit-web for until stop_at; reads counts the
    HTTP reads done and failed."""
    seen = {}
    opened = False
    while time.monotonic() < stop_at:
        started = time.monotonic()
        try:
            view = json.loads(get(f'{base}api/{daemon}/status', source))
            reads['done'] += 1
            for name, version in (view.get('plots') or {}).items():
                if seen.get(name) != version:
                    get(f'{base}api/{daemon}/plot/{name}.png?v={version}', source)
                    seen[name] = version
                    reads['done'] += 1
            if view.get('kind') == 'pycam' and view.get('online') and not opened:
                days = json.loads(get(f'{base}api/{daemon}/days', source))
                if days:
                    get(f'{base}api/{daemon}/day/{days[-1]}.png', source)
                opened = True
                reads['done'] += 2
        except OSError:
            reads['failed'] += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))    # the page's POLL_MS after its update


def calls_per_browser_count(demo_registry):
    """Rows: each daemon's Pyro calls per second with 1 and 50 browsers on its page."""
    os.environ[registry.ENVIRONMENT_VARIABLE] = str(demo_registry)
    registry.load.cache_clear()
    real = {name: registry.daemon(name) for name in DAEMONS}
    os.environ[registry.ENVIRONMENT_VARIABLE] = str(WORK / 'registry.json')
    registry.load.cache_clear()
    counts, servers = {}, []
    for name, address in real.items():
        counts[name] = collections.Counter()
        servers.append(pyro.BackgroundServer(relay(address, counts[name]), register(f'relay_{name}')))
    from support import free_port
    port = free_port()
    config = WORK / 'rockit-web-relays.json'
    config.write_text(json.dumps({'port': port, 'host': '127.0.0.1', 'daemons': [f'relay_{n}' for n in DAEMONS]}))
    web = subprocess.Popen([sys.executable, str(ROOT / 'rockit-web'), str(config)],
                           stdout=open(WORK / 'rockit-web-relays.log', 'w'), stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}/'
    rows, baseline = [], {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if all(v['online'] for v in json.loads(get(base + 'api/status'))):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        time.sleep(6)      # past the pollers' first products, which every window would otherwise share
        for browsers in BROWSERS:
            before = {name: sum(c.values()) for name, c in counts.items()}
            reads = collections.Counter()
            stop_at = time.monotonic() + SECONDS
            threads = [threading.Thread(target=browser_loop, args=(base, f'relay_{name}', f'127.0.0.{2 + b}', stop_at,
                                                                   reads))
                       for b in range(browsers) for name in DAEMONS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for name, label in DAEMONS.items():
                per_s = (sum(counts[name].values()) - before[name]) / SECONDS
                baseline.setdefault(name, per_s)
                rows.append((f'{label}: Pyro calls/s with {browsers} browser(s) on its page', per_s, per_s,
                             browsers, per_s / baseline[name] if baseline[name] else None))
            rows.append((f'{browsers} browser(s) on each page: HTTP reads/s at rockit-web ({reads["failed"]} failed)',
                         reads['done'] / SECONDS, reads['done'] / SECONDS, browsers * len(DAEMONS), None))
        ask = counts['localhost_test6']
        print('pycamd calls by query over the whole run:', dict(ask))
    finally:
        stop(web)
        for server in servers:
            server.close()
    return rows


IMAGES_DONE = """const images = [...document.querySelectorAll(arguments[0])];
if (!images.length || !images.every(i => i.complete && i.naturalWidth > 0)) return null;
const loaded = performance.getEntriesByType('resource').filter(e => e.initiatorType === 'img').map(e => e.responseEnd);
const navigation = performance.getEntriesByType('navigation')[0];
return loaded.length >= images.length && [navigation.loadEventEnd, Math.min(...loaded), Math.max(...loaded), images.length];"""


def _load(browser, url, selector):
    browser.get(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = browser.execute_script(IMAGES_DONE, selector)
        if found:
            return found
        time.sleep(0.02)
    raise RuntimeError(f'{url}: its pictures did not load')


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def static_copy(base, folder):
    """The pycamd page's pictures as a static page beside them (the baseline), served on loopback."""
    view = json.loads(get(f'{base}api/localhost_test6/status'))
    names = sorted(view['plots'])
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f'{name}.png').write_bytes(get(f'{base}api/localhost_test6/plot/{name}.png'))
    (folder / 'index.html').write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>static</title></head><body>'
                                       + ''.join(f'<img src="{n}.png">' for n in names) + '</body></html>')
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_port}/index.html', len(names)


def page_loads(base):
    """Rows: the pycamd page's load, first and last picture (ms from navigation start), cold
    cache, against a static page of the same pictures."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium')
    for flag in CHROMIUM_FLAGS + [f'--user-data-dir={WORK / "chromium-profile"}']:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=options)
    server, static_url, pictures = static_copy(base, WORK / 'static-page')
    times = {'page': [], 'static': []}
    try:
        browser.execute_cdp_cmd('Network.enable', {})
        browser.execute_cdp_cmd('Network.setCacheDisabled', {'cacheDisabled': True})
        for turn in range(LOADS):
            order = [('page', base + 'localhost_test6', '#view img, #diagnostics img'), ('static', static_url, 'img')]
            for kind, url, selector in (order if turn % 2 else order[::-1]):
                times[kind].append(_load(browser, url, selector))
    finally:
        browser.quit()
        server.shutdown()
    rows = []
    for index, what in ((0, 'load event'), (1, 'first picture'), (2, 'last picture')):
        static = [t[index] for t in times['static']]
        for kind in ('static', 'page'):
            values = sorted(t[index] for t in times[kind])
            label = (f'pycamd page on the demo ({times["page"][0][3]} pictures)' if kind == 'page'
                     else f'static page of the same {pictures} pictures')
            ratio = None if kind == 'static' else statistics.median(values) / statistics.median(static)
            rows.append((f'{label}: {what} (ms from navigation start)', statistics.median(values), values[-1],
                         len(values), ratio, None if kind == 'static' else 'the static row above',
                         None if kind == 'static' else (values[0] / statistics.median(static),
                                                        values[-1] / statistics.median(static))))
    return rows


def run():
    process, url, demo_registry = start_demo()
    try:
        rows = calls_per_browser_count(demo_registry)
        rows += page_loads(url)
    finally:
        stop_demo(process)
    return rows


if __name__ == '__main__':
    for row in run():
        print(row)

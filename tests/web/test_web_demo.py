"""rockit-web over the demo's four daemons (one demo, shared with test_web_demo_forms.py:
these run first). Every kind of page in headless chromium, after its scripts ran: what it shows
is what the daemons report, and the SO2 camera's pictures are real PNGs. The HTTP API:
status, commands forwarded only from control machines, the daemon's own codes and words,
and 404s for what is not there."""

import re

import pytest

from web_support import after_updates, cards, colour, http, submit, text
from support import wait_until
from rockit.common import pyro, registry
from rockit.web import plots

# The demo takes most of a minute to start, and is set up within its module's first test:
# it waits up to 120 s for pycamd's DOAS calibration.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def overview_complete(browser):
    """The overview's cards once every daemon's card shows what its daemon reports."""
    shown = cards(browser)
    if ('channel 1: 250' in shown.get('card-localhost_test', '') and 'MANUAL' in shown.get('card-localhost_test2', '')
            and 'cam1: RUNNING' in shown.get('card-localhost_test3', '')
            and 'kg/s' in shown.get('card-localhost_test6', '')):
        return shown
    return None


def test_overview_shows_every_daemon_with_its_state(demo, browser, screenshot):
    browser.get(demo['url'])
    shown = after_updates(browser, overview_complete, message='every card to show its daemon')
    assert sorted(shown) == ['card-localhost_test', 'card-localhost_test2', 'card-localhost_test3',
                             'card-localhost_test6']
    assert 'ONLINE' in shown['card-localhost_test']
    assert 'COOLING' in shown['card-localhost_test2']
    assert 'SO2 emission rate' in shown['card-localhost_test6']
    assert colour(browser, '#card-localhost_test .state') == 'rgb(46, 125, 50)'     # ONLINE is green
    screenshot()


def test_focuser_page_shows_the_emulator_positions(demo, browser, screenshot, daemon_status):
    browser.get(demo['url'] + 'localhost_test')
    after_updates(browser, lambda b: text(b, 'state') == 'ONLINE' and text(b, 'position-2') is not None,
                  message='the focuser ONLINE with its channels')
    status = daemon_status('localhost_test')
    positions = after_updates(browser, lambda b: [text(b, f'position-{c}') for c in (1, 2)]
                              if text(b, 'position-2') == str(status['current_steps_2']) else None,
                              message=f"the positions the daemon reports, {status['current_steps_2']} on 2")
    assert positions == [str(status['current_steps_1']), str(status['current_steps_2'])]
    assert positions[0] == '250'
    assert text(browser, 'fans') == 'ON'
    assert 'primary_mirror' in text(browser, 'temperatures')
    screenshot()


def test_chiller_page_shows_its_temperatures_and_plot(demo, browser, screenshot, daemon_status):
    browser.get(demo['url'] + 'localhost_test2')
    after_updates(browser, lambda b: b.execute_script(
        "const i = document.getElementById('plot-chiller'); return i !== null && i.complete && i.naturalWidth > 0"),
        message='the chiller plot')
    status = daemon_status('localhost_test2')
    assert text(browser, 'mode') == 'MANUAL'
    assert abs(float(text(browser, 'water_temp')) - status['water_temp']) < 1
    assert browser.execute_script("return document.getElementById('plot-chiller').naturalWidth") == plots.WIDTH
    screenshot()


def test_camvirt_page_shows_domains_and_cameras(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test3')
    after_updates(browser, lambda b: text(b, 'domain-cam1') == 'RUNNING', message='cam1 RUNNING')
    assert 'cam1 answers' in text(browser, 'domains')
    screenshot()


PLOT_SIZES = """return ['so2', 'emission', 'spectrum'].map(name => {
  const image = document.getElementById('plot-' + name);
  return image && [image.complete, image.naturalWidth, image.naturalHeight, image.getAttribute('src')];
});"""


def test_pycam_page_shows_so2_image_emission_plot_and_state(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test6')
    sizes = after_updates(browser, lambda b: (lambda found: found if all(found) and all(f[0] for f in found) else None)(
        b.execute_script(PLOT_SIZES)), message='the SO2 image, emission plot and spectrum')
    for name, (complete, width, height, src) in zip(('so2', 'emission', 'spectrum'), sizes):
        assert (width, height) == (plots.WIDTH, plots.HEIGHT), name
        png = http(demo['url'].rstrip('/') + src)
        assert png.status == 200 and png.headers['content-type'] == 'image/png'
        assert png.body[:8] == b'\x89PNG\r\n\x1a\n'
        assert int.from_bytes(png.body[16:20], 'big') == plots.WIDTH   # IHDR width
    assert 'SO2 emission rate' in text(browser, 'emission') and 'kg/s' in text(browser, 'emission')
    cameras = text(browser, 'group-cameras')
    assert 'continuous' in cameras and 'fltrA' in cameras and ' µs' in cameras and ' %' in cameras
    assert re.search(r'\d+(\.\d)? [MG]B free \(floor 100 MB\)', text(browser, 'storage'))
    # A column density as a person reads it: three digits and a power of ten, with its unit.
    doas = after_updates(browser, lambda b: text(b, 'doas'), message='a DOAS column')
    assert re.fullmatch(r'\d\.\d\d × 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+ ± \d\.\d\d × 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+ molecules/cm²', doas), doas
    screenshot()


FRAMES = """return ['fltrA', 'fltrB'].map(band => {
  const image = document.getElementById('frame-' + band);
  const caption = document.getElementById('frame-' + band + '-caption');
  return image && image.complete && image.naturalWidth > 0 && [image.naturalWidth, caption.innerText];
});"""


def test_pycam_page_shows_the_newest_raw_frames_with_their_saturation(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test6')
    frames = after_updates(browser, lambda b: (lambda found: found if all(found) else None)(b.execute_script(FRAMES)),
                           message='both raw frames')
    for band, (width, caption) in zip(('fltrA', 'fltrB'), frames):
        assert width == 648
        assert re.fullmatch(band + r', o[nf]f?-band \(3[13]0 nm\): \S+_' + band + r'_\S+\.png; saturation \d+ %, '
                            r'\d+\.\d\d % of pixels saturated \(red\)', caption), caption
    first = frames[0][1]
    after_updates(browser, lambda b: (lambda now: bool(now and now[0] and now[0][1] != first))(b.execute_script(FRAMES)),
                  message='a newer on-band frame, live')
    screenshot()


def test_pycamd_serves_its_newest_frames_as_small_pngs(daemon_status):
    import cv2
    import numpy as np
    import serpent
    with pyro.connect(registry.daemon('localhost_test6'), 30) as proxy:
        frames = wait_until(lambda: (lambda f: f if len(f) == 2 else None)(proxy.latest_frames()), timeout=30,
                            message='both bands saved')
    for band, frame in frames.items():
        png = serpent.tobytes(frame['png'])
        assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) < 500 * 1024
        assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == (486, 648, 3)
        assert f'_{band}_' in frame['name'] and 0 <= frame['saturated'] <= 1


def test_pycam_page_shows_the_calibration_curve_with_its_model_and_age(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test6')
    after_updates(browser, lambda b: b.execute_script(
        "const i = document.getElementById('plot-calibration'); return i && i.complete && i.naturalWidth > 0"),
        message='the calibration curve')
    age = text(browser, 'calibration-age')
    assert re.fullmatch(r'doas calibration, linear model, made \d+ min ago '
                        r'\(DOAS, \d+ points over the last \d+ s\)', age), age
    screenshot()


DIAGNOSTICS = """return ['fov', 'background', 'flow'].map(name => {
  const image = document.getElementById('plot-' + name);
  const age = document.getElementById(name + '-age');
  return image && image.complete && image.naturalWidth > 0 && age && [image.naturalWidth, age.innerText];
});"""


def test_pycam_page_shows_the_view_search_background_and_flow_with_their_age(demo, browser, screenshot):
    """The demo's pycamd searched for its spectrometer's view before it was ready (tools/demo.py)."""
    browser.get(demo['url'] + 'localhost_test6')
    panels = after_updates(browser, lambda b: (lambda found: found if all(found) else None)(
        b.execute_script(DIAGNOSTICS)), message='the correlation map, background and flow histograms')
    assert all(width == plots.WIDTH for width, _ in panels)
    (_, fov), (_, background), (_, flow) = panels
    assert re.fullmatch(r'search of \S+Z \(\d+ (s|min) ago\) over \d+ pairings: view at \(\d+, \d+\) r \d+ px, '
                        r'correlation 0\.\d\d', fov), fov
    assert re.fullmatch(r'clear sky background, pair of \S+Z \(\d+ (s|min) ago\): sky region \[550, 20, 600, 70\] '
                        r'AA -?\d\.\d{4} ± \d\.\d{4} after an offset of -?\d\.\d{4}, no gradient', background), background
    assert re.fullmatch(r'flow at simulated_plume, pair of \S+Z \(\d+ (s|min) ago\): \d+ of \d+ vectors on moving '
                        r'plume, through the line -?\d+\.\d\d ± \d+\.\d\d px per pair', flow), flow
    first = flow
    after_updates(browser, lambda b: (lambda now: bool(now and now[2] and now[2][1] != first))(
        b.execute_script(DIAGNOSTICS)), message="a newer pair's flow, live")
    screenshot()


def test_unknown_page_is_a_404_page(demo, browser, screenshot):
    browser.get(demo['url'] + 'no_such_daemon')   # a static page: loaded means drawn
    assert text(browser, 'detail') == "no daemon 'no_such_daemon' here"
    screenshot()


@pytest.fixture
def focuser(daemon_status):
    return lambda: pyro.connect(registry.daemon('localhost_test'), 10)


def online(response):
    return response if response.json()['online'] else None


def test_status_of_each_daemon_names_its_kind_and_state(demo):
    kinds = {}
    for name in ('localhost_test', 'localhost_test2', 'localhost_test3', 'localhost_test6'):
        response = wait_until(lambda: online(http(demo['url'] + f'api/{name}/status')), timeout=20,
                              message=f'{name} online')
        assert response.status == 200 and response.headers['content-type'] == 'application/json'
        view = response.json()
        assert view['online'] and view['reason'] is None and view['status']['date']
        kinds[name] = view['kind']
    assert kinds == {'localhost_test': 'focuser', 'localhost_test2': 'chiller', 'localhost_test3': 'camvirt',
                     'localhost_test6': 'pycam'}


def test_command_from_a_control_machine_is_forwarded(demo, focuser):
    response = http(demo['url'] + 'api/localhost_test/set', {'channel': 2, 'steps': -40})
    assert (response.status, response.json()) == (200, {'code': 0, 'message': 'success'})
    with focuser() as proxy:
        assert proxy.report_status()['target_steps_2'] == -40
    wait_until(lambda: http(demo['url'] + 'api/localhost_test/status').json()['status']['target_steps_2'] == -40,
               message='the page to see the new target')


def test_command_from_elsewhere_is_refused_and_not_forwarded(demo, focuser):
    with focuser() as proxy:
        before = proxy.report_status()['target_steps_1']
    response = http(demo['url'] + 'api/localhost_test/set', {'channel': 1, 'steps': before + 77}, source='127.0.0.2')
    assert response.status == 403
    assert response.json() == {'code': 3, 'message': 'error: command not accepted from this IP'}
    with focuser() as proxy:
        assert proxy.report_status()['target_steps_1'] == before


def test_daemon_refusal_comes_back_in_its_own_words(demo):
    response = http(demo['url'] + 'api/localhost_test/set', {'channel': 9, 'steps': 1})
    assert response.status == 409
    assert response.json()['code'] != 0 and response.json()['message'].startswith('error:')
    response = http(demo['url'] + 'api/localhost_test/set', {'channel': 1, 'stepz': 1})
    assert (response.status, response.json()['code']) == (409, 5)


@pytest.mark.parametrize('raw', [b'not json', b'[1, 2]', b'"text"'])
def test_body_that_is_not_a_json_object_is_a_400(demo, raw):
    response = http(demo['url'] + 'api/localhost_test/stop', raw=raw)
    assert response.status == 400 and response.json()['code'] == 5


@pytest.mark.parametrize('method, path', [
    ('GET', 'api/nobody/status'), ('GET', 'nobody'), ('GET', 'api/localhost_test/plot/nothing.png'),
    ('POST', 'api/nobody/set'), ('POST', 'api/localhost_test/warp'), ('GET', 'static/nothing.js'),
])
def test_what_is_not_there_is_a_404(demo, method, path):
    response = http(demo['url'] + path, {} if method == 'POST' else None)
    assert response.status == 404
    if path.startswith('api/'):
        assert 'error' in response.json()
    elif not path.startswith('static/'):
        assert b'Not found' in response.body


def test_pages_and_scripts_come_from_rockit_web_alone(demo):
    for path in ('', 'localhost_test6'):
        page = http(demo['url'] + path).body.decode()
        assert 'http://' not in page and 'https://' not in page
    script = http(demo['url'] + 'static/rockit-web.js')
    assert script.status == 200 and b'https://' not in script.body and b'http://' not in script.body


def test_pycamd_serves_its_products_as_bytes(daemon_status):
    """What the SO2 page is drawn from, asked of the demo's pycamd as any Pyro client would."""
    import io

    import numpy as np
    import serpent
    from rockit.pycam.products import IMAGE_BYTES
    with pyro.connect(registry.daemon('localhost_test6'), 30) as proxy:
        image = wait_until(proxy.latest_so2_image, timeout=30, message='a processed pair')
        rates = proxy.emission_rates()
        spectrum = proxy.latest_spectrum()
    aa = np.load(io.BytesIO(serpent.tobytes(image['npy'])), allow_pickle=False)
    assert aa.dtype == np.float32 and aa.ndim == 2 and aa.nbytes <= IMAGE_BYTES
    assert image['name'].endswith('_aa.npy') and image['step'] >= 1
    assert image['line']['name'] == 'simulated_plume'
    assert rates['rows'] and float(rates['rows'][-1]['line_mean_aa']) == float(rates['rows'][-1]['line_mean_aa'])
    data = np.load(io.BytesIO(serpent.tobytes(spectrum['npy'])), allow_pickle=False)
    assert data.shape[0] == 2 and data.shape[1] > 100 and spectrum['name'].endswith('_Plume.npy')
    with pyro.connect(registry.daemon('localhost_test6'), 30) as proxy:
        reply = wait_until(proxy.latest_doas_fit, timeout=30, message='a live DOAS fit')
    fit = np.load(io.BytesIO(serpent.tobytes(reply['npz'])), allow_pickle=False)
    assert str(fit['spectrum']).endswith('_Plume.npy') and np.isfinite(fit['column'])
    assert fit['wavelengths'].shape == fit['measured'].shape == fit['fitted'].shape
    assert 300 <= fit['wavelengths'].min() < fit['wavelengths'].max() <= 330, 'the fit window only'
    misfit = np.sqrt(np.mean(((fit['measured'] - fit['fitted']) / fit['measured']) ** 2))
    assert misfit < 0.05, 'the model is the one fitted to these counts'


def test_any_days_results_are_drawn_and_downloaded_as_csv(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test6')
    day = after_updates(browser, lambda b: b.execute_script(
        "const s = document.querySelector('#history-form select'); return s && s.value"), message='the days')
    assert re.fullmatch(r'\d{4}-\d{2}-\d{2}', day)
    after_updates(browser, lambda b: b.execute_script(
        "const i = document.getElementById('day-plot'); return i && i.complete && i.naturalWidth > 0"),
        message="the day's picture")
    assert browser.execute_script("return document.getElementById('day-plot').naturalWidth") == plots.WIDTH
    screenshot()
    for name, column in (('emission_rates', 'emission_rate_kg_s'), ('doas_columns', 'so2_molecules_cm2')):
        href = browser.execute_script(f"return document.getElementById('csv-{name}').getAttribute('href')")
        assert href == f'/api/localhost_test6/day/{day}/{name}.csv'
        response = http(demo['url'].rstrip('/') + href)
        assert response.status == 200 and response.headers['content-type'].startswith('text/csv')
        assert f'localhost_test6_{name}_{day}.csv' in response.headers['content-disposition']
        with open(demo['folder'] / 'pycamd-data' / 'processing' / day / f'{name}.csv', 'rb') as file:
            on_disk = file.read()
        assert response.body.split(b'\n')[0] == on_disk.split(b'\n')[0] and column.encode() in response.body
        assert on_disk.startswith(response.body)     # the file as it was then: it grows with each pair


DAY_PLOT = """const i = document.getElementById('day-plot');
return i && i.complete && i.naturalWidth > 0 && i.getAttribute('src');"""


def test_a_time_range_of_the_day_is_shown_from_the_history_form(demo, browser, screenshot):
    browser.get(demo['url'] + 'localhost_test6')
    day = after_updates(browser, lambda b: b.execute_script(
        "const s = document.querySelector('#history-form select'); return s && s.value"), message='the days')
    with open(demo['folder'] / 'pycamd-data' / 'processing' / day / 'emission_rates.csv') as file:
        first = file.read().splitlines()[1].split(',')[0][11:16]     # HH:MM of the first pair
    after_updates(browser, lambda b: b.execute_script(DAY_PLOT), message="the day's picture")
    submit(browser, 'Show', **{'from': first, 'to': '23:59:59'})
    src = after_updates(browser, lambda b: (lambda s: s if s and 'from=' in s else None)(b.execute_script(DAY_PLOT)),
                        message='the picture of the range')
    assert f'from={first.replace(":", "%3A")}&to=23%3A59%3A59' in src, src
    screenshot()
    submit(browser, 'Show', **{'from': '25:00', 'to': ''})
    note = after_updates(browser, lambda b: text(b, 'history-note'), message='why the range is refused')
    assert note == "'25:00' is not a time of day (from=HH:MM or HH:MM:SS, UTC)"


@pytest.mark.parametrize('path', ['api/localhost_test6/day/1999-01-01.png',
                                  'api/localhost_test6/day/1999-01-01/doas_columns.csv',
                                  'api/localhost_test6/day/yesterday.png',
                                  'api/localhost_test6/day/2026-01-01/passwords.csv',
                                  'api/localhost_test/day/2026-01-01.png'])
def test_a_day_without_results_is_a_404(demo, path):
    response = http(demo['url'] + path)
    assert response.status == 404 and 'error' in response.json()


def test_a_days_csv_comes_in_parts_as_large_as_it_is(daemon_status, demo):
    """A day outgrows one Pyro message: the parts join to the whole file."""
    import serpent
    with pyro.connect(registry.daemon('localhost_test6'), 30) as proxy:
        day = proxy.product_days()[-1]
        first = proxy.day_csv(day, 'doas_columns', 0)
        second = proxy.day_csv(day, 'doas_columns', 10)
        refused = [proxy.day_csv('1999-01-01', 'doas_columns', 0), proxy.day_csv(day, '../etc', 0),
                   proxy.day_csv(day, 'doas_columns', -1)]
    assert serpent.tobytes(first['bytes'])[10:] == serpent.tobytes(second['bytes'])
    assert first['next'] is None and first['size'] == len(serpent.tobytes(first['bytes']))
    assert all(isinstance(code, int) and code != 0 for code in refused)

"""Drawing pycamd's image geometry in headless chromium as an operator would: a real pycamd
on its simulated cameras, rockit-web over it, the mouse (selenium's ActionChains) drawing
an integration line and flipping its flow side, moving the configured line, drawing the
sky region and the spectrometer's view on the scaled frame, then Save; pycamd's status over
Pyro and its kept-settings file must hold what was drawn, in image pixels; a line dragged
down to a point is refused by pycamd, said on the page, and changes nothing. A browser away
from the control machines sees the same drawing read-only, with the reason."""
import json
from pathlib import Path

import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.common.by import By

from pycam_harness import config_for
from support import ROOT
from web_support import after_updates, text
from rockit.pycam.codes import CommandStatus
from rockit.pycam.kept_settings import FILE_NAME
from rockit.pycam.processing.emission import IntegrationLine

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PROCESSING = json.loads((ROOT / 'config' / 'pycamd' / 'test.json').read_text())['processing']
WIDTH, HEIGHT = 648, 486
ARROW_PX = 30         # drawing.js's flow arrow
TOLERANCE_PX = 1      # a pointer lands on whole screen pixels: 2/3 of an image pixel at this scale


@pytest.fixture
def station(test_registry, daemons, tmp_path):
    """A pycamd with live processing (the demo's scene) and a frame to draw on."""
    address = test_registry.add('drawn_pycam', timeout=30)
    config = config_for('drawn_pycam', tmp_path / 'data', spectrometer=False, processing=PROCESSING)
    daemon = daemons('pycamd', config, address)
    with daemon.proxy(60) as proxy:
        assert proxy.capture('Test', 'cameras') == CommandStatus.Succeeded
    return daemon, Path(config['data_root'])


def geometry_of(daemon):
    with daemon.proxy(60) as proxy:
        return proxy.report_status()['image_geometry']


def open_drawing(browser, url):
    """The pycamd page with its drawing on the frame, scrolled into view."""
    browser.get(url + 'drawn_pycam')
    after_updates(browser, lambda b: b.execute_script(
        "const f = document.getElementById('drawing-frame'); return f && !f.hidden && f.complete && f.naturalWidth > 0"),
        message='the frame to draw on')
    browser.execute_script("document.getElementById('drawing-svg').scrollIntoView({block: 'center'})")


def drag(browser, *points):
    """Press at the first image pixel, move through the others, release: the pixels turned
    into offsets on the picture as the page scales it (selenium's are from its centre)."""
    width, height = browser.execute_script(
        "const s = document.getElementById('drawing-svg'); s.scrollIntoView({block: 'center'}); "
        "const b = s.getBoundingClientRect(); return [b.width, b.height]")
    svg = browser.find_element(By.ID, 'drawing-svg')

    def offset(point):
        return round(point[0] * width / WIDTH - width / 2), round(point[1] * height / HEIGHT - height / 2)

    chain = ActionChains(browser).move_to_element_with_offset(svg, *offset(points[0])).click_and_hold()
    for point in points[1:]:
        chain.move_to_element_with_offset(svg, *offset(point))
    chain.release().perform()


def pick(browser, tool):
    browser.find_element(By.CSS_SELECTOR, f"#drawing-form input[value='{tool}']").click()


def close(got, wanted):
    return all(abs(g - w) <= TOLERANCE_PX for g, w in zip(got, wanted)) and len(got) == len(wanted)


def test_an_operator_draws_the_geometry_on_the_frame_and_saves_it_into_pycamd(station, web, browser, screenshot):
    daemon, data_root = station
    site = web(['drawn_pycam'])
    open_drawing(browser, site.url)
    scale = browser.execute_script("return document.getElementById('drawing-svg').getBoundingClientRect().width") / WIDTH
    assert abs(scale - 1) > 0.2, f'the frame is shown at {scale:.2f}: the test would not see a wrong scaling'
    before = geometry_of(daemon)
    assert 'simulated_plume' in text(browser, 'drawing-values')

    pick(browser, 'line')
    drag(browser, (250, 200), (265, 200), (280, 200))         # the configured line, moved 30 px right
    drag(browser, (60, 300), (130, 370), (200, 440))           # a new line
    browser.find_element(By.ID, 'drawing-flip').click()        # its plume flows to the right
    pick(browser, 'sky')
    drag(browser, (20, 10), (70, 40), (120, 60))
    pick(browser, 'view')
    drag(browser, (330, 238), (336, 238), (342, 238))
    shown = text(browser, 'drawing-values')
    assert 'not saved: doas_fov, integration_line, sky_region' in shown, shown
    # Each line's arrow points to the side processing takes the plume to flow to.
    arrows = browser.execute_script("return Array.from(document.querySelectorAll('#drawing-svg .flow'), "
                                    "a => ['x1', 'y1', 'x2', 'y2'].map(k => a[k].baseVal.value))")
    for (x1, y1, x2, y2), line in zip(arrows, [(280, 60, 280, 400, 'left'), (60, 300, 200, 440, 'right')]):
        normal = IntegrationLine(*line).normal
        assert abs((x2 - x1) / ARROW_PX - normal[0]) < 0.05 and abs((y2 - y1) / ARROW_PX - normal[1]) < 0.05, line
    assert geometry_of(daemon) == before                      # a preview only, until saved
    screenshot('drawn')

    browser.find_element(By.ID, 'drawing-save').click()
    answer = after_updates(browser, lambda b: (lambda a: a if a and not a.endswith('running...') else None)(
        text(b, 'drawing-answer')), message='the answer to Save drawing')
    assert answer == 'Save drawing: success'
    geometry = geometry_of(daemon)
    moved, drawn = geometry['integration_line']
    assert moved['name'] == 'simulated_plume' and moved['orientation'] == 'left'
    assert close(moved['x'] + moved['y'], [280, 280, 60, 400]), moved
    assert drawn['name'] == 'line2' and drawn['orientation'] == 'right'
    assert close(drawn['x'] + drawn['y'], [60, 200, 300, 440]), drawn
    assert close(geometry['sky_region'], [20, 10, 120, 60]), geometry['sky_region']
    assert close(geometry['doas_fov'], [330, 238, 12]) and geometry['doas_fov_source'] == 'set', geometry['doas_fov']
    kept = json.loads((data_root / FILE_NAME).read_text())['geometry']
    assert kept == {key: geometry[key] for key in ('integration_line', 'sky_region', 'doas_fov')}
    after_updates(browser, lambda b: 'not saved' not in text(b, 'drawing-values') and
                  f"sky region {', '.join(map(str, geometry['sky_region']))}" in text(b, 'drawing-values'),
                  message='the saved drawing shown as pycamd has it')
    screenshot('saved')

    # A line's end dragged onto its other end: pycamd refuses it, says why, and keeps its own.
    saved_text = text(browser, 'drawing-values')
    pick(browser, 'line')
    drag(browser, tuple(drawn['x'][1:] + drawn['y'][1:]), (drawn['x'][0], drawn['y'][0]))
    browser.find_element(By.ID, 'drawing-save').click()
    answer = after_updates(browser, lambda b: (lambda a: a if a and ': error' in a else None)(text(b, 'drawing-answer')),
                           message='the refusal')
    assert answer.startswith('Save drawing: error: integration lines:'), answer
    assert geometry_of(daemon) == geometry
    assert 'not saved: integration_line' in text(browser, 'drawing-values')
    browser.find_element(By.ID, 'drawing-undo').click()
    assert text(browser, 'drawing-values') == saved_text

    # A browser away from the control machines sees the same drawing, and cannot change it.
    viewer = web(['drawn_pycam'], control_machines=())
    open_drawing(browser, viewer.url)
    note = after_updates(browser, lambda b: text(b, 'drawing-note'), message='the note on drawing')
    assert note.startswith('drawing is taken only from control machines, not from 127.0.0.1'), note
    assert browser.execute_script(
        "return Array.from(document.querySelectorAll('#drawing-form input, #drawing-form button'), e => e.disabled)") \
        == [True] * 8
    shown = text(browser, 'drawing-values')
    assert f"sky region {', '.join(map(str, geometry['sky_region']))}" in shown and 'line line2' in shown
    drag(browser, (400, 100), (500, 150))                      # a line drawn here draws nothing
    assert text(browser, 'drawing-values') == shown and geometry_of(daemon) == geometry
    screenshot('read-only')

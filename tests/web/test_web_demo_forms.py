"""A form for every command of every daemon, used as a person would in headless chromium
over the demo's daemons: typed into, ticked, picked and submitted, then the daemon itself
asked whether it did what the form said."""
import pytest

from web_support import after_updates, answered, submit, text
from rockit.web import kinds

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DEMO_KINDS = {'localhost_test': 'focuser', 'localhost_test2': 'chiller', 'localhost_test3': 'camvirt',
              'localhost_test6': 'pycam'}


def open_page(browser, demo, name):
    browser.get(demo['url'] + name)
    after_updates(browser, lambda b: b.execute_script(
        "return document.querySelector('#controls form button') !== null && "
        "!document.querySelector('#controls form button').disabled"), message=f'the forms of {name}, usable')


FORM_COMMANDS = "return Array.from(document.querySelectorAll('#controls form, #drawing form'), f => f.dataset.command)"


@pytest.mark.parametrize('name', sorted(DEMO_KINDS))
def test_every_command_of_the_daemon_has_a_form_on_its_page(demo, browser, name):
    open_page(browser, demo, name)
    kind = next(k for k in kinds.KINDS if k.name == DEMO_KINDS[name])
    # pycamd's drawing (its geometry command) is built from its first status
    after_updates(browser, lambda b: set(b.execute_script(FORM_COMMANDS)) == set(kind.commands),
                  message=f'a form for each of {sorted(kind.commands)}')


def test_focuser_forms_move_zero_and_switch_fans(demo, browser, screenshot, daemon_status):
    open_page(browser, demo, 'localhost_test')
    submit(browser, 'Move channel', channel=2, steps=-30, offset=False)
    assert answered(browser, 'Move channel') == 'Move channel: success'
    assert daemon_status('localhost_test')['current_steps_2'] == -30
    submit(browser, 'Move channel', channel=2, steps=10, offset=True)
    assert answered(browser, 'Move channel') == 'Move channel: success'
    assert daemon_status('localhost_test')['current_steps_2'] == -20
    submit(browser, 'Make this position zero', channel=2)
    assert answered(browser, 'Make this position zero') == 'Make this position zero: success'
    assert daemon_status('localhost_test')['current_steps_2'] == 0
    after_updates(browser, lambda b: text(b, 'position-2') == '0', message='channel 2 at its new zero')
    submit(browser, 'Switch fans', enabled=False)
    assert answered(browser, 'Switch fans') == 'Switch fans: success'
    assert daemon_status('localhost_test')['fans_enabled'] is False
    after_updates(browser, lambda b: text(b, 'fans') == 'OFF', message='fans OFF on the page')
    screenshot()
    submit(browser, 'Switch fans', enabled=True)
    assert answered(browser, 'Switch fans') == 'Switch fans: success'
    assert daemon_status('localhost_test')['fans_enabled'] is True


def test_a_refused_move_says_why_and_moves_nothing(demo, browser, daemon_status):
    open_page(browser, demo, 'localhost_test')
    before = daemon_status('localhost_test')['target_steps_1']
    submit(browser, 'Move channel', channel=9, steps=5, offset=False)
    answer = answered(browser, 'Move channel')
    assert answer.startswith('Move channel: error:')
    assert daemon_status('localhost_test')['target_steps_1'] == before


def test_chiller_forms_set_the_setpoint_and_the_mode(demo, browser, screenshot, daemon_status):
    open_page(browser, demo, 'localhost_test2')
    submit(browser, 'Set setpoint (°C)', celsius='14.5')
    assert answered(browser, 'Set setpoint (°C)') == 'Set setpoint (°C): success'
    assert daemon_status('localhost_test2')['setpoint_temp'] == 14.5
    submit(browser, 'Set mode', mode=1)
    assert answered(browser, 'Set mode') == 'Set mode: success'
    assert daemon_status('localhost_test2')['mode'] == 1
    after_updates(browser, lambda b: text(b, 'mode') == 'AUTOMATIC', message='AUTOMATIC on the page')
    screenshot()
    submit(browser, 'Set mode', mode=0)
    assert answered(browser, 'Set mode') == 'Set mode: success'
    assert daemon_status('localhost_test2')['mode'] == 0


def test_pycam_settings_form_changes_one_setting_and_refuses_bad_ones(demo, browser, screenshot, daemon_status):
    open_page(browser, demo, 'localhost_test6')
    after_updates(browser, lambda b: b.execute_script(
        "return document.querySelectorAll('form[data-command=\"settings\"] option').length > 10"),
        message='the settings to pick from')
    submit(browser, 'Change setting', name='gain_a', value='2.5')
    assert answered(browser, 'Change setting') == 'Change setting: success'
    assert daemon_status('localhost_test6')['settings']['gain_a'] == 2.5
    submit(browser, 'Change setting', name='saturation_rows', value='10:300')
    assert answered(browser, 'Change setting') == 'Change setting: success'
    assert daemon_status('localhost_test6')['settings']['saturation_rows'] == [10, 300]
    after_updates(browser, lambda b: '10:300' in (text(b, 'settings') or ''), message='the new rows on the page')
    submit(browser, 'Change setting', name='gain_a', value='99')
    answer = answered(browser, 'Change setting')
    assert answer.startswith('Change setting: error:'), answer
    submit(browser, 'Change setting', name='auto_a', value='maybe')
    assert answered(browser, 'Change setting') == 'Change setting: maybe is not on or off'
    settings = daemon_status('localhost_test6')['settings']
    assert settings['gain_a'] == 2.5 and settings['auto_a'] is True
    screenshot()


def test_pycam_capture_forms_refuse_while_acquiring_then_stop_capture_and_start(demo, browser, daemon_status):
    open_page(browser, demo, 'localhost_test6')
    submit(browser, 'Capture', capture_type='Test', device='spectrometer')
    assert answered(browser, 'Capture') == 'Capture: error: acquisition is running (pycam stop first)'
    submit(browser, 'Stop acquisition', device='spectrometer')
    assert answered(browser, 'Stop acquisition') == 'Stop acquisition: success'
    assert daemon_status('localhost_test6')['spectrometer']['mode'] != 'continuous'
    # A spectrum already integrating when acquisition stopped is still saved: the Test
    # capture is the one after it, the newest file.
    before = daemon_status('localhost_test6')['spectrometer']['captures_saved']
    submit(browser, 'Capture', capture_type='Test', device='spectrometer')
    assert answered(browser, 'Capture') == 'Capture: success'
    spectrometer = daemon_status('localhost_test6')['spectrometer']
    assert spectrometer['captures_saved'] >= before + 1 and spectrometer['last_file'].endswith('_Test.npy')
    submit(browser, 'Start acquisition', device='spectrometer')
    assert answered(browser, 'Start acquisition') == 'Start acquisition: success'
    assert daemon_status('localhost_test6')['spectrometer']['mode'] == 'continuous'

"""The HTTP API over the demo's daemons: status, commands forwarded only from control
machines, the daemon's own codes and words, and 404s for what is not there."""
import pytest

from conftest import http
from support import wait_until
from rockit.common import pyro, registry


@pytest.fixture
def focuser(demo, monkeypatch):
    monkeypatch.setenv(registry.ENVIRONMENT_VARIABLE, str(demo['registry']))
    registry.load.cache_clear()
    yield lambda: pyro.connect(registry.daemon('localhost_test'), 10)
    registry.load.cache_clear()


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


def test_pycamd_serves_its_products_as_bytes(demo, monkeypatch):
    """What the SO2 page is drawn from, asked of the demo's pycamd as any Pyro client would."""
    import io

    import numpy as np
    import serpent
    from rockit.pycam.products import IMAGE_BYTES
    monkeypatch.setenv(registry.ENVIRONMENT_VARIABLE, str(demo['registry']))
    registry.load.cache_clear()
    try:
        with pyro.connect(registry.daemon('localhost_test6'), 30) as proxy:
            image = wait_until(proxy.latest_so2_image, timeout=30, message='a processed pair')
            rates = proxy.emission_rates()
            spectrum = proxy.latest_spectrum()
    finally:
        registry.load.cache_clear()
    aa = np.load(io.BytesIO(serpent.tobytes(image['npy'])), allow_pickle=False)
    assert aa.dtype == np.float32 and aa.ndim == 2 and aa.nbytes <= IMAGE_BYTES
    assert image['name'].endswith('_aa.npy') and image['step'] >= 1
    assert image['line']['name'] == 'simulated_plume'
    assert rates['rows'] and float(rates['rows'][-1]['line_mean_aa']) == float(rates['rows'][-1]['line_mean_aa'])
    data = np.load(io.BytesIO(serpent.tobytes(spectrum['npy'])), allow_pickle=False)
    assert data.shape[0] == 2 and data.shape[1] > 100 and spectrum['name'].endswith('_Plume.npy')

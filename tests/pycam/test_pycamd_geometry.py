"""The image geometry an operator sets (integration lines with their flow side, sky region,
spectrometer view): a real pycamd takes it over Pyro or the CLI, live processing uses it
from the next pair, status shows it, the kept-settings file keeps it and a restarted pycamd
applies it again; a bad value is refused with its field named and changes nothing."""
import json
from pathlib import Path

from support import exit_code
from rockit.pycam.codes import CommandStatus
from rockit.pycam.kept_settings import FILE_NAME
from rockit.pycam.processing.output_names import SETTINGS_NAME

ROOT = Path(__file__).resolve().parents[2]
PROCESSING = json.loads((ROOT / 'config' / 'pycamd' / 'test.json').read_text())['processing']
CONFIGURED_LINE = {'x': [250, 250], 'y': [60, 400], 'orientation': 'left', 'name': 'simulated_plume'}
NEW = {'integration_line': [{'x': [100, 400], 'y': [300, 280], 'orientation': 'right', 'name': 'low'},
                            {'x': [420, 420], 'y': [50, 350], 'orientation': 'left', 'name': ''}],
       'sky_region': [20, 10, 120, 60], 'doas_fov': [330, 238, 12]}
CHECKED_LINES = [NEW['integration_line'][0], dict(NEW['integration_line'][1], name='line2')]


def run_settings(pycam):
    """The settings file of the newest processing day (the pipeline's own description)."""
    days = sorted((pycam.data_root / 'processing').glob('????-??-??'))
    path = days[-1] / SETTINGS_NAME if days else None
    return json.loads(path.read_text()) if path and path.exists() else None


def pair_processed(pycam, count):
    assert pycam.call('capture', 'Plume', 'cameras') == CommandStatus.Succeeded
    return pycam.wait(lambda s: s['processing']['pairs_processed'] >= count, timeout=120,
                      message=f'{count} pairs processed')


def lines_of(settings):
    return [{'x': [round(v) for v in line['x']], 'y': [round(v) for v in line['y']],
             'orientation': line['orientation'], 'name': line['name']} for line in settings['lines']]


def test_a_geometry_set_is_used_from_the_next_pair_shown_kept_and_applied_again_after_a_restart(make_pycam, tmp_path):
    root = tmp_path / 'station'
    first = make_pycam(data_root=root, spectrometer=False, processing=PROCESSING)
    geometry = first.status()['image_geometry']
    assert geometry['integration_line'] == [CONFIGURED_LINE] and geometry['sky_region'] == [550, 20, 600, 70]
    assert geometry['doas_fov'] is None and geometry['doas_fov_source'] == 'search' and geometry['set'] == []
    assert first.call('capture', 'Dark', 'cameras') == CommandStatus.Succeeded
    pair_processed(first, 1)
    assert lines_of(run_settings(first)) == [CONFIGURED_LINE]

    assert first.call('set_image_geometry', NEW) == CommandStatus.Succeeded
    geometry = first.status()['image_geometry']
    assert geometry['integration_line'] == CHECKED_LINES
    assert geometry['sky_region'] == NEW['sky_region'] and geometry['doas_fov'] == NEW['doas_fov']
    assert geometry['doas_fov_source'] == 'set' and geometry['set'] == ['doas_fov', 'integration_line', 'sky_region']
    assert json.loads((root / FILE_NAME).read_text()) == {'geometry': dict(NEW, integration_line=CHECKED_LINES)}
    pair_processed(first, 2)
    used = run_settings(first)
    assert lines_of(used) == CHECKED_LINES and used['sky_region'] == NEW['sky_region']
    first.wait(lambda s: (s['processing']['doas_fov'] or {}).get('source') == 'set', message='the view in processing')
    # A view set by hand is fixed: no search replaces it.
    assert first.call('search_fov') == CommandStatus.NothingToSearch
    shown = first.cli('geometry')
    assert shown.returncode == 0, shown.stderr
    assert 'line low: (100, 300) to (400, 280), plume flowing to its right (set)' in shown.stdout
    assert 'sky region: 20, 10, 120, 60 (set)' in shown.stdout
    assert 'spectrometer view: (330, 238) radius 12, set (set)' in shown.stdout
    assert ('Image geometry: line low (100, 300)-(400, 280) right; line line2 (420, 50)-(420, 350) left; '
            'sky 20,10,120,60; view (330, 238) r 12, set (set: doas_fov, integration_line, sky_region)'
            in first.cli('status').stdout)
    first.daemon.stop()

    again = make_pycam(data_root=root, spectrometer=False, processing=PROCESSING)
    status = again.status()
    assert status['image_geometry']['integration_line'] == CHECKED_LINES
    assert status['image_geometry']['sky_region'] == NEW['sky_region']
    assert status['kept_settings']['geometry'] == dict(NEW, integration_line=CHECKED_LINES)
    assert status['kept_settings']['ignored'] == {}
    view = again.wait(lambda s: (s['processing']['doas_fov'] or {}).get('source') == 'set',
                      message='the kept view in processing')['processing']['doas_fov']
    assert (view['x'], view['y'], view['radius']) == (330, 238, 12)
    assert again.call('capture', 'Dark', 'cameras') == CommandStatus.Succeeded
    pair_processed(again, 1)
    assert lines_of(run_settings(again)) == CHECKED_LINES
    # The view set to none: searched for again (the search command is taken once more).
    assert again.cli('geometry', 'view', 'search').returncode == 0
    assert again.status()['image_geometry']['doas_fov_source'] == 'search'
    assert json.loads((root / FILE_NAME).read_text())['geometry']['doas_fov'] is None
    assert again.call('search_fov') == CommandStatus.Succeeded


REFUSED = [
    ({'integration_line': [{'x': [0, 700], 'y': [10, 10]}]}, CommandStatus.InvalidLine),
    ({'integration_line': [{'x': [10, 11], 'y': [10, 10]}]}, CommandStatus.InvalidLine),
    ({'integration_line': [{'x': [10, 100], 'y': [10, 10], 'orientation': 'up'}]}, CommandStatus.InvalidLine),
    ({'integration_line': []}, CommandStatus.InvalidLine),
    ({'integration_line': [{'x': [10, 100], 'y': [10, 10], 'name': 'a/b'}]}, CommandStatus.InvalidLine),
    ({'sky_region': [100, 10, 50, 60]}, CommandStatus.InvalidSkyRegion),
    ({'sky_region': [10, 10, 60, 600]}, CommandStatus.InvalidSkyRegion),
    ({'sky_region': 'the top left'}, CommandStatus.InvalidSkyRegion),
    ({'sky_region': [10.5, 10, 60, 60]}, CommandStatus.InvalidSkyRegion),
    ({'doas_fov': [330, 238, 0]}, CommandStatus.InvalidView),
    ({'doas_fov': [-5, 238, 10]}, CommandStatus.InvalidView),
    ({'doas_fov': [330, True, 10]}, CommandStatus.InvalidView),
    ({'warp': 1}, CommandStatus.InvalidArgument),
    ({}, CommandStatus.InvalidArgument),
    ('sky', CommandStatus.InvalidArgument),
    # all or nothing: the good line is not taken with the bad view
    ({'integration_line': [{'x': [10, 100], 'y': [10, 10]}], 'doas_fov': [330, 238, 900]}, CommandStatus.InvalidView),
]


def test_bad_geometry_is_refused_with_its_field_named_and_changes_nothing(make_pycam):
    pycam = make_pycam(spectrometer=False, processing=PROCESSING)
    before = pycam.status()['image_geometry']
    for request, code in REFUSED:
        assert pycam.call('set_image_geometry', request) == code, request
    assert pycam.status()['image_geometry'] == before
    assert not (pycam.data_root / FILE_NAME).exists()
    assert 'image geometry refused: doas_fov: the radius 900 is not 1 to 243 pixels' in pycam.daemon.output()

    for args, message in [(('sky', '100,10,50,60'), 'sky_region: [100, 10, 50, 60] is not a rectangle'),
                          (('line', '10,10,10,11'), 'integration_line: line 1 is shorter than 2 pixels'),
                          (('line', '10,10,800,10,left'), 'integration_line: line 1: x 800 is outside the image'),
                          (('line', '10,10,100,10,up'), 'orientation must be left or right'),
                          (('view', '10,10'), 'view needs 3 numbers separated by commas'),
                          (('sky',), ''), (('tilt', '3'), "'tilt': expected line, sky or view")]:
        result = pycam.cli('geometry', *args)
        assert result.returncode == exit_code(CommandStatus.UsageError), args
        assert message in result.stderr, result.stderr
    assert pycam.status()['image_geometry'] == before
    assert not (pycam.data_root / FILE_NAME).exists()


def test_a_kept_geometry_that_no_longer_fits_is_left_out_and_named(make_pycam, tmp_path):
    root = tmp_path / 'station'
    root.mkdir()
    (root / FILE_NAME).write_text(json.dumps({'frame_rate': 0.5, 'geometry': {
        'sky_region': [600, 20, 700, 70], 'doas_fov': [300, 200, 9], 'tilt': 3}}))
    pycam = make_pycam(data_root=root, spectrometer=False, processing=PROCESSING)
    status = pycam.status()
    assert status['settings']['frame_rate'] == 0.5
    assert status['image_geometry']['doas_fov'] == [300, 200, 9] and status['image_geometry']['set'] == ['doas_fov']
    assert status['image_geometry']['sky_region'] == [550, 20, 600, 70]         # the config's
    ignored = status['kept_settings']['ignored']
    assert set(ignored) == {'geometry sky_region', 'geometry tilt'}
    assert 'not a rectangle' in ignored['geometry sky_region'] and 'unknown' in ignored['geometry tilt']


def test_geometry_needs_live_processing(make_pycam):
    pycam = make_pycam(spectrometer=False)
    assert pycam.status()['image_geometry'] is None
    assert pycam.call('set_image_geometry', {'sky_region': [10, 10, 60, 60]}) == CommandStatus.DeviceNotConfigured
    assert 'No live processing on this Pi' in pycam.cli('geometry').stdout


def test_a_config_line_that_cannot_be_read_is_said_in_status(make_pycam, tmp_path):
    missing = tmp_path / 'no-such-line.txt'
    pycam = make_pycam(spectrometer=False, processing=dict(PROCESSING, integration_line=str(missing)))
    geometry = pycam.status()['image_geometry']
    assert geometry['integration_line'] == [] and str(missing) in geometry['error']
    shown = pycam.cli('geometry').stdout
    assert "the config's geometry is unusable" in shown and 'no integration line' in shown

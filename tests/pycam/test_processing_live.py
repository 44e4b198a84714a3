"""The live hook pycamd calls: references and pairs in, status out, never blocking and
never falling behind for ever."""
import csv
import json
import shutil
import subprocess
import sys

import pytest

from processing_harness import REFERENCES, ROOT, SPECTRA, needs_spectra, write_synthetic_day
from rockit.pycam.processing.live.processor import LiveProcessor
from rockit.pycam.storage.names import images_in, plume_pairs

CONFIG = {'sky_region': [5, 0, 155, 6], 'integration_line': {'x': [80, 80], 'y': [15, 105], 'orientation': 'left'},
          'plume_distance_m': 4000, 'focal_length_m': 9e-3, 'reference_temperature_k': 273.15}


def _plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


@pytest.fixture
def day(tmp_path):
    write_synthetic_day(tmp_path / 'day', pairs=12)
    return tmp_path / 'day'


def _references(processor, folder):
    for name in images_in(folder):
        if name.kind != 'Plume':
            processor.submit_image(name.path, {'type': name.kind})


def test_pairs_become_emission_rates_in_status_and_files(day, tmp_path):
    processor = LiveProcessor(tmp_path / 'out', CONFIG).start()
    try:
        _references(processor, day)
        for on, off in plume_pairs(images_in(day))[:4]:
            assert processor.submit_pair(on.path, {'exposure_us': on.exposure_us}, off.path, {})
            assert processor.wait_idle(20)
        status = processor.status()
    finally:
        processor.stop()
    assert _plain(status) and json.loads(json.dumps(status)) == status
    assert status['pairs_processed'] == 4 and status['pairs_skipped'] == 0 and status['pairs_failed'] == 0
    assert status['calibration']['state'] == 'cell' and status['calibration']['r2'] > 0.999
    assert status['background'] == 'clear sky' and status['darks'] == 2
    assert status['emission_rate_kg_s'] > 0 and status['plume_speed_m_s'] > 0
    assert status['last_pair_time'] == '2024-05-01T12:01:12Z'
    rows = (tmp_path / 'out' / '2024-05-01' / 'emission_rates.csv').read_text().splitlines()
    assert len(rows) == 5 and len(list((tmp_path / 'out' / '2024-05-01' / 'so2').glob('*_aa.npy'))) == 4
    assert (tmp_path / 'out' / 'calibration.json').is_file(), 'the live cell calibration is kept'


def test_a_lagging_processor_drops_to_the_latest_pair(day, tmp_path):
    processor = LiveProcessor(tmp_path / 'out', CONFIG)
    _references(processor, day)
    pairs = plume_pairs(images_in(day))
    for on, off in pairs:                       # all arrive before the worker even starts
        processor.submit_pair(on.path, {}, off.path, {})
    processor.start()
    try:
        assert processor.wait_idle(20)
        status = processor.status()
    finally:
        processor.stop()
    assert status['pairs_received'] == 12
    assert status['pairs_processed'] == 1 and status['pairs_skipped'] == 11
    assert status['last_pair_time'] == pairs[-1][0].time.strftime('%Y-%m-%dT%H:%M:%SZ')


def test_test_frames_and_strangers_are_ignored(day, tmp_path):
    processor = LiveProcessor(tmp_path / 'out', CONFIG)
    on, off = plume_pairs(images_in(day))[0]
    test_on = day / on.path.name.replace('Plume', 'Test')
    test_off = day / off.path.name.replace('Plume', 'Test')
    shutil.copy(on.path, test_on)
    shutil.copy(off.path, test_off)
    assert not processor.submit_pair(test_on, {}, test_off, {})
    assert not processor.submit_image(test_on, {})
    assert not processor.submit_pair(day / 'photo.png', {}, off.path, {})
    assert processor.status()['pairs_received'] == 0 and 'photo.png' in processor.status()['last_error']


def test_no_darks_yet_is_reported_and_processing_carries_on(day, tmp_path):
    processor = LiveProcessor(tmp_path / 'out', CONFIG).start()
    try:
        on, off = plume_pairs(images_in(day))[0]
        processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(20)
        status = processor.status()
        assert status['pairs_failed'] == 1 and 'Dark' in status['last_error'] and status['running']
        _references(processor, day)
        on, off = plume_pairs(images_in(day))[1]
        processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(20)
        assert processor.status()['pairs_processed'] == 1
    finally:
        processor.stop()


@needs_spectra
def test_spectra_are_fitted_with_their_dark(tmp_path):
    processor = LiveProcessor(tmp_path / 'out', CONFIG, doas_references=REFERENCES).start()
    try:
        dark = next(SPECTRA.glob('*_Dark.npy'))
        plume = sorted(SPECTRA.glob('*_Plume.npy'))[-1]
        assert processor.submit_spectrum(dark, {})
        assert processor.submit_spectrum(plume, {})
        assert processor.wait_idle(30)
        status = processor.status()
    finally:
        processor.stop()
    assert status['spectra_processed'] == 1
    assert 3e18 < status['doas_column'] < 8e18 and status['doas_error'] > 0


def test_importing_the_hook_loads_no_numerics():
    code = ('import sys; import rockit.pycam.processing, rockit.pycam.processing.live.processor, '
            'rockit.pycam.processing.batch.cli; '
            'print([m for m in ("numpy", "cv2", "scipy", "pyplis", "rich") if m in sys.modules])')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == '[]', done.stderr


def test_the_queries_take_the_output_names_from_processing_without_opencv():
    """pycamd's queries (products.py) read the files by the names processing writes them
    under, from the one module that holds them, and loading that costs no OpenCV."""
    code = ('import sys; import rockit.pycam.products; '
            'print("cv2" in sys.modules, "rockit.pycam.processing.output_names" in sys.modules)')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split() == ['False', 'True'], done.stderr


def test_pycamd_hook_takes_saved_captures(day, tmp_path):
    """What pycamd hands over (rockit/pycam/storage/saved.py): image pairs of every type but Test,
    with their frames in memory, and spectra; found through make_live_processor."""
    from types import SimpleNamespace

    import cv2
    from rockit.pycam.processing import make_live_processor
    assert make_live_processor(SimpleNamespace(processing={}, data_root=tmp_path)) is None, 'no scene: acquire only'
    config = SimpleNamespace(data_root=tmp_path, processing=dict(CONFIG, save_aa=False))
    processor = make_live_processor(config)
    try:
        by_slot = {}
        for name in images_in(day):
            by_slot.setdefault((name.time, name.kind), {})[name.filter] = name.path
        for (when, kind), paths in sorted(by_slot.items()):
            images = {band: cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for band, path in paths.items()}
            saved = SimpleNamespace(time=when, capture_type=kind, paths=paths, images=images,
                                    metadata={band: {'file': path.name} for band, path in paths.items()})
            assert processor(saved) is True
            assert processor.wait_idle(20)
        status = processor.status()
    finally:
        processor.close()
    assert status['pairs_processed'] == 12 and status['calibration']['state'] == 'cell'
    assert status['emission_rate_kg_s'] > 0
    out = tmp_path / 'processing' / '2024-05-01'
    assert len((out / 'emission_rates.csv').read_text().splitlines()) == 13
    assert not list((out / 'so2').glob('*.npy')), 'save_aa false: rows only'


def test_background_from_the_sky_region_when_asked(day, tmp_path):
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, background='sky')).start()
    try:
        _references(processor, day)
        on, off = plume_pairs(images_in(day))[0]
        processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(20)
        assert processor.status()['background'] == 'sky region'
    finally:
        processor.stop()


def _plume_following_the_spectra(folder, pairs, view=(80, 45, 2), drift_px=3):
    """A synthetic day whose plume column in the view follows the real spectra handed to
    its pairs, clear sky and plume in turn: (pair times, spectrum of each pair)."""
    import numpy as np
    from processing_harness import SYNTHETIC_SHAPE, synthetic_column
    from rockit.pycam.processing.calibration.columns import disk_mask
    spectra = sorted(SPECTRA.glob('*_Plume.npy'))     # 124401-06 through clear sky, 07-12 the plume
    order = [spectra[i // 2 + (6 if i % 2 else 0)] for i in range(pairs)]
    disk = disk_mask(SYNTHETIC_SHAPE, *view)
    in_view = [float(synthetic_column(SYNTHETIC_SHAPE, drift_px * i)[disk].mean()) for i in range(pairs)]
    scales = [(100 + (600 if i % 2 else 0)) / in_view[i] for i in range(pairs)]
    return write_synthetic_day(folder, pairs=pairs, cells=(), drift_px=drift_px, scales=scales), order


@needs_spectra
@pytest.mark.parametrize('speed', [{}, {'speed_mode': 'cross-correlation', 'cc_window': 4, 'cc_separation_px': 3}])
def test_doas_calibration_keeps_the_emission_rates(tmp_path, speed):
    """Spectra arrive between the pairs and refit the DOAS calibration after each one: every
    pair after the first calibration still has the previous AA image for its flow, or the
    cross-correlation its window of images, so keeps an emission rate. The real spectra
    (six through clear sky, six through the plume) are handed out to the pairs, and the
    synthetic plume's column in the view follows them, clear sky and plume in turn."""
    day = tmp_path / 'day'
    times, plumes = _plume_following_the_spectra(day, 10)
    spectra = tmp_path / 'spectra'
    spectra.mkdir()
    dark = next(SPECTRA.glob('*_Dark.npy'))
    shutil.copy(dark, spectra / f'{times[0]:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Dark.npy')
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, **speed), doas_references=REFERENCES,
                              doas_fov=[80, 45, 2], min_doas_points=3).start()
    try:
        _references(processor, day)
        processor.submit_spectrum(next(spectra.glob('*_Dark.npy')), {})
        calibrated, with_rate = 0, 0
        for (on, off), plume in zip(plume_pairs(images_in(day)), plumes):
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(30)
            status = processor.status()
            if status['calibration']['state'] == 'doas':
                calibrated += 1
                with_rate += status['emission_rate_kg_s'] is not None
            copy = spectra / f'{on.time:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Plume.npy'
            shutil.copy(plume, copy)
            processor.submit_spectrum(copy, {})
            assert processor.wait_idle(30)
    finally:
        processor.stop()
    assert status['pairs_failed'] == 0 and status['doas_points'] >= 8, status
    assert calibrated >= 6 and with_rate == calibrated
    assert status['doas_fov'] == {'x': 80.0, 'y': 45.0, 'radius': 2.0, 'source': 'configured'}
    with open(tmp_path / 'out' / '2024-05-01' / 'doas_columns.csv', newline='') as f:
        logged = list(csv.DictReader(f))
    assert len(logged) == 10 and all(float(r['so2_err_molecules_cm2']) > 0 for r in logged)
    saved = json.loads((tmp_path / 'out' / 'doas_calibration.json').read_text())
    assert saved['method'] == 'doas' and saved['model'] == 'linear' and saved['region'] == [80.0, 45.0, 2.0]

    # After a restart the saved DOAS calibration is in use before any new spectrum, while
    # it is within its age by the data's clock (the references found again).
    again = LiveProcessor(tmp_path / 'out', CONFIG, doas_references=REFERENCES, doas_fov=[80, 45, 2]).start()
    try:
        _references(again, day)
        assert again.wait_idle(10)
        restarted = again.status()
    finally:
        again.stop()
    assert restarted['calibration']['state'] == 'doas' and restarted['calibration']['slope'] == pytest.approx(
        saved['slope'])
    assert restarted['calibration']['age_s'] == 0.0 and restarted['calibration']['max_age_s'] == 3600


@needs_spectra
def test_doas_points_older_than_the_window_are_dropped(tmp_path):
    times = write_synthetic_day(tmp_path / 'day', pairs=6, cells=())
    spectra = tmp_path / 'spectra'
    spectra.mkdir()
    shutil.copy(next(SPECTRA.glob('*_Dark.npy')), spectra / f'{times[0]:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Dark.npy')
    plumes = sorted(SPECTRA.glob('*_Plume.npy'))
    config = dict(CONFIG, doas_window_s=8)      # pairs are 4 s apart: three points at most
    processor = LiveProcessor(tmp_path / 'out', config, doas_references=REFERENCES, doas_fov=[80, 45, 2]).start()
    try:
        _references(processor, tmp_path / 'day')
        processor.submit_spectrum(next(spectra.glob('*_Dark.npy')), {})
        counts = []
        for (on, off), plume in zip(plume_pairs(images_in(tmp_path / 'day')), plumes):
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(30)
            copy = spectra / f'{on.time:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Plume.npy'
            shutil.copy(plume, copy)
            processor.submit_spectrum(copy, {})
            assert processor.wait_idle(30)
            counts.append(processor.status()['doas_points'])
    finally:
        processor.stop()
    assert counts == [1, 2, 3, 3, 3, 3]


@pytest.mark.parametrize('key, value, says', [('cc_window', 2, 'an integer of at least 3'),
                                              ('cc_window', 4.5, 'an integer'), ('cc_window', True, 'an integer'),
                                              ('cc_separation_px', 0, 'a number of at least 1'),
                                              ('cc_separation_px', '10', 'a number')])
def test_cross_correlation_settings_out_of_range_are_named(key, value, says):
    from rockit.pycam.processing.live.settings import settings_from_config
    with pytest.raises(ValueError, match=f'processing: {key} must be {says}'):
        settings_from_config(dict(CONFIG, **{key: value}))
    assert settings_from_config(dict(CONFIG, cc_window=6, cc_separation_px=2.5)).cc_window == 6


@pytest.mark.parametrize('model, state', [('poly2', 'none'), ('linear', 'cell')])
def test_cells_too_few_for_the_model_are_said_in_status(tmp_path, model, state):
    """Two cells fit a line but not a curve: status says what the chosen model still needs."""
    write_synthetic_day(tmp_path / 'day', pairs=1, cells=(0, 1257))
    calibration = _calibration_after_references(LiveProcessor(tmp_path / 'out', dict(CONFIG, calibration_model=model)),
                                                tmp_path / 'day')
    assert calibration['state'] == state
    if state == 'none':
        assert calibration['waiting'] == 'a poly2 calibration needs 3 cell captures with both cameras, ' \
                                         '0 ppm.m among them; so far 0, 1257'
    else:
        assert 'waiting' not in calibration and calibration['model'] == 'linear'


def _calibration_after_references(processor, folder):
    """Status `calibration` of a started processor once it has taken folder's references."""
    processor.start()
    try:
        _references(processor, folder)
        assert processor.wait_idle(30)
        return processor.status()['calibration']
    finally:
        processor.stop()


def _doas_day(tmp_path, pairs=10):
    """A synthetic day (no cells) whose plume follows real spectra, with a dark spectrum:
    (day folder, pair times, the spectrum for each pair, spectra folder)."""
    day = tmp_path / 'day'
    times, plumes = _plume_following_the_spectra(day, pairs)
    spectra = tmp_path / 'spectra'
    spectra.mkdir(exist_ok=True)
    shutil.copy(next(SPECTRA.glob('*_Dark.npy')), spectra / f'{times[0]:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Dark.npy')
    return day, times, plumes, spectra


def _spectrum_at(spectra, plume, when):
    copy = spectra / f'{when:%Y-%m-%dT%H%M%S}_1000ss_1coadd_Plume.npy'
    shutil.copy(plume, copy)
    return copy


def _doas_run(processor, day, plumes, spectra, offset_s=0):
    """Each pair, then its spectrum taken offset_s later; the statuses after each."""
    import datetime
    _references(processor, day)
    processor.submit_spectrum(next(spectra.glob('*_Dark.npy')), {})
    statuses = []
    for (on, off), plume in zip(plume_pairs(images_in(day)), plumes):
        processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(30)
        processor.submit_spectrum(_spectrum_at(spectra, plume, on.time + datetime.timedelta(seconds=offset_s)), {})
        assert processor.wait_idle(30)
        statuses.append(processor.status())
    return statuses


@needs_spectra
@pytest.mark.parametrize('offset_s, pairing_s, paired', [(1, 2, 9), (3, 2, 9), (2, 1, 0), (1, 1, 9)])
def test_a_spectrum_pairs_with_the_aa_at_its_own_time(tmp_path, offset_s, pairing_s, paired):
    """Pairs 4 s apart, each spectrum offset_s after its pair: paired once the next image
    comes, if either image is within doas_pairing_s (the last spectrum has no next image)."""
    day, _, plumes, spectra = _doas_day(tmp_path)
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, doas_pairing_s=pairing_s), doas_references=REFERENCES,
                              doas_fov=[80, 45, 2], min_doas_points=3).start()
    try:
        statuses = _doas_run(processor, day, plumes, spectra, offset_s)
    finally:
        processor.stop()
    assert statuses[-1]['doas_points'] == paired


def test_the_aa_is_interpolated_to_the_spectrums_time(tmp_path):
    import datetime
    import numpy as np
    from rockit.pycam.processing.live.doas import LiveDoas
    from rockit.pycam.processing.pipeline import ProcessingSettings
    doas = LiveDoas(None, tmp_path, ProcessingSettings(), lambda **values: None, fov=[1, 1, 1], pairing_s=2)
    t0 = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.timezone.utc)
    second = datetime.timedelta(seconds=1)
    doas.image(t0, np.zeros((3, 3)))
    assert doas._aa_at(t0 + second) is False, 'waits for the image after it'
    doas.image(t0 + 4 * second, np.ones((3, 3)))
    assert doas._aa_at(t0 + second)[0, 0] == pytest.approx(0.25)
    assert doas._aa_at(t0 + 3 * second)[0, 0] == pytest.approx(0.75)
    doas.image(t0 + 10 * second, np.full((3, 3), 2.0))
    assert doas._aa_at(t0 + 7 * second) is None, 'no image within 2 s'


@needs_spectra
def test_a_doas_calibration_expires_and_newer_cells_replace_it(tmp_path):
    """A DOAS calibration older than doas_calibration_max_age_s by the data's clock is no
    longer used, and said expired in status; cells captured after a DOAS calibration
    replace it, and a restarted processor never prefers an older DOAS calibration to them."""
    import datetime
    day, times, plumes, spectra = _doas_day(tmp_path)
    config = dict(CONFIG, doas_calibration_max_age_s=60)
    processor = LiveProcessor(tmp_path / 'out', config, doas_references=REFERENCES, doas_fov=[80, 45, 2],
                              min_doas_points=3).start()
    try:
        statuses = _doas_run(processor, day, plumes, spectra)
        assert statuses[-1]['calibration']['state'] == 'doas'
        # A pair 2 minutes after the last spectrum: the DOAS calibration has expired.
        later = write_synthetic_day(tmp_path / 'later', pairs=1, cells=(0, 304, 1257),
                                    start=times[-1].replace(tzinfo=None) + datetime.timedelta(seconds=120))
        (on, off), = plume_pairs(images_in(tmp_path / 'later'))
        processor.submit_pair(on.path, {}, off.path, {})
        assert processor.wait_idle(30)
        expired = processor.status()['calibration']
        # Then cells: newer than the DOAS calibration, they are used.
        _references(processor, tmp_path / 'later')
        assert processor.wait_idle(30)
        cells = processor.status()['calibration']
    finally:
        processor.stop()
    assert expired['state'] == 'none' and expired['expired'] == ['doas'], expired
    assert cells['state'] == 'cell' and cells['age_s'] == 48.0 and cells['max_age_s'] == 86400, 'cells 48 s before the pair'
    assert later[0] > times[-1]

    restarted = _calibration_after_references(
        LiveProcessor(tmp_path / 'out', dict(config, doas_calibration_max_age_s=3600), doas_references=REFERENCES,
                      doas_fov=[80, 45, 2]), tmp_path / 'later')
    assert restarted['state'] == 'cell', 'the saved DOAS calibration is older than the cells'


@pytest.mark.parametrize('key, value', [('doas_pairing_s', -1), ('doas_calibration_max_age_s', 0),
                                        ('cell_calibration_max_age_s', 'a day'), ('doas_window_s', True)])
def test_live_limits_out_of_range_are_named(key, value):
    from rockit.pycam.processing.live.settings import live_limits
    with pytest.raises(ValueError, match=f'processing: {key} must be a number of at least'):
        live_limits({key: value})


def test_what_the_cells_still_need_stays_in_status_after_pairs(tmp_path):
    write_synthetic_day(tmp_path / 'day', pairs=2, cells=(0, 1257))
    processor = LiveProcessor(tmp_path / 'out', CONFIG).start()
    try:
        _references(processor, tmp_path / 'day')
        for on, off in plume_pairs(images_in(tmp_path / 'day')):
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(30)
        status = processor.status()
    finally:
        processor.stop()
    assert status['pairs_processed'] == 2
    assert status['calibration']['waiting'].startswith('a poly2 calibration needs 3 cell captures')


def test_the_doas_points_for_the_plot_are_those_a_fit_could_use(tmp_path):
    """A point without an AA or a column was not fitted and is not drawn; an error without a
    value goes as None (serpent and JSON carry no NaN)."""
    from types import SimpleNamespace
    processor = LiveProcessor(tmp_path / 'out', {})
    assert processor.doas_points() == []
    nan = float('nan')
    processor._state = SimpleNamespace(doas=SimpleNamespace(fitted_points=(
        (0.1, 1e18, 1e16), (nan, 1e18, 1e16), (0.2, nan, 1e16), (0.3, 2e18, nan))))
    assert processor.doas_points() == [[0.1, 1e18, 1e16], [0.3, 2e18, None]]


def test_the_last_pairs_background_and_flow_are_kept_for_diagnostics(day, tmp_path):
    """The processing thread keeps what it computed of the last pair: the sky region's
    figures with the offset it took off, and the flow's histograms around the line."""
    processor = LiveProcessor(tmp_path / 'out', dict(CONFIG, sky_gradient='linear', sky_gradient_region=[5, 0, 15, 110]))
    assert processor.diagnostics() == {'background': None, 'flow': None, 'fov': None, 'fov_search': False}
    processor.start()
    try:
        _references(processor, day)
        pairs = plume_pairs(images_in(day))[:3]
        for on, off in pairs:
            processor.submit_pair(on.path, {}, off.path, {})
            assert processor.wait_idle(20)
        found = processor.diagnostics()
    finally:
        processor.stop()
    assert _plain(found)
    background = found['background']
    assert background['at'] == pairs[-1][0].time.strftime('%Y-%m-%dT%H:%M:%SZ') and background['kind'] == 'clear sky'
    assert background['sky_region'] == CONFIG['sky_region'] and background['aa']['pixels'] == 150 * 6
    assert abs(background['aa']['mean']) < 0.1 and background['aa']['std'] < 0.1, 'plume-free sky'
    assert background['on']['mean'] > 0 and background['off']['mean'] > 0 and background['offset_aa'] is not None
    assert len(background['gradient']) == 2 and background['gradient_order'] == 1
    flow = found['flow']
    assert flow['at'] == background['at'] and flow['mode'] == 'flow'
    assert flow['vectors'] > 0 and sum(flow['direction_deg']['counts']) == flow['vectors']
    assert sum(flow['length_px']['counts']) == flow['vectors'] == sum(flow['across_px']['counts'])
    assert len(flow['direction_deg']['edges']) == len(flow['direction_deg']['counts']) + 1
    assert flow['peak_px'] > 0, 'the synthetic plume drifts through the line the way it flows'

"""Live DOAS on the simulator end to end: a real pycamd with config/pycamd/test.json's
processing (no doas_fov: the field of view is searched for; no doas_references: the ones
pycam ships) on its simulated cameras and spectrometer. The spectrometer looks at
`simulation.spectrometer_view`, the truth the search is held to; once the DOAS calibration
is fitted, the emission rates are DOAS-calibrated and still agree with the scene's own.

Tolerances: the search works on images binned by 4 (doas/fov.py), and the spectrometer sees one
disk, so the centre found is held to 8 px. The simulator absorbs the spectra line by line
and convolves them with the 302 nm line shape the fit uses, so the DOAS columns, and the
rates calibrated with them, are held to 15 % of the truth over the run; the SO2 images read
0 +- 3 ppm.m in the sky (the DOAS line's offset left out).
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from processing_harness import run_offline_process
from support import wait_until
from rockit.common.csvlog import CsvLog
from rockit.pycam.codes import CommandStatus
from test_pycamd_live_emission import SKY_PPMM, Truth, csv_rows, worst_sky_block

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / 'config' / 'pycamd' / 'test.json').read_text())


@pytest.mark.slow
def test_live_fov_search_and_doas_calibrated_rates(make_pycam):
    processing = DEMO['processing']
    simulation = DEMO['simulation']
    assert 'doas_fov' not in processing, 'the demo searches for the field of view'
    pycam = make_pycam(simulation=simulation, processing=processing, spectrometer=DEMO['spectrometer'])
    truth = Truth(simulation, processing)

    assert pycam.call('capture_darks', 'cameras') == CommandStatus.Succeeded
    pycam.wait(lambda s: (s['cameras']['last_darks'] or {}).get('completed'), timeout=40, message='darks')
    assert pycam.call('capture', 'Dark', 'spectrometer') == CommandStatus.Succeeded
    assert pycam.call('capture', 'Clear', 'cameras') == CommandStatus.Succeeded
    assert pycam.call('start_acquisition') == CommandStatus.Succeeded
    live = pycam.wait(lambda s: s['processing']['calibration']['state'] == 'doas', timeout=90,
                      message='a DOAS calibration')['processing']
    view = live['doas_fov']
    assert view['source'] == 'search'
    x, y = simulation['spectrometer_view']
    assert math.hypot(view['x'] - x, view['y'] - y) < 8, view
    # Asked to, it searches again (as after the instrument was moved) and finds the same view.
    searches = live['doas_fov_searches']
    assert searches >= 1
    requested = pycam.cli('search-fov')
    assert requested.returncode == 0, requested.stderr
    pycam.wait(lambda s: s['processing']['doas_fov_searches'] > searches, timeout=60, message='a search on request')
    processed = pycam.status()['processing']['pairs_processed']
    live = pycam.wait(lambda s: s['processing']['pairs_processed'] >= processed + 6, timeout=30,
                      message='pairs after the DOAS calibration')['processing']
    assert math.hypot(live['doas_fov']['x'] - x, live['doas_fov']['y'] - y) < 8, live['doas_fov']
    assert pycam.call('stop_acquisition') == CommandStatus.Succeeded
    assert live['calibration']['state'] == 'doas' and live['pairs_failed'] == 0
    # The curve for the page's plot, with the points the DOAS calibration was fitted to.
    curve = pycam.call('calibration_curve')
    assert curve['method'] == 'doas' and len(curve['doas_points']) >= processing['min_doas_points']
    assert all(-0.1 < aa < curve['aa'][-1] and column > 0 for aa, column, _ in curve['doas_points'])
    # The last search's correlation map for the diagnostics plot: it peaks where the view was found.
    import io
    import serpent
    search = pycam.call('diagnostics')['fov']
    correlation = np.load(io.BytesIO(serpent.tobytes(search['map'])), allow_pickle=False)
    assert correlation.dtype == np.float32 and correlation.shape == (486 // 4, 648 // 4)
    row, col = np.unravel_index(int(np.argmax(correlation)), correlation.shape)
    assert math.hypot(col * 4 + 1.5 - search['view']['x'], row * 4 + 1.5 - search['view']['y']) < 1
    assert search['reason'] is None and search['samples'] >= 30 and search['at'] <= live['last_pair_time']

    # The rows written as the pairs came (the ones from before the calibration, processed
    # again with it and flagged late, are late.py's and its tests').
    rows = [r for r in csv_rows(pycam) if r['calibration'] == 'doas' and not r.get('late')]
    assert len(rows) >= 5, 'the rates go on once the DOAS calibration replaces none'
    measured = [float(r['emission_rate_kg_s']) for r in rows]
    expected = [truth.emission_rate(r['time']) for r in rows]
    error = sum(measured) / sum(expected) - 1
    worst = worst_sky_block(rows, truth)
    print(f'doas: mean rate error {error:+.4f} over {len(rows)} pairs, worst sky block {worst:.2f} ppm.m')
    assert abs(error) < 0.15
    assert worst <= SKY_PPMM

    # The newest fit is kept for viewers, with its curves: its row of doas_columns.csv is
    # appended just after it is written.
    folder = max((pycam.data_root / 'processing').glob('????-??-??'))
    with np.load(folder / 'doas_fit.npz', allow_pickle=False) as npz:
        fit = dict(npz)
    row = wait_until(lambda: [r for r in CsvLog(folder / 'doas_columns.csv', ()).rows()
                              if r['spectrum'] == str(fit['spectrum'])], message='the fit\'s row')[0]
    assert float(fit['column']) == pytest.approx(float(row['so2_molecules_cm2']), rel=1e-5)
    misfit = np.sqrt(np.mean(((fit['measured'] - fit['fitted']) / fit['measured']) ** 2))
    assert misfit == pytest.approx(float(row['residual_rms']), rel=1e-4)

    # The same search offline, on the day folder pycamd stored.
    day = next(pycam.data_root.glob('????-??-??'))
    done = run_offline_process('fov', day, '--registration', 'identity', '--json')
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert set(found) == {'x', 'y', 'radius', 'correlation'} and found['correlation'] > 0.8
    assert math.hypot(found['x'] - x, found['y'] - y) < 8, found

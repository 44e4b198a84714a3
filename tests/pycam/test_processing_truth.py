"""`pycam process` held to the truth of a simulated sequence (rockit/pycam/simulator/
sequence.py): a plume whose column, motion and emission rate are known, seen through
filters whose AA bends over with the column, cells whose windows have their own AA, a sky
whose AA has a gradient, photon and read noise, and spectra absorbed line by line.

Every calibration gives the emission rate: the cells' (poly2, kern2015) within 10 % of the
truth over the run, the DOAS one (the spectra's fitted columns against the AA the
spectrometer's view sees, fitted linearly as live processing does) within 15 %; and
every model reads the sky at 0 +- 3 ppm.m, block by block (truth.py), so neither an offset
nor a gradient passes.
"""
import json

import numpy as np
import pytest

from processing_harness import process_simulated
from rockit.pycam.simulator import truth as simulated
from rockit.pycam.simulator.sequence import SequencePlan, write_sequence

PAIRS = 24
SKY_PPMM = 3.0


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    folder = tmp_path_factory.mktemp('simulated') / 'day'
    truth = write_sequence(folder, SequencePlan(pairs=PAIRS))
    return folder, truth


def process(sequence, out, *extra):
    folder, truth = sequence
    process_simulated(folder, truth, out, *extra)
    return simulated.compare(out, folder)


def doas_calibration(folder, truth):
    """The DOAS calibration of the sequence: its spectra's columns against the AA in the
    spectrometer's view of the pair taken at the same second."""
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.batch.run import build_background, find_inputs
    from rockit.pycam.processing.calibration.columns import aa_in_field_of_view, doas_calibration as fit
    from rockit.pycam.processing.doas.fit import DoasReferences, fit_folder
    from rockit.pycam.processing.images import DarkLibrary, load_png
    from rockit.pycam.processing.pipeline import LivePipeline, ProcessingSettings
    from rockit.pycam.simulator.optics import reference_folder
    from rockit.pycam.storage.names import parse_spectrum_name
    columns = {parse_spectrum_name(name).time: result for name, result in
               fit_folder(folder, DoasReferences.load(reference_folder())).items() if result.success}
    inputs = find_inputs(folder, need_calibration=False)
    darks = DarkLibrary.from_folder(folder)
    settings = ProcessingSettings(sky=SkyRegion(550, 20, 600, 70))
    pipeline = LivePipeline(settings, darks, build_background(settings, darks, inputs.clear))
    x, y = truth['spectrometer_view']
    aa, column, error = [], [], []
    for on, off in inputs.pairs:
        if on.time in columns:
            image, _ = pipeline.absorbance_image(load_png(on.path), load_png(off.path), on.exposure_us, off.exposure_us)
            aa.append(aa_in_field_of_view(image, x, y, 5))
            column.append(columns[on.time].column)
            error.append(columns[on.time].error)
    assert len(aa) == PAIRS
    return fit(aa, column, error)


@pytest.mark.parametrize('model, tolerance', [('poly2', 0.10), ('kern2015', 0.10), ('linear', None)])
def test_cell_calibrated_rates_and_sky_match_the_truth(sequence, tmp_path, model, tolerance):
    result = process(sequence, tmp_path / model, '--model', model)
    print(f'{model}: mean rate error {result["mean_rate_error"]:+.4f} over {result["pairs"]} pairs, sky '
          f'{result["sky_mean_ppmm"]:+.2f} ppm.m (worst block {result["sky_worst_block_ppmm"]:.2f})')
    assert result['pairs'] == PAIRS - 1
    if tolerance is not None:
        assert abs(result['mean_rate_error']) < tolerance
    assert result['sky_worst_block_ppmm'] <= SKY_PPMM


def test_doas_calibrated_rates_and_sky_match_the_truth(sequence, tmp_path):
    folder, truth = sequence
    calibration = doas_calibration(folder, truth)
    path = tmp_path / 'doas_calibration.json'
    calibration.save(path)
    result = process(sequence, tmp_path / 'doas', '--calibration', path)
    print(f'doas ({calibration.describe()}): mean rate error {result["mean_rate_error"]:+.4f} over '
          f'{result["pairs"]} pairs, sky {result["sky_mean_ppmm"]:+.2f} ppm.m '
          f'(worst block {result["sky_worst_block_ppmm"]:.2f})')
    assert result['pairs'] == PAIRS - 1
    assert abs(result['mean_rate_error']) < 0.15
    assert result['sky_worst_block_ppmm'] <= SKY_PPMM


def test_the_truth_is_written_beside_the_data(sequence):
    folder, truth = sequence
    stored = json.loads((folder / 'truth.json').read_text())
    columns = np.load(folder / 'truth.npz')
    assert [p['time'] for p in stored['pairs']] == [p['time'] for p in truth['pairs']]
    assert columns['column_ppmm'].shape == (PAIRS, 486, 648) and columns['times'].shape == (PAIRS,)
    assert all(p['emission_rate_kg_s'] > 0 for p in stored['pairs'])
    # The cells' AA bends over: the fullest cell gives less AA per ppm.m than the middle one.
    cells = stored['cells']
    window = stored['cell_window_aa']
    assert (cells['1257']['aa'] - window) / 1257 < 0.95 * (cells['304']['aa'] - window) / 304
    assert window != 0


def test_the_sequence_command_writes_a_day_and_refuses_nonsense(tmp_path):
    import subprocess
    import sys
    from processing_harness import ROOT
    command = [sys.executable, '-m', 'rockit.pycam.simulator.sequence']
    done = subprocess.run(command + [str(tmp_path / 'day'), '--pairs', '2', '--no-spectra', '--no-columns'],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '2 pairs, mean emission rate' in done.stdout
    assert len(list((tmp_path / 'day').glob('*_Plume.png'))) == 4 and not list((tmp_path / 'day').glob('*.npy'))
    assert json.loads((tmp_path / 'day' / 'truth.json').read_text())['spectrometer_view'] is None
    done = subprocess.run(command + [str(tmp_path / 'bad'), '--pairs', '0'], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and '--pairs and --interval must be at least 1' in done.stderr

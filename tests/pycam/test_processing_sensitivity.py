"""The optional per-pixel sensitivity correction from a calibration cell's AA image."""
import csv
import json

import numpy as np
import pytest

from processing_harness import CAL_1, SEQ_1, WARP_FILE, needs_data, run_offline
from rockit.pycam.processing.calibration.columns import disk_mask
from rockit.pycam.processing.errors import CalibrationError
from rockit.pycam.processing.images import DarkLibrary
from rockit.pycam.processing.live.settings import settings_from_config
from rockit.pycam.processing.registration import Registration
from rockit.pycam.processing.calibration.sensitivity import mean_cell_aa, sensitivity_from_aa

# Disks of 30 px at the centre, corners and edges of the part the registration leaves data in (y < 390).
PLACES = [(324, 243), (60, 60), (588, 60), (60, 350), (588, 350), (324, 60), (60, 243), (588, 243), (324, 350)]


def _disk_means(image):
    return np.array([np.nanmean(image[disk_mask(image.shape, x, y, 30)]) for x, y in PLACES])


@pytest.fixture(scope='module')
def fullest_cell():
    return mean_cell_aa(CAL_1, DarkLibrary.from_folder(CAL_1), Registration.load(WARP_FILE), cell=1257)


@needs_data
def test_the_mask_is_one_at_the_centre_and_finite_everywhere(fullest_cell):
    aa, ppmm = fullest_cell
    mask = sensitivity_from_aa(aa)
    assert ppmm == 1257 and mask.shape == aa.shape
    assert np.all(np.isfinite(mask)) and mask.min() > 0, 'also where the registration left no data'
    assert np.mean(mask[disk_mask(mask.shape, 324, 243, 30)]) == pytest.approx(1.0, abs=1e-6)
    # These filters read more AA off-centre: the mask rises away from the centre.
    assert _disk_means(mask)[1:].mean() > 1.02


@needs_data
def test_a_cell_corrected_with_its_own_mask_reads_flat_across_the_frame(fullest_cell):
    aa, _ = fullest_cell
    corrected = aa / sensitivity_from_aa(aa)
    raw_means, means = _disk_means(aa), _disk_means(corrected)
    scatter = np.nanstd(corrected)          # the corrected cell image's own pixel scatter
    assert np.ptp(raw_means) > 4 * scatter, 'uncorrected, the frame is far from flat'
    assert np.all(np.abs(means - means[0]) < scatter)
    assert np.ptp(means) < np.ptp(raw_means) / 4


@needs_data
def test_process_with_the_mask_changes_aa_off_centre_and_says_so(tmp_path):
    common = ('--darks', CAL_1, '--clear', CAL_1, '--calibration', CAL_1, '--jobs', 1)
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'plain', *common)
    assert code == 0, err
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'masked', '--sensitivity-mask', *common)
    assert code == 0, err
    assert 'sensitivity mask: the 304 ppm.m cell' in out
    described = json.loads((tmp_path / 'masked' / 'processing.json').read_text())
    assert described['sensitivity_mask']['cell_ppmm'] == 304
    assert json.loads((tmp_path / 'plain' / 'processing.json').read_text())['sensitivity_mask'] is None
    row = next(csv.DictReader((tmp_path / 'masked' / 'emission_rates.csv').read_text().splitlines()))
    plain, masked = (np.load(tmp_path / run / row['aa_file']) for run in ('plain', 'masked'))
    ratio = masked / plain
    mask = sensitivity_from_aa(mean_cell_aa(CAL_1, DarkLibrary.from_folder(CAL_1), Registration.load(WARP_FILE),
                                            cell=304)[0])
    finite = np.isfinite(ratio) & (np.abs(plain) > 1e-3)
    assert np.allclose(ratio[finite], 1 / mask[finite], rtol=1e-3)


@needs_data
def test_process_refuses_a_mask_folder_without_cells(tmp_path):
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path / 'out', '--darks', CAL_1, '--clear', CAL_1,
                                 '--calibration', CAL_1, '--sensitivity-mask', tmp_path)
    assert code != 0 and 'no calibration cell with SO2' in err
    assert not (tmp_path / 'out' / 'emission_rates.csv').exists()


def test_config_errors_name_the_sensitivity_mask_key(tmp_path):
    with pytest.raises(ValueError, match='processing: sensitivity_mask must be a folder'):
        settings_from_config({'sensitivity_mask': 3})
    with pytest.raises(ValueError, match=r'processing: sensitivity_mask: .*no calibration cell'):
        settings_from_config({'sensitivity_mask': str(tmp_path)})
    assert settings_from_config({}).sensitivity is None, 'off by default'


@needs_data
def test_config_names_the_cell_folder():
    settings = settings_from_config({'sensitivity_mask': str(CAL_1), 'registration': str(WARP_FILE)})
    assert settings.sensitivity.cell_ppmm == 304 and settings.sensitivity.source == str(CAL_1)
    chosen = settings_from_config({'sensitivity_mask': str(CAL_1), 'registration': str(WARP_FILE),
                                   'sensitivity_cell': 'second_smallest'})
    assert chosen.sensitivity.cell_ppmm == 1257


def test_the_mask_cell_is_the_smallest_with_so2_unless_chosen():
    """pyplis takes the cell closest to 0 (plume AA is far below the fullest cell's),
    PyCam the second smallest; a column picks the cell closest to it."""
    from rockit.pycam.processing.calibration.sensitivity import chosen_cell
    cells = [0, 1257, 304, 600]
    assert chosen_cell(cells) == 304
    assert chosen_cell(cells, 'second_smallest') == 600
    assert chosen_cell(cells, 1000) == 1257
    with pytest.raises(ValueError, match='smallest or second_smallest or a column'):
        chosen_cell(cells, 'fullest')
    with pytest.raises(CalibrationError, match='a second smallest cell is needed'):
        chosen_cell([0, 304], 'second_smallest')


@pytest.mark.parametrize('value', ['fullest', 0, True])
def test_config_names_a_wrong_sensitivity_cell(value):
    with pytest.raises(ValueError, match='processing: sensitivity_cell: the sensitivity cell must be'):
        settings_from_config({'sensitivity_cell': value})


def test_process_names_a_wrong_sensitivity_cell(tmp_path):
    code, out, err = run_offline('process', SEQ_1, '--out', tmp_path, '--sensitivity-mask', '--sensitivity-cell',
                                 'fullest')
    assert code != 0 and 'the sensitivity cell must be' in err


@needs_data
def test_on_cal_1_the_smallest_cells_mask_differs_from_the_fullest_on_the_line():
    """On Cal_1 the 304 and 1257 ppm.m cells' masks differ by about 11 % along the line."""
    from processing_harness import LINE_FILE
    from rockit.pycam.processing.emission import IntegrationLine
    darks, registration = DarkLibrary.from_folder(CAL_1), Registration.load(WARP_FILE)
    masks = {cell: sensitivity_from_aa(mean_cell_aa(CAL_1, darks, registration, cell=cell)[0])
             for cell in ('smallest', 'second_smallest')}
    line = IntegrationLine.load(LINE_FILE)
    ratio = line.profile(masks['smallest']) / line.profile(masks['second_smallest'])
    assert np.max(np.abs(ratio - 1)) > 0.05

"""`pycam cells <N>ppmm --band on|off|both`: one calibration cell moved from lens to lens.
Each capture saves the covered camera's frame as the cell and the other's as Clear; status
says what the session still lacks; live processing fits the cells once both cameras have
seen each, from the frames that saw them only."""
import json
from pathlib import Path

import pytest

from support import exit_code
from rockit.pycam.codes import CommandStatus
from rockit.pycam.simulator.scene import PlumeScene

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / 'config' / 'pycamd' / 'test.json').read_text())


def _names(pycam, pattern):
    return sorted(p.name for p in pycam.files(pattern))


@pytest.mark.slow
def test_one_cell_moved_between_the_lenses(make_pycam):
    pycam = make_pycam(spectrometer=False, simulation=DEMO['simulation'], processing=DEMO['processing'])
    assert pycam.call('capture_darks', 'cameras') == CommandStatus.Succeeded
    pycam.wait(lambda s: (s['cameras']['last_darks'] or {}).get('completed'), timeout=40, message='darks')
    assert pycam.call('capture', 'Clear', 'cameras') == CommandStatus.Succeeded

    done = pycam.cli('cells', '304ppmm', '--band', 'on')
    assert done.returncode == 0, done.stderr
    assert 'still to capture: 304 ppm.m off-band, the empty (0 ppm.m) cell' in done.stdout
    assert len(_names(pycam, '*_fltrA_*_304ppmm.png')) == 1 and not _names(pycam, '*_fltrB_*_304ppmm.png'), \
        'the uncovered camera saw clear sky, not the cell'
    assert len(_names(pycam, '*_fltrB_*_Clear.png')) == 2

    for ppmm, band in (('304', 'off'), ('0', 'on'), ('0', 'off'), ('1257', 'off')):
        assert pycam.call('capture_cell', int(ppmm), band) == CommandStatus.Succeeded
    session = pycam.status()['cell_session']
    assert session['cells'] == {'0': {'on': 1, 'off': 1}, '304': {'on': 1, 'off': 1}, '1257': {'on': 0, 'off': 1}}
    assert session['missing'] == ['1257 ppm.m on-band'] and not session['complete']
    assert pycam.status()['processing']['calibration']['state'] == 'none', 'no fit from a cell one camera saw'

    done = pycam.cli('cells', '1257ppmm', '--band', 'on')
    assert done.returncode == 0 and 'complete' in done.stdout, done.stdout + done.stderr
    assert pycam.status()['cell_session']['complete']
    live = pycam.wait(lambda s: s['processing']['calibration']['state'] == 'cell', timeout=60,
                      message='the cell calibration')['processing']
    assert live['calibration']['r2'] > 0.999
    # The cell's AA is the on-band's optical depth less the off-band's, each from the frame that
    # saw it: the curve's slope where plume AA starts is the filters' AA per ppm.m of a thin column.
    optics = PlumeScene(DEMO['simulation']['sky_brightness'], DEMO['simulation']['wind_speed']).optics
    assert live['calibration']['slope'] == pytest.approx(10 / optics.absorbance(10), rel=0.05)


def test_a_cell_session_refuses_what_it_cannot_capture(make_pycam):
    pycam = make_pycam(spectrometer=False)
    assert pycam.call('capture_cell', 304, 'left') == CommandStatus.InvalidDevice
    assert pycam.call('capture_cell', -1, 'on') == CommandStatus.InvalidCaptureType
    assert pycam.call('capture_cell', '304', 'on') == CommandStatus.InvalidCaptureType
    for args in (['cells'], ['cells', '304'], ['cells', '304ppmm', '--band'], ['cells', '304ppmm', '--band', 'up']):
        done = pycam.cli(*args)
        assert done.returncode == exit_code(CommandStatus.UsageError), (args, done.stdout, done.stderr)
    assert pycam.status()['cell_session'] == {'cells': {}, 'missing': [], 'complete': False, 'last': None}
    assert not pycam.files('*ppmm.png')

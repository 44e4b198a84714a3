"""`make demo`, the README's first command: every daemon comes online on its emulator and
each CLI prints its status, and rockit-web its URL; without a terminal it stops them again and exits 0."""
import re
import subprocess
import sys

import pytest

from support import ROOT


@pytest.mark.slow
@pytest.mark.timeout(300)     # the demo waits up to 120 s for pycamd's DOAS calibration
def test_demo_brings_every_daemon_online_and_stops_them(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'demo.py'), '--dir', tmp_path], cwd=ROOT,
                            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Focuser is ONLINE; fans are ON' in result.stdout
    assert 'Channel 1: 250 steps' in result.stdout
    assert 'Chiller is COOLING in MANUAL mode' in result.stdout
    assert 'cam1: RUNNING; camera cam1 answers' in result.stdout
    assert 'cam2: RUNNING; camera cam2 answers' in result.stdout
    assert 'Cameras are ONLINE, continuous' in result.stdout and '_fltrA_1ag_' in result.stdout
    assert re.search(r'SO2 emission rate: [0-9.]+ \u00b1 [0-9.]+ kg/s at plume speed [0-9.]+', result.stdout)
    assert re.search(r'calibration: doas \(linear\)', result.stdout), 'the rates are DOAS-calibrated'
    assert 'did not come online' not in result.stdout
    assert re.search(r'Web pages of every daemon: http://127\.0\.0\.1:\d+/', result.stdout)


@pytest.mark.slow
@pytest.mark.timeout(200)     # the demo waits up to 60 s for the master's first emission rate
def test_two_pi_demo_joins_the_second_pis_frames_into_calibrated_rates(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'demo.py'), '--two-pi', '--dir', tmp_path],
                            cwd=ROOT, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r'fltrB camera on localhost_test7 is ONLINE, continuous: \d+ frames saved', result.stdout)
    assert re.search(r'pairs \d+ joined, all in step', result.stdout)
    assert re.search(r'SO2 emission rate: [0-9.]+ \u00b1 [0-9.]+ kg/s', result.stdout)
    assert 'calibration: cell (poly2)' in result.stdout, 'three cells captured through both Pis'
    assert 'did not come online' not in result.stdout

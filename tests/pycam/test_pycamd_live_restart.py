"""A restarted pycamd (a crash, a reboot, kill -9) processes its pairs again at once: live
processing finds the dark frames and clear sky of earlier runs in the data folder, instead
of skipping every pair until an operator takes darks again; and the temporary files of a
run killed while it wrote are gone as soon as it answers."""
import json
import signal
from pathlib import Path

from rockit.common.files import temporary_path
from rockit.pycam.codes import CommandStatus

ROOT = Path(__file__).resolve().parents[2]
PROCESSING = json.loads((ROOT / 'config' / 'pycamd' / 'test.json').read_text())['processing']


def csv_rows(pycam):
    return sum(len(path.read_text().splitlines()) - 1
               for path in (pycam.data_root / 'processing').glob('*/emission_rates.csv'))


def processed(pycam, pairs):
    return pycam.wait(lambda s: s['processing']['pairs_processed'] >= pairs, timeout=30,
                      message=f'{pairs} pairs processed')['processing']


def test_a_restarted_pycamd_processes_pairs_with_the_references_of_its_earlier_run(make_pycam, tmp_path):
    data_root = tmp_path / 'data'
    first = make_pycam(data_root=data_root, spectrometer=False, processing=PROCESSING)
    assert first.call('capture_darks', 'cameras') == CommandStatus.Succeeded
    first.wait(lambda s: (s['cameras']['last_darks'] or {}).get('completed'), timeout=60, message='darks')
    assert first.call('capture', 'Clear', 'cameras') == CommandStatus.Succeeded
    assert first.call('start_acquisition') == CommandStatus.Succeeded
    processed(first, 2)
    first.daemon.stop(signal.SIGKILL)
    rows = csv_rows(first)
    assert rows >= 1
    # What a kill in the middle of writing the CSV or an AA image leaves.
    day = next((data_root / 'processing').glob('????-??-??'))
    unfinished = [temporary_path(day / 'emission_rates.csv'), temporary_path(day / 'so2' / 'x_aa.png')]
    for path in unfinished:
        path.write_bytes(b'half')

    again = make_pycam(data_root=data_root, spectrometer=False, processing=PROCESSING)
    assert not any(path.exists() for path in unfinished)
    again.wait(lambda s: s['processing']['darks'] > 0, message='the earlier darks loaded')
    assert again.call('start_acquisition') == CommandStatus.Succeeded
    live = processed(again, 2)
    assert live['pairs_failed'] == 0 and live['background'] == 'clear sky', live
    again.wait(lambda s: csv_rows(again) > rows, message='new emission-rate rows')
    assert again.call('stop_acquisition') == CommandStatus.Succeeded

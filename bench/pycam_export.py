"""A second Pi's frame export with a day of backlog: the work of one export_next_frame and
acknowledge_frame (find the oldest frame the master lacks, read it, record the
acknowledgement), as the code before the in-memory index did it (a scan of the day folder
every call, loaded from git) and as it does now, taking turns in the same run. One day at
0.25 Hz is 21,600 images with their sidecars; the files are small, since the scan reads
names and the reading of one frame is the same either way."""
import datetime
import importlib.util
import statistics
import subprocess
import time

from harness import ROOT, WORK, summary

from rockit.pycam.storage import export as now_export

BEFORE = '3f2f27e'       # the last commit that scanned on every call
FRAMES = 21600           # a day at 0.25 Hz
ROUNDS = 6
CALLS = {'before': 5, 'now': 500}


def before_module():
    source = subprocess.run(['git', '-C', str(ROOT), 'show', f'{BEFORE}:rockit/pycam/storage/export.py'],
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader('rockit.pycam.storage.export_before', loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = 'rockit.pycam.storage'
    exec(compile(source, f'{BEFORE}:export.py', 'exec'), module.__dict__)
    return module


def make_day(root):
    folder = root / '2026-01-02'
    folder.mkdir(parents=True)
    start = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
    for index in range(FRAMES):
        stamp = (start + datetime.timedelta(seconds=4 * index)).strftime('%Y-%m-%dT%H%M%S')
        name = f'{stamp}_fltrB_1ag_4000ss_Plume'
        (folder / f'{name}.png').write_bytes(b'png')
        (folder / f'{name}.json').write_bytes(b'{}')


def call_before(export):
    pending = export.pending()
    frame = export.read(pending[0])
    export.acknowledge(frame['name'])


def call_now(export):
    frame = export.read(export.next())
    export.acknowledge(frame['name'])


def run():
    old = before_module()
    for label in ('before', 'now'):
        make_day(WORK / f'export-{label}')
    started = time.perf_counter()
    exports = {'now': now_export.FrameExport(WORK / 'export-now')}
    rebuild_ms = (time.perf_counter() - started) * 1000
    exports['before'] = old.FrameExport(WORK / 'export-before')
    calls = {'before': call_before, 'now': call_now}
    times = {'before': [], 'now': []}
    ratios = []
    for number in range(ROUNDS):
        medians = {}
        for label in (('before', 'now') if number % 2 else ('now', 'before')):
            round_times = []
            for _ in range(CALLS[label]):
                started = time.perf_counter()
                calls[label](exports[label])
                round_times.append((time.perf_counter() - started) * 1000)
            times[label] += round_times
            medians[label] = statistics.median(round_times)
        ratios.append(medians['before'] / medians['now'])
    before, now = summary(times['before']), summary(times['now'])
    return [
        (f'the in-memory index (now), {FRAMES} frames waiting', now['median'], now['p99'], now['n'], 1.0),
        (f'a scan of the day folder per call (before), {FRAMES} frames waiting', before['median'], before['p99'],
         before['n'], statistics.median(ratios), 'the in-memory index (now)', (min(ratios), max(ratios))),
        (f'the index built once, at the first poll after a start, {FRAMES} frames', rebuild_ms, rebuild_ms, 1,
         None),
    ]

if __name__ == '__main__':
    for row in run():
        print(row)

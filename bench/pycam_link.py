"""The two-Pi link: how many frames per second a master can take from a second Pi's pycamd,
against the 1 Hz the instrument needs. A single-band pycamd (a real process) holds a
backlog of stored frames (uncompressed 648 x 486 16-bit PNGs and their sidecars, as the
cameras write them); the master's work per frame is timed as devices/remote.py does it:
export_next_frame over Pyro, the two files written into a store (fsync), acknowledge_frame.
Baseline in the same run: a bare Pyro4 call returning the same number of bytes.

Raw frames instead of PNGs would be 2592 x 1944 RAW10 (6.3 MB), above Pyro's 1 MiB message
limit and ten times the bytes; their row is what the bare call's bytes per second allows.
The 100 Mbit/s rows divide 12.5 MB/s by the bytes a frame takes on the wire (serpent sends
bytes as base64: 4/3 of them)."""
import datetime
import json

import numpy as np
import serpent

from harness import ROOT, WORK, register, start, stop, summary

from rockit.common import pyro
from rockit.pycam.acquisition import frames
from rockit.pycam.devices import raw10
from rockit.pycam.storage import names
from rockit.pycam.storage.store import DataStore

BACKLOG = 60
NEED_HZ = 1.0
LINK_BYTES_S = 100e6 / 8
RAW_BYTES = raw10.packed_width(2592) * 1944


def make_backlog(root):
    rng = np.random.default_rng(3)
    start_time = datetime.datetime(2026, 1, 2, 10, 0, tzinfo=datetime.timezone.utc)
    store, size = DataStore(root, 0), 0
    for index in range(BACKLOG):
        moment = start_time + datetime.timedelta(seconds=index)
        image = rng.integers(100, 900, (486, 648), dtype=np.uint16)
        png = frames.encode_png(image)
        name = names.image_name(moment, 'fltrB', 1.0, 4000, 'Plume')
        sidecar = json.dumps({'file': name, 'time': moment.strftime('%Y-%m-%dT%H:%M:%SZ')}).encode()
        store.save(moment, [(name, png), (names.sidecar_name(name), sidecar)])
        size = len(png) + len(sidecar)
    return size


def bare_bytes_server(address, size):
    code = (
        'import sys, os; sys.path.insert(0, %r)\n'
        'from rockit.common import pyro, registry\n'
        'DATA = os.urandom(%d)\n'
        'class Bare:\n'
        '    @pyro.query()\n'
        '    def report_status(self):\n'
        '        return {"status": 1}\n'
        '    @pyro.query()\n'
        '    def frame(self):\n'
        '        return {"data": DATA}\n'
        'pyro.serve(Bare(), registry.daemon(%r))\n') % (str(ROOT), size, address.name)
    return start(['-c', code], address, 'bare-bytes')


def second_pi(root):
    address = register('bench_second_pi')
    config = WORK / 'second_pi.json'
    config.write_text(json.dumps({
        'daemon': 'bench_second_pi', 'log_name': 'pycamd@bench', 'control_machines': ['LocalHost'],
        'data_root': str(root), 'free_space_floor_mb': 0, 'frame_rate': 1.0, 'shutter_speeds': [500, 4000, 64000],
        'cameras': {'fltrB': {'backend': 'simulated', 'camera_num': 1, 'shutter_speed': 4000}}}))
    return address, start([ROOT / 'pycamd', config], address, 'second_pi')


def drain(address, store):
    """Every frame of the backlog as the master takes it; per-frame times in ms."""
    import time
    times = []
    with pyro.connect(address, 30) as proxy:
        while True:
            started = time.perf_counter()
            answer = proxy.export_next_frame()
            frame = answer['frame']
            if frame is None:
                return times
            png, sidecar = serpent.tobytes(frame['png']), serpent.tobytes(frame['sidecar'])
            moment = names.parse_image_name(frame['name']).time
            store.save(moment, [(frame['name'], png), (names.sidecar_name(frame['name']), sidecar)])
            proxy.acknowledge_frame(frame['name'])
            times.append((time.perf_counter() - started) * 1000)


def run():
    import time
    frame_bytes = make_backlog(WORK / 'second-data')
    bare_address = register('bench_bare_bytes')
    bare = bare_bytes_server(bare_address, frame_bytes)
    address, process = second_pi(WORK / 'second-data')
    try:
        with pyro.connect(bare_address, 30) as proxy:
            proxy.frame()
            bare_times = []
            for _ in range(BACKLOG):
                started = time.perf_counter()
                serpent.tobytes(proxy.frame()['data'])
                bare_times.append((time.perf_counter() - started) * 1000)
        link_times = drain(address, DataStore(WORK / 'master-data', 0))
    finally:
        stop(process)
        stop(bare)
    base, link = summary(bare_times), summary(link_times)
    bytes_s = frame_bytes / (base['median'] / 1000)
    wire = frame_bytes * 4 / 3
    return [
        (f'bare Pyro4 call returning {frame_bytes / 1e3:.0f} kB (ms)', base['median'], base['p99'], base['n'], 1.0),
        ('one frame: fetch, write (fsync), acknowledge (ms)', link['median'], link['p99'], link['n'],
         link['median'] / base['median']),
        ('PNG frames per second on loopback (vs 1 Hz)', 1000 / link['median'], 1000 / link['p99'], link['n'],
         1000 / link['median'] / NEED_HZ, '1 Hz need'),
        (f'RAW10 frames ({RAW_BYTES / 1e6:.1f} MB) per second at the bare call\'s bytes/s (vs 1 Hz)',
         bytes_s / RAW_BYTES, frame_bytes / (base['p99'] / 1000) / RAW_BYTES, base['n'],
         bytes_s / RAW_BYTES / NEED_HZ, '1 Hz need'),
        ('PNG frames per second a 100 Mbit/s link carries (vs 1 Hz)', LINK_BYTES_S / wire, LINK_BYTES_S / wire, 1,
         LINK_BYTES_S / wire / NEED_HZ, '1 Hz need'),
        ('RAW10 frames per second a 100 Mbit/s link carries (vs 1 Hz)', LINK_BYTES_S / (RAW_BYTES * 4 / 3),
         LINK_BYTES_S / (RAW_BYTES * 4 / 3), 1,
         LINK_BYTES_S / (RAW_BYTES * 4 / 3) / NEED_HZ, '1 Hz need'),
    ]


if __name__ == '__main__':
    for row in run():
        name, median, p99, n, ratio = row[:5]
        print(f'{name:75s} {median:9.2f}  p99 {p99:9.2f}  n {n}  ratio {ratio:.2f}')

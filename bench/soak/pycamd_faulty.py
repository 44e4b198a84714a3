"""pycamd as its executable runs it, with the simulators' fault switches flipped from a file
beside the config, re-read every 0.2 s: {"unplugged": [band, ...], "frames_stalled": bool,
"spectrometer_unplugged": bool} (simulator/camera.py and simulator/spectrometer.py).

    python bench/soak/pycamd_faulty.py <config.json>      (faults in <config.json>.faults)
"""
import json
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from rockit.pycam import daemon  # noqa: E402
from rockit.pycam.simulator.camera import SimulatedPicamera2  # noqa: E402
from rockit.pycam.simulator.spectrometer import SimulatedSpectrometer  # noqa: E402


def _watch(path):
    while True:
        try:
            faults = json.loads(path.read_text())
        except (OSError, ValueError):
            faults = {}
        SimulatedPicamera2.unplugged = set(faults.get('unplugged', []))
        SimulatedPicamera2.frames_stalled = bool(faults.get('frames_stalled'))
        SimulatedSpectrometer.unplugged = bool(faults.get('spectrometer_unplugged'))
        time.sleep(0.2)


if __name__ == '__main__':
    threading.Thread(target=_watch, args=(Path(sys.argv[1] + '.faults'),), daemon=True).start()
    sys.exit(daemon.main())

"""What the daemon hands to live processing: each capture it has saved, once its files are
in place, except Test captures, which never feed processing or calibration.

The hook is a callable `processor(saved)` taking a SavedImagePair or a SavedSpectrum. It is
called on the thread of the device that captured (the cameras' or the spectrometer's), so
it must return at once, handing the work to its own thread; an exception it raises is
logged and acquisition goes on. Captures of every type but Test arrive (Plume from
continuous acquisition, and Dark, Clear and <N>ppmm captures and dark sequences), so a
processor can keep its dark frames, clear-sky references and cell calibrations current;
`capture_type` tells them apart.

A processor may also have `status()`, returning a small dict of plain Python types that
report_status() shows under 'processing' (called on Pyro threads: it must not wait), and
`close()`, called once when the daemon stops. The daemon finds it through
rockit.pycam.processing.make_live_processor(config, log), if that exists (daemon.py).
"""
import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SavedImagePair:
    time: datetime.datetime            # the capture's slot (UTC), the time in its file names
    capture_type: str                  # 'Plume', 'Dark', 'Clear', '<N>ppmm'
    paths: dict                        # {'fltrA': Path, 'fltrB': Path} of the PNGs
    images: dict                       # {'fltrA': uint16 (486, 648) read-only, 'fltrB': ...}
    metadata: dict = field(default_factory=dict)   # {'fltrA': sidecar dict, 'fltrB': ...}


@dataclass(frozen=True)
class SavedSpectrum:
    time: datetime.datetime
    capture_type: str
    path: Path                         # the .npy file
    spectrum: np.ndarray               # float64 (2, pixels): wavelengths (nm), counts; read-only
    metadata: dict = field(default_factory=dict)


def read_only(array):
    array.flags.writeable = False
    return array

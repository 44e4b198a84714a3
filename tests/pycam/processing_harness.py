"""Support for the processing tests: where the real data is, a synthetic instrument whose
right answers are known, the same pipeline built from pyplis's own classes, and a runner
for the offline CLI commands."""
import datetime
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import cv2
import numpy as np

from support import SHARED_DATA, needs_shared_data
from rockit.pycam.references import FOLDER as REFERENCES   # the DOAS references pycam ships

ROOT = Path(__file__).resolve().parents[2]
DATA = SHARED_DATA / 'pycam'
VILLARRICA = DATA / 'villarrica'
CAL_1, SEQ_1 = VILLARRICA / 'Cal_1', VILLARRICA / 'Seq_1'
LINE_FILE = DATA / 'geometry' / 'villarrica_pcs_line_1.txt'
WARP_FILE = DATA / 'geometry' / 'villarrica_cv_registration.npy'
SPECTRA = DATA / 'spectra' / 'plume_2019-05-29'
PUBLISHED_REFERENCES = DATA / 'spectra' / 'reference'    # the full files the shipped ones are cut from
SKY = (550, 20, 600, 70)

needs_data = needs_shared_data(CAL_1, SEQ_1, LINE_FILE, WARP_FILE)
needs_spectra = needs_shared_data(SPECTRA)


def run_offline(*args):
    """An offline command in this process: (exit code, stdout, stderr)."""
    from rockit.pycam.processing.batch import cli as offline
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = offline.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def run_offline_process(*args, timeout=120):
    """`python -m rockit.pycam.processing.batch.cli ...` as a real subprocess."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-m', 'rockit.pycam.processing.batch.cli'] + [str(a) for a in args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def process_simulated(folder, truth, out, *extra):
    """`pycam process` on a simulated sequence (rockit/pycam/simulator/sequence.py) with its
    true geometry, cameras aligned, one job; the finished process (asserted to succeed)."""
    geometry = truth['geometry']
    done = run_offline_process('process', folder, '--out', out, '--registration', 'identity',
                               '--distance', geometry['distance_m'], '--focal-length', geometry['focal_length_m'] * 1e3,
                               '--pixel-size', geometry['pixel_size_m'] * 1e6, '--jobs', 1, *extra)
    assert done.returncode == 0, done.stderr
    return done


def villarrica_settings(distance_m=5000.0, **changes):
    from rockit.pycam.processing.background import SkyRegion
    from rockit.pycam.processing.emission import CameraGeometry, IntegrationLine
    from rockit.pycam.processing.pipeline import ProcessingSettings
    from rockit.pycam.processing.registration import Registration
    settings = ProcessingSettings(sky=SkyRegion(*SKY), line=IntegrationLine.load(LINE_FILE),
                                  geometry=CameraGeometry(distance_m, 5.6e-6, 9e-3), registration=Registration.load(WARP_FILE))
    for key, value in changes.items():
        setattr(settings, key, value)
    return settings


def villarrica_rates():
    """Dark-corrected counts per second of the Seq_1 pairs and the Cal_1 clear sky, and the
    pairs' times: the common input of the pyplis comparisons."""
    from rockit.pycam.processing.calibration.columns import clear_sky_rates
    from rockit.pycam.processing.images import DarkLibrary, counts_per_second, load_png
    from rockit.pycam.storage.names import images_in, plume_pairs
    darks = DarkLibrary.from_folder(CAL_1)
    clear = clear_sky_rates(CAL_1, darks)
    pairs = []
    for on, off in plume_pairs(images_in(SEQ_1)):
        rates = [counts_per_second(load_png(n.path), darks.match(n.band, n.exposure_us).frame, n.exposure_us)
                 for n in (on, off)]
        pairs.append((on.time, *rates))
    return darks, clear, pairs


class PyplisPipeline:
    """Steps 2-7 from pyplis's classes, on the same dark-corrected counts per second:
    PlumeBackgroundModel (mode 1: clear sky scaled to the sky region) for AA, a calibration
    polynomial (CellCalibData) for columns, OptflowFarneback at full resolution for the flow,
    LineOnImage profiles and det_emission_rate for the emission rate. pyplis has no affine
    registration, so the off-band frames are warped with OpenCV as in the pipeline under test.
    """

    def __init__(self, clear_on, clear_off, warp, sky, line, slope_molecules, pixel_m, contrast,
                 column_err, speed_error=0.15, distance_error=0.10, molar_mass=64.066):
        import pyplis
        self.pyplis = pyplis
        self.warp = warp
        self.bg_on = self._img(clear_on)
        self.bg_off = self._img(self._register(clear_off))
        self.model = pyplis.PlumeBackgroundModel(mode=1, scale_rect=list(sky))
        self.calib = pyplis.cellcalib.CellCalibData(tau_vec=[0.0, 1.0], cd_vec=[0.0, slope_molecules])
        self.calib.fit_calib_data()
        self.line = pyplis.LineOnImage(line.x0, line.y0, line.x1, line.y1, normal_orientation=line.orientation)
        self.pixel_m = pixel_m
        self.contrast = contrast
        self.column_err = column_err
        self.speed_error, self.distance_error, self.molar_mass = speed_error, distance_error, molar_mass
        self.previous = None

    def _register(self, image):
        h, w = image.shape
        return cv2.warpAffine(image, self.warp, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=float('nan'))

    def _img(self, array):
        img = self.pyplis.Img(np.asarray(array, np.float64))
        img.edit_log['darkcorr'] = True
        return img

    def absorbance(self, on, off):
        return self.model.get_aa_image(self._img(on), self._img(self._register(off)), self.bg_on, self.bg_off)

    def process(self, time, on, off, speed_err=None):
        """(AA Img, flow or None, emission rate, error, normal speeds along the line);
        speed_err: the speed's 1-sigma in m/s (default speed_error of the mean speed)."""
        aa = self.absorbance(on, off)
        previous, self.previous = self.previous, (time, aa)
        if previous is None:
            return aa, None, None, None, None
        dt = (time - previous[0]).total_seconds()
        low, high = self.contrast
        # No-data pixels (NaN) enter the flow at the bottom of the contrast range, as in the
        # pipeline under test; pyplis itself has no rule for them.
        first = self._img(np.nan_to_num(previous[1].img, nan=low))
        following = self._img(np.nan_to_num(aa.img, nan=low))
        flow = self.pyplis.OptflowFarneback(first_img=first, next_img=following, i_min=low, i_max=high,
                                            auto_update=False)
        columns = self.line.get_line_profile(self.calib(self._img(np.nan_to_num(aa.img))).img)
        dx = self.line.get_line_profile(flow.flow[:, :, 0])
        dy = self.line.get_line_profile(flow.flow[:, :, 1])
        speeds = np.dot(self.line.normal_vector, (dx, dy)) * self.pixel_m / dt
        positive = np.clip(columns, 0, None)
        mean_speed = np.sum(positive * speeds) / positive.sum()
        # pyplis's minimum-column mask (min_cd = 0: the pipeline's default); the distance
        # error passed twice over, since it scales the speeds as well as the pixel lengths.
        cond = columns > 0
        distances = np.full(int(cond.sum()), self.pixel_m)
        phi, phi_err = self.pyplis.fluxcalc.det_emission_rate(
            columns[cond], speeds[cond], distances, self.column_err,
            abs(mean_speed) * self.speed_error if speed_err is None else speed_err,
            2 * self.pixel_m * self.distance_error, self.molar_mass)
        return aa, flow, phi, phi_err, speeds


# -- a synthetic instrument: known plume, known drift, known calibration ---------------

SYNTHETIC_SHAPE = (120, 160)
SYNTHETIC_K = 4e-4          # AA per ppm.m: Beer-Lambert in the on-band, none in the off-band
SYNTHETIC_EXPOSURE = {'fltrA': 400000, 'fltrB': 50000}


def synthetic_column(shape, shift_x, seed=3):
    """A textured plume band (ppm.m) drifting left by shift_x pixels."""
    rng = np.random.default_rng(seed)
    h, w = shape
    texture = cv2.GaussianBlur(rng.random((h, w + 600)).astype(np.float32), (0, 0), 4)
    texture = (texture - texture.min()) / np.ptp(texture)
    yy = np.arange(h)[:, None]
    band = np.exp(-((yy - h / 2) / (h / 5)) ** 2)
    start = 100 + int(shift_x)
    return (600 * band * (0.4 + 0.6 * texture[:, start:start + w])).astype(np.float32)


def synthetic_raw(rate, exposure_us, dark=16.0):
    counts = rate * exposure_us / 1e6 + dark
    return np.clip(np.round(counts), 0, 1023).astype(np.uint16)


def write_png(path, frame):
    cv2.imwrite(str(path), frame)


def write_synthetic_day(folder, pairs=6, drift_px=3, cells=(0, 304, 1257), start=None, scales=None):
    """Darks, clear sky, cells and Plume pairs, 4 s apart, in the instrument's naming.
    Sky: 1200 (on) and 9000 (off) counts/s with a vignetting falloff; the plume only
    absorbs in the on-band, its column times scales[i] in pair i (default 1). Returns the
    pair times."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    start = start or datetime.datetime(2024, 5, 1, 12, 0, 0)
    h, w = SYNTHETIC_SHAPE
    yy, xx = np.mgrid[:h, :w]
    vignetting = 1 - 0.3 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    sky = {'fltrA': 1200 * vignetting, 'fltrB': 9000 * vignetting}

    def name(when, fltr, kind):
        return folder / f'{when:%Y-%m-%dT%H%M%S}_{fltr}_1ag_{SYNTHETIC_EXPOSURE[fltr]}ss_{kind}.png'

    t = start
    for fltr in ('fltrA', 'fltrB'):
        write_png(name(t, fltr, 'Dark'), np.full((h, w), 16, np.uint16))
        write_png(name(t + datetime.timedelta(seconds=1), fltr, 'Clear'),
                  synthetic_raw(sky[fltr], SYNTHETIC_EXPOSURE[fltr]))
    for i, ppmm in enumerate(cells):
        when = t + datetime.timedelta(seconds=10 + i)
        write_png(name(when, 'fltrA', f'{ppmm}ppmm'),
                  synthetic_raw(sky['fltrA'] * np.exp(-SYNTHETIC_K * ppmm), SYNTHETIC_EXPOSURE['fltrA']))
        write_png(name(when, 'fltrB', f'{ppmm}ppmm'), synthetic_raw(sky['fltrB'], SYNTHETIC_EXPOSURE['fltrB']))
    times = []
    for i in range(pairs):
        when = t + datetime.timedelta(seconds=60 + 4 * i)
        column = synthetic_column(SYNTHETIC_SHAPE, drift_px * i) * (1.0 if scales is None else scales[i])
        write_png(name(when, 'fltrA', 'Plume'),
                  synthetic_raw(sky['fltrA'] * np.exp(-SYNTHETIC_K * column), SYNTHETIC_EXPOSURE['fltrA']))
        write_png(name(when, 'fltrB', 'Plume'), synthetic_raw(sky['fltrB'], SYNTHETIC_EXPOSURE['fltrB']))
        times.append(when.replace(tzinfo=datetime.timezone.utc))
    return times


def write_line(path, x=(80, 80), y=(15, 105), orientation='left'):
    Path(path).write_text(f'x={x[0]},{x[1]}\ny={y[0]},{y[1]}\norientation={orientation}\n')
    return Path(path)

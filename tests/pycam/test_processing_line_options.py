"""Per line point: its distance along its own line of sight (from a cam_geom viewing
geometry), the minimum column below which it is sky (PyCam's min_cd, molecules/cm^2), and
one global speed instead of the flow; each through the pipeline, the config and the CLI."""
import datetime
import json
import math

import numpy as np
import pytest

from processing_harness import run_offline
from rockit.pycam.processing.calibration.columns import DEFAULT_MIN_COLUMN, Calibration, ColumnUnits, PPMM
from rockit.pycam.processing.emission import CameraGeometry, IntegrationLine
from rockit.pycam.processing.errors import GeometryError
from rockit.pycam.processing.geometry import EARTH_RADIUS_M, resolve
from rockit.pycam.processing.live.settings import settings_from_config
from rockit.pycam.processing.pipeline import LivePipeline, ProcessingSettings
from rockit.pycam.simulator.sequence import SequencePlan, write_sequence

PIXEL, FOCAL = 5.6e-6, 9e-3
NORTH_3KM = 3000 / EARTH_RADIUS_M * 180 / math.pi     # degrees of latitude


def cam_geom(tmp_path, azim=0.0, elev=0.0, plume_dir=90.0):
    """A camera at (0, 0) looking north at azim; the source 3 km north, the plume travelling
    east: the plume is the line 3 km north of the camera."""
    path = tmp_path / 'cam_geom.txt'
    path.write_text(f'lat=0\nlon=0\nelev={elev}\nazim={azim}\nsource_lat={NORTH_3KM}\nsource_lon=0\n'
                    f'plume_dir={plume_dir}\nfocal_length_mm={FOCAL * 1e3}\n')
    return path


def expected_distance(x, y, azim=0.0, elev=0.0):
    """Along the line of sight of pixel (x, y): the horizontal 3 km over the cosines of its
    azimuth off north and its elevation."""
    azimuth = azim + math.degrees(math.atan((x - 324) * PIXEL / FOCAL))
    elevation = elev - math.degrees(math.atan((y - 243) * PIXEL / FOCAL))
    return 3000 / math.cos(math.radians(azimuth)) / math.cos(math.radians(elevation))


def test_each_line_point_has_the_distance_along_its_own_line_of_sight(tmp_path):
    geometry, notes = resolve(geometry_file=cam_geom(tmp_path, azim=2.0, elev=5.0), per_pixel=True)
    line = IntegrationLine(60, 400, 600, 80)            # a diagonal across most of the view
    pixel_m = geometry.line_pixel_m(line)
    xs, ys = line.points
    expected = np.array([expected_distance(x, y, 2.0, 5.0) for x, y in zip(xs, ys)]) * PIXEL / FOCAL
    assert pixel_m == pytest.approx(expected, rel=1e-9)
    assert pixel_m.max() / pixel_m.min() > 1.03         # the distance changes across the line
    assert geometry.distance_m == pytest.approx(expected_distance(324, 243, 2.0, 5.0), rel=1e-6)
    assert 'each line point at its own distance' in notes[-1]
    described = geometry.describe([line])
    assert described['line_distances_m'][0] == [pytest.approx(v, abs=0.1) for v in
                                                (expected.min() * FOCAL / PIXEL, expected.max() * FOCAL / PIXEL)]


def test_the_rate_adds_each_point_at_its_own_length_and_speed(tmp_path):
    """A uniform column through a line 15 degrees off the view's centre, at one global
    speed: the rate goes with the sum of the points' own lengths, not the centre's times
    their number."""
    per_pixel, _ = resolve(geometry_file=cam_geom(tmp_path, azim=15.0), per_pixel=True)
    central = CameraGeometry(per_pixel.distance_m, PIXEL, FOCAL)
    line = IntegrationLine(20, 100, 620, 100, orientation='right')
    rates = {}
    for name, geometry in (('central', central), ('per pixel', per_pixel)):
        settings = ProcessingSettings(line=line, geometry=geometry, speed_mode='global', global_speed_m_s=10.0)
        rates[name] = pipeline_rate(settings)
    pixel_m = per_pixel.line_pixel_m(line)
    assert rates['per pixel'] / rates['central'] == pytest.approx(pixel_m.sum() / (central.pixel_m * pixel_m.size),
                                                                  rel=1e-6)
    assert abs(rates['per pixel'] / rates['central'] - 1) > 0.005


def pipeline_rate(settings, aa_value=0.2):
    """The rate of a second AA image of aa_value everywhere, under a linear calibration
    of 1000 ppm.m per unit AA."""
    calibration = Calibration(1000.0, 0.0, 1.0, PPMM, model='linear', coeffs=[1000.0, 0.0])
    pipeline = LivePipeline(settings, darks=None, background=None, calibration=calibration)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    aa = np.full((486, 648), aa_value, np.float32)
    pipeline.process_aa(aa, start)
    return pipeline.process_aa(aa.copy(), start + datetime.timedelta(seconds=1)).emission_rate_kg_s


def test_distance_per_pixel_needs_a_viewing_geometry(tmp_path):
    with pytest.raises(GeometryError, match='geometry file'):
        resolve(distance_m=3000, focal_length_m=FOCAL, per_pixel=True)
    partial = tmp_path / 'partial.txt'
    partial.write_text('lat=0\nlon=0\ndistance_m=3000\nfocal_length_mm=9\n')
    with pytest.raises(GeometryError, match='azim, source_lat, source_lon'):
        resolve(geometry_file=partial, per_pixel=True)
    with pytest.raises(ValueError, match='distance_per_pixel'):
        settings_from_config({'distance_per_pixel': 'yes'})
    settings = settings_from_config({'geometry_file': str(cam_geom(tmp_path)), 'distance_per_pixel': True})
    assert settings.geometry.view is not None


def test_min_column_is_in_molecules_with_pycams_default():
    assert ProcessingSettings().min_column == DEFAULT_MIN_COLUMN == 5e16
    line = IntegrationLine(20, 100, 620, 100)
    geometry = CameraGeometry(3000, PIXEL, FOCAL)
    # 0.005 AA is 5 ppm.m, 1.3e16 molecules/cm^2: under the default, sky; over a lower minimum, plume.
    faint = ProcessingSettings(line=line, geometry=geometry, speed_mode='global', global_speed_m_s=10.0)
    assert pipeline_rate(faint, 0.005) == 0.0
    faint.min_column = 1e16
    assert pipeline_rate(faint, 0.005) > 0
    assert ColumnUnits(273.15).to_ppmm(DEFAULT_MIN_COLUMN) == pytest.approx(18.6, abs=0.1)
    assert settings_from_config({'min_column': 2e16}).min_column == 2e16
    with pytest.raises(ValueError, match='min_column_ppmm'):
        settings_from_config({'min_column_ppmm': 10})
    with pytest.raises(ValueError, match='min_column'):
        settings_from_config({'min_column': 'high'})


def test_a_global_speed_replaces_the_flow():
    line = IntegrationLine(20, 100, 620, 100)
    settings = ProcessingSettings(line=line, geometry=CameraGeometry(3000, PIXEL, FOCAL), speed_mode='global',
                                  global_speed_m_s=5.0)
    slow = pipeline_rate(settings)
    settings.global_speed_m_s = 10.0
    assert pipeline_rate(settings) == pytest.approx(2 * slow, rel=1e-9)   # an unmoving image: no flow at all
    assert settings.describe()['global_speed_m_s'] == 10.0
    with pytest.raises(ValueError, match='global_speed_m_s'):
        settings_from_config({'speed_mode': 'global'})
    assert settings_from_config({'speed_mode': 'global', 'global_speed_m_s': 7.5}).global_speed_m_s == 7.5


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    folder = tmp_path_factory.mktemp('line_options') / 'day'
    return folder, write_sequence(folder, SequencePlan(pairs=3, spectra=False, columns=False))


def test_the_cli_takes_each_option(sequence, tmp_path):
    folder, truth = sequence
    speed = truth['speed_m_s']
    geometry = cam_geom(tmp_path)
    code, stdout, stderr = run_offline('process', folder, '--out', tmp_path / 'out', '--registration', 'identity',
                                       '--geometry', geometry, '--distance-per-pixel', '--speed', 'global',
                                       '--global-speed', speed, '--min-column', 3e16, '--jobs', 1)
    assert code == 0, stderr
    assert f'speed: {speed:g} m/s through every line (global)' in stdout
    described = json.loads((tmp_path / 'out' / 'processing.json').read_text())
    settings = described.get('settings', described)
    assert settings['min_column_molecules_cm2'] == 3e16 and settings['global_speed_m_s'] == speed
    assert settings['geometry']['view']['azimuth_deg'] == 0.0 and settings['geometry']['line_distances_m']
    for flags, message in ((('--min-column', 20), 'molecules/cm^2'), (('--speed', 'global'), '--global-speed'),
                           (('--distance-per-pixel',), 'geometry file'),
                           (('--speed', 'global', '--global-speed', '-1'), '--global-speed must be')):
        code, _, stderr = run_offline('process', folder, '--out', tmp_path / 'bad', '--registration', 'identity',
                                      '--distance', 3000, '--focal-length', 9, *flags)
        assert code != 0 and message in stderr, (flags, stderr)

"""Agreement with pyplis's own classes on the same inputs (dark-corrected counts per
second from the Villarrica data), with the tolerances each step can promise:
- AA (PlumeBackgroundModel, mode 1): 1e-4 absolute: the same formula in float32 vs float64;
- cell AA and slope (CellCalibEngine): 1e-3 AA / 0.5 %: disks drawn differently;
- line profiles (LineOnImage): 1e-5 relative: both bilinear at the same points;
- optical flow (OptflowFarneback): identical at full resolution; the live crop 2 %;
- emission rate and its error (det_emission_rate, which gives g/s): 3 % and 5 %, from
  the flow crop.
pyplis is slow to import and imported here only."""
import numpy as np
import pytest

from processing_harness import CAL_1, PyplisPipeline, needs_data, villarrica_rates, villarrica_settings

import pyplis  # noqa: E402

from rockit.pycam.processing.absorbance import AbsorbanceImager  # noqa: E402
from rockit.pycam.processing.background import ClearSkyBackground  # noqa: E402
from rockit.pycam.processing.calibration.columns import MOLECULES, Calibration, cell_absorbances  # noqa: E402
from rockit.pycam.processing.calibration.models import fit  # noqa: E402
from rockit.pycam.processing.motion.flow import bytescale, contrast_range, farneback  # noqa: E402
from rockit.pycam.processing.images import counts_per_second, load_png  # noqa: E402
from rockit.pycam.processing.pipeline import LivePipeline  # noqa: E402
from rockit.pycam.storage.names import cell_images_in, parse_image_name  # noqa: E402

pytestmark = needs_data


@pytest.fixture(scope='module')
def villarrica():
    settings = villarrica_settings()
    darks, clear, pairs = villarrica_rates()
    background = ClearSkyBackground(clear['on'], settings.registration.apply(clear['off']), settings.sky)
    return settings, darks, clear, pairs, background


def test_aa_agrees_with_plume_background_model(villarrica):
    settings, darks, clear, pairs, background = villarrica
    imager = AbsorbanceImager(background, settings.registration)
    reference = PyplisPipeline(clear['on'], clear['off'], settings.registration.warp, settings.sky.as_list(),
                               settings.line, 1.0, 1.0, (0, 1), 0.0)
    for _, on, off in pairs[::3]:
        ours = imager(on, off)
        theirs = reference.absorbance(on, off).img
        both = np.isfinite(ours) & np.isfinite(theirs)
        assert both.sum() > 0.7 * ours.size       # the rest: outside the off-band view, or no light
        assert np.array_equal(np.isfinite(ours), np.isfinite(theirs)), 'no data in the same places'
        assert np.max(np.abs(ours[both] - theirs[both])) < 1e-4


def test_line_profile_agrees_with_line_on_image(villarrica):
    settings = villarrica[0]
    image = np.random.default_rng(0).random((486, 648))
    theirs = pyplis.LineOnImage(settings.line.x0, settings.line.y0, settings.line.x1, settings.line.y1,
                                normal_orientation='left')
    assert np.allclose(settings.line.profile(image), theirs.get_line_profile(image), rtol=1e-5)
    assert np.allclose(settings.line.normal, theirs.normal_vector)


def test_cell_aa_and_slope_agree_with_cell_calib_engine(villarrica):
    """pyplis takes the first frame of each list and refuses a 0 ppm.m cell, so both sides
    use the empty cell's first frames as background and the 304 and 1257 ppm.m cells'."""
    darks = villarrica[1]

    def rate(path, meta):
        name = parse_image_name(path)
        frame = counts_per_second(load_png(path), darks.match(name.band, name.exposure_us).frame, name.exposure_us)
        meta = dict(meta, start_acq=name.time.replace(tzinfo=None), texp=name.exposure_us / 1e6)
        return frame.astype(np.float64), meta

    camera = pyplis.Camera()
    camera.image_import_method = rate
    engine = pyplis.CellCalibEngine(init=False)
    engine.camera = camera
    cells = cell_images_in(CAL_1)
    first = {(c, b): [n for n in names if n.band == b][0] for c, names in cells.items() for b in ('on', 'off')}
    for band in ('on', 'off'):
        engine.set_bg_images([str(first[(0, band)].path)], band)
        for ppmm in (304, 1257):
            engine.set_cell_images([str(first[(ppmm, band)].path)], ppmm * 2.687e15, f'cell{ppmm}', band)
    engine.prepare_calib_data(pos_x_abs=324, pos_y_abs=243, radius_abs=30, darkcorr=False, blurring=0)
    theirs = engine.calib_data['aa']

    background = {band: rate(str(first[(0, band)].path), {})[0].astype(np.float32) for band in ('on', 'off')}
    ours, _ = cell_absorbances({c: [first[(c, 'on')], first[(c, 'off')]] for c in (304, 1257)}, background, darks,
                               radius=30)
    assert [ours[304][0], ours[1257][0]] == pytest.approx(list(theirs.tau_vec), abs=1e-3)
    slope = fit('linear', [ours[304][0], ours[1257][0]], [304 * 2.687e15, 1257 * 2.687e15])[0][0]
    assert slope == pytest.approx(theirs.calib_coeffs[0], rel=0.005)


def test_flow_and_emission_rate_agree_with_optflow_farneback_and_det_emission_rate(villarrica):
    settings, darks, clear, pairs, background = villarrica
    calibration = Calibration(slope=2890.0, intercept=0.0, r2=1.0, residual_std=60.0)
    pipeline = LivePipeline(settings, darks, background, calibration)
    slope_molecules = settings.units.to_molecules(calibration.slope)
    pixel_m = settings.geometry.pixel_m
    column_err = calibration.column_error(0.0, settings.units, MOLECULES)
    for (time, on, off), (next_time, next_on, next_off) in list(zip(pairs, pairs[1:]))[::2]:
        first, following = pipeline.absorbance(on, off), pipeline.absorbance(next_on, next_off)
        low, high = contrast_range(first, settings.line.bounds(first.shape, settings.flow_margin))
        reference = PyplisPipeline(clear['on'], clear['off'], settings.registration.warp, settings.sky.as_list(),
                                   settings.line, slope_molecules, pixel_m, (low, high), column_err)
        # The live pipeline (flow on the line's crop, same contrast), its speed error from
        # the flow's spread through the line, given to pyplis's det_emission_rate too.
        pipeline.reset()
        pipeline.process_aa(first, time)
        result = pipeline.process_aa(following, next_time)
        reference.process(time, on, off)
        _, flow, phi, phi_err, _ = reference.process(next_time, next_on, next_off, result.speed_err_m_s)

        # Full-resolution flow on the same AA images: the same computation, the same numbers.
        ours = farneback(bytescale(first, low, high), bytescale(following, low, high))
        theirs = pyplis.OptflowFarneback(first_img=pyplis.Img(np.nan_to_num(first, nan=low).astype(float)),
                                         next_img=pyplis.Img(np.nan_to_num(following, nan=low).astype(float)),
                                         i_min=low, i_max=high, auto_update=False)
        assert np.array_equal(ours, theirs.flow)
        # On pyplis's own float64 AA a few pixels fall on the other side of a byte level.
        assert np.mean(np.abs(ours - flow.flow) > 0.05) < 0.01

        # det_emission_rate multiplies by the molar mass in g/mol: its rates are in g/s.
        assert result.emission_rate_kg_s == pytest.approx(phi / 1000, rel=0.03)
        assert result.emission_rate_err_kg_s == pytest.approx(phi_err / 1000, rel=0.05)

"""SO2 camera processing: from on/off-band image pairs and spectra to SO2 columns and
emission rates.

One job per module, in the order of the pipeline (what a file is: ../storage/names.py):
images (dark correction), background (optical depth), registration (off-band onto
on-band), absorbance, calibration/ (columns: cells, DOAS, stored; models: the curves;
sensitivity), doas/ (fit: the spectral fit; fov: where the spectrometer looks), motion/
(flow and speed: plume speed), geometry (pixels to metres), emission (kg/s through a line),
pipeline (the steps together), outputs (files written atomically) and output_names (their
names, which pycamd's queries read too), errors; live/ (processor, settings, worker, doas,
references: the daemon's processing thread) and batch/ (run: stored pairs, in parallel;
cluster; cli, cli_common and cli_spectra: `pycam process`, `calibrate`, `doas`, `fov`) use
the rest.

Importing this package loads none of them: pycamd finds make_live_processor here, and the
live module loads numpy and OpenCV on its worker thread, so the daemon starts fast.
pyplis is never imported.
"""


def make_live_processor(config, log=None):
    """pycamd's live processor, or None when its config has no `processing` section.

    Processing needs the site's scene (integration line, plume distance, ...), so a config
    without one acquires only. Keys of `processing` (all optional but the scene's):
    out_dir (default <data_root>/processing), calibration (a calibration.json),
    doas_references (folder; default the references pycam ships, null for none), doas_fov
    ([x, y, radius]; searched for when absent), doas_window_s (DOAS points kept, default
    1800), min_doas_points (default 10), doas_pairing_s, doas_calibration_max_age_s and
    cell_calibration_max_age_s (see live.settings.LIVE_LIMITS), save_aa (default true),
    enabled (default true), late_pairs (pairs kept before the first calibration to process
    again once there is one, default 0: none), pycam_outputs (also PyCam's
    line_<id>/ emission-rate files, default false), and the scene keys of
    live.settings.settings_from_config.
    """
    out_dir = products_folder(config)
    if out_dir is None:
        return None
    from pathlib import Path
    from .live.processor import LiveProcessor
    from ..references import FOLDER as SHIPPED_REFERENCES
    section = dict(config.processing)
    root = Path(getattr(config, 'data_root', '.'))
    processor = LiveProcessor(out_dir, section, calibration=section.get('calibration'),
                              doas_references=section.get('doas_references', SHIPPED_REFERENCES),
                              doas_fov=section.get('doas_fov'), min_doas_points=int(section.get('min_doas_points', 10)),
                              save_aa=bool(section.get('save_aa', True)))
    if log is not None:
        log.info('live processing: results in %s', processor.out_dir)
    from .live.references import feed, remove_unfinished
    remove_unfinished(processor.out_dir)
    processor.start()
    found = feed(processor, root)
    if found and log is not None:
        log.info('live processing: %d reference file(s) from earlier runs', found)
    return processor


def products_folder(config):
    """Where live processing writes (out_dir, default <data_root>/processing), or None when
    the config has no live processing."""
    section = getattr(config, 'processing', None) or {}
    if not section or section.get('enabled', True) is False:
        return None
    from pathlib import Path
    out_dir = Path(section.get('out_dir', 'processing'))
    return out_dir if out_dir.is_absolute() else Path(getattr(config, 'data_root', '.')) / out_dir


def replay_processor(out_dir, settings, doas_references, doas_fov=None, min_doas_points=10, light_dilution=None,
                     pycam_outputs=False):
    """A started live processor for stored data replayed as it came (batch/replay.py):
    the batch side reaches the live path only through here."""
    from .live.processor import LiveProcessor
    return LiveProcessor(out_dir, settings, doas_references=doas_references, doas_fov=doas_fov,
                         min_doas_points=min_doas_points, light_dilution=light_dilution,
                         pycam_outputs=pycam_outputs).start()

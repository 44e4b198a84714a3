"""Stored data processed without a daemon: `pycam process | calibrate | doas | fov` (cli,
cli_common, cli_spectra), the batch run over a folder's pairs (run), and its chunks on a
Dask cluster (cluster)."""

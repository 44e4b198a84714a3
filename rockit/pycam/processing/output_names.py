"""The names of the files processing writes, in one place: processing writes them and
pycamd's queries (../products.py) read them back. Nothing is imported here, so the query
side reads them without loading numpy or OpenCV."""
CSV_NAME = 'emission_rates.csv'     # a run's (a day's, live) rows, one per pair
IMAGES_FOLDER = 'so2'               # beside it: each pair's AA and SO2 images and preview
DOAS_CSV_NAME = 'doas_columns.csv'  # a run's DOAS fits, one row per spectrum
DOAS_FIT_NAME = 'doas_fit.npz'      # the newest live DOAS fit with its curves, for viewers
SETTINGS_NAME = 'processing.json'  # the run's settings and the calibration it applies
DOAS_CALIBRATION_NAME = 'doas_calibration.json'   # the newest live DOAS calibration, taken up after a restart
DILUTION_GRID_NAME = 'light_dilution_grid.npz'   # the spectrometer's light dilution grid, made once

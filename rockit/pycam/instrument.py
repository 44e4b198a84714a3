"""The instrument's fixed facts, written once: the two camera bands and their filters, the
sensor's raw frame and the stored image it is binned to, the lens, the spectrometer's
detector. Everything else (settings, names, the simulators, processing) reads them here."""

ON_BAND, OFF_BAND = 'fltrA', 'fltrB'          # the bands' names in files, configs and status
BANDS = (ON_BAND, OFF_BAND)
BAND_SUFFIX = {'a': ON_BAND, 'b': OFF_BAND}     # setting names: shutter_a, auto_b, ...
BAND_ROLE = {ON_BAND: 'on', OFF_BAND: 'off'}
FILTER_NM = {ON_BAND: 310, OFF_BAND: 330}       # SO2 absorbs strongly at 310 nm, hardly at 330 nm

RAW_WIDTH, RAW_HEIGHT = 2592, 1944              # the OV5647's full resolution, RAW10
BINNING = 4                                     # stored images are binned 4 x 4
IMAGE_WIDTH, IMAGE_HEIGHT = RAW_WIDTH // BINNING, RAW_HEIGHT // BINNING   # 648 x 486
PIXEL_SIZE_M = 5.6e-6                           # a stored image's pixel on the sensor (1.4 um x 4)
BLACK_LEVEL_DN = 16                             # the OV5647's black level in 10-bit counts
FOCAL_LENGTH_M = 9.0e-3                         # the UV lens in front of each camera

SPECTRUM_PIXELS = 2048                          # the Flame-S detector
SPECTRUM_FULL_SCALE = 65535                     # its counts at saturation
SPECTRUM_DARK_COUNTS = 1000                     # about its dark level

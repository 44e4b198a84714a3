"""The instrument's devices: the camera pair and the spectrometer over their small interfaces,
the RAW10 frame format, the real backends and which ones a config opens."""

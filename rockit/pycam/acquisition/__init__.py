"""The device threads: the acquisition loop, the camera pair, the spectrometer, auto
exposure and the frames turned into stored images."""

"""pycamd: the SO2 camera, two UV Pi cameras (on-band fltrA at 310 nm, off-band fltrB at
330 nm) and an Ocean Insight spectrometer on one Raspberry Pi."""

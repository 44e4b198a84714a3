"""Stand-ins for the cameras and the spectrometer that see one simulated plume."""

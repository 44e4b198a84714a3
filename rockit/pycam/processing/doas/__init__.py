"""The spectrometer's side: the DOAS fit of SO2 columns and where in the camera's image the
spectrometer looks (fov)."""

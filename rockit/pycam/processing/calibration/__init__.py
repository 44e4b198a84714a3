"""Apparent absorbance to SO2 columns: calibrations from cells, DOAS or a stored file
(columns), the curves fitted (models), and the cells' per-pixel sensitivity."""

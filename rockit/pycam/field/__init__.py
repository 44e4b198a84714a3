"""pycamd at an unattended station: a daylight schedule, disk housekeeping, health and
data transfer (station.py runs them beside acquisition)."""

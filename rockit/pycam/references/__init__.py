"""The DOAS references pycam ships (cross-sections, Ring, solar spectrum, line shapes), so
that live and offline DOAS fits need no path configured; README.md gives their sources."""
from pathlib import Path

FOLDER = Path(__file__).resolve().parent

"""Locations of the files shipped inside the package (Verilog-A sources, model cards).

The repository keeps them in the top-level `models/` directory; `spicelim/_models` links there, so an
editable checkout and an installed wheel (where setuptools copies them as package data) find them
at the same place beside this module.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / "_models"

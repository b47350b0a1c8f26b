"""Locations of files shipped beside the package (Verilog-A sources, model cards)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"

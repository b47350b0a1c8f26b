"""Learning in memory: data sets, layers on differential tiles, and (next) update rules and training.

    from spicelim.learning import AnalogLinear, TileSpec, load_digits
"""

from .data import (
           Dataset,
           load_digits,
           load_idx,
           load_mnist_subset,
           make_dataset,
           read_idx,
)
from .tiles import AnalogLinear, DifferentialTile, TileSpec

__all__ = ["AnalogLinear", "Dataset", "DifferentialTile", "TileSpec", "load_digits", "load_idx", "load_mnist_subset",
           "make_dataset", "read_idx"]

"""Learning in memory: data sets, layers on differential tiles, networks, update rules and training.

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
from .network import DigitalLinear, Network
from .rules import (
           DigitalSGD,
           MixedPrecisionUpdate,
           SignUpdate,
           ThresholdUpdate,
           UpdateRule,
)
from .tiles import AnalogLinear, DifferentialTile, TileSpec
from .trainer import CheckpointMismatch, Trainer

__all__ = ["AnalogLinear", "CheckpointMismatch", "Dataset", "DifferentialTile", "DigitalLinear", "DigitalSGD",
           "MixedPrecisionUpdate", "Network", "SignUpdate", "ThresholdUpdate", "TileSpec", "Trainer", "UpdateRule",
           "load_digits", "load_idx", "load_mnist_subset", "make_dataset", "read_idx"]

"""Device models that sit in crossbar cells: memristive devices and the 1T1R selector transistor."""

from .base import MemristorModel
from .nmos import ModelCard, NmosSelector, load_model_card
from .presets import YAO2020_PROGRAMMING, ProgrammingConditions, yao2020_taox_hfox
from .simulate import DeviceTrace, simulate
from .soft_bounds import SoftBoundsRRAM
from .stanford_pku import StanfordPKU
from .vteam import VTEAM
from .yakopcic import Yakopcic

__all__ = ["DeviceTrace", "MemristorModel", "ModelCard", "NmosSelector", "ProgrammingConditions", "SoftBoundsRRAM",
           "StanfordPKU", "VTEAM", "YAO2020_PROGRAMMING", "Yakopcic", "load_model_card", "simulate",
           "yao2020_taox_hfox"]

"""Device models that sit in crossbar cells: memristive devices and the 1T1R selector transistor."""

from .nmos import ModelCard, NmosSelector, load_model_card

__all__ = ["ModelCard", "NmosSelector", "load_model_card"]

"""Programming the array: pulse schedules, half-select and row-parallel schemes, write-verify."""

from .pulses import PulseSchedule, PulseTiming, Slot
from .schemes import HALF_SELECT_SCHEMES, array_update, cell_slot, outer_product, row_slot, row_update

__all__ = ["HALF_SELECT_SCHEMES", "PulseSchedule", "PulseTiming", "Slot", "array_update", "cell_slot",
           "outer_product", "row_slot", "row_update"]

"""Programming the array: pulse schedules, half-select and row-parallel schemes, write-verify."""

from .pulses import PulseSchedule, PulseTiming, Slot
from .schemes import (
                           HALF_SELECT_SCHEMES,
                           array_update,
                           cell_slot,
                           outer_product,
                           row_slot,
                           row_update,
)
from .write_verify import (
                           ProgrammingReport,
                           WritePulses,
                           measure_conductance,
                           nominal_pulse_response,
                           program_open_loop,
                           write_verify,
)

__all__ = ["HALF_SELECT_SCHEMES", "ProgrammingReport", "PulseSchedule", "PulseTiming", "Slot", "WritePulses",
           "array_update", "cell_slot", "measure_conductance", "nominal_pulse_response", "outer_product",
           "program_open_loop", "row_slot", "row_update", "write_verify"]

"""Crossbar periphery: TIAs on the sensed lines, their ADCs, input encodings, signed pairs, energy.

    from spicelim.periphery import TIA, ADC, DAC, read_bit_serial, DifferentialPairs, read_cost
"""

from .adc import ADC, measure_dnl_inl
from .differential import DifferentialPairs, read_signed
from .encoded_reads import read_bit_serial, read_dac, read_pwm
from .energy import ReadCost, read_cost
from .inputs import DAC, bit_serial, pwm, shift_add, split_sign
from .tia import TIA

__all__ = ["ADC", "DAC", "TIA", "DifferentialPairs", "ReadCost", "bit_serial", "measure_dnl_inl", "pwm", "read_bit_serial",
           "read_cost", "read_dac", "read_pwm", "read_signed", "shift_add", "split_sign"]

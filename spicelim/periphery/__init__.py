"""Crossbar periphery: TIAs on the sensed lines, their ADCs, and the encodings of the inputs.

    from spicelim.periphery import TIA, ADC, DAC, bit_serial, pwm, shift_add, split_sign
"""

from .adc import ADC, measure_dnl_inl
from .inputs import DAC, bit_serial, pwm, shift_add, split_sign
from .tia import TIA

__all__ = ["ADC", "DAC", "TIA", "bit_serial", "measure_dnl_inl", "pwm", "shift_add", "split_sign"]

"""Crossbar periphery: the ADC of the sensed outputs and the encodings of the inputs.

    from spicelim.periphery import ADC, DAC, bit_serial, pwm, shift_add, split_sign
"""

from .adc import ADC, measure_dnl_inl
from .inputs import DAC, bit_serial, pwm, shift_add, split_sign

__all__ = ["ADC", "DAC", "bit_serial", "measure_dnl_inl", "pwm", "shift_add", "split_sign"]

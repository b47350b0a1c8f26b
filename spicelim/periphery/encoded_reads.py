"""Reads with encoded inputs: amplitude DAC, bit-serial pulses with shift-and-add, pulse-width modulation.

Each read goes through the array's whole periphery (TIAs, ADCs), one read per input slice:
  - read_dac: the inputs quantised to the DAC's levels, one read;
  - read_bit_serial: one read per input bit (a bit of 1 is a pulse of v_read, as Yao et al. 2020
    fed 8-bit inputs), the reconstructed outputs combined by shift-and-add, sum_b 2^b y_b;
  - read_pwm: one read per time slot of a pulse-width-modulated input (the pulse of input i
    lasts round(x_i n_slots) slots); the sensed charge over the window, returned as the mean
    current over the window. A TIA with an integrating capacitor sees the same charge; here
    every slot is an operating point (no line or TIA dynamics).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError
from ..validation import as_array, finite_array, positive_int
from .inputs import DAC, bit_serial, pwm, shift_add


def _read_slices(xb, slices: np.ndarray, backend, transpose: bool) -> np.ndarray:
    """Read every slice (S, B, K) in one batch; returns (S, B, L)."""
    s, b, k = slices.shape
    out = xb.read(slices.reshape(s * b, k), backend=backend, transpose=transpose)
    return out.reshape(s, b, -1)


def read_dac(xb, x, dac: DAC, backend=None, transpose: bool = False) -> np.ndarray:
    """Read inputs x (values in the DAC's range) after the amplitude DAC; amperes (B, L) or (L,)."""
    if not isinstance(dac, DAC):
        raise InvalidParameterError(f"dac must be a spicelim.periphery.DAC, got {type(dac).__name__}")
    return xb.read(dac.encode(x), backend=backend, transpose=transpose)


def read_bit_serial(xb, x_int, bits: int, v_read: float, backend=None, transpose: bool = False) -> np.ndarray:
    """Bit-serial read of non-negative integer inputs (B, K) or (K,): sum_b 2^b I(bit slice b), amperes.

    For an ideal array this is v_read (x @ G). Signed inputs: split them with periphery.split_sign and
    subtract the two reads.
    """
    bits = positive_int("bits", bits, maximum=32)
    x = as_array("x_int", x_int)
    single = x.ndim == 1
    slices = bit_serial(np.atleast_2d(x), bits, v_read)
    y = shift_add(_read_slices(xb, slices, backend, transpose))
    return y[0] if single else y


def read_pwm(xb, x, n_slots: int, v_read: float, backend=None, transpose: bool = False) -> np.ndarray:
    """Pulse-width-modulated read of x in [0, 1] (B, K) or (K,): mean sensed current over n_slots slots, amperes."""
    n_slots = positive_int("n_slots", n_slots, maximum=1 << 16)
    x = finite_array("x", x)
    single = x.ndim == 1
    slices = pwm(np.atleast_2d(x), n_slots, v_read)
    y = _read_slices(xb, slices, backend, transpose).sum(axis=0) / n_slots
    return y[0] if single else y

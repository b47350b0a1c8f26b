"""Input encoding of a crossbar read: DAC levels, bit-serial pulses with shift-and-add, and PWM slots.

- `DAC(bits, v_max)`: one read voltage per input, quantised to a fixed set of levels.
- `bit_serial(x_int, bits, v_read)`: one read per bit of non-negative integer inputs (LSB first);
  `shift_add(per_bit)` recombines the per-bit outputs as sum_b 2^b y_b. Signed inputs:
  `pos, neg = split_sign(x)`, two passes, y = shift_add(y_pos) - shift_add(y_neg).
- `pwm(x, n_slots, v_read)`: a pulse-width-modulated read cut into equal time slots; summing the
  column outputs over the slots integrates the charge of the pulse.
All voltages are volts. Each function returns the read voltages; the caller runs the reads.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import as_array, finite_array, integer_array, real_number, show

#: Largest DAC resolution, bits.
MAX_DAC_BITS = 16
#: Largest number of bit-serial input bits.
MAX_SERIAL_BITS = 32


def _bits(name: str, value, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not minimum <= value <= maximum:
        raise InvalidParameterError(f"{name} must be an integer in {minimum}..{maximum}, got {show(value)}")
    return int(value)


def _read_voltage(v_read) -> float:
    return real_number("v_read (V)", v_read, minimum=0.0, strict=True)


@dataclass(frozen=True)
class DAC:
    """Input DAC: x in [-1, 1] (signed) or [0, 1] (unsigned=True) -> volts on a fixed set of levels.

    bits: resolution, an integer (1 .. 16 unsigned, 2 .. 16 signed).
    v_max: largest output magnitude, volts > 0.
    unsigned: False (default) for signed inputs in [-1, 1], True for inputs in [0, 1].

    Levels (`levels`, volts):
    - unsigned: the 2^bits levels k v_max / (2^bits - 1), k = 0 .. 2^bits - 1 (0 V and v_max included);
    - signed: the 2^bits - 1 levels k v_max / m, k = -m .. m, m = 2^(bits - 1) - 1: the two's
      complement codes without the most negative one, so the level set is symmetric and holds 0 V
      exactly (a 2^bits-level symmetric set would have no zero level, and a zero input would
      produce a read voltage).
    An input is rounded to the nearest level, ties away from zero, so encode(-x) = -encode(x).
    Inputs outside the range raise InvalidParameterError.
    """

    bits: int
    v_max: float
    unsigned: bool = False

    def __post_init__(self):
        if not isinstance(self.unsigned, (bool, np.bool_)):
            raise InvalidParameterError(f"DAC unsigned must be True or False, got {show(self.unsigned)}")
        object.__setattr__(self, "unsigned", bool(self.unsigned))
        lowest = 1 if self.unsigned else 2
        object.__setattr__(self, "bits", _bits(f"DAC bits ({'unsigned' if self.unsigned else 'signed'})",
                                               self.bits, lowest, MAX_DAC_BITS))
        object.__setattr__(self, "v_max", real_number("DAC v_max (V)", self.v_max, minimum=0.0, strict=True))

    @property
    def max_code(self) -> int:
        """Largest code m: codes run 0 .. m (unsigned) or -m .. m (signed)."""
        return (1 << self.bits) - 1 if self.unsigned else (1 << (self.bits - 1)) - 1

    @property
    def step(self) -> float:
        """Voltage between neighbouring levels, volts: v_max / max_code."""
        return self.v_max / self.max_code

    @property
    def levels(self) -> np.ndarray:
        """Every output voltage, ascending, volts."""
        m = self.max_code
        return np.arange(0 if self.unsigned else -m, m + 1) * self.step

    def codes(self, x) -> np.ndarray:
        """Integer codes of inputs x (any shape): round(x * max_code), ties away from zero."""
        arr = finite_array("DAC input x", x)
        lo = 0.0 if self.unsigned else -1.0
        bad = (arr < lo) | (arr > 1.0)
        if np.any(bad):
            first = arr[bad].flat[0]
            raise InvalidParameterError(f"DAC input must lie in [{lo:g}, 1], got {first:g}")
        return (np.sign(arr) * np.floor(np.abs(arr) * self.max_code + 0.5)).astype(np.int64)

    def encode(self, x) -> np.ndarray:
        """Read voltages of inputs x (any shape), volts: codes(x) * step."""
        return self.codes(x) * self.step


def _non_negative_integers(name: str, x) -> np.ndarray:
    arr = integer_array(name, x, bound=2**62)
    if np.any(arr < 0):
        raise InvalidParameterError(
            f"{name} must be non-negative, got {arr[arr < 0].flat[0]}: use split_sign() and two passes")
    return arr


def bit_serial(x_int, bits: int, v_read: float) -> np.ndarray:
    """Bit-serial read voltages: (bits, *x_int.shape) volts, slice b at v_read where bit b of x_int is set.

    x_int: non-negative integers < 2^bits, e.g. (B, M) inputs of M rows. Bits run LSB first.
    For a linear array y = v @ W, `shift_add([v_b @ W for v_b in slices])` equals v_read * x_int @ W.
    """
    n_bits = _bits("bit_serial bits", bits, 1, MAX_SERIAL_BITS)
    v = _read_voltage(v_read)
    x = _non_negative_integers("bit_serial input x_int", x_int)
    if np.any(x >> n_bits):
        raise InvalidParameterError(f"bit_serial input must be < 2^{n_bits} = {1 << n_bits}, got {int(x.max())}")
    shifts = np.arange(n_bits, dtype=np.int64).reshape((n_bits,) + (1,) * x.ndim)
    return ((x[None] >> shifts) & 1).astype(np.float64) * v


def shift_add(codes_per_bit) -> np.ndarray:
    """Recombine per-bit outputs (bits, ...) into sum_b 2^b y_b, shape (...).

    The per-bit values must be linear in the column signal with zero for zero input, e.g. currents
    or `ADC.to_volts(codes)`; raw ADC codes are offset binary (zero input near 2^(N-1)) and would
    accumulate that offset. Integer input gives an int64 result (exact), real input a float64 one.
    """
    raw = as_array("shift_add input", codes_per_bit)
    if raw.ndim < 1 or raw.shape[0] < 1:
        raise ShapeError(f"shift_add needs an array of shape (bits, ...), got {raw.shape}")
    n_bits = raw.shape[0]
    if raw.dtype.kind in "iu":
        if n_bits > 62:
            raise InvalidParameterError(f"shift_add of integers supports at most 62 bits, got {n_bits}")
        weights = np.left_shift(np.int64(1), np.arange(n_bits, dtype=np.int64))
        return np.tensordot(weights, raw.astype(np.int64), axes=(0, 0))
    arr = finite_array("shift_add input", raw)
    return np.tensordot(np.exp2(np.arange(n_bits, dtype=np.float64)), arr, axes=(0, 0))


def split_sign(x) -> tuple[np.ndarray, np.ndarray]:
    """(pos, neg) = (max(x, 0), max(-x, 0)), both non-negative, with x = pos - neg.

    Signed inputs need two passes through an array that only takes non-negative inputs
    (bit-serial or PWM): run pos and neg separately and subtract the outputs. Integer input keeps
    its integer type.
    """
    raw = as_array("split_sign input", x)
    arr = raw if raw.dtype.kind in "iu" else finite_array("split_sign input", raw)
    zero = np.zeros((), dtype=arr.dtype)
    return np.maximum(arr, zero), np.maximum(-arr, zero)


def pwm(x, n_slots: int, v_read: float) -> np.ndarray:
    """Pulse-width-modulated read as time slots: (n_slots, *x.shape) volts.

    x in [0, 1] (e.g. (B, M) inputs of M rows). Input i is at v_read in the first
    n_i = floor(x_i n_slots + 1/2) slots (round half up) and at 0 V in the others, so summing the
    slot outputs of a linear array integrates the charge: sum_s pwm(x)[s] @ G =
    n_slots * v_read * x_q @ G with x_q = n_i / n_slots. Signed x: split_sign() and two passes.
    """
    n = _bits("pwm n_slots", n_slots, 1, 1 << 20)
    v = _read_voltage(v_read)
    arr = finite_array("pwm input x", x)
    bad = (arr < 0) | (arr > 1)
    if np.any(bad):
        raise InvalidParameterError(f"pwm input must lie in [0, 1], got {arr[bad].flat[0]:g}")
    on = np.floor(arr * n + 0.5).astype(np.int64)
    slots = np.arange(n, dtype=np.int64).reshape((n,) + (1,) * arr.ndim)
    return (slots < on[None]).astype(np.float64) * v

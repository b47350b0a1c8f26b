"""Signed weights as differential conductance pairs: W is proportional to G+ - G- on paired columns.

Column 2k holds G+ and column 2k + 1 holds G- of output k:
    G+ = g_min + (g_max - g_min) max(W, 0) / w_max,   G- = g_min + (g_max - g_min) max(-W, 0) / w_max,
so G+ - G- = (g_max - g_min) W / w_max. The subtraction happens either after the ADCs (each column
digitised, the reconstructed currents subtracted: "digital") or before them by a differential
TIA stage (the two TIA outputs subtracted by an ideal difference amplifier, one ADC per pair:
"analog"), which halves the conversions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import batch_of_vectors, boolean, choice, finite_array, real_number

SUBTRACTION = ("digital", "analog")


@dataclass(frozen=True)
class DifferentialPairs:
    """The conductance window a weight uses on each column of its pair, siemens (0 < g_min < g_max)."""

    g_min: float
    g_max: float

    def __post_init__(self):
        for name in ("g_min", "g_max"):
            object.__setattr__(self, name, real_number(f"{name} (S)", getattr(self, name), minimum=0.0, strict=True))
        if self.g_max <= self.g_min:
            raise InvalidParameterError(f"need g_min < g_max, got {self.g_min:g} and {self.g_max:g} S")

    def conductances(self, weights, w_max: float | None = None) -> np.ndarray:
        """(M, K) weights -> (M, 2K) conductances, pairs on columns (2k, 2k + 1); w_max: largest |W| (default max |W|)."""
        w = finite_array("weights", weights)
        if w.ndim != 2:
            raise ShapeError(f"weights must be a 2-D (inputs, outputs) array, got shape {w.shape}")
        scale = float(np.max(np.abs(w))) if w_max is None else real_number("w_max", w_max, minimum=0.0, strict=True)
        if scale == 0:
            scale = 1.0
        if np.any(np.abs(w) > scale * (1 + 1e-12)):
            raise InvalidParameterError("|weights| must not exceed w_max")
        span = self.g_max - self.g_min
        g = np.empty((w.shape[0], 2 * w.shape[1]))
        g[:, 0::2] = self.g_min + span * np.maximum(w, 0) / scale
        g[:, 1::2] = self.g_min + span * np.maximum(-w, 0) / scale
        return g

    def weights(self, conductance, w_max: float) -> np.ndarray:
        """(M, 2K) conductances -> (M, K) weights (the inverse of conductances() for the same w_max)."""
        g = finite_array("conductance (S)", conductance)
        if g.ndim != 2 or g.shape[1] % 2:
            raise ShapeError(f"conductance must be (M, 2K) with the pairs on columns (2k, 2k + 1), got {g.shape}")
        w_max = real_number("w_max", w_max, minimum=0.0, strict=True)
        return (g[:, 0::2] - g[:, 1::2]) * w_max / (self.g_max - self.g_min)


def read_signed(xb, x, backend=None, subtraction: str = "digital", transpose: bool = False,
                full_scale=None) -> np.ndarray:
    """A signed read of an array whose columns hold differential pairs (G+ on 2k, G- on 2k + 1).

    Forward (x: row voltages (M,) or (B, M)): I+ - I- of every pair, amperes (K,) or (B, K):
      "digital": xb.read() per column (through its ADC if any), then subtract;
      "analog": subtract the two TIA outputs (a differential stage), then (with an ADC) one
        conversion per pair at `full_scale` (volts; default the ADC's own); the current is
        -(V+ - V-) / r_f.
    Transposed (x: one voltage per pair, (K,) or (B, K), as error backpropagation drives them):
    the row currents sum_k (G+_ik - G-_ik) x_k, amperes (M,) or (B, M), sensed on the rows through
    their TIAs and ADCs:
      "digital": two transposed reads, x on the G+ columns then on the G- columns (the other
        columns at 0 V), subtracted after conversion;
      "analog": one transposed read with +x on the G+ columns and -x on the G- columns, so each row
        subtracts in current before its TIA and ADC (`full_scale` is not used).
    backend: a name or an ArrayBackend (default: the array's).
    """
    choice("subtraction", subtraction, SUBTRACTION)
    transpose = boolean("transpose", transpose)
    if xb.shape[1] % 2:
        raise InvalidParameterError(f"signed reads need pairs of columns: this array has {xb.shape[1]} columns")
    if transpose:
        return _read_signed_transposed(xb, x, backend, subtraction)
    if subtraction == "digital":
        i = xb.read(x, backend=backend)
        return i[..., 0::2] - i[..., 1::2]
    if xb.tia is None:
        raise InvalidParameterError("analog subtraction needs TIAs on the columns: create the array with tia=TIA(...)")
    r = xb.sense(x, backend)
    diff = r.v_out[:, 0::2] - r.v_out[:, 1::2]
    if xb.adc is not None:
        scale = full_scale
        if scale is None:
            if xb.adc.full_scale == "calibrate":
                raise InvalidParameterError("give full_scale= for the pair ADCs of an analog subtraction")
            scale = xb.adc.full_scale
        diff = xb.adc.to_volts(xb.readout.convert(diff, transpose=False, full_scale=scale), full_scale=scale)
    out = xb.tia.sensed_current(diff)
    return out[0] if r.single else out


def _read_signed_transposed(xb, x, backend, subtraction: str) -> np.ndarray:
    pairs = xb.shape[1] // 2
    d, single = batch_of_vectors("x (one voltage per pair, V)", x, pairs)
    b = d.shape[0]
    if subtraction == "analog":
        u = np.empty((b, 2 * pairs))
        u[:, 0::2], u[:, 1::2] = d, -d
        out = xb.read(u, backend=backend, transpose=True)
    else:
        u = np.zeros((2 * b, 2 * pairs))  # G+ columns driven in the first half, G- columns in the second
        u[:b, 0::2], u[b:, 1::2] = d, d
        i = xb.read(u, backend=backend, transpose=True)
        out = i[:b] - i[b:]
    return out[0] if single else out

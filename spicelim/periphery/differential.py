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
from ..validation import finite_array, real_number

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


def read_signed(xb, v, backend: str = "fast", subtraction: str = "digital", transpose: bool = False,
                full_scale=None) -> np.ndarray:
    """I+ - I- of every pair, amperes (B, K) or (K,), from an array whose columns hold the pairs.

    subtraction "digital": xb.read() per column (through its ADC if any), then subtract.
    subtraction "analog": subtract the TIA outputs, then (with an ADC) one conversion per pair at
    `full_scale` (volts; default the ADC's own); the current is -(V+ - V-) / r_f.
    """
    if subtraction not in SUBTRACTION:
        raise InvalidParameterError(f"subtraction must be one of {SUBTRACTION}, got {subtraction!r}")
    if transpose or xb.shape[1] % 2:
        raise InvalidParameterError("signed reads need a forward read of an array with an even number of columns")
    if subtraction == "digital":
        i = xb.read(v, backend=backend)
        return i[..., 0::2] - i[..., 1::2]
    if xb.tia is None:
        raise InvalidParameterError("analog subtraction needs TIAs on the columns: create the array with tia=TIA(...)")
    r = xb.sense(v, backend)
    diff = r.v_out[:, 0::2] - r.v_out[:, 1::2]
    if xb.adc is not None:
        scale = full_scale
        if scale is None:
            if xb.adc.full_scale == "calibrate":
                raise InvalidParameterError("give full_scale= for the pair ADCs of an analog subtraction")
            scale = xb.adc.full_scale
        diff = xb.adc.to_volts(xb.adc.convert(diff, full_scale=scale), full_scale=scale)
    out = xb.tia.sensed_current(diff)
    return out[0] if r.single else out

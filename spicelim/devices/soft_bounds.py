"""Pulse-calibrated soft-bounds RRAM: conductance steps shrink toward the bound they approach.

State: the conductance G (siemens) in [g_min, g_max].

    dG/dt = +k_set(V)   (g_max - G)    V > v_set_th          (SET)
    dG/dt = -k_reset(V) (G - g_min)    V < v_reset_th < 0    (RESET)
    k_set(V)   = -ln(1 - alpha_set)   / t_ref ((V - v_set_th)   / (v_set_ref   - v_set_th))^p_set
    k_reset(V) = -ln(1 - alpha_reset) / t_ref ((V - v_reset_th) / (v_reset_ref - v_reset_th))^p_reset
    I = G v_nl sinh(V / v_nl)

The parameters are calibrated in pulse terms: one rectangular pulse of amplitude v_set_ref and
width t_ref moves G by the fraction alpha_set of its distance to g_max, so n such pulses give
G_n = g_max - (g_max - G_0)(1 - alpha_set)^n, the soft-bounds update used in device-aware
training (and alpha_reset toward g_min for RESET pulses of amplitude v_reset_ref). SET and RESET
are asymmetric through their own alpha, threshold, reference amplitude and exponent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._paths import MODELS_DIR
from .base import MemristorModel

_NAMES = ("g_min", "g_max", "alpha_set", "alpha_reset", "v_set_ref", "v_reset_ref", "v_set_th", "v_reset_th",
          "t_ref", "p_set", "p_reset", "v_nl")


@dataclass(frozen=True)
class SoftBoundsRRAM(MemristorModel):
    """Soft-bounds RRAM parameters.

    g_min < g_max: conductance bounds, siemens.
    alpha_set, alpha_reset: fraction of the distance to the bound moved by one reference pulse (0..1).
    v_set_ref > v_set_th > 0, v_reset_ref < v_reset_th < 0: reference pulse amplitudes and thresholds, volts.
    t_ref: reference pulse width, seconds. p_set, p_reset: voltage exponents (> 0).
    v_nl: I-V nonlinearity voltage (I = G v_nl sinh(V/v_nl)), volts.
    """

    g_min: float = 1e-6
    g_max: float = 2e-5
    alpha_set: float = 0.05
    alpha_reset: float = 0.08
    v_set_ref: float = 1.5
    v_reset_ref: float = -1.5
    v_set_th: float = 0.8
    v_reset_th: float = -0.8
    t_ref: float = 5e-8
    p_set: float = 2.0
    p_reset: float = 2.0
    v_nl: float = 10.0

    va_module = "soft_bounds"
    va_file = MODELS_DIR / "soft_bounds.va"
    va_state_var = "g"
    state_unit = "S"

    def __post_init__(self):
        self._validate(_NAMES, lambda: [
            (0 < self.g_min < self.g_max, f"need 0 < g_min < g_max, got {self.g_min:g}, {self.g_max:g} S"),
            (0 < self.alpha_set < 1 and 0 < self.alpha_reset < 1, "alpha_set and alpha_reset must lie in (0, 1)"),
            (0 < self.v_set_th < self.v_set_ref, "need 0 < v_set_th < v_set_ref"),
            (self.v_reset_ref < self.v_reset_th < 0, "need v_reset_ref < v_reset_th < 0"),
            (self.t_ref > 0, f"t_ref must be > 0 s, got {self.t_ref:g}"),
            (self.p_set > 0 and self.p_reset > 0, "p_set and p_reset must be > 0"),
            (self.v_nl > 0, f"v_nl must be > 0 V, got {self.v_nl:g}"),
        ])

    @property
    def state_bounds(self) -> tuple[float, float]:
        return (self.g_min, self.g_max)

    @property
    def read_limit(self) -> float:
        return min(self.v_set_th, -self.v_reset_th)

    def state_rate(self, v, g):
        v = np.asarray(v, dtype=float)
        g = np.asarray(g, dtype=float)
        k_set = -np.log1p(-self.alpha_set) / self.t_ref * np.power(
            np.maximum(v - self.v_set_th, 0.0) / (self.v_set_ref - self.v_set_th), self.p_set)
        k_reset = -np.log1p(-self.alpha_reset) / self.t_ref * np.power(
            np.minimum(v - self.v_reset_th, 0.0) / (self.v_reset_ref - self.v_reset_th), self.p_reset)
        return np.where(v > self.v_set_th, k_set * (self.g_max - g),
                        np.where(v < self.v_reset_th, -k_reset * (g - self.g_min), 0.0))

    def current(self, v, g):
        v = np.asarray(v, dtype=float)
        return np.asarray(g, dtype=float) * self.v_nl * np.sinh(v / self.v_nl)

    def va_parameters(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in _NAMES}

    def behavioural_subckt(self, name: str) -> str:
        from ..netlist.safety import fmt

        p = {k: fmt(val) for k, val in self.va_parameters().items()}
        v, x = "v(p, n)", "({x0} + v(x))"
        k_set = (f"(-ln(1 - {p['alpha_set']}) / {p['t_ref']} * "
                 f"pow(({v} - {p['v_set_th']}) / ({p['v_set_ref']} - {p['v_set_th']}), {p['p_set']}))")
        k_reset = (f"(-ln(1 - {p['alpha_reset']}) / {p['t_ref']} * "
                   f"pow(({v} - {p['v_reset_th']}) / ({p['v_reset_ref']} - {p['v_reset_th']}), {p['p_reset']}))")
        rate = f"({v} > {p['v_set_th']} ? {k_set} * (1 - {x}) : ({v} < {p['v_reset_th']} ? -{k_reset} * {x} : 0))"
        g = f"({p['g_min']} + {x} * ({p['g_max']} - {p['g_min']}))"
        return self.state_subckt(name, rate, f"{g} * {p['v_nl']} * sinh({v} / {p['v_nl']})")

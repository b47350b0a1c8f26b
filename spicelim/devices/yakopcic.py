"""Yakopcic memristor model.

C. Yakopcic, T. M. Taha, G. Subramanyam, R. E. Pino and S. Rogers, "A Memristor Device Model",
IEEE Electron Device Letters 32(10), 1436-1438 (2011).

    I = a1 x sinh(b V) (V >= 0),  a2 x sinh(b V) (V < 0);     dx/dt = eta g(V) f(x)
    g(V) = A_p (e^V - e^{V_p}) for V > V_p;  -A_n (e^{-V} - e^{V_n}) for V < -V_n;  0 otherwise
    f(x) = e^{-alpha_p (x - x_p)} ((x_p - x)/(1 - x_p) + 1) for eta V > 0 and x >= x_p
         = e^{alpha_n (x + x_n - 1)} x / (1 - x_n)          for eta V <= 0 and x <= 1 - x_n
         = 1 otherwise

The state x is dimensionless, in [0, 1]; the motion windows vanish at x = 1 and x = 0, so the
state is bounded without clipping. The default parameters are an example set of the magnitude
used with the model; fit them to your device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._paths import MODELS_DIR
from .base import MemristorModel

_NAMES = ("a1", "a2", "b", "v_p", "v_n", "a_p", "a_n", "x_p", "x_n", "alpha_p", "alpha_n", "eta")


@dataclass(frozen=True)
class Yakopcic(MemristorModel):
    """Yakopcic parameters: a1, a2 (A), b (1/V), v_p, v_n (V, > 0), a_p, a_n (1/s, >= 0),
    x_p, x_n (in (0, 1)), alpha_p, alpha_n (>= 0), eta (+1 or -1: direction of motion)."""

    a1: float = 0.17
    a2: float = 0.17
    b: float = 0.05
    v_p: float = 0.16
    v_n: float = 0.15
    a_p: float = 4000.0
    a_n: float = 4000.0
    x_p: float = 0.3
    x_n: float = 0.5
    alpha_p: float = 1.0
    alpha_n: float = 5.0
    eta: float = 1.0

    va_module = "yakopcic"
    va_file = MODELS_DIR / "yakopcic.va"
    va_state_var = "x"
    state_unit = "(dimensionless)"

    def __post_init__(self):
        self._validate(_NAMES, lambda: [
            (self.a1 > 0 and self.a2 > 0, "a1 and a2 must be > 0 A"),
            (self.b > 0, f"b must be > 0 1/V, got {self.b:g}"),
            (self.v_p > 0 and self.v_n > 0, "v_p and v_n must be > 0 V (thresholds are given as magnitudes)"),
            (self.a_p >= 0 and self.a_n >= 0, "a_p and a_n must be >= 0 1/s"),
            (0 < self.x_p < 1 and 0 < self.x_n < 1, "x_p and x_n must lie in (0, 1)"),
            (self.alpha_p >= 0 and self.alpha_n >= 0, "alpha_p and alpha_n must be >= 0"),
            (self.eta in (1.0, -1.0), f"eta must be +1 or -1, got {self.eta:g}"),
        ])

    @property
    def state_bounds(self) -> tuple[float, float]:
        return (0.0, 1.0)

    @property
    def read_limit(self) -> float:
        return min(self.v_p, self.v_n)

    def state_rate(self, v, x):
        v = np.asarray(v, dtype=float)
        x = np.asarray(x, dtype=float)
        g = np.where(v > self.v_p, self.a_p * (np.exp(v) - np.exp(self.v_p)),
                     np.where(v < -self.v_n, -self.a_n * (np.exp(-v) - np.exp(self.v_n)), 0.0))
        f_up = np.where(x >= self.x_p,
                        np.exp(-self.alpha_p * (x - self.x_p)) * ((self.x_p - x) / (1 - self.x_p) + 1), 1.0)
        f_down = np.where(x <= 1 - self.x_n, np.exp(self.alpha_n * (x + self.x_n - 1)) * x / (1 - self.x_n), 1.0)
        return self.eta * g * np.where(self.eta * v > 0, f_up, f_down)

    def current(self, v, x):
        v = np.asarray(v, dtype=float)
        return np.where(v >= 0, self.a1, self.a2) * np.asarray(x, dtype=float) * np.sinh(self.b * v)

    def va_parameters(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in _NAMES}

    def behavioural_subckt(self, name: str) -> str:
        from ..netlist.safety import fmt

        p = {k: fmt(val) for k, val in self.va_parameters().items()}
        v, x = "v(p, n)", "({x0} + v(x))"
        g = (f"({v} > {p['v_p']} ? {p['a_p']} * (exp({v}) - exp({p['v_p']})) : "
             f"({v} < -{p['v_n']} ? -{p['a_n']} * (exp(-{v}) - exp({p['v_n']})) : 0))")
        f_up = (f"({x} >= {p['x_p']} ? exp(-{p['alpha_p']} * ({x} - {p['x_p']})) * "
                f"(({p['x_p']} - {x}) / (1 - {p['x_p']}) + 1) : 1)")
        f_down = (f"({x} <= 1 - {p['x_n']} ? exp({p['alpha_n']} * ({x} + {p['x_n']} - 1)) * "
                  f"{x} / (1 - {p['x_n']}) : 1)")
        return self.state_subckt(name, f"{p['eta']} * {g} * ({p['eta']} * {v} > 0 ? {f_up} : {f_down})",
                                 f"({v} >= 0 ? {p['a1']} : {p['a2']}) * {x} * sinh({p['b']} * {v})")

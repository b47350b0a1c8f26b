"""VTEAM: the voltage-controlled threshold memristor model.

S. Kvatinsky, M. Ramadan, E. G. Friedman and A. Kolodny, "VTEAM: A General Model for
Voltage-Controlled Memristors", IEEE Trans. Circuits Syst. II 62(8), 786-790 (2015).

    dw/dt = k_off (v/v_off - 1)^alpha_off f_off(w)     v > v_off > 0
          = 0                                         v_on <= v <= v_off
          = k_on (v/v_on - 1)^alpha_on f_on(w)         v < v_on < 0
    f_off(w) = exp(-exp((w - a_off)/w_c)),   f_on(w) = exp(-exp(-(w - a_on)/w_c))   (Kvatinsky windows)
    R(w) = r_on + (r_off - r_on)(w - w_on)/(w_off - w_on)                       (iv="linear")
    R(w) = r_on exp(ln(r_off/r_on)(w - w_on)/(w_off - w_on))                    (iv="exponential")

The state w is in metres: w_on is the low-resistance end, w_off the high-resistance end, so a
positive (SET-direction for k_off > 0) voltage beyond v_off drives w toward w_off.

Two details keep the three implementations (Verilog-A, behavioural, numpy) identical and well
behaved, and are part of this model's definition:
  - the inner exponent of each window is capped at 50 (exp(-exp(50)) is 0 in double precision);
  - the resistance uses w smoothly clamped to [w_on, w_off] (softplus corner 1e-4 of the range),
    so an integration step that overshoots a bound cannot give a non-physical resistance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._paths import MODELS_DIR
from ..validation import show
from .base import MemristorModel

_NAMES = ("r_on", "r_off", "w_on", "w_off", "k_on", "k_off", "alpha_on", "alpha_off", "v_on", "v_off", "a_on",
          "a_off", "w_c")
_CORNER = 1e-4  # softplus corner of the resistance clamp, as a fraction of the state range
_WINDOW_CAP = 50.0


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z + np.log1p(np.exp(-np.abs(z))), np.log1p(np.exp(np.minimum(z, 0.0))))


def smooth_unit_clamp(u: np.ndarray) -> np.ndarray:
    """Clamp u smoothly into [0, 1]: u <- c softplus(u/c), then 1 - c softplus((1 - u)/c)."""
    u = _CORNER * _softplus(np.asarray(u, dtype=float) / _CORNER)
    return 1.0 - _CORNER * _softplus((1.0 - u) / _CORNER)


@dataclass(frozen=True)
class VTEAM(MemristorModel):
    """VTEAM parameters (SI units; names as in the paper, in snake_case).

    r_on, r_off: resistance at w_on and w_off, ohms (r_off > r_on > 0).
    w_on, w_off: state bounds, metres (w_off > w_on).
    k_on (<= 0), k_off (>= 0): rate constants, metres per second.
    alpha_on, alpha_off: voltage exponents (> 0).
    v_on (< 0), v_off (> 0): threshold voltages, volts.
    a_on, a_off: window positions, metres; w_c: window width, metres (> 0).
    iv: "linear" or "exponential" current-voltage relation.
    """

    r_on: float = 1e3
    r_off: float = 1e5
    w_on: float = 0.0
    w_off: float = 3e-9
    k_on: float = -2e-5
    k_off: float = 2e-5
    alpha_on: float = 3.0
    alpha_off: float = 3.0
    v_on: float = -0.3
    v_off: float = 0.3
    a_on: float = 0.0
    a_off: float = 3e-9
    w_c: float = 1e-10
    iv: str = "linear"

    va_module = "vteam"
    va_file = MODELS_DIR / "vteam.va"
    va_state_var = "w"
    state_unit = "m"

    def __post_init__(self):
        self._validate(_NAMES, lambda: [
            (self.r_on > 0, f"r_on must be > 0 ohm, got {self.r_on:g}"),
            (self.r_off > self.r_on, f"r_off ({self.r_off:g}) must be > r_on ({self.r_on:g})"),
            (self.w_off > self.w_on, f"w_off ({self.w_off:g}) must be > w_on ({self.w_on:g})"),
            (self.k_on <= 0, f"k_on must be <= 0 m/s (it drives w toward w_on), got {self.k_on:g}"),
            (self.k_off >= 0, f"k_off must be >= 0 m/s (it drives w toward w_off), got {self.k_off:g}"),
            (self.alpha_on > 0 and self.alpha_off > 0, "alpha_on and alpha_off must be > 0"),
            (self.v_on < 0 < self.v_off, f"need v_on < 0 < v_off, got v_on={self.v_on:g}, v_off={self.v_off:g}"),
            (self.w_c > 0, f"w_c must be > 0 m, got {self.w_c:g}"),
            (isinstance(self.iv, str) and self.iv in ("linear", "exponential"),
             f"iv must be 'linear' or 'exponential', got {show(self.iv)}"),
        ])

    @property
    def state_bounds(self) -> tuple[float, float]:
        return (self.w_on, self.w_off)

    @property
    def read_limit(self) -> float:
        return min(-self.v_on, self.v_off)

    def state_rate(self, v, w):
        v = np.asarray(v, dtype=float)
        w = np.asarray(w, dtype=float)
        f_off = np.exp(-np.exp(np.minimum((w - self.a_off) / self.w_c, _WINDOW_CAP)))
        f_on = np.exp(-np.exp(np.minimum(-(w - self.a_on) / self.w_c, _WINDOW_CAP)))
        up = self.k_off * np.power(np.maximum(v / self.v_off - 1.0, 0.0), self.alpha_off) * f_off
        down = self.k_on * np.power(np.maximum(v / self.v_on - 1.0, 0.0), self.alpha_on) * f_on
        return np.where(v > self.v_off, up, np.where(v < self.v_on, down, 0.0))

    def resistance(self, w):
        u = smooth_unit_clamp(self.normalise(w))
        if self.iv == "exponential":
            return self.r_on * np.exp(np.log(self.r_off / self.r_on) * u)
        return self.r_on + (self.r_off - self.r_on) * u

    def current(self, v, w):
        return np.asarray(v, dtype=float) / self.resistance(w)

    def va_parameters(self) -> dict[str, float]:
        out = {k: getattr(self, k) for k in _NAMES}
        out["iv_exponential"] = 1 if self.iv == "exponential" else 0
        return out

    def behavioural_subckt(self, name: str) -> str:
        from ..netlist.safety import fmt

        p = {k: fmt(val) for k, val in self.va_parameters().items()}
        d = fmt(self.w_off - self.w_on)
        w = f"({p['w_on']} + ({{x0}} + v(x)) * {d})"
        f_off = f"exp(-exp(min(({w} - {p['a_off']}) / {p['w_c']}, {_WINDOW_CAP:g})))"
        f_on = f"exp(-exp(min(-({w} - {p['a_on']}) / {p['w_c']}, {_WINDOW_CAP:g})))"
        v = "v(p, n)"
        rate = (f"({v} > {p['v_off']} ? {p['k_off']} * pow({v} / {p['v_off']} - 1, {p['alpha_off']}) * {f_off} : "
                f"({v} < {p['v_on']} ? {p['k_on']} * pow({v} / {p['v_on']} - 1, {p['alpha_on']}) * {f_on} : 0))")
        c = fmt(_CORNER)
        u0 = f"(({w} - {p['w_on']}) / {d})"
        # softplus(z) = max(z, 0) + ln(1 + exp(-|z|)), never overflowing
        u1 = f"({c} * (max({u0} / {c}, 0) + ln(1 + exp(-abs({u0} / {c})))))"
        u = f"(1 - {c} * (max((1 - {u1}) / {c}, 0) + ln(1 + exp(-abs((1 - {u1}) / {c})))))"
        if self.iv == "exponential":
            r = f"({p['r_on']} * exp(ln({p['r_off']} / {p['r_on']}) * {u}))"
        else:
            r = f"({p['r_on']} + ({p['r_off']} - {p['r_on']}) * {u})"
        return self.state_subckt(name, f"{rate} / {d}", f"{v} / {r}")

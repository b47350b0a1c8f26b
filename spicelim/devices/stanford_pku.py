"""Stanford-PKU filament-gap model of HfOx RRAM: the tunnelling gap between filament tip and electrode.

X. Guan, S. Yu and H.-S. P. Wong, "A SPICE Compact Model of Metal Oxide Resistive Switching
Memory With Variations", IEEE Electron Device Letters (2012); Z. Jiang, H.-S. P. Wong et al.,
"A Compact Model for Metal-Oxide Resistive Random Access Memory With Experiment Verification",
IEEE Trans. Electron Devices 63(5) (2016); and the model's Verilog-A release: Z. Jiang and
H.-S. P. Wong, "Stanford University Resistive-Switching Random Access Memory (RRAM) Verilog-A
Model" v1.0.0, nanoHUB (2014), doi:10.4231/D37H1DN48.

State: the gap g (metres) in [g_min, g_max]; a small gap is the low-resistance state.

    I      = i0 exp(-g/g0) sinh(V/v0)
    dg/dt  = -vel0 exp(-ea/(k T/q)) sinh(gamma a0 V / (tox k T/q)) * gate(F) * window(g, V)
    gamma  = gamma0 - beta (g/g1)^3          (local field enhancement)
    F      = gamma |V| / tox                 (local field, V/m)

V is the voltage of the top electrode (terminal p) over the bottom electrode (terminal n).
Sign convention, as in the Verilog-A release: V > 0 closes the gap (SET, dg/dt < 0, the
conductance rises); V < 0 opens it (RESET, dg/dt > 0). Because gamma falls as the gap grows,
SET accelerates itself (abrupt) and RESET slows itself down (gradual).

Where the equations and numbers come from:
  - the current, the gap velocity with sinh, gamma0 - beta (g/g1)^3 and the minimum-field rule
    (no gap motion while gamma |V| / tox < F_min) are as in the v1.0.0 Verilog-A release
    (doi:10.4231/D37H1DN48), read as transcribed in several public repositories; the sinh form
    of the velocity also appears in the review of D. Panda, P. P. Sahu and T. Y. Tseng, Nanoscale
    Res. Lett. 13, 8 (2018), Table 4. The journal text of the 2012 and 2016 papers was not
    available to check against. A later Stanford/ASU Verilog-A variant writes the velocity as the
    difference exp(-Ea_g/kT + alpha V) - exp(-Ea_r/kT - alpha V) of vacancy generation and
    recombination; for equal activation energies that is 2 sinh(alpha V), so `vel0` here (sinh
    form) is twice the prefactor of the difference form.
  - defaults are the v1.0.0 release defaults: i0 = 1 mA, g0 = 0.25 nm, v0 = 0.25 V,
    vel0 = 10 m/s, ea = 0.6 eV, a0 = 0.25 nm, tox = 12 nm, gamma0 = 16, beta = 0.8,
    g1 = 1 nm (fixed in the release), f_min = 1.4e9 V/m, g_min = 0.2 nm, g_max = 1.7 nm.
    They give about 540 ohm at g_min and 218 kohm at g_max (chord at 0.1 V).
  - temperature = 300 K is our choice: the release starts at 298 K and heats the device by
    T = T0 + |V I| R_th (R_th = 2.1e3 K/W); this model leaves the temperature dynamics out and
    holds T fixed, so `temperature` stands for the device temperature during a pulse.
  - the release's stochastic gap term (deltaGap0 noise above T_crit) is left out: randomness is
    passed in from Python as parameters elsewhere.

Three details are this model's own and are identical in the Verilog-A, behavioural and numpy
implementations:
  - gate(F) = (1 + tanh((F - f_min)/(2 gate_width f_min)))/2, a logistic step of relative width
    gate_width in place of the release's hard switch at F_min, so the rate is continuous;
  - window(g, V) = tanh(u/window_width) for V > 0 and tanh((1 - u)/window_width) for V <= 0, with
    u = (g - g_min)/(g_max - g_min): the rate vanishes smoothly at the bound it approaches, and an
    overshoot beyond a bound is pulled back (the release clips g instead);
  - the sinh argument of the velocity is capped at +-100 so the rate never overflows (at the
    defaults the cap is reached only beyond |V| ~ 7.7 V).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._paths import MODELS_DIR
from ..errors import InvalidParameterError
from .base import MemristorModel

_NAMES = ("i0", "g0", "v0", "vel0", "ea", "a0", "tox", "gamma0", "beta", "g1", "f_min", "g_min", "g_max",
          "temperature", "gate_width", "window_width")
#: Boltzmann constant over the elementary charge, V/K (CODATA 2018, both exact).
K_OVER_Q = 1.380649e-23 / 1.602176634e-19
#: Largest magnitude of the sinh argument of the gap velocity.
SINH_CAP = 100.0
#: read_limit: the largest |V| that moves the gap by at most this fraction of its range in one second.
READ_DRIFT = 1e-3
MAX_SWITCHING_VOLTS = 1e3  # a gap that does not move below this is a parameter set outside the model's range


@dataclass(frozen=True)
class StanfordPKU(MemristorModel):
    """Stanford-PKU gap-model parameters (SI units except ea in eV).

    i0: current prefactor, A (> 0).            g0: tunnelling decay length of the gap, m (> 0).
    v0: I-V nonlinearity voltage, V (> 0).      vel0: gap velocity prefactor, m/s (> 0).
    ea: activation energy of vacancy motion, eV (> 0).
    a0: atomic hopping distance, m (> 0).       tox: oxide thickness, m (> g_max).
    gamma0 (> 0), beta (>= 0): field enhancement gamma = gamma0 - beta (g/g1)^3, which must stay
    > 0 up to g_max.                            g1: gap normalisation of gamma, m (> 0).
    f_min: minimum local field for gap motion, V/m (> 0).
    g_min < g_max: gap bounds, m (g_min > 0).   temperature: device temperature, K (> 0).
    gate_width: relative width of the smooth minimum-field gate (> 0).
    window_width: width of the bound windows, a fraction of g_max - g_min (0 < width <= 0.1).
    """

    i0: float = 1e-3
    g0: float = 0.25e-9
    v0: float = 0.25
    vel0: float = 10.0
    ea: float = 0.6
    a0: float = 0.25e-9
    tox: float = 12e-9
    gamma0: float = 16.0
    beta: float = 0.8
    g1: float = 1e-9
    f_min: float = 1.4e9
    g_min: float = 0.2e-9
    g_max: float = 1.7e-9
    temperature: float = 300.0
    gate_width: float = 0.01
    window_width: float = 0.01

    va_module = "stanford_pku"
    va_file = MODELS_DIR / "stanford_pku.va"
    va_state_var = "gap"
    state_unit = "m"

    def __post_init__(self):
        def gamma_at_g_max() -> float:
            return self.gamma0 - self.beta * (self.g_max / self.g1) ** 3 if self.g1 > 0 else float("nan")

        self._validate(_NAMES, lambda: [
            (self.i0 > 0, f"i0 must be > 0 A, got {self.i0:g}"),
            (self.g0 > 0, f"g0 must be > 0 m, got {self.g0:g}"),
            (self.v0 > 0, f"v0 must be > 0 V, got {self.v0:g}"),
            (self.vel0 > 0, f"vel0 must be > 0 m/s, got {self.vel0:g}"),
            (self.ea > 0, f"ea must be > 0 eV, got {self.ea:g}"),
            (self.a0 > 0, f"a0 must be > 0 m, got {self.a0:g}"),
            (self.tox > 0, f"tox must be > 0 m, got {self.tox:g}"),
            (self.g1 > 0, f"g1 must be > 0 m, got {self.g1:g}"),
            (self.gamma0 > 0, f"gamma0 must be > 0, got {self.gamma0:g}"),
            (self.beta >= 0, f"beta must be >= 0, got {self.beta:g}"),
            (self.f_min > 0, f"f_min must be > 0 V/m, got {self.f_min:g}"),
            (self.g_min > 0, f"g_min must be > 0 m, got {self.g_min:g}"),
            (self.g_max > self.g_min, f"g_max ({self.g_max:g} m) must be > g_min ({self.g_min:g} m)"),
            (self.g_max < self.tox, f"g_max ({self.g_max:g} m) must be < tox ({self.tox:g} m): the gap lies in the oxide"),
            (gamma_at_g_max() > 0, (f"gamma = gamma0 - beta (g_max/g1)^3 must be > 0 at g_max, got "
                                    f"{gamma_at_g_max():g}: lower beta or g_max")),
            (self.temperature > 0, f"temperature must be > 0 K, got {self.temperature:g}"),
            (self.gate_width > 0, f"gate_width must be > 0, got {self.gate_width:g}"),
            (0 < self.window_width <= 0.1, f"window_width must lie in (0, 0.1], got {self.window_width:g}"),
        ])
        self.read_limit  # noqa: B018 - a device that never switches at any sensible voltage fails here

    # ---------------------------------------------------------------- equations
    @property
    def state_bounds(self) -> tuple[float, float]:
        return (self.g_min, self.g_max)

    @property
    def thermal_voltage(self) -> float:
        """k T / q at the device temperature, volts."""
        return K_OVER_Q * self.temperature

    def gamma(self, g):
        """Local field-enhancement factor gamma0 - beta (g/g1)^3 (dimensionless)."""
        r = np.asarray(g, dtype=float) / self.g1
        return self.gamma0 - self.beta * r * r * r

    def _speed(self, v, gamma):
        """The gap speed before the bound windows, m/s, with its sign: negative for v > 0."""
        vt = self.thermal_voltage
        arg = np.clip(gamma * self.a0 * v / (self.tox * vt), -SINH_CAP, SINH_CAP)
        field = gamma * np.abs(v) / self.tox
        gate = 0.5 * (1.0 + np.tanh((field - self.f_min) / (2.0 * self.gate_width * self.f_min)))
        return -self.vel0 * np.exp(-self.ea / vt) * np.sinh(arg) * gate

    def state_rate(self, v, g):
        v = np.asarray(v, dtype=float)
        g = np.asarray(g, dtype=float)
        u = self.normalise(g)
        window = np.where(v > 0, np.tanh(u / self.window_width), np.tanh((1.0 - u) / self.window_width))
        return self._speed(v, self.gamma(g)) * window

    def current(self, v, g):
        v = np.asarray(v, dtype=float)
        return self.i0 * np.exp(-np.asarray(g, dtype=float) / self.g0) * np.sinh(v / self.v0)

    @property
    def read_limit(self) -> float:
        """Largest |V| (volts) at which no gap in [g_min, g_max] moves by more than 1e-3 of the range in 1 s.

        The speed grows with |V| and with gamma, which is largest at g_min, and the windows are <= 1,
        so |speed(V, gamma(g_min))| bounds the rate; the limit is found by bisection on it.
        """
        target = READ_DRIFT * (self.g_max - self.g_min)  # metres in one second
        gamma_max = float(self.gamma(self.g_min))

        def speed(v: float) -> float:
            return float(abs(self._speed(v, gamma_max)))

        hi = 1.0
        while speed(hi) <= target:
            hi *= 2.0
            if hi > MAX_SWITCHING_VOLTS:
                raise InvalidParameterError(
                    f"StanfordPKU: the gap does not move below {MAX_SWITCHING_VOLTS:g} V with these parameters"
                    f" (ea = {self.ea:g} eV, temperature = {self.temperature:g} K): the device cannot be programmed")
        lo = 0.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if speed(mid) <= target else (lo, mid)
        return lo

    # ---------------------------------------------------------------- netlist pieces
    def va_parameters(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in _NAMES}

    def behavioural_subckt(self, name: str) -> str:
        from ..netlist.safety import fmt

        p = {k: fmt(val) for k, val in self.va_parameters().items()}
        v, x = "v(p, n)", "({x0} + v(x))"
        d = fmt(self.g_max - self.g_min)
        g = f"({p['g_min']} + {x} * {d})"
        vt = fmt(self.thermal_voltage)
        r = f"({g} / {p['g1']})"
        gamma = f"({p['gamma0']} - {p['beta']} * {r} * {r} * {r})"
        arg = f"min(max({gamma} * {p['a0']} * {v} / ({p['tox']} * {vt}), -{SINH_CAP:g}), {SINH_CAP:g})"
        field = f"({gamma} * abs({v}) / {p['tox']})"
        gate = f"(0.5 * (1 + tanh(({field} - {p['f_min']}) / (2 * {p['gate_width']} * {p['f_min']}))))"
        speed = f"(-{p['vel0']} * exp(-{p['ea']} / {vt}) * sinh({arg}) * {gate})"
        c = p["window_width"]
        window = f"({v} > 0 ? tanh({x} / {c}) : tanh((1 - {x}) / {c}))"
        current = f"{p['i0']} * exp(-{g} / {p['g0']}) * sinh({v} / {p['v0']})"
        return self.state_subckt(name, f"{speed} * {window} / {d}", current)

"""What every memristor model provides: numpy equations, a Verilog-A source and a behavioural twin.

A model is a frozen dataclass of its parameters. Its state has the model's own unit (metres for
VTEAM); SPICE netlists carry the normalised state x = (s - s_lo) / (s_hi - s_lo). The three
implementations share one definition:
  - `state_rate(v, s)` and `current(v, s)`: vectorised numpy, used by the fast backend;
  - `va_source`: a Verilog-A file under models/, compiled by OpenVAF (spice backend);
  - `behavioural_subckt()`: the same equations as ngspice B-sources with a 1 F capacitor holding
    the state, for ngspice without OpenVAF.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError
from ..validation import finite_array, real_number


class MemristorModel:
    """Base class of the device models (subclasses are frozen dataclasses)."""

    #: Verilog-A module name and file, and the behavioural subcircuit name.
    va_module: str = ""
    va_file: Path | None = None
    va_state_var: str = ""  # the Verilog-A output variable holding the state, in the model's unit
    state_unit: str = ""

    def _validate(self, names: tuple[str, ...], checks) -> None:
        """Convert the named fields to finite floats, then raise on the first failed (ok, message) check.

        `checks` is a callable returning the list of checks, evaluated after the conversion.
        """
        label = type(self).__name__
        for name in names:
            object.__setattr__(self, name, real_number(f"{label} {name}", getattr(self, name)))
        try:
            results = checks()
        except (OverflowError, ZeroDivisionError, ValueError):
            raise InvalidParameterError(f"{label}: parameters outside the model's numeric range (a derived"
                                        " quantity overflows)") from None
        for ok, message in results:
            if not ok:
                raise InvalidParameterError(f"{label}: {message}")

    # ---------------------------------------------------------------- equations (numpy)
    @property
    def state_bounds(self) -> tuple[float, float]:
        raise NotImplementedError

    def state_rate(self, v: np.ndarray, s: np.ndarray) -> np.ndarray:
        """d(state)/dt in state units per second at device voltage v (volts)."""
        raise NotImplementedError

    def current(self, v: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Device current (amperes, from + to - terminal) at voltage v and state s."""
        raise NotImplementedError

    @property
    def read_limit(self) -> float:
        """Largest voltage magnitude (V) that leaves the state untouched: the smaller switching threshold."""
        raise NotImplementedError

    def conductance(self, s: np.ndarray, v_read: float = 0.1) -> np.ndarray:
        """Chord conductance i(v_read) / v_read at state s, siemens."""
        return self.current(np.full_like(np.asarray(s, dtype=float), v_read), s) / v_read

    def state_for_conductance(self, g, v_read: float = 0.1) -> np.ndarray:
        """States whose chord conductance at v_read is `g` (siemens, any shape), by bisection on the normalised state.

        The conductance must be monotonic in the state (true of every model here); targets outside
        the conductance window raise InvalidParameterError.
        """
        target = finite_array("conductance targets (S)", g)
        v_read = real_number("v_read (V)", v_read, minimum=-100.0, maximum=100.0)
        if v_read == 0:
            raise InvalidParameterError("v_read must be non-zero")
        with np.errstate(over="ignore"):
            lo_g, hi_g = (float(self.conductance(np.asarray(b, dtype=float), v_read)) for b in self.state_bounds)
        if not (np.isfinite(lo_g) and np.isfinite(hi_g)) or lo_g == hi_g:
            raise InvalidParameterError(f"the device has no usable conductance window at v_read = {v_read:g} V")
        rising = hi_g > lo_g
        g_low, g_high = (lo_g, hi_g) if rising else (hi_g, lo_g)
        tol = 1e-9 * (g_high - g_low)
        if np.any(target < g_low - tol) or np.any(target > g_high + tol):
            raise InvalidParameterError(f"conductance targets must lie in the device window [{g_low:g}, {g_high:g}] S")
        a, b = np.zeros(target.shape), np.ones(target.shape)
        for _ in range(60):  # 2^-60 of the state range
            mid = 0.5 * (a + b)
            above = self.conductance(self.denormalise(mid), v_read) > target
            a, b = (np.where(above, a, mid), np.where(above, mid, b)) if rising else \
                (np.where(above, mid, a), np.where(above, b, mid))
        return self.denormalise(0.5 * (a + b))

    # ---------------------------------------------------------------- state normalisation
    def normalise(self, s) -> np.ndarray:
        lo, hi = self.state_bounds
        return (np.asarray(s, dtype=float) - lo) / (hi - lo)

    def denormalise(self, x) -> np.ndarray:
        lo, hi = self.state_bounds
        return lo + np.asarray(x, dtype=float) * (hi - lo)

    # ---------------------------------------------------------------- netlist pieces
    def va_parameters(self) -> dict[str, float]:
        """Model-card parameters of the Verilog-A module."""
        raise NotImplementedError

    def behavioural_subckt(self, name: str) -> str:
        """`.subckt name p n params: x0=...` text implementing the model with B-sources."""
        raise NotImplementedError

    def model_card(self, name: str) -> str:
        """`.model NAME <va_module> key=value ...` for the compiled Verilog-A model."""
        from ..netlist.safety import fmt, safe_name

        params = " ".join(f"{safe_name(k, 'parameter name')}={fmt(v)}" for k, v in self.va_parameters().items())
        return f".model {safe_name(name, 'model name')} {safe_name(self.va_module, 'module name')} {params}"

    @staticmethod
    def state_subckt(name: str, normalised_rate: str, current: str) -> str:
        """The behavioural twin's frame: state node x with V(x) = (normalised state) - x0 on 1 F.

        `normalised_rate` is d(normalised state)/dt and `current` the device current from p to n, both
        as ngspice B-source expressions in v(p, n), v(x) and the subcircuit parameter {x0}.
        """
        from ..netlist.safety import safe_name

        return "\n".join([
            f".subckt {safe_name(name, 'subcircuit name')} p n params: x0=0.5",
            "* state node x: V(x) = normalised state - x0, integrated on 1 F; 1e-15 S leak toward x0",
            "Cx x 0 1",
            f"Bx 0 x I = {normalised_rate} - 1e-15 * v(x)",
            f"Bm p n I = {current}",
            ".ends",
        ])


def with_cell_params(device, cell_params: Mapping[str, np.ndarray] | None, flat: bool = False):
    """`device` with its spread parameters as per-cell arrays ((M, N), or (M*N,) if flat): numpy equations only."""
    if not cell_params:
        return device
    clone = object.__new__(type(device))
    for f in fields(device):
        object.__setattr__(clone, f.name, getattr(device, f.name))
    for name, value in cell_params.items():
        object.__setattr__(clone, name, value.ravel() if flat else value)
    return clone

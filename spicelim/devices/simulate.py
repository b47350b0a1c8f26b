"""Simulate one memristive device under a piecewise-linear voltage, in ngspice or in numpy.

    res = simulate(dev, t, v, state0=w0, backend="spice")          # Verilog-A model through OSDI
    res = simulate(dev, t, v, state0=w0, backend="spice", twin="behavioural")   # B-source twin
    res = simulate(dev, t, v, state0=w0, backend="fast")           # numpy equations, stiff ODE solver

Python owns the state: the transient starts from `state0` (passed to the model as its initial
normalised state) and the final state is `res.state[-1]`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from ..errors import InvalidParameterError, ShapeError, SimulationError
from ..netlist.safety import fmt
from ..validation import finite_array, positive_int, real_number, show
from .base import MemristorModel

TWINS = ("verilog-a", "behavioural")


@dataclass(frozen=True, eq=False)
class DeviceTrace:
    """A device's waveforms: time (s), voltage (V), current (A) and state (the model's unit)."""

    t: np.ndarray
    v: np.ndarray
    current: np.ndarray
    state: np.ndarray
    backend: str


def _check(dev, t, v, state0, n_points):
    if not isinstance(dev, MemristorModel):
        raise InvalidParameterError(f"dev must be a spicelim device model, got {type(dev).__name__}")
    t = finite_array("t (s)", t)
    v = finite_array("v (V)", v)
    if t.ndim != 1 or t.shape != v.shape or t.size < 2:
        raise ShapeError(f"t and v must be 1-D arrays of the same length >= 2, got {t.shape} and {v.shape}")
    if np.any(np.diff(t) <= 0):
        raise InvalidParameterError("t must be strictly increasing")
    s0 = real_number("state0", state0)
    lo, hi = dev.state_bounds
    if not lo <= s0 <= hi:
        raise InvalidParameterError(f"state0 = {s0:g} {dev.state_unit} is outside [{lo:g}, {hi:g}]")
    return t, v, s0, positive_int("n_points", n_points)


def _output_grid(t: np.ndarray, n_points: int) -> np.ndarray:
    return np.union1d(t, np.linspace(t[0], t[-1], n_points))


def simulate_fast(dev: MemristorModel, t, v, state0, n_points: int = 2000) -> DeviceTrace:
    """Integrate the numpy equations with a stiff solver, one PWL segment at a time."""
    t, v, s0, n_points = _check(dev, t, v, state0, n_points)
    grid = _output_grid(t, n_points)
    state = np.empty_like(grid)
    s = s0
    scale = dev.state_bounds[1] - dev.state_bounds[0]
    for k in range(t.size - 1):
        t0, t1, v0, v1 = t[k], t[k + 1], v[k], v[k + 1]
        mask = (grid >= t0) & (grid <= t1)

        def rhs(tt, y, t0=t0, t1=t1, v0=v0, v1=v1):
            vv = v0 + (v1 - v0) * (tt - t0) / (t1 - t0)
            return dev.state_rate(np.array([vv]), y)

        sol = solve_ivp(rhs, (t0, t1), [s], method="Radau", t_eval=grid[mask], rtol=1e-8,
                        atol=1e-10 * scale, dense_output=False)
        if not sol.success:
            raise SimulationError(f"the stiff ODE solver failed between t = {t0:g} s and {t1:g} s: {sol.message}")
        state[mask] = sol.y[0]
        s = sol.y[0][-1] if sol.y.size else s
    vg = np.interp(grid, t, v)
    return DeviceTrace(t=grid, v=vg, current=dev.current(vg, state), state=state, backend="fast")


def device_netlist(dev: MemristorModel, t: np.ndarray, v: np.ndarray, x0: float, twin: str,
                   t_step: float) -> tuple[str, list[str]]:
    """A transient netlist of one device driven by a PWL source; returns text and vectors to fetch."""
    pwl = " ".join(f"{fmt(a)} {fmt(b)}" for a, b in zip(t - t[0], v))
    lines = ["* spicelim single-device transient", f"Vin in 0 PWL({pwl})"]
    if twin == "verilog-a":
        lines += [dev.model_card("dev_model"), f"N1 in 0 dev_model x0={fmt(x0)}"]
        state_vec = f"@n1[{dev.va_state_var}]"
    else:
        lines += [dev.behavioural_subckt("dev_bhv"), f"X1 in 0 dev_bhv x0={fmt(x0)}"]
        state_vec = "v(x1.x)"
    span = t[-1] - t[0]
    lines += [f".save time i(vin) {state_vec}", f".tran {fmt(t_step)} {fmt(span)} 0 {fmt(t_step)} uic", ".end"]
    return "\n".join(lines) + "\n", ["time", "i(vin)", state_vec]


def simulate_spice(dev: MemristorModel, t, v, state0, twin: str | None = None, n_points: int = 2000,
                   worker=None, cache_dir=None) -> DeviceTrace:
    """Run the device in ngspice: the Verilog-A model through OSDI, or the behavioural twin."""
    from ..spice.backend import default_run_dir, save_netlist
    from ..spice.osdi import OpenVafMissing, compile_va
    from ..spice.worker import NgspiceWorker

    t, v, s0, n_points = _check(dev, t, v, state0, n_points)
    if twin is not None and twin not in TWINS:
        raise InvalidParameterError(f"twin must be one of {TWINS} or None, got {show(twin)}")
    osdi: tuple[str, ...] = ()
    chosen = twin or "verilog-a"
    if chosen == "verilog-a":
        try:
            osdi = (str(compile_va(dev.va_file, cache_dir)),)
        except OpenVafMissing as exc:
            if twin == "verilog-a":
                raise
            warnings.warn(f"{exc}; using the behavioural twin of {type(dev).__name__}", stacklevel=2)
            chosen = "behavioural"
    x0 = float(dev.normalise(s0))
    text, vectors = device_netlist(dev, t, v, x0, chosen, (t[-1] - t[0]) / n_points)
    own = worker is None
    worker = worker or NgspiceWorker()
    try:
        out = worker.run(text, vectors, None, osdi=osdi,
                         save_failed=lambda txt: save_netlist(default_run_dir(), txt, "failed-device"))
    finally:
        if own:
            worker.close()
    tt = out.vectors["time"] + t[0]
    vv = np.interp(tt, t, v)
    raw_state = out.vectors[vectors[2]]
    state = raw_state if chosen == "verilog-a" else dev.denormalise(x0 + raw_state)
    return DeviceTrace(t=tt, v=vv, current=-out.vectors["i(vin)"], state=state, backend=f"spice/{chosen}")


def simulate(dev: MemristorModel, t, v, state0, backend: str = "spice", twin: str | None = None,
             n_points: int = 2000, **kwargs) -> DeviceTrace:
    """Simulate one device under the PWL voltage (t seconds, v volts) from state0 (model units).

    backend "spice": ngspice, with the Verilog-A model (twin=None or "verilog-a"; without openvaf-r
    and twin=None the behavioural twin is used with a warning) or twin="behavioural".
    backend "fast": the numpy equations integrated by a stiff ODE solver.
    """
    if backend == "fast":
        return simulate_fast(dev, t, v, state0, n_points)
    if backend == "spice":
        return simulate_spice(dev, t, v, state0, twin=twin, n_points=n_points, **kwargs)
    raise InvalidParameterError(f"backend must be 'spice' or 'fast', got {show(backend)}")

"""Device non-idealities, all drawn from one seed: spread, noise, stuck cells, finite levels, relaxation.

    Variability(d2d={"g_max": 0.1}, c2c=0.05, stuck_on=0.005, stuck_off=0.005, read_noise=0.01,
                levels=64, relaxation=0.05, seed=1)

- d2d: device-to-device spread. Each named parameter of each cell is the model's value times a
  log-normal factor exp(sigma * N(0, 1)), drawn once per array. Every cell's parameter set is
  validated like a hand-made model, so a spread that makes a cell non-physical is an error.
- c2c: cycle-to-cycle noise. Every programming call changes each cell's state by its simulated
  change times (1 + c2c * N(0, 1)), clipped to the state bounds; a cell that did not move stays put.
- stuck_on / stuck_off: fractions of cells stuck at the high- / low-conductance bound, drawn once
  per array; programming never moves them and set_state() cannot either.
- read_noise: each device's current fluctuates by a relative sigma in every read, independently.
  A sensed line sums them: its read gets the equivalent Gaussian current
  sigma * sqrt(sum_i (G_ij v_i)^2), injected at its sense node, so the TIA, its rails and any ADC
  (in Python or in the netlist) see it like array current.
- levels: a device holds only this many distinguishable states, evenly spaced in its normalised
  state; every state set or programmed snaps to the nearest one.
- relaxation: after programming ends, a programmed cell's state drifts away from where the last
  verify read saw it (filament relaxation, over seconds to minutes). Each cell programmed since
  the last Crossbar.relax() moves, when relax() is called, by relaxation * N(0, 1) of its state
  window (normalised units), clipped to the window. A cell counts as programmed when a programming
  call moved its normalised state by more than RELAX_MIN_CHANGE (simulator round-off on unpulsed
  cells does not). Because the move comes after the verify reads, write-verify cannot catch it:
  callers say when time passes (after a transfer, between training steps) by calling relax().

Draws come from independent streams of numpy's SeedSequence(seed) (spread, faults, programming
noise, read noise, relaxation), so the same seed gives the same array and the same noise sequences, and
reading an array does not change what programming it later gives. Arrays built with the same
seed get the same draws. The streams' states, the stuck map and the spread parameters are part of
the array's saved state (state_dict), as is the set of cells waiting to relax.

Finite levels snap the state after every programming call: a call whose change is smaller than
half a level leaves the cell where it was (the device cannot hold anything in between).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from .checkpoint import checked_generator_state, generator_state
from .devices.base import with_cell_params
from .errors import InvalidParameterError
from .validation import finite_array, non_negative_int, positive_int, real_number, show

MAX_LEVELS = 2**32  # distinguishable states of a device (more is a continuum for every use here)
RELAX_MIN_CHANGE = 1e-3  # normalised state change that makes a cell "programmed" (ngspice round-off is below 1e-4)


@dataclass(frozen=True)
class Variability:
    """Seeded device non-idealities of one array (see the module docstring for each one)."""

    d2d: tuple[tuple[str, float], ...] = ()
    c2c: float = 0.0
    stuck_on: float = 0.0
    stuck_off: float = 0.0
    read_noise: float = 0.0
    levels: int | None = None
    relaxation: float = 0.0
    seed: int = 0

    def __post_init__(self):
        spread = self.d2d.items() if isinstance(self.d2d, Mapping) else self.d2d
        try:
            pairs = tuple(sorted((k, real_number(f"d2d spread of {k}", v)) for k, v in spread))
        except InvalidParameterError:
            raise
        except (TypeError, ValueError):
            raise InvalidParameterError("d2d must map parameter names to relative spreads (floats)") from None
        if not all(isinstance(k, str) for k, _ in pairs):
            raise InvalidParameterError("d2d parameter names must be strings")
        for name, sigma in pairs:
            if not 0 <= sigma <= 1 or not np.isfinite(sigma):
                raise InvalidParameterError(f"d2d spread of {name} must lie in [0, 1], got {sigma:g}")
        object.__setattr__(self, "d2d", pairs)
        for name in ("c2c", "read_noise", "relaxation"):
            value = real_number(name, getattr(self, name))
            if not 0 <= value <= 1:
                raise InvalidParameterError(f"{name} must lie in [0, 1] (a relative standard deviation), got {value:g}")
            object.__setattr__(self, name, value)
        for name in ("stuck_on", "stuck_off"):
            value = real_number(name, getattr(self, name))
            if not 0 <= value <= 1:
                raise InvalidParameterError(f"{name} is a fraction of cells: it must lie in [0, 1], got {value:g}")
            object.__setattr__(self, name, value)
        if self.stuck_on + self.stuck_off > 1:
            raise InvalidParameterError("stuck_on + stuck_off cannot exceed 1")
        if self.levels is not None:
            levels = positive_int("levels", self.levels, maximum=MAX_LEVELS)
            if levels < 2:
                raise InvalidParameterError(f"levels must be an integer in [2, {MAX_LEVELS}] or None, got {levels}")
            object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed))

    @property
    def device_effects(self) -> bool:
        """True when any effect needs a memristor model (everything except read noise)."""
        return (bool(self.d2d) or self.c2c > 0 or self.stuck_on > 0 or self.stuck_off > 0 or self.levels is not None
                or self.relaxation > 0)


def _limit_or_none(device, name: str, value: float) -> float | None:
    """read_limit of `device` with one parameter changed, or None if that makes it invalid."""
    try:
        return float(replace(device, **{name: value}).read_limit)
    except InvalidParameterError:
        return None


def _check_cells(device, cell_params: dict[str, np.ndarray], shape: tuple[int, int]) -> None:
    """Every cell's parameter set must make a valid device."""
    for i in range(shape[0]):
        for j in range(shape[1]):
            try:
                replace(device, **{k: float(v[i, j]) for k, v in cell_params.items()})
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"the d2d spread made cell ({i}, {j}) non-physical: {exc}") from None


class DeviceVariation:
    """The non-idealities of one array, drawn for its shape and device: the live counterpart of Variability."""

    def __init__(self, variability: Variability, shape: tuple[int, int], device=None):
        self.variability = variability
        spread_seq, fault_seq, c2c_seq, read_seq, relax_seq = np.random.SeedSequence(variability.seed).spawn(5)
        self.c2c_noise = np.random.default_rng(c2c_seq)
        self.read_noise_rng = np.random.default_rng(read_seq)
        self.relax_rng = np.random.default_rng(relax_seq)
        self.unrelaxed = np.zeros(shape, dtype=bool)  # cells programmed since the last relax()
        self._read_limit: float | None = None
        self.cell_params: dict[str, np.ndarray] = {}
        self.stuck = np.zeros(shape, dtype=np.int8)
        self.stuck.setflags(write=False)
        if variability.device_effects and device is None:
            raise InvalidParameterError("d2d, c2c, stuck cells, levels and relaxation need a memristor device in the"
                                        " array")
        if device is None:
            return
        names = {f.name for f in fields(device)}
        rng = np.random.default_rng(spread_seq)
        for name, sigma in variability.d2d:
            if name not in names or not isinstance(getattr(device, name), float):
                raise InvalidParameterError(f"{type(device).__name__} has no numeric parameter {show(name)} to spread")
            values = getattr(device, name) * np.exp(sigma * rng.standard_normal(shape))
            values.setflags(write=False)
            self.cell_params[name] = values
        if self.cell_params:  # every cell must be a valid device
            _check_cells(device, self.cell_params, shape)
        u = np.random.default_rng(fault_seq).random(shape)
        stuck = np.zeros(shape, dtype=np.int8)
        stuck[u < variability.stuck_on] = 1
        stuck[(u >= variability.stuck_on) & (u < variability.stuck_on + variability.stuck_off)] = -1
        stuck.setflags(write=False)
        self.stuck = stuck

    def cell_device(self, device, flat: bool = False):
        """`device` with the spread parameters as per-cell arrays ((M, N), or (M*N,) if flat): numpy equations only."""
        return with_cell_params(device, self.cell_params, flat)

    def read_limit(self, device) -> float:
        """The smallest switching threshold over every cell (the nominal one without spread), volts."""
        if self._read_limit is None:
            nominal = float(device.read_limit)
            # parameters that do not move the threshold (checked at half and twice their value) need no per-cell pass
            moves = [k for k in self.cell_params
                     if any(_limit_or_none(device, k, f * getattr(device, k)) != nominal for f in (0.5, 2.0))]
            if moves:
                shape = self.stuck.shape
                self._read_limit = min(
                    replace(device, **{k: float(v[i, j]) for k, v in self.cell_params.items()}).read_limit
                    for i in range(shape[0]) for j in range(shape[1]))
            else:
                self._read_limit = nominal
        return self._read_limit

    def stuck_states(self, device) -> tuple[np.ndarray, np.ndarray]:
        """(M, N) states of the stuck-on and stuck-off bounds of every cell (model units)."""
        dev = self.cell_device(device)
        lo, hi = (np.broadcast_to(b, self.stuck.shape) for b in dev.state_bounds)
        hi_is_on = dev.conductance(hi) > dev.conductance(lo)
        return np.where(hi_is_on, hi, lo), np.where(hi_is_on, lo, hi)

    def settle(self, device, state: np.ndarray) -> np.ndarray:
        """Apply stuck cells and finite levels to a state the array is about to hold."""
        dev = self.cell_device(device)
        s = np.array(state, dtype=float)
        levels = self.variability.levels
        lo, hi = dev.state_bounds
        if levels is not None:  # clipped again: lo + 1.0 (hi - lo) can round past hi
            x = np.clip(dev.normalise(s), 0.0, 1.0)
            s = np.clip(dev.denormalise(np.round(x * (levels - 1)) / (levels - 1)), lo, hi)
        if np.any(self.stuck):
            on, off = self.stuck_states(device)
            s = np.where(self.stuck == 1, on, np.where(self.stuck == -1, off, s))
        return s

    def programmed(self, device, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """The state after a programming call: simulated change with cycle-to-cycle noise, then settle()."""
        sigma = self.variability.c2c
        s = after
        dev = self.cell_device(device)
        if sigma > 0:
            lo, hi = dev.state_bounds
            s = np.clip(before + (after - before) * (1 + sigma * self.c2c_noise.standard_normal(before.shape)), lo, hi)
        if self.variability.relaxation > 0:
            self.unrelaxed |= np.abs(dev.normalise(after) - dev.normalise(before)) > RELAX_MIN_CHANGE
        return self.settle(device, s)

    def relax(self, device, state: np.ndarray) -> np.ndarray:
        """The state after the cells programmed since the last call relaxed (see the module docstring).

        One draw per cell of the array every call, so the stream does not depend on which cells moved
        (Crossbar.relax calls it only when some cell waits).
        """
        if self.variability.relaxation == 0:
            return state
        lo, hi = self.cell_device(device).state_bounds
        step = self.variability.relaxation * self.relax_rng.standard_normal(self.unrelaxed.shape)
        moved, self.unrelaxed = self.unrelaxed, np.zeros_like(self.unrelaxed)
        return self.settle(device, np.where(moved, np.clip(state + step * (hi - lo), lo, hi), state))

    def read_noise_current(self, volts: np.ndarray, conductance: np.ndarray, transpose: bool) -> np.ndarray | None:
        """(B, L) noise currents of the sensed lines for inputs volts (B, M) or (B, N), amperes (None without read noise).

        Line j sums independent device fluctuations of relative sigma: sigma sqrt(sum_i (G_ij v_i)^2) N(0, 1).
        """
        sigma = self.variability.read_noise
        if sigma == 0:
            return None
        g2 = conductance**2
        var = (volts**2) @ (g2.T if transpose else g2)
        return sigma * np.sqrt(var) * self.read_noise_rng.standard_normal(var.shape)

    # ------------------------------------------------------------------ saving
    def reseed_read_noise(self, seed: np.random.SeedSequence) -> None:
        """Start the read-noise stream afresh from `seed` (see Crossbar.reseed_read_noise)."""
        self.read_noise_rng = np.random.default_rng(seed)

    def state_dict(self) -> dict:
        """Stuck map, spread parameters and the states of the noise streams, as plain values."""
        return {"stuck": np.array(self.stuck), "cell_params": {k: np.array(v) for k, v in self.cell_params.items()},
                "c2c_noise": generator_state(self.c2c_noise), "read_noise": generator_state(self.read_noise_rng),
                "relaxation": generator_state(self.relax_rng), "unrelaxed": np.array(self.unrelaxed)}

    def load_state_dict(self, state: dict, device) -> None:
        """Restore what state_dict() saved, after checking every part fits this array and device."""
        try:
            stuck, params = state["stuck"], state["cell_params"]
            c2c, read, relax = state["c2c_noise"], state["read_noise"], state["relaxation"]
            unrelaxed = np.array(state["unrelaxed"])
        except (KeyError, TypeError) as exc:
            raise InvalidParameterError(f"saved variability state is missing {exc}") from None
        shape = self.stuck.shape
        stuck = np.array(stuck)
        if stuck.shape != shape or stuck.dtype.kind not in "iu" or not np.all(np.isin(stuck, (-1, 0, 1))):
            raise InvalidParameterError(f"saved stuck map must be {shape} integers in -1, 0, +1")
        if not isinstance(params, dict) or set(params) != set(self.cell_params):
            raise InvalidParameterError(f"saved spread parameters {sorted(params) if isinstance(params, dict) else params}"
                                        f" differ from this array's {sorted(self.cell_params)}")
        if unrelaxed.shape != shape or unrelaxed.dtype != bool:
            raise InvalidParameterError(f"saved set of cells waiting to relax must be {shape} booleans")
        cell_params = {k: finite_array(f"saved spread parameter {k}", v, shape) for k, v in params.items()}
        c2c = checked_generator_state(self.c2c_noise, c2c, "cycle-to-cycle noise")
        read = checked_generator_state(self.read_noise_rng, read, "read noise")
        relax = checked_generator_state(self.relax_rng, relax, "relaxation")
        if cell_params and device is not None:
            _check_cells(device, cell_params, shape)
        stuck = stuck.astype(np.int8)
        for arr in (stuck, *cell_params.values()):
            arr.setflags(write=False)
        self.stuck, self.cell_params = stuck, cell_params
        self.c2c_noise.bit_generator.state = c2c
        self.read_noise_rng.bit_generator.state = read
        self.relax_rng.bit_generator.state = relax
        self.unrelaxed = unrelaxed
        self._read_limit = None

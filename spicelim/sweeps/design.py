"""The design of a sweep: which points to run, each with a stable id and its own seed.

A sweep crosses a full-factorial `grid` (every combination of the listed values) with `samples`
draws of a `random` design (each parameter uniform, log-uniform or a choice), over the parameters
of one task (spicelim.sweeps.tasks). Parameters left out keep the task's defaults or the sweep's
`fixed` values. A point's id is a hash of the task name and its full parameter set, so the same
point has the same id in any sweep that contains it; its seed comes from that id and the sweep's
seed through numpy's SeedSequence, so any point can be re-run alone and gives the same numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..errors import InvalidParameterError
from ..validation import non_negative_int, real_number, show
from .tasks import REPLICATE, SAMPLE, SweepTask, get_task

MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its position in the design, stable id, seed and full parameter set."""

    index: int
    point_id: str
    seed: int
    params: Mapping

    def as_row(self) -> dict:
        return {"point": self.index, "point_id": self.point_id, "seed": self.seed, **self.params}


def _plain(name: str, value):
    """A parameter value as a plain JSON value (numbers, strings, booleans and lists of them)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        if abs(int(value)) > 2**63 - 1:
            raise InvalidParameterError(f"parameter {name} = {show(value)} does not fit a 64-bit integer")
        return int(value)
    if isinstance(value, numbers.Real):
        x = real_number(f"parameter {name}", value)
        return x
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(name, v) for v in value]
    raise InvalidParameterError(f"parameter {name} must be a number, a string, a boolean or a list of them,"
                                f" got {show(value)}")


def _distribution(name: str, spec) -> tuple:
    """('choice', values) | ('uniform', lo, hi) | ('log-uniform', lo, hi) from the user's description."""
    if isinstance(spec, Mapping):
        if set(spec) == {"log"}:
            kind, bounds = "log-uniform", spec["log"]
        elif set(spec) == {"uniform"}:
            kind, bounds = "uniform", spec["uniform"]
        elif set(spec) == {"choice"}:
            return _choices(name, spec["choice"])
        else:
            raise InvalidParameterError(f"random[{name}] must be {{'uniform': (lo, hi)}}, {{'log': (lo, hi)}} or"
                                        f" {{'choice': [...]}}, got {show(spec)}")
    else:
        return _choices(name, spec)
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise InvalidParameterError(f"random[{name}] bounds must be (low, high), got {show(bounds)}")
    lo = real_number(f"random[{name}] low", bounds[0])
    hi = real_number(f"random[{name}] high", bounds[1])
    if not lo < hi:
        raise InvalidParameterError(f"random[{name}] needs low < high, got {lo:g} and {hi:g}")
    if kind == "log-uniform" and lo <= 0:
        raise InvalidParameterError(f"random[{name}] is log-uniform: its bounds must be > 0, got {lo:g}")
    return (kind, lo, hi)


def _choices(name: str, values) -> tuple:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (list, tuple)) or not values:
        raise InvalidParameterError(f"random[{name}] must be a non-empty list of choices or a range, got"
                                    f" {show(values)}")
    return ("choice", tuple(_plain(name, v) for v in values))


def _draw(dist: tuple, rng: np.random.Generator):
    if dist[0] == "choice":
        return dist[1][int(rng.integers(len(dist[1])))]
    lo, hi = dist[1], dist[2]
    if dist[0] == "log-uniform":
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return float(rng.uniform(lo, hi))


def point_id(task: str, params: Mapping) -> str:
    """Stable id of a point: 16 hex digits of a hash of the task name and its full parameter set."""
    text = json.dumps({"task": task, "params": params}, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def point_seed(sweep_seed: int, pid: str) -> int:
    """The point's seed (an int in [0, 2**32)): numpy SeedSequence of the sweep's seed and the point id."""
    return int(np.random.SeedSequence([sweep_seed, int(pid, 16)]).generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep.

    task: a built-in task name ("read", "train"; see spicelim.sweeps.tasks) or a SweepTask.
    grid: {parameter: [values]}: every combination is a point.
    random: {parameter: distribution}, drawn `samples` times and crossed with the grid:
        {"uniform": (lo, hi)} uniform, {"log": (lo, hi)} log-uniform, a list (or {"choice": [...]})
        one of its values.
    samples: random draws (0 without a random design, at least 1 with one).
    fixed: {parameter: value} for every point (instead of the task's default).
    seed: the sweep's seed; each point's seed derives from it and the point's id.
    name: a label saved with the results.
    """

    task: str | SweepTask
    grid: Mapping = field(default_factory=dict)
    random: Mapping = field(default_factory=dict)
    samples: int = 0
    fixed: Mapping = field(default_factory=dict)
    seed: int = 0
    name: str = "sweep"

    def __post_init__(self):
        task = get_task(self.task)
        object.__setattr__(self, "task", task)
        for label in ("grid", "random", "fixed"):
            value = getattr(self, label)
            if not isinstance(value, Mapping):
                raise InvalidParameterError(f"{label} must be a mapping of parameter names, got {show(value)}")
            unknown = [k for k in value if not isinstance(k, str) or (k not in task.parameters and k != REPLICATE)]
            if unknown:
                raise InvalidParameterError(
                    f"unknown parameter(s) in {label} of a {task.name!r} sweep: {', '.join(map(show, unknown))}"
                    f" (known: {', '.join(sorted([*task.parameters, REPLICATE]))})")
        twice = (set(self.grid) & set(self.random)) | ((set(self.grid) | set(self.random)) & set(self.fixed))
        if twice:
            raise InvalidParameterError(f"parameter(s) given in more than one of grid, random and fixed:"
                                        f" {', '.join(sorted(twice))}")
        grid = {}
        for k, values in self.grid.items():
            if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (list, tuple, range)):
                raise InvalidParameterError(f"grid[{k}] must be a list of values, got {show(values)}")
            if len(values) == 0:
                raise InvalidParameterError(f"grid[{k}] is empty: a grid needs at least one value per parameter")
            grid[k] = tuple(_plain(k, v) for v in values)
        object.__setattr__(self, "grid", MappingProxyType(grid))
        object.__setattr__(self, "random", MappingProxyType({k: _distribution(k, v) for k, v in self.random.items()}))
        object.__setattr__(self, "fixed", MappingProxyType({k: _plain(k, v) for k, v in self.fixed.items()}))
        samples = non_negative_int("samples", self.samples, maximum=MAX_POINTS)
        if self.random and samples == 0:
            raise InvalidParameterError("a random design needs samples >= 1")
        if samples and not self.random:
            raise InvalidParameterError("samples > 0 needs a random design (random={parameter: distribution})")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed))
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError(f"name must be a non-empty string, got {show(self.name)}")
        n = math.prod(len(v) for v in grid.values()) * max(samples, 1)
        if not grid and not self.random:
            raise InvalidParameterError("the sweep has no grid and no random design: give at least one parameter"
                                        " to vary")
        if n > MAX_POINTS:
            raise InvalidParameterError(f"the design has {n} points, more than {MAX_POINTS}")

    def points(self) -> list[Point]:
        """Every point, in design order (grid in the order given, last parameter fastest; then draws)."""
        draws = [{}]
        if self.random:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EED]))
            draws = [{SAMPLE: k, **{name: _draw(d, rng) for name, d in self.random.items()}}
                     for k in range(self.samples)]
        names = list(self.grid)
        out = []
        for combo in itertools.product(*self.grid.values()):
            for draw in draws:
                params = {**self.task.defaults, **self.fixed, **dict(zip(names, combo)), **draw}
                params = {k: params[k] for k in sorted(params)}
                pid = point_id(self.task.name, params)
                out.append(Point(len(out), pid, point_seed(self.seed, pid), MappingProxyType(params)))
        ids = [p.point_id for p in out]
        if len(set(ids)) != len(ids):
            raise InvalidParameterError("two points of the design are identical: give distinct grid values, or"
                                        f" sweep {REPLICATE!r} to repeat a point")
        return out

    @classmethod
    def from_dict(cls, raw, task=None) -> SweepSpec:
        """From plain values, e.g. a TOML file: task, name, seed, samples and the tables grid, random, fixed.

        task: a SweepTask to use instead of the file's task name.
        """
        if not isinstance(raw, Mapping):
            raise InvalidParameterError("a sweep description is a table of keys")
        known = {"task", "name", "seed", "samples", "grid", "random", "fixed"}
        unknown = set(raw) - known
        if unknown:
            raise InvalidParameterError(f"unknown key(s) in the sweep description: {', '.join(sorted(map(str, unknown)))}"
                                        f" (known: {', '.join(sorted(known))})")
        if task is None and "task" not in raw:
            raise InvalidParameterError("the sweep description names no task (task = \"read\" or \"train\")")
        return cls(task=task if task is not None else raw["task"], grid=raw.get("grid", {}),
                   random=raw.get("random", {}), samples=raw.get("samples", 0), fixed=raw.get("fixed", {}),
                   seed=raw.get("seed", 0), name=raw.get("name", "sweep"))

    @classmethod
    def from_toml(cls, path) -> SweepSpec:
        from ..validation import read_toml

        return cls.from_dict(read_toml("sweep file", path))

    def describe(self) -> dict:
        """A plain description (JSON) that identifies the sweep: its results are only resumed by the same one."""
        return {"task": self.task.name, "task_version": self.task.version, "grid": {k: list(v) for k, v in
                self.grid.items()}, "random": {k: list(v) if v[0] != "choice" else [v[0], list(v[1])]
                                               for k, v in self.random.items()},
                "samples": self.samples, "fixed": dict(self.fixed), "seed": self.seed, "name": self.name}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()[:16]

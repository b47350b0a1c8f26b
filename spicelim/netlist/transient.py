"""Write the transient netlist of a programming schedule: pulse waveforms on every line, state saved.

Every memristor instance starts from its cell's state (instance parameter x0, `uic`), every line
end is driven by a PWL source (through the driver resistance), and 1T1R word lines carry their own
PWL gate waveforms. Only the device states are saved; the backend takes their last values as the
array's new state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import network_of
from ..params import CrossbarParams
from .safety import fmt, safe_text
from .writer import array_lines, cell_instance_name

_SAVE_PER_LINE = 40
_PWL_POINTS_PER_LINE = 8


@dataclass(frozen=True)
class PulseNetlist:
    """Netlist text, the vector holding each cell's state (row-major, M*N names), and the driver
    current vectors with the line waveforms they belong to (for the energy)."""

    text: str
    state_vectors: tuple[str, ...]
    twin: str
    source_vectors: tuple[tuple[str, str, int], ...] = ()  # (vector, "row" | "col", line)


def _source(lines: list[str], name: str, node: str, t: np.ndarray, volts: np.ndarray) -> None:
    """A voltage source from `node` to ground: DC when constant, else PWL on continuation lines."""
    if np.all(volts == volts[0]):
        lines.append(f"{name} {node} 0 {fmt(float(volts[0]))}")
        return
    pairs = [f"{fmt(float(a))} {fmt(float(b))}" for a, b in zip(t, volts)]
    lines.append(f"{name} {node} 0 PWL(")
    for k in range(0, len(pairs), _PWL_POINTS_PER_LINE):
        lines.append("+ " + " ".join(pairs[k:k + _PWL_POINTS_PER_LINE]))
    lines.append("+ )")


def format_pulse_netlist(params: CrossbarParams, device, state: np.ndarray, schedule, *,
                         twin: str = "verilog-a", max_step: float, cell_params=None,
                         title: str | None = None, save_sources: bool = False) -> PulseNetlist:
    """Return the transient netlist of `schedule` (programming.PulseSchedule) applied to the array.

    device, state: the memristor model and the (M, N) state (model units) every cell starts from.
    max_step: largest time step ngspice may take, seconds.
    cell_params: per-cell parameter values (device-to-device spread), as in array_lines.
    save_sources: also save the time axis and the current of every line driver that is not idle.
    """
    net = network_of(params)
    m, n = params.shape
    if state.shape != (m, n) or schedule.shape != (m, n):
        raise ValueError("state and schedule must match the array shape")
    names = net.names
    head = title or f"spicelim {m}x{n} {params.cell} programming transient, {schedule.t.size} breakpoints"
    lines = [f"* {safe_text(head, 'title')}", ".options klu"]
    lines += array_lines(params, None, device=device, state=state, twin=twin, cell_params=cell_params)
    t = schedule.t
    lines.append("* word lines, row drivers and column drivers")
    if params.has_selector:
        for i in range(m):
            _source(lines, f"Vwl{i}", f"wl{i}", t, schedule.gate_v[:, i])
    r = params.r_source
    sources = []
    for kind, ends, waves in (("row", net.row_end, schedule.row_v), ("col", net.col_end, schedule.col_v)):
        for k, node in enumerate(ends):
            if save_sources and np.any(waves[:, k]):
                sources.append((f"i(vsrc_{kind}{k})", kind, k))
            if r > 0:
                _source(lines, f"Vsrc_{kind}{k}", f"p_{kind}{k}", t, waves[:, k])
                lines.append(f"Rsrc_{kind}{k} p_{kind}{k} {names[node]} {fmt(r)}")
            else:
                _source(lines, f"Vsrc_{kind}{k}", names[node], t, waves[:, k])
    if twin == "behavioural":
        vectors = tuple(f"v({cell_instance_name(i, j, twin)}.x)" for i in range(m) for j in range(n))
    else:
        vectors = tuple(f"@{cell_instance_name(i, j, twin)}[{device.va_state_var}]" for i in range(m) for j in range(n))
    saved = list(vectors) + ["time"] * bool(sources) + [v for v, _, _ in sources]
    for k in range(0, len(saved), _SAVE_PER_LINE):
        lines.append(".save " + " ".join(saved[k:k + _SAVE_PER_LINE]))
    lines.append(f".tran {fmt(max_step)} {fmt(schedule.duration)} 0 {fmt(max_step)} uic")
    lines.append(".end")
    return PulseNetlist(text="\n".join(lines) + "\n", state_vectors=vectors, twin=twin,
                        source_vectors=tuple(sources))

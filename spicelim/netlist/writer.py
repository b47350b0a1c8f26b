"""Write a crossbar operating-point netlist for ngspice.

One netlist solves a whole batch: with more than one input vector, every source that changes
across the batch is a B-source stepping through a `pwl` table indexed by the voltage of a node
`idx`, and a `.dc` sweep of the source `Vidx` over 0..B-1 visits the batch items in turn.
A single input vector is an `.op`.

Every tied line end carries a 0 V ammeter `vt_row{i}` / `vt_col{j}` whose branch current is the
current flowing from the array into that terminal (at a sensed end, plus any injected current).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..bias import LineBias, SenseTerminals
from ..checkpoint import atomic_write
from ..errors import InvalidParameterError, ShapeError
from ..network import network_of
from ..params import CrossbarParams
from ..validation import boolean, finite_array
from .safety import fmt, safe_name, safe_text

_SAVE_PER_LINE = 40


@dataclass(frozen=True)
class Netlist:
    """Netlist text and the ngspice vectors a backend should fetch after running it.

    Attributes:
        text: the netlist.
        row_currents / col_currents: vector names of the terminal currents (amperes) at the row
            and column ends, in line order; None where a terminal is floating or not saved.
        sense_out: vector names of the TIA outputs (volts) of the sensed lines, in line order.
        codes: vector names of the netlist quantizer outputs (ADC codes as volts), in line order.
        node_vectors: vector names of every node voltage, indexed by node id (when saved).
        batch: number of operating points (length of every fetched vector).
    """

    text: str
    row_currents: tuple[str | None, ...]
    col_currents: tuple[str | None, ...]
    node_vectors: tuple[str, ...] | None
    batch: int
    sense_out: tuple[str, ...] | None = None
    codes: tuple[str, ...] | None = None

    @property
    def vectors(self) -> list[str]:
        out = [v for v in self.row_currents + self.col_currents if v]
        if self.node_vectors:
            out += list(self.node_vectors)
        if self.sense_out:
            out += list(self.sense_out)
        if self.codes:
            out += list(self.codes)
        return out


def _pwl(values: np.ndarray) -> str:
    return ", ".join(f"{k}, {fmt(v)}" for k, v in enumerate(values))


def _terminal(lines: list[str], kind: str, k: int, node: str, volts: np.ndarray, r: float,
              constant: bool) -> None:
    """Tie line end `node` to a source through `r` ohms with a 0 V ammeter named vt_{kind}{k}."""
    tag = f"{kind}{k}"
    if constant and r == 0:
        lines.append(f"Vt_{tag} {node} 0 {fmt(volts[0])}")
        return
    if constant:
        lines.append(f"Vt_{tag} {node} p_{tag} {fmt(volts[0])}")
        lines.append(f"Rsrc_{tag} p_{tag} 0 {fmt(r)}")
        return
    lines.append(f"Bsrc_{tag} q_{tag} 0 V=pwl(v(idx), {_pwl(volts)})")
    if r == 0:
        lines.append(f"Vt_{tag} {node} q_{tag} 0")
    else:
        lines.append(f"Vt_{tag} {node} p_{tag} 0")
        lines.append(f"Rsrc_{tag} p_{tag} q_{tag} {fmt(r)}")


def tia_subckt(name: str, tia) -> str:
    """`.subckt name inp inn out`: the op-amp macro model with its feedback network (see periphery.tia).

    Gain stage E (A0 times the input difference), a single pole (1 kOhm with the capacitor of
    gbw / A0), an output clipped to +-v_out_max by a B-source, r_f (and c_f) from out to inn.
    """
    lines = [f".subckt {safe_name(name, 'subcircuit name')} inp inn out",
             f"Egain a 0 inp inn {fmt(tia.open_loop_gain)}"]
    if tia.pole_hz is not None:
        lines += ["Rpole a b 1000", f"Cpole b 0 {fmt(1.0 / (2 * np.pi * 1000.0 * tia.pole_hz))}"]
    else:
        lines.append("Rpole a b 1")
    if tia.v_out_max is not None:
        lim = fmt(tia.v_out_max)
        lines.append(f"Bout out 0 V = max(min(v(b), {lim}), -{lim})")
    else:
        lines.append("Eout out 0 b 0 1")
    lines.append(f"Rfb inn out {fmt(tia.r_f)}")
    if tia.c_f > 0:
        lines.append(f"Cfb inn out {fmt(tia.c_f)}")
    lines.append(".ends")
    return "\n".join(lines)


def _tia_terminal(lines: list[str], kind: str, k: int, node: str, v_plus: np.ndarray, tia,
                  constant: bool) -> str:
    """Sense line end `node` through a 0 V ammeter into a TIA whose + input is at v_plus; returns its output node."""
    tag = f"{kind}{k}"
    if constant:
        lines.append(f"Vplus_{tag} p_{tag} 0 {fmt(v_plus[0])}")
    else:
        lines.append(f"Bplus_{tag} p_{tag} 0 V=pwl(v(idx), {_pwl(v_plus)})")
    lines.append(f"Vt_{tag} {node} n_{tag} 0")
    if tia.ideal:  # an exact virtual ground at v_plus; the output follows from the current
        lines.append(f"Vvg_{tag} n_{tag} p_{tag} 0")
        lines.append(f"Bout_{tag} o_{tag} 0 V = v(p_{tag}) - {fmt(tia.r_f)} * i(vt_{tag})")
    else:
        lines.append(f"Xtia_{tag} p_{tag} n_{tag} o_{tag} tia")
    return f"v(o_{tag})"


def _injection(lines: list[str], tag: str, node: str, amperes: np.ndarray) -> None:
    """A current source feeding `amperes` (one value per batch item) into line end `node`, ahead of its ammeter."""
    if np.all(amperes == amperes[0]):
        lines.append(f"Inz_{tag} 0 {node} {fmt(amperes[0])}")
    else:
        lines.append(f"Bnz_{tag} 0 {node} I=pwl(v(idx), {_pwl(amperes)})")


NETLIST_ADC_MAX_BITS = 10  # a 2^bits-step pwl per line; beyond this the netlist grows too large


def _quantizer(lines: list[str], tag: str, out_node: str, thresholds: np.ndarray, noise: np.ndarray | None,
               constant: bool) -> str:
    """A behavioural ADC on `out_node`: code k for inputs in [T_k, T_k+1) (a pwl staircase); returns its vector.

    It reads the TIA output and drives nothing, so it sits outside every feedback loop.
    """
    src = f"v({out_node})"
    if noise is not None:
        if constant:
            lines.append(f"Vnz_{tag} z_{tag} 0 {fmt(noise[0])}")
        else:
            lines.append(f"Bnz_{tag} z_{tag} 0 V=pwl(v(idx), {_pwl(noise)})")
        src = f"({src} + v(z_{tag}))"
    width = float(np.min(np.diff(thresholds))) if thresholds.size > 1 else 1.0
    step = 1e-6 * width
    points = [f"{fmt(float(thresholds[0]) - 1e3)}, 0"]
    for k, t in enumerate(thresholds, start=1):
        points.append(f"{fmt(float(t) - step)}, {k - 1}, {fmt(float(t))}, {k}")
    points.append(f"{fmt(float(thresholds[-1]) + 1e3)}, {thresholds.size}")
    lines.append(f"Bq_{tag} q_{tag} 0 V=pwl({src}, {', '.join(points)})")
    return f"v(q_{tag})"


def format_read_netlist(params: CrossbarParams, conductance: np.ndarray, bias: LineBias, *,
                        save_rows: bool = False, save_cols: bool = True, save_nodes: bool = False,
                        print_results: bool = False, title: str | None = None, device=None,
                        state: np.ndarray | None = None, twin: str = "verilog-a",
                        cell_params: dict[str, np.ndarray] | None = None,
                        sense: SenseTerminals | None = None) -> Netlist:
    """Return the netlist of the array at `conductance` (siemens, (M, N)) under `bias`.

    With a memristor `device` (a spicelim.devices model) and its `state` (M, N), every cell is an
    instance of the device's Verilog-A model (OSDI) starting from that state, instead of a resistor
    of the given conductance; the caller loads the compiled OSDI library into ngspice. With
    twin="behavioural" the cells are instances of the model's B-source subcircuit instead.
    cell_params: per-cell values (M, N) of some device parameters (device-to-device spread); each
        cell then gets its own model card.
    sense: the sensed line ends (bias.SenseTerminals): through a TIA whose + inputs are at
        sense.v_plus (B, L) volts (outputs saved), with sense.injected (B, L) amperes fed into
        each sensed line end by a current source, and a behavioural quantizer on every TIA
        output when sense.quantizer is set (at most NETLIST_ADC_MAX_BITS bits; codes saved).
    save_rows / save_cols: save the terminal currents of the row / column ends.
    save_nodes: save every node voltage (for IR-drop maps and per-cell currents).
    print_results: add `.print` lines so that plain `ngspice -b` prints the saved vectors.
    """
    if not isinstance(params, CrossbarParams) or not isinstance(bias, LineBias):
        raise InvalidParameterError("format_read_netlist needs CrossbarParams and a LineBias")
    if sense is not None and not isinstance(sense, SenseTerminals):
        raise InvalidParameterError(f"sense must be SenseTerminals or None, got {type(sense).__name__}")
    save_rows, save_cols = boolean("save_rows", save_rows), boolean("save_cols", save_cols)
    save_nodes, print_results = boolean("save_nodes", save_nodes), boolean("print_results", print_results)
    net = network_of(params)
    m, n = params.shape
    conductance = finite_array("conductance (S)", conductance, (m, n))
    if np.any(conductance <= 0):
        raise InvalidParameterError("conductance must be > 0 S everywhere")
    if bias.shape != (m, n):
        raise ShapeError(f"the bias is for a {bias.shape} array, the parameters for {(m, n)}")
    names = net.names
    batch = bias.batch
    head = f"spicelim {m}x{n} {params.cell} array, {batch} operating point(s)" if title is None else title
    lines = [f"* {safe_text(head, 'title')}", ".options klu"]

    lines += array_lines(params, conductance, device=device, state=state, twin=twin, cell_params=cell_params)
    if params.has_selector:
        for i in range(m):
            lines.append(f"Vwl{i} wl{i} 0 {fmt(params.selector.v_gate)}")

    lines.append("* line-end terminals: drivers and sense nodes")
    if batch > 1:
        lines.append("Vidx idx 0 0")
    row_const, col_const = bias.row_is_constant(), bias.col_is_constant()
    row_cur: list[str | None] = [None] * m
    col_cur: list[str | None] = [None] * n
    sense_out: list[str] = []
    codes: list[str] = []
    tia = None if sense is None else sense.tia
    if tia is not None and not tia.ideal:
        lines.append(tia_subckt("tia", tia))
    for kind, count, ends, floating, volts, ohms, const, save, cur in (
            ("row", m, net.row_end, bias.row_float, bias.row_v, bias.row_r, row_const, save_rows, row_cur),
            ("col", n, net.col_end, bias.col_float, bias.col_v, bias.col_r, col_const, save_cols, col_cur)):
        sensed = sense is not None and (kind == "row") == sense.rows
        for k in range(count):
            if floating[k]:
                continue
            if sensed and sense.injected is not None:
                _injection(lines, f"{kind}{k}", names[ends[k]], sense.injected[:, k])
            if sensed and tia is not None:
                plus = sense.v_plus[:, k]
                sense_out.append(_tia_terminal(lines, kind, k, names[ends[k]], plus, tia,
                                               bool(np.all(plus == plus[0])) or batch == 1))
                if sense.quantizer is not None:
                    q = sense.quantizer
                    nz = None if q.noise is None else q.noise[:, len(codes)]
                    codes.append(_quantizer(lines, f"{kind}{k}", f"o_{kind}{k}", q.thresholds[len(codes)], nz,
                                            nz is None or bool(np.all(nz == nz[0])) or batch == 1))
            else:
                _terminal(lines, kind, k, names[ends[k]], volts[:, k], float(ohms[k]), bool(const[k]) or batch == 1)
            if save:
                cur[k] = f"i(vt_{kind}{k})"

    node_vectors = tuple(f"v({nm})" for nm in names) if save_nodes else None
    saved = [v for v in row_cur + col_cur if v] + list(node_vectors or ()) + sense_out + codes
    for k in range(0, len(saved), _SAVE_PER_LINE):
        lines.append(".save " + " ".join(saved[k:k + _SAVE_PER_LINE]))
    if batch > 1:
        lines.append(f".dc Vidx 0 {batch - 1} 1")
    else:
        lines.append(".op")
    if print_results:
        kind = "dc" if batch > 1 else ""
        for k in range(0, len(saved), 8):
            lines.append(f".print {kind} " + " ".join(saved[k:k + 8]))
    lines.append(".end")
    return Netlist(text="\n".join(lines) + "\n", row_currents=tuple(row_cur), col_currents=tuple(col_cur),
                   node_vectors=node_vectors, batch=batch, sense_out=tuple(sense_out) or None,
                   codes=tuple(codes) or None)


def cell_instance_name(i: int, j: int, twin: str) -> str:
    """Netlist name of the memristor instance in cell (i, j) (lower case, as ngspice reports it)."""
    return f"{'xcell' if twin == 'behavioural' else 'ncell'}{i}_{j}"


def array_lines(params: CrossbarParams, conductance: np.ndarray | None, *, device=None,
                state: np.ndarray | None = None, twin: str = "verilog-a",
                cell_params: dict[str, np.ndarray] | None = None) -> list[str]:
    """Netlist lines of the array itself: wire segments, cells and 1T1R selectors (gates on nodes wl{i}).

    Cells are resistors of `conductance` (siemens), or instances of the memristor `device` at its
    `state`, with one model card per cell when `cell_params` spreads some of its parameters.
    """
    net = network_of(params)
    m, n = params.shape
    names = net.names
    lines = ["* row and column lines (one segment per cell)"]
    for kind, a, b, r in net.wire_segments():
        label = "Rrow" if kind == "row" else "Rcol"
        rr = fmt(r)
        for (i, j), na in np.ndenumerate(a):
            lines.append(f"{label}{i}_{j} {names[na]} {names[b[i, j]]} {rr}")

    lines.append("* cells")
    hi, lo = net.row_node, net.device_low_node
    if device is None:
        resistance = 1.0 / conductance
        for i in range(m):
            for j in range(n):
                lines.append(f"Rcell{i}_{j} {names[hi[i, j]]} {names[lo[i, j]]} {fmt(resistance[i, j])}")
    else:
        behavioural = twin == "behavioural"
        card = device.behavioural_subckt if behavioural else device.model_card
        x0 = device.normalise(state) if not cell_params else None
        if cell_params:
            cells = per_cell_devices(device, cell_params, (m, n))
            x0 = np.array([[cells[i][j].normalise(state[i, j]) for j in range(n)] for i in range(m)])
            for i in range(m):
                for j in range(n):
                    lines.append((cells[i][j].behavioural_subckt if behavioural else cells[i][j].model_card)
                                 (f"cellmodel{i}_{j}"))
        else:
            lines.append(card("cellmodel"))
        for i in range(m):
            for j in range(n):
                model = f"cellmodel{i}_{j}" if cell_params else "cellmodel"
                lines.append(f"{cell_instance_name(i, j, twin)} {names[hi[i, j]]} {names[lo[i, j]]} {model}"
                             f" x0={fmt(float(x0[i, j]))}")
    if params.has_selector:
        sel = params.selector
        card = sel.card
        model = safe_name(card.name, "model name")
        lines.append(f".model {model} nmos " + " ".join(f"{safe_name(k, 'model parameter')}={fmt(v)}"
                                                          for k, v in card.params))
        geom = f"w={fmt(sel.w)} l={fmt(sel.l)}"
        cn = net.col_node
        for i in range(m):
            for j in range(n):
                lines.append(f"Msel{i}_{j} {names[lo[i, j]]} wl{i} {names[cn[i, j]]} 0 {model} {geom}")
    return lines


def per_cell_devices(device, cell_params: dict[str, np.ndarray], shape: tuple[int, int]) -> list[list]:
    """The device model of every cell, with its own values of the spread parameters (validated)."""
    m, n = shape
    return [[replace(device, **{k: float(v[i, j]) for k, v in cell_params.items()}) for j in range(n)]
            for i in range(m)]


def write_netlist(path: str | os.PathLike, netlist: Netlist | str) -> Path:
    """Write netlist text atomically (a temporary file renamed into place); return the path."""
    path = Path(path)
    text = netlist.text if isinstance(netlist, Netlist) else netlist
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path

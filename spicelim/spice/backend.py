"""The "spice" backend: reads solved by ngspice on the generated netlist."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..backend import (
    DEVICE_MODELS,
    FLOATING_LINES,
    NETLIST_QUANTIZER,
    NODE_VOLTAGES,
    TRANSIENT,
    ArrayBackend,
    ArraySnapshot,
    check_operate,
)
from ..bias import LineBias, SenseTerminals
from ..errors import EnvironmentProblem, InvalidParameterError
from ..netlist import format_read_netlist, write_netlist
from ..netlist.transient import format_pulse_netlist
from ..netlist.writer import NETLIST_ADC_MAX_BITS
from ..network import network_of
from ..registry import register_backend
from ..results import OperatingPoints, PulseResult
from ..validation import boolean, path_value, positive_int
from .osdi import OpenVafMissing, compile_va
from .worker import NgspiceWorker

MAX_BATCH = 100_000  # operating points in one netlist
MAX_WORKERS = 64  # ngspice processes of one backend
MIN_SPLIT = 16  # fewest operating points a batch is split into when several workers share it


def private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) if needed and check that it belongs to this user."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid != os.getuid():
        raise EnvironmentProblem(f"run folder {path} belongs to another user: pass run_dir= to SpiceBackend")
    return path


def save_netlist(run_dir: Path, text: str, tag: str) -> Path:
    """Write `text` atomically as <run_dir>/<time>-<tag>-<hash>.cir in a private run folder."""
    private_dir(run_dir)
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    return write_netlist(run_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{tag}-{digest}.cir", text)


def default_run_dir() -> Path:
    """Folder for netlists kept on request or after a failure: <tmp>/spicelim-<user>/runs."""
    user = os.environ.get("USER") or str(os.getuid())
    return Path(tempfile.gettempdir()) / f"spicelim-{user}" / "runs"


class SpiceBackend(ArrayBackend):
    """Solves operating points and programming transients with ngspice in a worker process.

    A batch of B input vectors becomes one netlist with a `.dc` sweep over the batch index (see
    netlist.writer); batches longer than `max_batch` are split into several netlists. TIAs on the
    sensed lines are the op-amp macro model in the netlist, an injected sense current a current
    source at the line end, a netlist quantizer a B-source staircase on each TIA output.

    Args:
        timeout_s: longest one ngspice run may take, seconds; the worker is killed after it.
        run_dir: where netlists are saved (failed runs always, every run if keep_netlists).
        keep_netlists: save every netlist, not only failed ones.
        max_batch: largest number of operating points in one netlist.
        workers: ngspice worker processes. With more than one, a batch of reads is split evenly
            into netlists of at least MIN_SPLIT points, solved at once on the workers; the answers
            agree within ngspice's convergence tolerance (the first point of each netlist starts
            Newton from a fresh guess, as when max_batch splits a batch). Programming transients
            run on the first worker.

    The worker processes are not part of the backend's state: a pickled SpiceBackend keeps its
    settings and starts workers of its own on first use.
    """

    name = "spice"
    capabilities = frozenset({TRANSIENT, NODE_VOLTAGES, FLOATING_LINES, NETLIST_QUANTIZER, DEVICE_MODELS})

    def __init__(self, timeout_s: float = 3600.0, run_dir: str | os.PathLike | None = None,
                 keep_netlists: bool = False, max_batch: int = 256, workers: int = 1):
        count = positive_int("workers", workers, maximum=MAX_WORKERS)
        self.workers = [NgspiceWorker(timeout_s=timeout_s) for _ in range(count)]
        self.worker = self.workers[0]
        self.run_dir = default_run_dir() if run_dir is None else path_value("run_dir", run_dir)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise InvalidParameterError(f"run_dir {self.run_dir} exists and is not a folder")
        self.keep_netlists = boolean("keep_netlists", keep_netlists)
        self.max_batch = positive_int("max_batch", max_batch, maximum=MAX_BATCH)
        self.last_netlist_path: Path | None = None
        self.last_seconds = 0.0

    def _save(self, text: str, tag: str) -> Path:
        return save_netlist(self.run_dir, text, tag)

    def operate(self, array: ArraySnapshot, bias: LineBias, *, sense: SenseTerminals | None = None,
                nodes: bool = False) -> OperatingPoints:
        """Solve the batch in ngspice; with a memristor device, every cell is its Verilog-A model at its state.

        Per-cell spread parameters give each cell its own model card. With `sense`, the sensed ends
        go through the TIA macro model (outputs in sense_out), the injected currents are current
        sources at the sensed line ends, and a netlist quantizer's codes come back in `codes`.
        """
        check_operate(self, bias, sense, nodes)
        if sense is not None and sense.quantizer is not None and sense.quantizer.bits > NETLIST_ADC_MAX_BITS:
            raise InvalidParameterError(f"the netlist quantizer handles at most {NETLIST_ADC_MAX_BITS} bits"
                                        f" ({sense.quantizer.bits} asked): use quantizer='python'")
        osdi, twin = self._device_libraries(array.device)
        bounds = self._chunks(bias.batch)

        def part(k: int) -> OperatingPoints:
            start, stop = bounds[k]
            return self._run(self.workers[k % len(self.workers)], array, bias.take(start, stop), nodes, osdi, twin,
                             None if sense is None else sense.take(start, stop))

        if len(bounds) == 1 or len(self.workers) == 1:
            parts = [part(k) for k in range(len(bounds))]
        else:  # each worker answers under its own lock; the threads only wait on the processes
            with ThreadPoolExecutor(max_workers=len(self.workers)) as pool:
                parts = list(pool.map(part, range(len(bounds))))
        return parts[0] if len(parts) == 1 else OperatingPoints.concatenate(parts)

    def _chunks(self, batch: int) -> list[tuple[int, int]]:
        """[start, stop) of each netlist of a batch: max_batch points each with one worker; with several, an
        equal share per netlist and a multiple of the workers in number (each at least MIN_SPLIT points)."""
        per_netlist = -(-batch // self.max_batch)
        lanes = min(len(self.workers), max(1, batch // MIN_SPLIT))
        if lanes == 1:
            return [(k, min(k + self.max_batch, batch)) for k in range(0, batch, self.max_batch)]
        edges = np.linspace(0, batch, lanes * -(-per_netlist // lanes) + 1).round().astype(int)
        return list(zip(edges[:-1].tolist(), edges[1:].tolist()))

    def solve(self, array: ArraySnapshot, bias: LineBias, *, sensed: str | None = None,
              nodes: bool = False) -> OperatingPoints:
        """Plain terminals (every tied end a source behind its resistance), as the contract asks."""
        return self.operate(array, bias, nodes=nodes)

    @staticmethod
    def _device_libraries(device) -> tuple[tuple[str, ...], str]:
        """The OSDI library of the device's Verilog-A model, or () and the behavioural twin without openvaf-r."""
        if device is None:
            return (), "verilog-a"
        try:
            return (str(compile_va(device.va_file)),), "verilog-a"
        except OpenVafMissing as exc:
            warnings.warn(f"{exc}; the cells use the behavioural twin of {type(device).__name__}", stacklevel=4)
            return (), "behavioural"

    def apply_pulses(self, array: ArraySnapshot, schedule, *, max_step: float | None = None,
                     energy: bool = False) -> PulseResult:
        """Run the programming transient of `schedule` from `array.state`.

        energy: also integrate V(t) I(t) of every line driver over the transient (trapezoidal on
        ngspice's time points), joules. max_step: ngspice's largest time step, seconds (default: a
        tenth of the pulse width). ngspice simulates every instant, so array.read_limit is not used.
        """
        max_step = schedule.default_step(10) if max_step is None else max_step
        params, device, state = array.params, array.device, array.state
        osdi, twin = self._device_libraries(device)
        netlist = format_pulse_netlist(params, device, state, schedule, twin=twin, max_step=max_step,
                                       cell_params=array.cell_params, save_sources=energy)
        if self.keep_netlists:
            self.last_netlist_path = self._save(netlist.text, "pulses")
        wanted = list(netlist.state_vectors) + (["time"] + [v for v, _, _ in netlist.source_vectors]
                                                if netlist.source_vectors else [])
        out = self.worker.run(netlist.text, wanted, None, osdi=osdi,
                              save_failed=lambda text: self._save(text, "failed-pulses"))
        self.last_seconds = out.seconds
        final = np.array([out.vectors[name][-1] for name in netlist.state_vectors]).reshape(params.shape)
        if twin == "behavioural":
            dev = array.cell_device
            final = dev.denormalise(dev.normalise(state) + final)
        delivered = None
        if energy:
            delivered = 0.0
            if netlist.source_vectors:
                t = out.vectors["time"]
                rows, cols, _ = schedule.interpolate(t)
                for name, kind, k in netlist.source_vectors:
                    volts = rows[:, k] if kind == "row" else cols[:, k]
                    power = -volts * out.vectors[name]  # ngspice: a source's current flows into its + node
                    delivered += float(np.sum((power[1:] + power[:-1]) * np.diff(t)) / 2)
        return PulseResult(state=final, energy=delivered, duration=schedule.duration, backend=self.name)

    def _run(self, worker: NgspiceWorker, array: ArraySnapshot, bias: LineBias, nodes: bool, osdi, twin,
             sense: SenseTerminals | None) -> OperatingPoints:
        params, conductance = array.params, array.conductance
        netlist = format_read_netlist(params, conductance, bias, save_rows=True, save_cols=True, save_nodes=nodes,
                                      device=array.device, state=array.state, twin=twin,
                                      cell_params=array.cell_params, sense=sense)
        if self.keep_netlists:
            self.last_netlist_path = self._save(netlist.text, "read")
        out = worker.run(netlist.text, netlist.vectors, netlist.batch, osdi=osdi,
                         save_failed=lambda text: self._save(text, "failed"))
        self.last_seconds = out.seconds
        vec = out.vectors
        bsz = bias.batch

        def currents(names):
            res = np.full((bsz, len(names)), np.nan)
            for k, nm in enumerate(names):
                if nm:
                    res[:, k] = vec[nm]
            return res

        row_v = low_v = col_v = None
        if nodes:
            node_v = np.stack([vec[nm] for nm in netlist.node_vectors], axis=1)  # (B, n_nodes)
            net = network_of(params)
            row_v = node_v[:, net.row_node]
            col_v = node_v[:, net.col_node]
            low_v = node_v[:, net.device_low_node]
        sense_out = None if not netlist.sense_out else np.stack([vec[nm] for nm in netlist.sense_out], axis=1)
        codes = None if not netlist.codes else np.rint(np.stack([vec[nm] for nm in netlist.codes], axis=1)).astype(np.int64)
        return OperatingPoints(row_current=currents(netlist.row_currents), col_current=currents(netlist.col_currents),
                               row_v=row_v, device_low_v=low_v, col_v=col_v, conductance=conductance,
                               backend=self.name, sense_out=sense_out, codes=codes)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()


register_backend("spice", SpiceBackend)

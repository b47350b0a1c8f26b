"""The "spice" backend: reads solved by ngspice on the generated netlist."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ..bias import LineBias
from ..errors import EnvironmentProblem, InvalidParameterError
from ..netlist import format_read_netlist, write_netlist
from ..netlist.transient import format_pulse_netlist
from ..netlist.writer import NETLIST_ADC_MAX_BITS
from ..network import network_of
from ..params import CrossbarParams
from ..results import OperatingPoints
from ..validation import positive_int
from .osdi import OpenVafMissing, compile_va
from .worker import NgspiceWorker


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


class SpiceBackend:
    """Solves operating points with ngspice in a worker process.

    A batch of B input vectors becomes one netlist with a `.dc` sweep over the batch index (see
    netlist.writer); batches longer than `max_batch` are split into several netlists.

    Args:
        timeout_s: longest one ngspice run may take, seconds; the worker is killed after it.
        run_dir: where netlists are saved (failed runs always, every run if keep_netlists).
        keep_netlists: save every netlist, not only failed ones.
        max_batch: largest number of operating points in one netlist.
    """

    name = "spice"

    def __init__(self, timeout_s: float = 3600.0, run_dir: str | os.PathLike | None = None,
                 keep_netlists: bool = False, max_batch: int = 256):
        self.worker = NgspiceWorker(timeout_s=timeout_s)
        self.run_dir = Path(run_dir) if run_dir is not None else default_run_dir()
        self.keep_netlists = bool(keep_netlists)
        self.max_batch = positive_int("max_batch", max_batch)
        self.last_netlist_path: Path | None = None
        self.last_seconds = 0.0

    def _save(self, text: str, tag: str) -> Path:
        return save_netlist(self.run_dir, text, tag)

    def operate(self, params: CrossbarParams, conductance: np.ndarray, bias: LineBias, *,
                rows: bool = True, cols: bool = True, nodes: bool = False, device=None,
                state: np.ndarray | None = None, cell_params=None, sense_tia=None,
                sense_plus: np.ndarray | None = None, sense_rows: bool = False, sense_adc=None,
                sense_adc_scale=None) -> OperatingPoints:
        """Solve the batch; with a memristor `device` and its `state`, the cells are its Verilog-A model.

        cell_params: per-cell values of spread device parameters (each cell gets its own model card).
        sense_tia, sense_plus, sense_rows: sensed line ends go through this TIA's op-amp macro model,
            + inputs at sense_plus (B, L) volts; the result's sense_out holds the TIA outputs.
        sense_adc, sense_adc_scale: a periphery.ADC quantizing every TIA output inside the netlist
            (full scale per line, or None for the ADC's own); the result's codes hold its codes.
        """
        adc_lines = None
        if sense_adc is not None:
            if sense_adc.bits > NETLIST_ADC_MAX_BITS:
                raise InvalidParameterError(f"the netlist quantizer handles at most {NETLIST_ADC_MAX_BITS} bits"
                                            f" ({sense_adc.bits} asked): use quantizer='python'")
            n_lines = sense_plus.shape[1]
            noise = sense_adc.draw_noise(sense_plus.shape, sense_adc_scale) if sense_adc.noise > 0 else None
            adc_lines = (sense_adc.thresholds(n_lines, sense_adc_scale), noise)
        osdi, twin = self._device_libraries(device)
        tia = {"sense_tia": sense_tia, "sense_rows": sense_rows}
        parts = []
        for start in range(0, bias.batch, self.max_batch):
            stop = min(start + self.max_batch, bias.batch)
            plus = None if sense_plus is None else sense_plus[start:stop]
            adc = None if adc_lines is None else (adc_lines[0], None if adc_lines[1] is None
                                                  else adc_lines[1][start:stop])
            parts.append(self._run(params, conductance, bias.take(start, stop), rows, cols, nodes, device, state, osdi,
                                   twin, cell_params, dict(tia, sense_plus=plus, sense_adc=adc)))
        return parts[0] if len(parts) == 1 else OperatingPoints.concatenate(parts)

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

    def apply_pulses(self, params: CrossbarParams, device, state: np.ndarray, schedule, *, max_step: float | None = None,
                     cell_params: dict[str, np.ndarray] | None = None, cell_device=None,
                     energy: bool = False, read_limit: float | None = None) -> tuple[np.ndarray, float | None]:
        """Run the programming transient of `schedule` from `state`.

        Returns (final states (M, N), energy the line drivers delivered in joules, or None unless
        `energy`: the integral of V(t) I(t) over every driver's waveform, trapezoidal on ngspice's time points).
        read_limit is accepted for interface parity (ngspice simulates every instant).

        max_step: ngspice's largest time step, seconds (default: a tenth of the pulse width).
        cell_device: the device with per-cell parameter arrays (M, N), used to convert the behavioural
        twin's normalised state back to model units.
        """
        max_step = schedule.default_step(10) if max_step is None else max_step
        osdi, twin = self._device_libraries(device)
        netlist = format_pulse_netlist(params, device, state, schedule, twin=twin, max_step=max_step,
                                       cell_params=cell_params, save_sources=energy)
        if self.keep_netlists:
            self.last_netlist_path = self._save(netlist.text, "pulses")
        wanted = list(netlist.state_vectors) + (["time"] + [v for v, _, _ in netlist.source_vectors]
                                                if netlist.source_vectors else [])
        out = self.worker.run(netlist.text, wanted, None, osdi=osdi,
                              save_failed=lambda text: self._save(text, "failed-pulses"))
        self.last_seconds = out.seconds
        final = np.array([out.vectors[name][-1] for name in netlist.state_vectors]).reshape(params.shape)
        if twin == "behavioural":
            dev = cell_device if cell_device is not None else device
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
        return final, delivered

    def _run(self, params, conductance, bias, rows, cols, nodes, device, state, osdi, twin,
             cell_params, tia) -> OperatingPoints:
        netlist = format_read_netlist(params, conductance, bias, save_rows=rows, save_cols=cols, save_nodes=nodes,
                                      device=device, state=state, twin=twin, cell_params=cell_params, **tia)
        if self.keep_netlists:
            self.last_netlist_path = self._save(netlist.text, "read")
        out = self.worker.run(netlist.text, netlist.vectors, netlist.batch, osdi=osdi,
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
        self.worker.close()

"""ngspice (libngspice, through PySpice) in a separate worker process.

A crash or hang inside ngspice must not take the caller with it, so every simulation runs in a
child process started with the `spawn` method. The parent sends netlist text and the names of
the vectors it wants; the child loads the circuit with `ngSpice_Circ`, runs it, copies the
vectors out, then frees the circuit (`destroy all`, `remcirc`) so memory stays flat.

PySpice raises on any stderr line that is not a warning, including ngspice's progress messages
during gmin and source stepping ("Trying gmin = ..."). The child therefore talks to the shared
library directly through PySpice's handle and judges success itself: by the analysis having
produced every requested vector with the expected length, and by ngspice's own error lines.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import time
from dataclasses import dataclass

import numpy as np

from ..errors import (ConvergenceError, EnvironmentProblem, NetlistInjectionError, SimulationError, SimulationTimeout,
                      WorkerCrash)

_CONVERGENCE = re.compile(r"no convergence|iteration limit|timestep too small|gmin stepping failed|"
                          r"source stepping failed|singular matrix|dc sweep failed", re.IGNORECASE)
_LOG_TAIL_LINES = 25
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9_./+-]+$")


@dataclass(frozen=True)
class RunOutput:
    """Vectors fetched after one simulation (name -> float64 array) and ngspice's output."""

    vectors: dict[str, np.ndarray]
    log: str
    seconds: float


# ----------------------------------------------------------------------------- child side

def _child_main(conn) -> None:  # pragma: no cover - runs in the worker process
    import logging

    logging.getLogger("PySpice").setLevel(logging.CRITICAL)
    try:
        from PySpice.Spice.NgSpice.Shared import FFI, NgSpiceShared, ffi
    except Exception as exc:  # PySpice missing or libngspice not found
        conn.send({"ok": False, "kind": "environment", "message": f"cannot load PySpice/libngspice: {exc}"})
        return

    class CapturingNgspice(NgSpiceShared):
        def __init__(self):
            self.lines: list[str] = []
            super().__init__(ngspice_id=0, send_data=False)

        def send_char(self, message, ngspice_id):
            self.lines.append(message)
            return 0

        def command(self, text: str) -> int:
            return self._ngspice_shared.ngSpice_Command(text.encode("ascii"))

    try:
        ng = CapturingNgspice()
    except Exception as exc:
        conn.send({"ok": False, "kind": "environment", "message": f"cannot start libngspice: {exc}"})
        return
    conn.send({"ok": True, "version": getattr(ng, "_ngspice_version", None)})
    loaded_osdi: set[str] = set()

    def fetch(plot: str, name: str) -> np.ndarray | None:
        info = ng._ngspice_shared.ngGet_Vec_Info(f"{plot}.{name}".encode("ascii"))
        if info == FFI.NULL or info.v_realdata == FFI.NULL:
            return None
        return np.frombuffer(ffi.buffer(info.v_realdata, info.v_length * 8), dtype=np.float64).copy()

    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        start = time.perf_counter()
        ng.lines = []
        osdi_error = None
        for lib in request.get("osdi", ()):
            if lib not in loaded_osdi:
                ng.command(f"osdi {lib}")
                if any("error" in ln.lower() for ln in ng.lines):
                    osdi_error = f"ngspice could not load the OSDI library {lib}"
                    break
                loaded_osdi.add(lib)
        if osdi_error:
            conn.send({"ok": False, "kind": "load", "log": "\n".join(ng.lines), "message": osdi_error})
            continue
        lines = [ln for ln in request["netlist"].splitlines() if ln] + [""]
        keep = [ffi.new("char[]", ln.encode("ascii")) for ln in lines] + [FFI.NULL]
        rc_load = ng._ngspice_shared.ngSpice_Circ(ffi.new("char *[]", keep))
        del keep
        load_log = list(ng.lines)
        load_error = rc_load != 0 or any(
            ln.startswith("stderr Error") or "error on line" in ln.lower() for ln in load_log)
        vectors: dict[str, np.ndarray] = {}
        missing: list[str] = []
        if not load_error:
            ng.command("run")
            plot = ng._ngspice_shared.ngSpice_CurPlot()
            plot = ffi.string(plot).decode() if plot != FFI.NULL else ""
            length = request["length"]
            for name in request["vectors"]:
                arr = fetch(plot, name)
                if length is None and arr is not None:
                    length = arr.shape[0]  # a transient: every vector has the length of the first
                if arr is None or arr.shape[0] != length or length == 0:
                    missing.append(name)
                else:
                    vectors[name] = arr
        ng.command("destroy all")
        ng.command("remcirc")
        log = "\n".join(ng.lines)
        ng.lines = []
        if load_error:
            conn.send({"ok": False, "kind": "load", "log": log, "message": "ngspice rejected the netlist"})
        elif missing:
            kind = "convergence" if _CONVERGENCE.search(log) else "run"
            conn.send({"ok": False, "kind": kind, "log": log,
                       "message": f"the analysis produced no usable result for {len(missing)} vector(s),"
                                  f" first {missing[0]}"})
        else:
            conn.send({"ok": True, "vectors": vectors, "log": log, "seconds": time.perf_counter() - start})


# ----------------------------------------------------------------------------- parent side

class NgspiceWorker:
    """Owns one ngspice worker process; restarts it after a crash or timeout.

    Args:
        timeout_s: longest a single simulation may take before the worker is killed, seconds.
    """

    def __init__(self, timeout_s: float = 3600.0):
        if not timeout_s > 0:
            raise ValueError("timeout_s must be > 0")
        self.timeout_s = float(timeout_s)
        self._proc = None
        self._conn = None
        self.version = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child_main, args=(child,), daemon=True, name="spicelim-ngspice")
        proc.start()
        child.close()
        if not parent.poll(120):
            proc.kill()
            raise EnvironmentProblem("the ngspice worker did not start within 120 s")
        try:
            hello = parent.recv()
        except EOFError:
            proc.join(5)
            raise EnvironmentProblem(f"the ngspice worker died while loading libngspice (exit code {proc.exitcode});"
                                     " run `spicelim doctor`") from None
        if not hello.get("ok"):
            proc.join(5)
            raise EnvironmentProblem(hello["message"] + "; run `spicelim doctor` or scripts/install.sh")
        self._proc, self._conn, self.version = proc, parent, hello.get("version")

    def close(self) -> None:
        """Stop the worker process (idempotent)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None:
            return
        try:
            conn.send(None)
            proc.join(5)
        except (OSError, BrokenPipeError):
            pass
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        conn.close()

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
            self._conn.close()
        self._proc = self._conn = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def run(self, netlist: str, vectors: list[str], length: int | None, *, save_failed,
            osdi: tuple[str, ...] = ()) -> RunOutput:
        """Simulate `netlist` and return the named vectors, each of `length` points (None: any, but equal).

        `osdi` lists OSDI libraries the netlist's models need; each is loaded once per worker.

        `save_failed` is called with the netlist text when something goes wrong and returns the
        path it saved the netlist to; that path goes into the raised error.
        """
        for lib in osdi:
            if not _SAFE_PATH.match(lib):
                raise NetlistInjectionError(f"OSDI library path {lib!r} may only hold letters, digits and _ . / + -")
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send({"netlist": netlist, "vectors": vectors, "length": length, "osdi": list(osdi)})
        except (OSError, BrokenPipeError):
            self._kill()
            raise WorkerCrash("the ngspice worker was gone before the netlist reached it",
                              str(save_failed(netlist))) from None
        if not self._conn.poll(self.timeout_s):
            self._kill()
            raise SimulationTimeout(f"ngspice did not finish within {self.timeout_s:g} s; the worker was killed",
                                    str(save_failed(netlist)))
        try:
            reply = self._conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode if self._proc is not None else None
            self._kill()
            raise WorkerCrash(f"the ngspice worker died during the simulation (exit code {code})",
                              str(save_failed(netlist))) from None
        if reply["ok"]:
            return RunOutput(vectors=reply["vectors"], log=reply["log"], seconds=reply["seconds"])
        tail = "\n".join(reply.get("log", "").splitlines()[-_LOG_TAIL_LINES:])
        path = str(save_failed(netlist))
        if reply["kind"] == "convergence":
            raise ConvergenceError("ngspice did not converge (its gmin and source stepping were tried): "
                                   + reply["message"], path, tail)
        raise SimulationError(reply["message"], path, tail)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

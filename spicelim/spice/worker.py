"""ngspice (libngspice, through PySpice) in a separate worker process.

A crash or hang inside ngspice must not take the caller with it, so every simulation runs in a
child process: `python -m spicelim.spice._worker_main FD`, talking over one end of a socket pair with
pickled messages. (A `multiprocessing` spawn would re-run the caller's script in the child, which
breaks every user script without an `if __name__ == "__main__":` guard.) The parent sends
netlist text, the names of the vectors it wants and a request number; the child loads the circuit
with `ngSpice_Circ`, runs it, copies the vectors out, then frees the circuit (`destroy all`,
`remcirc`) so memory stays flat, and answers with the same request number.

PySpice raises on any stderr line that is not a warning, including ngspice's progress messages
during gmin and source stepping ("Trying gmin = ..."). The child therefore talks to the shared
library directly through PySpice's handle and judges success itself: by the analysis having
produced every requested vector with the expected length, and by ngspice's own error lines.

After any failure, timeout or interruption the parent kills the worker, so a half-read answer or
a libngspice left in a bad state by a rejected netlist never meets the next simulation.

Lifetime and sharing: one NgspiceWorker serves one request at a time; a lock makes it safe to
share between threads (a Dask worker with several threads), which then take turns. The worker
runs in a session of its own, so a Ctrl-C meant for the caller's terminal does not reach it, and
a watchdog thread in it exits the process within half a second of the parent's death, however
the parent died (SIGKILL included), even in the middle of a long simulation.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from ..errors import (
    ConvergenceError,
    EnvironmentProblem,
    NetlistInjectionError,
    SimulationError,
    SimulationTimeout,
    WorkerCrash,
)
from ..validation import real_number, show

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

PARENT_POLL_S = 0.25  # how often the worker checks that its parent is alive, seconds


def watch_parent(parent_pid: int) -> threading.Thread:
    """Start a daemon thread that ends this process as soon as `parent_pid` is no longer its parent.

    An orphan is re-parented (to init or a subreaper), so its parent id changes; checking it needs
    no cooperation from the main thread, which may be inside a long ngspice run (cffi releases the
    interpreter lock around library calls).
    """
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os._exit(3)

    thread = threading.Thread(target=watch, name="spicelim-parent-watchdog", daemon=True)
    thread.start()
    return thread


def child_main(conn, parent_pid: int | None = None) -> None:  # pragma: no cover - runs in the worker process
    import logging

    if parent_pid is not None:
        watch_parent(parent_pid)

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
        tag = request["id"]
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
            conn.send({"id": tag, "ok": False, "kind": "load", "log": "\n".join(ng.lines), "message": osdi_error})
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
            conn.send({"id": tag, "ok": False, "kind": "load", "log": log, "message": "ngspice rejected the netlist"})
        elif missing:
            kind = "convergence" if _CONVERGENCE.search(log) else "run"
            conn.send({"id": tag, "ok": False, "kind": kind, "log": log,
                       "message": f"the analysis produced no usable result for {len(missing)} vector(s),"
                                  f" first {missing[0]}"})
        else:
            conn.send({"id": tag, "ok": True, "vectors": vectors, "log": log, "seconds": time.perf_counter() - start})


# ----------------------------------------------------------------------------- parent side

MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week: the longest single simulation a worker waits for


class NgspiceWorker:
    """Owns one ngspice worker process; restarts it after a crash or timeout.

    Safe to share between threads: requests take turns under a lock (each thread gets its own
    answer). close() stops the process; a later run() starts a new one.

    Args:
        timeout_s: longest a single simulation may take before the worker is killed, seconds
            (> 0, at most a week).
    """

    def __init__(self, timeout_s: float = 3600.0):
        self.timeout_s = real_number("timeout_s (s)", timeout_s, minimum=0.0, strict=True, maximum=MAX_TIMEOUT_S)
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.version = None

    def __getstate__(self):
        return {"timeout_s": self.timeout_s}

    def __setstate__(self, state):
        self.__init__(state["timeout_s"])

    def _start(self) -> None:
        mine, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "spicelim.spice._worker_main", str(theirs.fileno()),
                                     str(os.getpid())],
                                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        conn = Connection(mine.detach())
        self._proc, self._conn = proc, conn
        if not conn.poll(120):
            self._kill()
            raise EnvironmentProblem("the ngspice worker did not start within 120 s")
        try:
            hello = conn.recv()
        except (EOFError, OSError):
            code = self._kill()
            raise EnvironmentProblem(f"the ngspice worker died while loading libngspice (exit code {code});"
                                     " run `spicelim doctor`") from None
        if not hello.get("ok"):
            self._kill()
            raise EnvironmentProblem(hello["message"] + "; run `spicelim doctor` or scripts/install.sh")
        self.version = hello.get("version")

    def close(self) -> None:
        """Stop the worker process (idempotent); waits for a request another thread is running."""
        with self._lock:
            if self._proc is None:
                return
            try:
                self._conn.send(None)
                self._proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._kill()

    def _kill(self) -> int | None:
        """Kill the worker (if still running), reap it and return its exit code."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        if conn is not None:
            conn.close()
        return code

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
                raise NetlistInjectionError(f"OSDI library path {show(lib)} may only hold letters, digits and _ . / + -")
        if not netlist.isascii():
            raise NetlistInjectionError("netlist text must be ASCII")
        with self._lock:
            return self._run(netlist, vectors, length, save_failed, osdi)

    def _run(self, netlist, vectors, length, save_failed, osdi) -> RunOutput:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        tag = next(self._ids)
        try:
            self._conn.send({"id": tag, "netlist": netlist, "vectors": vectors, "length": length, "osdi": list(osdi)})
            if not self._conn.poll(self.timeout_s):
                self._kill()
                raise SimulationTimeout(f"ngspice did not finish within {self.timeout_s:g} s; the worker was killed",
                                        str(save_failed(netlist)))
            reply = self._conn.recv()
        except (EOFError, OSError):
            code = self._kill()
            raise WorkerCrash(f"the ngspice worker died during the simulation (exit code {code})",
                              str(save_failed(netlist))) from None
        except BaseException:
            self._kill()  # interrupted (e.g. KeyboardInterrupt): the answer must never reach a later run
            raise
        if reply.get("id") != tag:
            self._kill()
            raise WorkerCrash(f"the ngspice worker answered request {reply.get('id')} instead of {tag}",
                              str(save_failed(netlist)))
        if reply["ok"]:
            return RunOutput(vectors=reply["vectors"], log=reply["log"], seconds=reply["seconds"])
        self._kill()  # a rejected or failed netlist can leave libngspice in a bad state: start afresh next time
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
        except Exception:  # interpreter shutdown: modules may already be gone
            pass


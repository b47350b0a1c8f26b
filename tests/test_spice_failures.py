"""ngspice failures become typed errors that name the saved netlist; the worker survives them."""

import os
import threading
from pathlib import Path

import numpy as np
import pytest

import spicelim
from spicelim.errors import (
    ConvergenceError,
    SimulationError,
    SimulationTimeout,
    WorkerCrash,
)
from spicelim.spice import NgspiceWorker

pytestmark = pytest.mark.spice

NO_SOLUTION = """no operating point exists
V1 in 0 1
R1 in 1 1k
B1 1 0 I = 1e-3*(v(1)>0.3 ? 1 : -1)
.save v(1)
.op
.end
"""

SQUARE = """well-posed
V1 in 0 2
R1 in 1 1k
R2 1 0 1k
.save v(1)
.op
.end
"""


def saver(tmp_path):
    def save(text):
        path = tmp_path / "failed.cir"
        path.write_text(text)
        return path
    return save


def test_non_convergence_is_typed_and_names_the_netlist(tmp_path):
    with NgspiceWorker() as w:
        with pytest.raises(ConvergenceError) as info:
            w.run(NO_SOLUTION, ["v(1)"], 1, save_failed=saver(tmp_path))
        err = info.value
        assert Path(err.netlist_path).read_text() == NO_SOLUTION
        assert "gmin" in err.log_tail.lower() and "source stepping" in err.log_tail.lower()
        assert str(tmp_path / "failed.cir") in str(err)
        # The same worker goes on working.
        out = w.run(SQUARE, ["v(1)"], 1, save_failed=saver(tmp_path))
        assert out.vectors["v(1)"][0] == pytest.approx(1.0)


def test_rejected_netlist_is_a_simulation_error(tmp_path):
    with NgspiceWorker() as w, pytest.raises(SimulationError, match="rejected"):
        w.run("bad\nR1 1 0 1k\nQ1 1 2 3 nosuchmodel\n.op\n.end\n", ["v(1)"], 1, save_failed=saver(tmp_path))


def test_timeout_kills_and_restarts_worker(tmp_path, rng):
    backend = spicelim.spice.SpiceBackend(run_dir=tmp_path, timeout_s=0.05)
    xb = spicelim.Crossbar(48, 48, r_row=1.0, r_col=1.0, backends={"spice": backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (48, 48)))
    with pytest.raises(SimulationTimeout) as info:
        xb.read(rng.uniform(-0.2, 0.2, (64, 48)), backend="spice")
    assert Path(info.value.netlist_path).exists() and Path(info.value.netlist_path).parent == tmp_path
    backend.worker.timeout_s = 600
    got = xb.read(np.full(48, 0.1), backend="spice")  # a fresh worker answers
    np.testing.assert_allclose(got, xb.read(np.full(48, 0.1), backend="fast"), rtol=1e-6)
    backend.close()


def test_worker_crash_is_reported(tmp_path, rng):
    backend = spicelim.spice.SpiceBackend(run_dir=tmp_path)
    xb = spicelim.Crossbar(64, 64, r_row=1.0, r_col=1.0, backends={"spice": backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (64, 64)))
    xb.read(np.full(64, 0.1), backend="spice")  # start the worker
    pid = backend.worker.pid
    killer = threading.Timer(0.3, os.kill, (pid, 9))  # the read below takes about 2 s
    killer.start()
    try:
        with pytest.raises(WorkerCrash) as info:
            xb.read(rng.uniform(-0.2, 0.2, (64, 64)), backend="spice")
    finally:
        killer.cancel()
    assert Path(info.value.netlist_path).exists() and "exit code -9" in str(info.value)
    assert xb.read(np.full(64, 0.1), backend="spice").shape == (64,)
    assert backend.worker.pid != pid
    backend.close()


def _rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_memory_stays_flat_over_1000_reads(tmp_path, rng):
    backend = spicelim.spice.SpiceBackend(run_dir=tmp_path)
    xb = spicelim.Crossbar(16, 16, r_row=2.5, r_col=2.5, backends={"spice": backend})
    xb.set_conductance(rng.uniform(1e-6, 1e-4, (16, 16)))
    v = rng.uniform(-0.2, 0.2, (4, 16))
    for _ in range(50):
        xb.read(v, backend="spice")
    before = _rss_kb(backend.worker.pid) + _rss_kb(os.getpid())
    for _ in range(1000):
        xb.read(v, backend="spice")
    growth_mb = (_rss_kb(backend.worker.pid) + _rss_kb(os.getpid()) - before) / 1024
    assert growth_mb <= 50, f"memory grew by {growth_mb:.1f} MB over 1000 reads"
    backend.close()


def test_user_script_without_main_guard(tmp_path):
    """The README quick start saved as a plain script (no __main__ guard) reads through ngspice."""
    script = tmp_path / "quick.py"
    script.write_text(
        "import numpy as np\nimport spicelim\n"
        "xb = spicelim.Crossbar(rows=3, cols=2, r_row=1.0, r_col=1.0)\n"
        "xb.set_conductance(np.full((3, 2), 1e-5))\n"
        "print(float(xb.read(np.array([0.1, 0.2, 0.3]), backend='spice').sum()))\nxb.close()\n")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    assert float(out.stdout.strip()) == pytest.approx(0.6 * 2 * 1e-5, rel=1e-2)


def test_interrupted_read_never_leaks_into_the_next(tmp_path, monkeypatch):
    from multiprocessing.connection import Connection

    with NgspiceWorker() as w:
        w.run(SQUARE, ["v(1)"], 1, save_failed=saver(tmp_path))
        real_poll = Connection.poll
        calls = {"n": 0}

        def interrupted(self, timeout=0.0):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return real_poll(self, timeout)

        monkeypatch.setattr(Connection, "poll", interrupted)
        with pytest.raises(KeyboardInterrupt):
            w.run(SQUARE, ["v(1)"], 1, save_failed=saver(tmp_path))
        other = SQUARE.replace("V1 in 0 2", "V1 in 0 5")
        out = w.run(other, ["v(1)"], 1, save_failed=saver(tmp_path))
        assert out.vectors["v(1)"][0] == pytest.approx(2.5)

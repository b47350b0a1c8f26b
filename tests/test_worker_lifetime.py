"""The ngspice worker shared between threads, closed, orphaned and interrupted: right answers, no
restarts, nothing left running."""

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import spicelim
from spicelim.spice import SpiceBackend

pytestmark = pytest.mark.spice


def alive(pid: int) -> bool:
    """True while process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_two_threads_share_one_backend_and_each_gets_its_own_answer(tmp_path):
    """2 threads x 150 reads on one SpiceBackend, each array with its own conductances: every answer is
    that array's v @ G, the worker never restarts, and close() leaves no process behind."""
    backend = SpiceBackend(timeout_s=60, run_dir=tmp_path)
    rng = np.random.default_rng(0)
    arrays = []
    for k in range(2):
        xb = spicelim.Crossbar(3, 2, backends={"spice": backend})
        xb.set_conductance(rng.uniform(1e-6, 2e-5, (3, 2)) * (k + 1))
        arrays.append(xb)
    v = rng.uniform(-0.2, 0.2, (150, 3))
    errors: list = []
    wrong = [0, 0]
    pids = set()

    def reader(k):
        xb = arrays[k]
        want = v @ xb.conductance
        try:
            for i in range(150):
                got = xb.read(v[i])
                pids.add(backend.worker.pid)
                if not np.allclose(got, want[i], rtol=1e-9, atol=1e-15):
                    wrong[k] += 1
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors and wrong == [0, 0]
    assert len(pids) == 1  # one worker process served all 300 reads: no restart
    pid = pids.pop()
    backend.close()
    deadline = time.time() + 5
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    assert backend.worker.pid is None


def test_the_worker_dies_within_two_seconds_of_its_parent_being_killed(tmp_path):
    """A parent killed with SIGKILL in the middle of a long simulation takes its worker with it."""
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import sys
        from spicelim.spice import NgspiceWorker
        w = NgspiceWorker(timeout_s=600)
        w.run("warm\\nV1 1 0 1\\nR1 1 0 1\\n.op\\n.end\\n", ["v(1)"], 1, save_failed=lambda t: "x")
        print(w.pid, flush=True)
        slow = "slow\\nV1 1 0 sin(0 1 1e6)\\nR1 1 2 1k\\nC1 2 0 1n\\n.tran 1e-12 1e-2\\n.end\\n"
        w.run(slow, ["v(2)"], None, save_failed=lambda t: "x")
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # the long transient is running now
    assert alive(worker_pid)
    parent.kill()
    parent.wait()
    t0 = time.time()
    while alive(worker_pid) and time.time() - t0 < 5:
        time.sleep(0.02)
    gone_after = time.time() - t0
    assert not alive(worker_pid), "the worker outlived its parent by 5 s"
    assert gone_after < 2.0


def test_ctrl_c_to_the_process_group_does_not_reach_the_worker(tmp_path):
    """SIGINT to the caller's whole process group while idle, then a read at once: it works."""
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent("""
        import signal, os, sys
        import numpy as np
        import spicelim
        # a shell that starts jobs in the background ignores SIGINT for them, and children inherit
        # that: take the terminal's default, so the worker starts as it would under a user's shell
        signal.signal(signal.SIGINT, signal.default_int_handler)
        xb = spicelim.Crossbar(2, 2)
        xb.set_conductance(np.full((2, 2), 1e-5))
        xb.read(np.full(2, 0.1))
        pid = xb.backend().worker.pid
        signal.signal(signal.SIGINT, lambda *a: None)  # the caller survives its own Ctrl-C
        os.killpg(os.getpgid(0), signal.SIGINT)
        current = float(xb.read(np.full(2, 0.1))[0])  # at once
        print(xb.backend().worker.pid == pid, current, flush=True)
        xb.close()
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         start_new_session=True)  # its own process group, so the test runner is not hit
    assert res.returncode == 0, res.stderr
    same_worker, current = res.stdout.split()
    assert same_worker == "True" and float(current) == pytest.approx(2e-6, rel=1e-9)

"""spicelim as a package: a wheel built from the tracked files installs into a fresh virtual
environment and works there (Verilog-A models are package data, `python -m spicelim` runs, and a
SPICE read with a Verilog-A device gives the fast backend's currents); some test modules then run
against that installed copy instead of the source tree."""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.spice, pytest.mark.slow]

#: test modules run again against the installed wheel (they use no file of the source tree)
INSTALLED_TESTS = ("test_spice_reads.py", "test_devices_vteam.py")


def _tracked_copy(dest: Path) -> Path:
    """The repository's tracked files (a clean checkout), symlinks kept as links."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src, dst = ROOT / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.exists():  # (a tracked file deleted in the working tree is not part of the copy)
            shutil.copy2(src, dst)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv holding only the wheel, a folder outside the source tree to run in)."""
    work = tmp_path_factory.mktemp("package")
    src = _tracked_copy(work / "checkout")
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-w", str(wheels), str(src)], check=True, capture_output=True)
    (wheel,) = wheels.glob("spicelim-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    # The dependencies come from this environment's site-packages, appended after the venv's own
    # (a plain path in a .pth file: this environment's editable spicelim finder is not activated).
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run_dir = work / "elsewhere"
    run_dir.mkdir()
    return python, run_dir


def _run(python, cwd, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_wheel_installs_and_reads_through_verilog_a(installed):
    python, cwd = installed
    script = textwrap.dedent("""
        import json, warnings
        import numpy as np
        warnings.simplefilter("error")  # a fallback to the behavioural twin would warn
        import spicelim
        from spicelim._paths import MODELS_DIR
        from spicelim.devices import VTEAM
        from spicelim.spice import SpiceBackend
        backend = SpiceBackend(run_dir="spice-runs", keep_netlists=True)
        dev = VTEAM(iv="exponential")
        xb = spicelim.Crossbar(4, 3, r_row=2.0, r_col=2.0, device=dev, backends={"spice": backend})
        lo, hi = dev.state_bounds
        xb.set_state(np.random.default_rng(0).uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), (4, 3)))
        v = np.random.default_rng(1).uniform(-0.1, 0.1, (2, 4))
        spice, fast = xb.read(v, backend="spice"), xb.read(v, backend="fast")
        netlist = backend.last_netlist_path.read_text()
        backend.close()
        print(json.dumps({"file": spicelim.__file__, "models": str(MODELS_DIR),
                          "va": sorted(p.name for p in MODELS_DIR.glob("*.va")),
                          "osdi": any(s.lower().startswith("ncell0_0 ") for s in netlist.splitlines()),
                          "err": float(np.max(np.abs(spice - fast)) / np.max(np.abs(fast)))}))
    """)
    res = _run(python, cwd, "-c", script)
    assert res.returncode == 0, res.stderr
    import json

    out = json.loads(res.stdout.strip().splitlines()[-1])
    venv = python.parent.parent
    assert Path(out["file"]).is_relative_to(venv) and Path(out["models"]).is_relative_to(venv)
    assert out["va"] == ["soft_bounds.va", "stanford_pku.va", "vteam.va", "yakopcic.va"]
    assert out["osdi"], "the read did not load the compiled Verilog-A model"
    assert out["err"] < 1e-3  # ngspice's Newton tolerance; the fast backend solves the same linear network


def test_python_m_spicelim_runs(installed):
    python, cwd = installed
    res = _run(python, cwd, "-m", "spicelim", "--help")
    assert res.returncode == 0 and "doctor" in res.stdout and "sweep" in res.stdout


def test_test_modules_pass_against_the_installed_wheel(installed):
    python, cwd = installed
    tests = cwd / "tests"
    tests.mkdir(exist_ok=True)
    for name in ("conftest.py", "reference.py", *INSTALLED_TESTS):
        shutil.copy2(ROOT / "tests" / name, tests / name)
    probe = "import spicelim, sys; print(spicelim.__file__)"
    where = _run(python, cwd, "-c", probe).stdout.strip()
    assert Path(where).is_relative_to(python.parent.parent), where
    res = _run(python, cwd, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout and "failed" not in res.stdout

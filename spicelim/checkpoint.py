"""Saved state: random-stream states as plain values, and state dicts written to and read from one file.

    state = xb.state_dict()                       # nested dicts of numpy arrays and plain values
    spicelim.save_state("run/array.npz", state)   # atomic: a complete file or none
    xb2.load_state_dict(spicelim.load_state("run/array.npz"))

A state file is an uncompressed NPZ archive: every array under its path in the nested dict
("variability/stuck"), and the rest (numbers, strings, None, lists, random-stream states with
their 128-bit integers) as JSON in the entry "__structure__". Nothing in it is pickled, so
loading runs no code.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import InvalidParameterError
from .validation import path_value, show

_STRUCTURE = "__structure__"
_ARRAY = "__array__"


def generator_state(rng: np.random.Generator) -> dict:
    """The state of a numpy Generator as plain Python values (JSON-friendly)."""
    return rng.bit_generator.state


def checked_generator_state(rng: np.random.Generator, state, what: str) -> dict:
    """`state` (from generator_state) after checking it fits `rng`'s bit generator; `rng` is not changed."""
    trial = type(rng.bit_generator)()
    try:
        trial.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidParameterError(f"saved state of the {what} stream does not fit: {exc}") from None
    return trial.state


def _split(value, path: str, arrays: dict[str, np.ndarray]):
    """`value` with every numpy array replaced by a reference to its entry in `arrays`."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise InvalidParameterError(f"state entry {show(path)} is a {value.dtype} array: only numeric arrays are saved")
        arrays[path] = value
        return {_ARRAY: path}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or "/" in k or k == _ARRAY:
                raise InvalidParameterError(f"state keys must be strings without '/', got {show(k)} under {show(path)}")
            out[k] = _split(v, f"{path}/{k}" if path else k, arrays)
        return out
    if isinstance(value, (list, tuple)):
        return [_split(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise InvalidParameterError(f"state entry {show(path)} is a {type(value).__name__}: save plain values and arrays")


def _join(value, arrays):
    if isinstance(value, dict):
        if set(value) == {_ARRAY}:
            return arrays[value[_ARRAY]]
        return {k: _join(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, arrays) for v in value]
    return value


def atomic_write(path: Path, write) -> None:
    """write(temporary path) in path's folder, flush it to disk, then rename it to `path`: a reader sees
    the old file or the complete new one, and a failure leaves no temporary file behind."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(path: str | os.PathLike, state: dict) -> Path:
    """Write a state dict to `path` (.npz) atomically: a reader sees the old file or the complete new one."""
    if not isinstance(state, dict):
        raise InvalidParameterError(f"state must be a dict, got {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    structure = _split(state, "", arrays)
    path = path_value("state file", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **{_STRUCTURE: np.array(json.dumps(structure))}, **arrays)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))
    return path


def load_state(path: str | os.PathLike) -> dict:
    """Read a state dict written by save_state."""
    path = path_value("state file", path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidParameterError(f"{path} is not a spicelim state file: {exc}") from None
    if _STRUCTURE not in arrays:
        raise InvalidParameterError(f"{path} is not a spicelim state file (no {_STRUCTURE} entry)")
    try:
        structure = json.loads(str(arrays.pop(_STRUCTURE)))
        return _join(structure, arrays)
    except (ValueError, KeyError) as exc:
        raise InvalidParameterError(f"{path} is a damaged spicelim state file: {exc}") from None

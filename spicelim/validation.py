"""Small checks shared by the parameter dataclasses: each raises a typed, named error."""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from .errors import InvalidParameterError, ShapeError


def real_number(name: str, value, *, minimum: float | None = None, strict: bool = False,
                maximum: float | None = None) -> float:
    """Return `value` as a finite float, checking an optional lower (and upper) bound.

    `strict=True` makes the lower bound exclusive (value > minimum).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a real number, got {show(value)}")
    try:
        x = float(value)
    except (OverflowError, ValueError, TypeError):
        raise InvalidParameterError(f"{name} must be a finite real number, got {show(value)}") from None
    if not math.isfinite(x):
        raise InvalidParameterError(f"{name} must be finite, got {x}")
    if minimum is not None:
        if strict and not x > minimum:
            raise InvalidParameterError(f"{name} must be > {minimum:g}, got {x:g}")
        if not strict and not x >= minimum:
            raise InvalidParameterError(f"{name} must be >= {minimum:g}, got {x:g}")
    if maximum is not None and x > maximum:
        raise InvalidParameterError(f"{name} must be <= {maximum:g}, got {x:g}")
    return x


def show(value) -> str:
    """A short, safe description of a value for an error message."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - e.g. an int too long to print: describe it by its type
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:40]}... ({type(value).__name__})"


def positive_int(name: str, value, *, maximum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {show(value)}")
    if maximum is not None and value > maximum:
        raise InvalidParameterError(f"{name} must be <= {maximum}, got {show(value)}")
    return int(value)


MAX_SEED = 2**128 - 1


def non_negative_int(name: str, value, *, maximum: int = MAX_SEED) -> int:
    """An integer in [0, maximum] (a seed, a count that may be zero); bools are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not 0 <= value <= maximum:
        raise InvalidParameterError(f"{name} must be an integer in [0, {maximum}], got {show(value)}")
    return int(value)


def index(name: str, value, limit: int) -> int:
    """An integer in [0, limit) (a row or column number)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not 0 <= value < limit:
        raise InvalidParameterError(f"{name} must be an integer in [0, {limit}), got {show(value)}")
    return int(value)


def choice(name: str, value, options: tuple[str, ...]) -> str:
    """One of the strings `options` (checked as a string first, so arrays and other objects are refused cleanly)."""
    if not isinstance(value, str) or value not in options:
        raise InvalidParameterError(f"{name} must be one of {options}, got {show(value)}")
    return value


def boolean(name: str, value) -> bool:
    """True or False (numpy booleans too; not 0, 1 or other objects)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {show(value)}")
    return bool(value)


def array_shape(name: str, value, maximum: int | None = None) -> tuple[int, int]:
    """An array size (rows, cols): a pair of positive integers, each at most `maximum`."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidParameterError(f"{name} must be a (rows, cols) pair of positive integers, got {show(value)}")
    return (positive_int(f"{name}[0] (rows)", value[0], maximum=maximum),
            positive_int(f"{name}[1] (cols)", value[1], maximum=maximum))


def _items(name: str, values, most: int = 10_000) -> list:
    """The items of a list or tuple (a single scalar counts as one item), at least one and at most `most`."""
    if isinstance(values, (str, bytes, dict, set)) or values is None:
        raise InvalidParameterError(f"{name} must be a list of values, got {show(values)}")
    items = list(values) if isinstance(values, (list, tuple, range, np.ndarray)) else [values]
    if not items or len(items) > most:
        raise InvalidParameterError(f"{name} must hold 1 to {most} values, got {len(items)}")
    return items


def integer_list(name: str, values, lo: int, hi: int) -> list[int]:
    """Sorted distinct integers in [lo, hi] from a list (or one integer)."""
    out = []
    for x in _items(name, values):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or not lo <= x <= hi:
            raise InvalidParameterError(f"{name} must be integers in {lo}..{hi}, got {show(x)}")
        out.append(int(x))
    return sorted(set(out))


def number_list(name: str, values, **bounds) -> list[float]:
    """Sorted distinct finite numbers from a list (or one number), each within real_number's `bounds`."""
    return sorted({real_number(name, x, **bounds) for x in _items(name, values)})


def choice_list(name: str, values, options: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct strings from `options`, in the order given."""
    out = []
    for x in _items(name, values):
        if choice(name, x, options) not in out:
            out.append(x)
    return tuple(out)


def integer_array(name: str, value, shape: tuple[int, ...] | None = None, *, bound: int = 2**53) -> np.ndarray:
    """An int64 copy of integer values (integer dtype, or integral finite floats), each |x| <= bound."""
    raw = as_array(name, value)
    if raw.dtype.kind == "f":
        arr = finite_array(name, raw)
        if np.any(arr != np.round(arr)):
            raise InvalidParameterError(f"{name} must hold integers, got {arr[arr != np.round(arr)].flat[0]:g}")
    else:
        arr = raw
    if arr.size and (np.max(arr) > bound or np.min(arr) < -bound):
        raise InvalidParameterError(f"{name} must lie within +-{bound}, got {show(arr.flat[np.argmax(np.abs(arr))])}")
    out = np.array(arr, dtype=np.int64)
    if shape is not None and out.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {out.shape}")
    return out


def bool_array(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask of `shape` (booleans, or integers 0 and 1)."""
    raw = as_array(name, value, kinds="biu")
    if raw.dtype.kind != "b" and raw.size and not np.all((raw == 0) | (raw == 1)):
        raise InvalidParameterError(f"{name} must be a boolean mask (True/False or 0/1)")
    if raw.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {raw.shape}")
    return raw.astype(bool)


def path_value(name: str, value) -> Path:
    """A file-system path given as a str or os.PathLike (not bytes), non-empty and without NUL characters."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidParameterError(f"{name} must be a path (str or os.PathLike), got {show(value)}")
    text = os.fspath(value)
    if not isinstance(text, str) or not text or "\x00" in text:
        raise InvalidParameterError(f"{name} must be a non-empty text path without NUL characters, got {show(value)}")
    return Path(text)


def as_array(name: str, value, kinds: str = "iuf") -> np.ndarray:
    """np.asarray(value), refusing ragged nesting and dtypes outside `kinds` (numpy kind letters) with a typed error."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidParameterError(f"{name} must be a numeric array: {exc}") from None
    if raw.dtype.kind not in kinds:
        what = {"iuf": "a real numeric array", "iu": "an array of integers", "b": "a boolean array",
                "biu": "a boolean array"}.get(kinds, f"an array of numpy kind {show(kinds)}")
        raise InvalidParameterError(f"{name} must be {what}, got dtype {raw.dtype}")
    return raw


def finite_array(name: str, value, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return a float64 copy of `value`, checking it is numeric, finite and (optionally) of `shape`."""
    raw = as_array(name, value)
    with np.errstate(over="ignore"):
        arr = np.array(raw, dtype=np.float64)
    if shape is not None and arr.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidParameterError(f"{name} must be finite; found {arr[tuple(bad)]} at index {tuple(int(k) for k in bad)}")
    return arr


def batch_of_vectors(name: str, value, length: int) -> tuple[np.ndarray, bool]:
    """Accept a (length,) vector or a (B, length) batch; return a (B, length) array and whether it was 1-D."""
    arr = finite_array(name, value)
    if arr.ndim == 1 and arr.shape[0] == length:
        return arr[None, :], True
    if arr.ndim == 2 and arr.shape[1] == length and arr.shape[0] >= 1:
        return arr, False
    raise ShapeError(f"{name} must have shape ({length},) or (batch, {length}), got {arr.shape}")


def read_toml(what: str, path) -> dict:
    """The table of a TOML file; an unreadable or invalid file raises InvalidParameterError naming `what`."""
    import tomllib

    path = path_value(what, path)
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise InvalidParameterError(f"cannot read the {what} {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"{path} is not valid TOML: {exc}") from None

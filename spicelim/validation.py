"""Small checks shared by the parameter dataclasses: each raises a typed, named error."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import InvalidParameterError, ShapeError


def real_number(name: str, value, *, minimum: float | None = None, strict: bool = False,
                maximum: float | None = None) -> float:
    """Return `value` as a finite float, checking an optional lower (and upper) bound.

    `strict=True` makes the lower bound exclusive (value > minimum).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a real number, got {value!r}")
    x = float(value)
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


def positive_int(name: str, value, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidParameterError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def non_negative_int(name: str, value) -> int:
    """An integer >= 0 (a seed, a count that may be zero); bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InvalidParameterError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def finite_array(name: str, value, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return a float64 copy of `value`, checking it is numeric, finite and (optionally) of `shape`."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a numeric array: {exc}") from None
    if raw.dtype.kind not in "iuf":
        raise InvalidParameterError(f"{name} must be a real numeric array, got dtype {raw.dtype}")
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

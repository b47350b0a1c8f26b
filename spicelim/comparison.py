"""One comparison path: the same case on two backends (or any two answers) -> error metrics and timings.

    cmp = compare_backends(lambda b: xb.read(v, backend=b), candidate="fast", reference="spice")
    cmp.agreement.max_rel        # max |fast - spice| / max |spice|
    cmp.agreement.norm_error     # ||fast - spice|| / ||spice||
    cmp.speedup                  # spice seconds / fast seconds

Every study, benchmark and the command line measure disagreement through `agreement` and time two
backends through `compare_backends`, so "within 1e-6 of the largest current" means the same
thing everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InvalidParameterError, ShapeError
from .validation import bool_array, finite_array, real_number


@dataclass(frozen=True)
class Agreement:
    """How far an answer is from a reference (same units as both).

    max_abs, rms_abs: largest and root-mean-square |value - reference| over the compared entries.
    scale: what the relative figures divide by (by default the largest |reference|).
    norm_error: ||value - reference|| / ||reference|| (Frobenius norms over the compared entries).
    count: number of entries compared.
    """

    max_abs: float
    rms_abs: float
    scale: float
    norm_error: float
    count: int

    @property
    def max_rel(self) -> float:
        """max_abs / scale."""
        return self.max_abs / self.scale

    @property
    def rms_rel(self) -> float:
        """rms_abs / scale."""
        return self.rms_abs / self.scale


def agreement(values, reference, scale: float | None = None, mask=None) -> Agreement:
    """Compare `values` with `reference` (arrays of one shape), optionally only where `mask` is True.

    scale: the magnitude relative errors refer to (e.g. a state range); default max |reference|
    over the compared entries (1 when the reference and the values are all zero). An empty
    comparison (mask selects nothing) has zero error.
    """
    a = finite_array("values", values)
    r = finite_array("reference", reference)
    if a.shape != r.shape:
        raise ShapeError(f"cannot compare shapes {a.shape} and {r.shape}")
    if mask is not None:
        m = bool_array("mask", mask, a.shape)
        a, r = a[m], r[m]
    with np.errstate(over="ignore"):
        d = np.abs(a - r)
    if scale is None:
        scale = float(np.max(np.abs(r), initial=0.0))
        if scale == 0:
            if np.any(d):
                raise InvalidParameterError("the reference is zero everywhere: give the scale to compare against")
            scale = 1.0
    else:
        scale = real_number("scale", scale, minimum=0.0, strict=True)
    ref_norm, diff_norm = _norm(r), _norm(d)
    if ref_norm == 0 and diff_norm > 0:
        raise InvalidParameterError("the reference is zero everywhere: its relative error is undefined")
    with np.errstate(over="ignore"):
        out = Agreement(max_abs=float(np.max(d, initial=0.0)), rms_abs=diff_norm / np.sqrt(max(d.size, 1)),
                        scale=scale, norm_error=diff_norm / ref_norm if ref_norm > 0 else 0.0, count=int(d.size))
        finite = all(np.isfinite(x) for x in (out.max_abs, out.rms_abs, out.max_rel, out.rms_rel, out.norm_error))
    if not finite:
        raise InvalidParameterError("the difference or its ratio to the reference overflows a float: compare"
                                    " values of ordinary magnitude")
    return out


def _norm(x: np.ndarray) -> float:
    """Euclidean norm without overflow or underflow (scaled by the largest magnitude)."""
    big = float(np.max(np.abs(x), initial=0.0))
    if big == 0 or not np.isfinite(big):
        return big
    return big * float(np.sqrt(np.sum((x / big) ** 2)))


@dataclass(frozen=True, eq=False)
class BackendComparison:
    """The same case run on two backends: what each returned, how long each took, and how far apart they are."""

    candidate: str
    reference: str
    agreement: Agreement
    candidate_seconds: float
    reference_seconds: float
    candidate_result: Any
    reference_result: Any

    @property
    def speedup(self) -> float:
        """reference seconds / candidate seconds."""
        return self.reference_seconds / self.candidate_seconds if self.candidate_seconds > 0 else float("inf")


def _name(backend) -> str:
    return backend if isinstance(backend, str) else getattr(backend, "name", type(backend).__name__)


def compare_backends(case: Callable[[Any], Any], candidate="fast", reference="spice", *,
                     values: Callable[[Any], np.ndarray] | None = None, scale: float | None = None,
                     mask=None) -> BackendComparison:
    """Run case(backend) for the reference, then for the candidate, timing each; compare their values.

    case: one argument, a backend name or instance, passed on to the calls it makes.
    values: picks the array to compare out of what case returns (default: the result itself).
    scale, mask: as in agreement().
    """
    if not callable(case):
        raise InvalidParameterError("case must be a callable taking a backend")
    pick = values or (lambda result: result)
    t0 = time.perf_counter()
    ref = case(reference)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    cand = case(candidate)
    t_cand = time.perf_counter() - t0
    return BackendComparison(candidate=_name(candidate), reference=_name(reference),
                             agreement=agreement(pick(cand), pick(ref), scale=scale, mask=mask),
                             candidate_seconds=t_cand, reference_seconds=t_ref, candidate_result=cand,
                             reference_result=ref)

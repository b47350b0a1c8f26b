"""Line-end bias conditions: which line ends are driven, held at 0 V (sensed) or left floating.

A `LineBias` describes one batch of operating points. Each row end D[i] and column end S[j] is a
terminal: either floating, or tied to a voltage source (one value per batch item) through a
series resistance. Every tied terminal reports the current flowing from the array into it, so a
sense node (0 V, no resistance) reports its sensed current and a driven line reports minus the
current its driver supplies.

Reads are special cases:
    forward    rows driven through r_source, columns held at 0 V (ideal virtual ground);
    transposed columns driven through r_source, rows held at 0 V;
    select     one cell addressed with the other lines floating, at V/2 or at V/3.

A read through the periphery adds `SenseTerminals`: which line ends are sensed (the columns of a
forward read, the rows of a transposed one) and through what: an ideal virtual ground or a TIA
whose + input sits at given voltages, a current injected at each sense node (the device read
noise) and, for backends that can simulate it, an ADC quantizer on every TIA output. Every
backend receives the same description and solves it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import InvalidParameterError, ShapeError
from .validation import (
    array_shape,
    as_array,
    choice,
    finite_array,
    index,
    positive_int,
    real_number,
)

if TYPE_CHECKING:
    from .periphery.tia import TIA

SELECT_SCHEMES = ("float", "V/2", "V/3")


@dataclass(frozen=True, eq=False)
class LineBias:
    """Terminal conditions at the row ends (D) and column ends (S) for a batch of B points.

    Attributes:
        row_v: (B, M) volts at each row terminal source; ignored where `row_float`.
        col_v: (B, N) volts at each column terminal source; ignored where `col_float`.
        row_r: (M,) ohms between row source and D[i].
        col_r: (N,) ohms between column source and S[j].
        row_float, col_float: (M,), (N,) True where the line end is left open.
    """

    row_v: np.ndarray
    col_v: np.ndarray
    row_r: np.ndarray
    col_r: np.ndarray
    row_float: np.ndarray
    col_float: np.ndarray

    def __post_init__(self):
        for name, kinds, dtype in (("row_v", "iuf", float), ("col_v", "iuf", float), ("row_r", "iuf", float),
                                   ("col_r", "iuf", float), ("row_float", "b", bool), ("col_float", "b", bool)):
            with np.errstate(over="ignore"):  # too large for a float: refused below as not finite
                arr = np.array(as_array(f"LineBias {name}", getattr(self, name), kinds), dtype=dtype)  # private copy
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.row_v.ndim != 2 or self.col_v.ndim != 2 or self.col_v.shape[0] != self.row_v.shape[0] \
                or self.row_v.shape[0] < 1:
            raise ShapeError("row_v and col_v must be (B, M) and (B, N) with the same B >= 1")
        m, n = self.row_v.shape[1], self.col_v.shape[1]
        for name, arr, k in (("row_r", self.row_r, m), ("col_r", self.col_r, n),
                             ("row_float", self.row_float, m), ("col_float", self.col_float, n)):
            if arr.shape != (k,):
                raise ShapeError(f"{name} must have shape ({k},), got {arr.shape}")
        for arr in (self.row_v, self.col_v, self.row_r, self.col_r):
            if not np.all(np.isfinite(arr)):
                raise InvalidParameterError("bias voltages and resistances must be finite")
        if np.any(self.row_r < 0) or np.any(self.col_r < 0):
            raise InvalidParameterError("terminal resistances must be >= 0 ohm")
        if np.all(self.row_float) and np.all(self.col_float):
            raise InvalidParameterError("at least one line end must be tied to a source")

    @property
    def batch(self) -> int:
        return self.row_v.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.row_v.shape[1], self.col_v.shape[1])

    def take(self, start: int, stop: int) -> LineBias:
        """The bias points start..stop-1 of this batch (same terminals)."""
        if (start, stop) == (0, self.batch):
            return self
        return LineBias(row_v=self.row_v[start:stop], col_v=self.col_v[start:stop], row_r=self.row_r,
                        col_r=self.col_r, row_float=self.row_float, col_float=self.col_float)

    def row_is_constant(self) -> np.ndarray:
        """(M,) True where a row source has the same voltage for every batch item."""
        return np.all(self.row_v == self.row_v[:1], axis=0)

    def col_is_constant(self) -> np.ndarray:
        return np.all(self.col_v == self.col_v[:1], axis=0)


@dataclass(frozen=True, eq=False)
class NetlistQuantizer:
    """An ADC simulated inside a netlist on every TIA output (see periphery.adc.ADC.thresholds).

    thresholds: (L, 2^bits - 1) volts at which each line's code steps up, strictly increasing.
    noise: (B, L) input-referred conversion noise of every read and line, volts, or None.
    """

    thresholds: np.ndarray
    noise: np.ndarray | None = None

    @property
    def bits(self) -> int:
        return int(self.thresholds.shape[1] + 1).bit_length() - 1


@dataclass(frozen=True, eq=False)
class SenseTerminals:
    """How the sensed line ends of a read are terminated (the same description for every backend).

    Attributes:
        rows: True when the row ends D[i] are sensed (transposed read), False for the column ends S[j].
        tia: the periphery.TIA on every sensed line, or None for an ideal virtual ground at 0 V.
        v_plus: (B, L) volts at each TIA's non-inverting input (offset plus noise); None without a TIA.
        injected: (B, L) amperes injected into each sense node from outside the array (the device
            read noise: it flows through the TIA like array current), or None.
        quantizer: an ADC simulated inside the netlist (NetlistQuantizer), or None; only for
            backends with the NETLIST_QUANTIZER capability.

    The LineBias of the same read holds the sensed ends as 0 V terminals without resistance; the
    backend replaces them by this description.
    """

    rows: bool
    tia: TIA | None = None
    v_plus: np.ndarray | None = None
    injected: np.ndarray | None = None
    quantizer: NetlistQuantizer | None = None

    def __post_init__(self):
        if (self.tia is None) != (self.v_plus is None):
            raise InvalidParameterError("SenseTerminals needs v_plus exactly when it has a TIA")
        if self.quantizer is not None and self.tia is None:
            raise InvalidParameterError("a netlist quantizer digitises TIA outputs: SenseTerminals needs a tia")
        for name in ("v_plus", "injected"):
            value = getattr(self, name)
            if value is not None:
                arr = np.array(value, dtype=float)
                if arr.ndim != 2 or not np.all(np.isfinite(arr)):
                    raise InvalidParameterError(f"SenseTerminals {name} must be a finite (B, L) array")
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)

    @property
    def side(self) -> str:
        """"rows" or "cols": which line ends are sensed."""
        return "rows" if self.rows else "cols"

    def check(self, bias: LineBias) -> None:
        """Raise ShapeError unless the arrays fit `bias` (B points, L sensed lines)."""
        want = (bias.batch, bias.shape[0] if self.rows else bias.shape[1])
        for name in ("v_plus", "injected"):
            value = getattr(self, name)
            if value is not None and value.shape != want:
                raise ShapeError(f"SenseTerminals {name} must have shape {want}, got {value.shape}")
        if self.quantizer is not None and self.quantizer.thresholds.shape[0] != want[1]:
            raise ShapeError(f"the netlist quantizer needs thresholds for {want[1]} lines")

    def take(self, start: int, stop: int) -> SenseTerminals:
        """The terminals of bias points start..stop-1."""
        def part(a):
            return None if a is None else a[start:stop]

        q = self.quantizer
        if q is not None and q.noise is not None:
            q = NetlistQuantizer(thresholds=q.thresholds, noise=q.noise[start:stop])
        return SenseTerminals(rows=self.rows, tia=self.tia, v_plus=part(self.v_plus), injected=part(self.injected),
                              quantizer=q)


def _batch(name: str, value) -> np.ndarray:
    arr = finite_array(name, value)
    if arr.ndim != 2:
        raise ShapeError(f"{name} must be a (batch, lines) array, got shape {arr.shape}")
    return arr


def forward(v: np.ndarray, n_cols: int, r_source: float) -> LineBias:
    """Rows driven with v (B, M) through r_source; columns held at 0 V and sensed."""
    v = _batch("v (row voltages, V)", v)
    n_cols = positive_int("n_cols", n_cols)
    b, m = v.shape
    return LineBias(row_v=v, col_v=np.zeros((b, n_cols)), row_r=np.full(m, r_source),
                    col_r=np.zeros(n_cols), row_float=np.zeros(m, bool), col_float=np.zeros(n_cols, bool))


def transposed(u: np.ndarray, n_rows: int, r_source: float) -> LineBias:
    """Columns driven with u (B, N) through r_source at S[j]; rows held at 0 V at D[i] and sensed."""
    u = _batch("u (column voltages, V)", u)
    n_rows = positive_int("n_rows", n_rows)
    b, n = u.shape
    return LineBias(row_v=np.zeros((b, n_rows)), col_v=u, row_r=np.zeros(n_rows),
                    col_r=np.full(n, r_source), row_float=np.zeros(n_rows, bool), col_float=np.zeros(n, bool))


def select_cell(shape: tuple[int, int], row: int, col: int, v_read: float, scheme: str,
                r_source: float) -> LineBias:
    """Address cell (row, col): its row driven at v_read, its column held at 0 V and sensed.

    scheme "float": every other line end open; "V/2": every other line at v_read/2;
    "V/3": other rows at v_read/3 and other columns at 2*v_read/3. Biased lines go through r_source.
    """
    m, n = array_shape("shape", shape)
    choice("scheme", scheme, SELECT_SCHEMES)
    row, col = index("row", row, m), index("col", col, n)
    v = real_number("v_read (V)", v_read)
    other_row = {"float": 0.0, "V/2": v / 2, "V/3": v / 3}[scheme]
    other_col = {"float": 0.0, "V/2": v / 2, "V/3": 2 * v / 3}[scheme]
    row_v = np.full((1, m), other_row)
    row_v[0, row] = v
    col_v = np.full((1, n), other_col)
    col_v[0, col] = 0.0
    row_float = np.full(m, scheme == "float")
    row_float[row] = False
    col_float = np.full(n, scheme == "float")
    col_float[col] = False
    col_r = np.full(n, r_source)
    col_r[col] = 0.0
    return LineBias(row_v=row_v, col_v=col_v, row_r=np.full(m, r_source), col_r=col_r,
                    row_float=row_float, col_float=col_float)

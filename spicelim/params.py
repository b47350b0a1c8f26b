"""Frozen, validated parameters of a crossbar array (geometry, cell kind, wires, selector)."""

from __future__ import annotations

from dataclasses import dataclass

from .devices.nmos import NmosSelector
from .errors import InvalidParameterError
from .validation import choice, positive_int, real_number

CELL_KINDS = ("0T1R", "1T1R")
MAX_LINES = 4096  # rows or columns; larger arrays exceed what either backend can hold in memory
#: Wire and driver resistances are 0 (ideal) or lie in [MIN_RESISTANCE, MAX_RESISTANCE] ohms: below a
#: micro-ohm a segment is a short next to any device (1e3 S at most) and only spoils the conditioning.
MIN_RESISTANCE, MAX_RESISTANCE = 1e-6, 1e12


@dataclass(frozen=True)
class CrossbarParams:
    """Everything about an array except its device state.

    Geometry (see DESIGN.md): cell (i, j) joins row node R[i, j] to column node C[i, j]. Row i is
    driven at its left end D[i] through `r_source`; column j is sensed at its bottom end S[j].

    Attributes:
        rows, cols: array size M x N.
        cell: "0T1R" (passive: the device alone) or "1T1R" (device in series with an NMOS
            selector between the device and the column line; gate on the row's word line).
        r_row: resistance of one row-line segment, ohms (0 means an ideal row line).
        r_col: resistance of one column-line segment, ohms (0 means an ideal column line).
        r_source: output resistance of each line driver, ohms (0 means an ideal driver).
        selector: the 1T1R access transistor (None for 0T1R; default NmosSelector() for 1T1R).
    """

    rows: int
    cols: int
    cell: str = "0T1R"
    r_row: float = 0.0
    r_col: float = 0.0
    r_source: float = 0.0
    selector: NmosSelector | None = None

    def __post_init__(self):
        object.__setattr__(self, "rows", positive_int("rows", self.rows, maximum=MAX_LINES))
        object.__setattr__(self, "cols", positive_int("cols", self.cols, maximum=MAX_LINES))
        for name in ("r_row", "r_col", "r_source"):
            value = real_number(f"{name} (ohm)", getattr(self, name), minimum=0.0, maximum=MAX_RESISTANCE)
            if 0 < value < MIN_RESISTANCE:
                raise InvalidParameterError(f"{name} must be 0 (ideal) or at least {MIN_RESISTANCE:g} ohm, got {value:g}")
            object.__setattr__(self, name, value)
        choice("cell", self.cell, CELL_KINDS)
        if self.cell == "1T1R" and self.selector is None:
            object.__setattr__(self, "selector", NmosSelector())
        if self.cell == "0T1R" and self.selector is not None:
            raise InvalidParameterError("a 0T1R (passive) array has no selector: leave selector=None")
        if self.selector is not None and not isinstance(self.selector, NmosSelector):
            raise InvalidParameterError(f"selector must be an NmosSelector, got {type(self.selector).__name__}")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    @property
    def has_selector(self) -> bool:
        return self.cell == "1T1R"

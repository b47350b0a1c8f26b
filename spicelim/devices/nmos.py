"""The NMOS selector of a 1T1R cell: its model card and its linearised on-resistance.

The SPICE backend uses the model card as written in `models/nmos_1t1r.lib` (ngspice level 1).
The fast backend replaces the on transistor by its small-signal drain-source resistance at
V_DS = 0 with the source at 0 V, computed here from the same card:

    R_on = 1 / (KP * W_eff / L_eff * (V_GS - VTO))      (level-1 triode region, V_DS -> 0)

This is an approximation (it ignores the V_DS dependence and any source-voltage shift); the
benchmark `scripts/bench_read.py` measures its error against ngspice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._paths import MODELS_DIR
from ..errors import InvalidParameterError
from ..validation import path_value, real_number, show

DEFAULT_CARD = MODELS_DIR / "nmos_1t1r.lib"
MIN_DIMENSION = 1e-9  # metres: the smallest channel width or length


@dataclass(frozen=True)
class ModelCard:
    """A parsed `.model NAME nmos` card: its name and parameters (lower-case keys, SI floats)."""

    name: str
    params: tuple[tuple[str, float], ...]

    def get(self, key: str, default: float) -> float:
        return dict(self.params).get(key, default)


def load_model_card(path: Path = DEFAULT_CARD) -> ModelCard:
    """Parse one `.model NAME nmos key=value ...` card (continuation lines with `+` allowed).

    Names and values are checked here, so a card cannot carry anything but a model into a netlist.
    """
    from ..netlist.safety import (  # the netlist package imports this module
        safe_name,
        user_model_name,
    )

    try:
        lines = [ln.strip() for ln in Path(path).read_text(encoding="ascii").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"cannot read the NMOS model card {path}: {exc}") from None
    body = [ln for ln in lines if ln and not ln.startswith("*")]
    joined = " ".join(ln[1:].strip() if ln.startswith("+") else ln for ln in body)
    tokens = joined.replace("(", " ").replace(")", " ").split()
    if len(tokens) < 3 or tokens[0].lower() != ".model":
        raise InvalidParameterError(f"{path}: expected a single '.model NAME nmos ...' card")
    name, kind = user_model_name(tokens[1], f"{path}: model name"), tokens[2].lower()
    if kind != "nmos":
        raise InvalidParameterError(f"{path}: the selector card must be of type nmos, got {show(kind)}")
    params = []
    for tok in tokens[3:]:
        key, sep, val = tok.partition("=")
        if not sep:
            raise InvalidParameterError(f"{path}: parameter {show(tok)} is not key=value")
        try:
            number = float(val)
        except ValueError:
            raise InvalidParameterError(f"{path}: parameter {key} has a non-numeric value {show(val)}") from None
        params.append((safe_name(key.lower(), f"{path}: parameter name"), real_number(f"{path}: {key}", number)))
    return ModelCard(name=name, params=tuple(params))


@dataclass(frozen=True)
class NmosSelector:
    """The access transistor of a 1T1R cell.

    Attributes:
        w: channel width, metres.
        l: channel length, metres.
        v_gate: word-line (gate) voltage during reads, volts.
        card_path: the ngspice model card file (level 1 by default).
    """

    w: float = 2e-6
    l: float = 1e-6
    v_gate: float = 5.0
    card_path: Path = field(default=DEFAULT_CARD)
    card: ModelCard = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "w", real_number("selector w (m)", self.w, minimum=MIN_DIMENSION, maximum=1e-3))
        object.__setattr__(self, "l", real_number("selector l (m)", self.l, minimum=MIN_DIMENSION, maximum=1e-3))
        object.__setattr__(self, "v_gate", real_number("selector v_gate (V)", self.v_gate, minimum=-100.0,
                                                       maximum=100.0))
        object.__setattr__(self, "card_path", path_value("selector card_path", self.card_path))
        card = load_model_card(self.card_path)  # parsed once, here, so a bad card fails at construction
        object.__setattr__(self, "card", card)
        if card.get("level", 1.0) != 1.0:
            raise InvalidParameterError("the selector on-resistance formula needs a level-1 model card")
        if self.v_gate <= card.get("vto", 0.0):
            raise InvalidParameterError(
                f"selector v_gate={self.v_gate:g} V is not above the threshold vto={card.get('vto', 0.0):g} V:"
                " the transistor would be off during reads")
        self.on_resistance  # noqa: B018 - a card and geometry without a finite on-resistance fail here

    @property
    def on_resistance(self) -> float:
        """Linearised drain-source resistance (ohms) at V_DS = 0, V_S = 0 and V_G = v_gate."""
        card = self.card
        kp = card.get("kp", 2e-5)
        vto = card.get("vto", 0.0)
        ld = card.get("ld", 0.0)
        l_eff = self.l - 2.0 * ld
        if l_eff <= 0:
            raise InvalidParameterError(f"effective channel length {l_eff:g} m is not positive (l - 2*ld)")
        with np.errstate(over="ignore", divide="ignore"):
            g_on = kp * self.w / l_eff * (self.v_gate - vto)
            r_on = 1.0 / g_on if g_on > 0 else float("inf")
        if not (np.isfinite(r_on) and r_on > 0):
            raise InvalidParameterError(f"the selector's on-resistance ({r_on:g} ohm) is not a positive finite"
                                        " value: check kp, w, l and v_gate")
        return r_on

"""Guards for everything that reaches netlist text: names, numbers and free text.

Netlists are written from numbers spicelim formats itself (`fmt`, from floats) and from names it
builds; anything that comes from outside (model-card names, parameter names, titles) passes an
allow-list: names are letters, digits and '_' starting with a letter; free text is one line of
printable ASCII letters, digits, spaces and a few punctuation marks. Nothing else (control
characters that Python or ngspice take as line breaks, non-ASCII, ';', quotes, backslashes) can
reach a netlist, so neither a dot-command (`.inc`, `.control`) nor a `shell` line can be smuggled
in. Names spicelim gives its own models and subcircuits are reserved.
"""

from __future__ import annotations

import math
import numbers
import re

from ..errors import NetlistInjectionError
from ..validation import show

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_RESERVED = {"shell", "control", "endc", "end", "include", "inc", "lib", "exec", "source", "options", "option"}
_TEXT = re.compile(r"[A-Za-z0-9 _\-.,:()\[\]=+/%#@<>!?]{0,200}")
_TEXT_COMMANDS = re.compile(r"^\s*[.*+]|\bshell\b|\.(control|endc|inc|include|lib)\b", re.IGNORECASE)
#: Names of spicelim's own models and subcircuits in a netlist (a user's card may not take them).
INTERNAL_NAMES = re.compile(r"(cellmodel\d*(_\d+)?|tia)", re.IGNORECASE)


def safe_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a plain identifier (letter first, then letters, digits, '_')."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.lower() in _RESERVED:
        raise NetlistInjectionError(
            f"{what} {show(name)} is not allowed in a netlist: use 1-64 letters, digits or '_', starting"
            " with a letter, and not a SPICE keyword")
    return name


def user_model_name(name: str, what: str = "model name") -> str:
    """A name from outside for a model: safe_name, and none of spicelim's own (cellmodel..., tia)."""
    safe_name(name, what)
    if INTERNAL_NAMES.fullmatch(name):
        raise NetlistInjectionError(f"{what} {show(name)} is reserved for spicelim's own netlist models: rename it")
    return name


def safe_text(text: str, what: str = "text") -> str:
    """Return free text (a title or comment) if it is one line of allowed characters."""
    if not isinstance(text, str) or not _TEXT.fullmatch(text) or _TEXT_COMMANDS.search(text):
        raise NetlistInjectionError(
            f"{what} {show(text)} is not allowed in a netlist: one line of at most 200 ASCII letters, digits,"
            " spaces and _ - . , : ( ) [ ] = + / % # @ < > ! ?, not starting with '.', '*' or '+', and"
            " without 'shell', '.control', '.inc', '.include' or '.lib'")
    return text


def fmt(value) -> str:
    """Format a real number for a netlist: shortest round-trip repr, never numpy's `np.float64(...)`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise NetlistInjectionError(f"netlist value must be a real number, got {show(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise NetlistInjectionError(f"netlist value must be finite, got {x}")
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)

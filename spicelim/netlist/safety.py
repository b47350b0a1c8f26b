"""Guards for everything that reaches netlist text: names, numbers and free text.

Netlists are written from numbers and from names that spicelim builds itself; anything that
comes from outside (model-card names, labels, titles) passes through these checks, so a newline,
a dot-command such as `.control` or `.include`, or a `shell` command cannot be smuggled in.
"""

from __future__ import annotations

import math
import numbers
import re

from ..errors import NetlistInjectionError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_RESERVED = {"shell", "control", "endc", "end", "include", "lib", "exec", "source"}
_TEXT_FORBIDDEN = re.compile(r"[\r\n\x00;]|^\s*[.*+]|\bshell\b|\.control\b|\.endc\b|\.include\b|\.lib\b", re.IGNORECASE)


def safe_name(name: str, what: str = "name") -> str:
    """Return `name` if it is a plain identifier (letter first, then letters, digits, '_')."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.lower() in _RESERVED:
        raise NetlistInjectionError(
            f"{what} {name!r} is not allowed in a netlist: use 1-64 letters, digits or '_', starting"
            " with a letter, and not a SPICE keyword")
    return name


def safe_text(text: str, what: str = "text") -> str:
    """Return free text (a title or comment) if it is one line with no SPICE command in it."""
    if not isinstance(text, str) or _TEXT_FORBIDDEN.search(text) or len(text) > 200:
        raise NetlistInjectionError(
            f"{what} {text!r} is not allowed in a netlist: one line of at most 200 characters, no"
            " leading '.', '*' or '+', no ';', and no 'shell', '.control', '.include' or '.lib'")
    return text


def fmt(value) -> str:
    """Format a real number for a netlist: shortest round-trip repr, never numpy's `np.float64(...)`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise NetlistInjectionError(f"netlist value must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise NetlistInjectionError(f"netlist value must be finite, got {x}")
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)

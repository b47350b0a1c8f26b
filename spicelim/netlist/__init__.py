"""Data model -> ngspice netlist text. Pure functions: no ngspice needed to test them."""

from .safety import fmt, safe_name, safe_text
from .writer import Netlist, format_read_netlist, write_netlist

__all__ = ["Netlist", "fmt", "format_read_netlist", "safe_name", "safe_text", "write_netlist"]

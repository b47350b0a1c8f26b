"""Shared cases of the learning tests: the soft-bounds model driven by its own reference pulses.

With sharp edges and the reference amplitude, one SET pulse moves G -> G + alpha_set (g_max - G)
and one RESET pulse G -> G - alpha_reset (G - g_min) exactly, so test tiles built from
reference_spec() have closed-form answers."""

from spicelim.devices import SoftBoundsRRAM
from spicelim.learning import TileSpec
from spicelim.programming import PulseTiming, WritePulses

DEV = SoftBoundsRRAM()
SHARP = PulseTiming(width=DEV.t_ref, rise=1e-13, fall=1e-13, gap=5e-9)
REFERENCE_PULSES = WritePulses(set_amplitude=DEV.v_set_ref, reset_amplitude=DEV.v_reset_ref, set_timing=SHARP,
                               reset_timing=SHARP)


def reference_spec(**kw) -> TileSpec:
    """Ideal passive tiles (no wires) of the soft-bounds model with its reference pulses, slot engine."""
    base = dict(cell="0T1R", r_wire=0.0, device=DEV, pulses=REFERENCE_PULSES, backend="fast-slots", w_max=1.0)
    return TileSpec(**{**base, **kw})

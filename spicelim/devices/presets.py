"""Device presets fitted to published cells, each with the source of every number.

TiN/TaOx/HfOx/TiN 1T1R analogue RRAM (Tsinghua University), as used for the weights of

  [Y20] P. Yao, H. Wu, B. Gao, J. Tang, Q. Zhang, W. Zhang, J. J. Yang, H. Qian,
        "Fully hardware-implemented memristor convolutional neural network",
        Nature 577, 641-646 (2020), doi:10.1038/s41586-020-1942-4.

and by the same group in

  [Z23] W. Zhang, P. Yao, B. Gao et al., "Edge learning using a fully integrated
        neuro-inspired memristor chip", Science 381, 1205-1211 (2023),
        doi:10.1126/science.ade3483, with its companion code
        https://github.com/Tsinghua-LEMON-Lab/software_edge_learning_memristor_chip
        (folder Device_asymmetry/).

How the numbers were obtained. The full text of [Y20] (Fig. 1 caption, Methods, Extended Data)
was not reachable from where this preset was written; its numbers are taken from two public
secondary summaries of the paper found in the public code index (a paper-notes file
"2020_Yao_FullyHardwareMemristorCNN_Nature.md" marked as written from the full text, and a
structured analysis of the same paper that cites Fig. 1c, Methods and Extended Data Fig. 8).
Those numbers should be checked against the paper. The conductance window and the per-pulse
conductance steps come from the [Z23] code, i.e. from the same group's TaOx/HfOx RRAM, not from
the [Y20] arrays themselves. The earlier paper of the group, P. Yao et al., "Face classification
using electronic synapses", Nat. Commun. 8, 15199 (2017), was reachable only as its abstract;
no number here comes from it.

Fitting. The [Z23] files Device_asymmetry/data/b2_fit.dat (SET) and b1_fit.dat (RESET) give the
mean conductance change caused by one programming pulse in each of ten equal conductance bins
spanning 2 uS to 20 uS. A least-squares fit of the soft-bounds steps
    SET:   dG = alpha_set   (g_max - G)
    RESET: dG = -alpha_reset (G - g_min)
at the bin centres gives alpha_set = 0.0636 (rms residual 0.09 uS over steps of 0.2 to 1.1 uS)
and alpha_reset = 0.279 (rms residual 0.71 uS over steps of 0.04 to 6.3 uS). SET follows the
soft-bounds law closely; RESET does not (see `yao2020_taox_hfox`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validation import real_number
from .soft_bounds import SoftBoundsRRAM


@dataclass(frozen=True)
class ProgrammingConditions:
    """Recommended programming and read conditions of a 1T1R cell, as applied to its lines.

    In a 1T1R cell the SET pulse drives the bit line (source line grounded) and the RESET pulse
    drives the source line (bit line grounded); the word line sets the transistor gate. The device
    itself sees less than these line voltages: see the device preset for the device voltages.
    """

    v_set_bl: float
    """SET pulse amplitude on the bit line, volts (source line at 0 V)."""
    t_set: float
    """SET pulse width, seconds."""
    v_set_gate: float
    """Word-line (gate) voltage during SET pulses, volts."""
    v_reset_sl: float
    """RESET pulse amplitude on the source line, volts, given as a positive number (bit line at
    0 V, so the device sees a negative voltage)."""
    t_reset: float
    """RESET pulse width, seconds."""
    v_reset_gate: float
    """Word-line (gate) voltage during RESET pulses, volts."""
    v_read: float
    """Read voltage, volts."""
    verify_tolerance: float
    """Write-verify acceptance band, siemens: programming stops when |G - G_target| is at most this."""

    def __post_init__(self):
        for name in ("v_set_bl", "t_set", "v_set_gate", "v_reset_sl", "t_reset", "v_reset_gate", "v_read",
                     "verify_tolerance"):
            object.__setattr__(self, name, real_number(f"ProgrammingConditions {name}", getattr(self, name),
                                                       minimum=0.0, strict=True))


YAO2020_PROGRAMMING = ProgrammingConditions(
    v_set_bl=2.0,
    t_set=50e-9,
    v_set_gate=1.8,
    v_reset_sl=1.8,
    t_reset=50e-9,
    v_reset_gate=4.7,
    v_read=0.2,
    verify_tolerance=0.29e-6,
)
"""Programming conditions of the [Y20] TiN/TaOx/HfOx/TiN 1T1R cell. Sources, field by field:

- v_set_bl = 2.0 V and v_reset_sl = 1.8 V: the pulse amplitudes (2.0 V and -1.8 V, 50 ns) that the
  structured secondary summary of [Y20] reports next to Extended Data Fig. 8 (which it describes
  as DC SET near 1.5 V / 60 uA and DC RESET near -1.2 V / 45 uA). Which line carries them is
  our reading of the usual 1T1R scheme (SET on the bit line, RESET on the source line).
- t_set = t_reset = 50 ns: [Y20] Methods as given by both summaries (identical SET and RESET pulse
  trains of 50 ns width used in closed-loop programming).
- v_set_gate = 1.8 V and v_reset_gate = 4.7 V: ESTIMATES. The summary gives only the range of
  programming voltages, 1.8 V to 4.7 V. RESET needs the top of that range on the gate because the
  transistor's source then sits near the source-line voltage (V_GS is about 4.7 - 1.76 = 2.9 V);
  for SET the gate is kept low so that the transistor limits the current, and we take the bottom
  of the range.
- v_read = 0.2 V: [Y20] read pulses of 0.2 V (summary of the Fig. 1c caption and of the
  benchmarking in Methods).
- verify_tolerance = 0.29 uS: ESTIMATE. [Y20] shows 32 non-overlapping conductance states after
  closed-loop programming (Fig. 1c, per both summaries); 32 states in the 2-20 uS window of this
  preset are 18/31 = 0.58 uS apart, so the acceptance band can be at most half of that. The [Z23]
  code uses a similar band, 0.015 x (g_max - g_min) = 0.27 uS, in a commented-out setting.
"""


def yao2020_taox_hfox() -> SoftBoundsRRAM:
    """Soft-bounds model of the TiN/TaOx/HfOx/TiN device of [Y20] (device voltages, not line voltages).

    Parameters and their sources:

    - g_min = 2 uS, g_max = 20 uS: the conductance window of the group's TaOx/HfOx cells in the [Z23]
      code (Device_asymmetry/rram_array.m). Not verified for the [Y20] arrays.
    - t_ref = 50 ns: the [Y20] programming pulse width (see `YAO2020_PROGRAMMING`).
    - alpha_set = 0.064, alpha_reset = 0.28: least-squares fits to the [Z23] per-pulse steps (module
      docstring). With these, one reference pulse moves G by 6.4 % of its distance to g_max (SET)
      or by 28 % of its distance to g_min (RESET): RESET is 4.4 times stronger than SET. From g_min,
      11 SET pulses reach half the window and 35 reach 90 % of it (the [Z23] steps give 11 and 31);
      from g_max, 3 RESET pulses reach half the window and 8 come within 10 % of g_min (the [Z23]
      steps give 2 and 9). The pulse amplitude behind the [Z23] steps is not stated in that code;
      we assign the steps to the [Y20] pulses.
    - v_set_ref = 1.91 V, v_reset_ref = -1.76 V: ESTIMATES of the voltage across the device when
      the cell receives the [Y20] line pulses. The soft-bounds reference pulse is the pulse across
      the device, while [Y20] reports line voltages; part of each line voltage drops across the
      access transistor. We take that drop from the project's own selector (NmosSelector with its
      default card and size, linear on-resistance) at the window midpoint G = 11 uS:
      SET, gate 1.8 V: R_on = 4.17 kOhm, V_dev = 2.0 V / (1 + G R_on) = 1.91 V;
      RESET, gate 4.7 V with the transistor source at the device node (V_GS = 4.7 V - 1.76 V):
      R_on = 1.95 kOhm, |V_dev| = 1.8 V / (1 + G R_on) = 1.76 V.
      The real 130 nm transistor of [Y20] is not characterised in the sources, and the drop changes
      with G (from 0.02 V to 0.15 V for SET across the window), so the calibration holds exactly only
      for device voltages equal to these references.
    - v_set_th = 1.4 V, v_reset_th = -1.1 V: ESTIMATES, 0.1 V inside the DC switching voltages
      (about 1.5 V and -1.2 V) reported in the secondary summary of [Y20] Extended Data Fig. 8; a
      50 ns pulse needs more than a slow sweep, so the DC values bound the thresholds from above.
      Reads at 0.2 V stay far below both.
    - p_set = p_reset = 2, v_nl = 10 V: ESTIMATES (the model's defaults). No source reached gives
      the voltage dependence of the step size or the I-V nonlinearity; v_nl = 10 V keeps the
      I-V linear to 0.01 % at the 0.2 V read.

    What the model cannot express:

    - RESET steps in [Z23] are not proportional to G - g_min: almost none in the lowest bin
      (0.04 uS), then growing faster than linearly (0.9 uS at 4.7 uS, 6.3 uS at 19.1 uS). A single
      alpha_reset fits them with an rms error of 0.71 uS.
    - The steps are very noisy: the same [Z23] files give Gaussian widths of the per-pulse change
      (2.6 uS to 8.2 uS) larger than the mean steps. The model is deterministic; cycle-to-cycle
      noise has to be supplied from Python.
    - Conductance drift and relaxation after programming ([Y20] Extended Data Fig. 3: slow drift over
      30 days) and device-to-device spread are not part of the model; spread, stuck cells and a
      Gaussian relaxation after programming can be added per array with spicelim.Variability.
    """
    return SoftBoundsRRAM(
        g_min=2e-6,
        g_max=20e-6,
        alpha_set=0.064,
        alpha_reset=0.28,
        v_set_ref=1.91,
        v_reset_ref=-1.76,
        v_set_th=1.4,
        v_reset_th=-1.1,
        t_ref=50e-9,
        p_set=2.0,
        p_reset=2.0,
        v_nl=10.0,
    )

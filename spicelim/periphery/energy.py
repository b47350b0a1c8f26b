"""Energy and latency of reads, from the simulated operating points plus per-event periphery costs.

What is counted for one input vector:
  - drivers: the energy the input drivers deliver during the read pulse, sum_k V_k I_k t_read,
    from the simulated source currents (it is dissipated in the driver resistances, the wires and
    the devices, and for TIAs with a finite gain partly at the sense nodes);
  - feedback: the energy the TIA outputs spend in their feedback resistors, sum_j I_j^2 r_f t_read
    (from the simulated sense currents; zero without TIAs);
  - tia: TIA.energy_per_read for every sensed line (the op-amp bias, a parameter);
  - adc: ADC.energy_per_conversion for every sensed line (a parameter);
  - dac: `dac_energy` for every driven input line (a parameter).
Not counted: digital accumulation and control, the word-line drivers of 1T1R arrays, input and
output buffers, off-chip traffic, leakage while idle, and the charging of line capacitances
(the reads are operating points). One multiply-accumulate counts as two operations, so an M x N
read is 2 M N operations and GOP/s/W = 2 M N / (energy per vector) / 1e9.

Latency of one read: t_read (the input pulse) + the TIA settling time to the ADC's resolution
(single pole; 0 without a gbw) + t_adc (the conversion time, a parameter). Bit-serial reads
multiply the whole cost by the number of input bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import SensedRead
from ..validation import positive_int, real_number


@dataclass(frozen=True)
class ReadCost:
    """Energy (joules, per input vector, mean over the batch) and latency (seconds) of a read."""

    drivers: float
    feedback: float
    tia: float
    adc: float
    dac: float
    latency: float
    operations: int  # per input vector: 2 x multiply-accumulates

    @property
    def total(self) -> float:
        return self.drivers + self.feedback + self.tia + self.adc + self.dac

    @property
    def energy_per_mac(self) -> float:
        """Joules per multiply-accumulate."""
        return self.total / (self.operations / 2)

    @property
    def gops_per_watt(self) -> float:
        """Operations per second per watt, in units of 1e9 (GOP/s/W): operations per joule / 1e9."""
        return self.operations / self.total / 1e9 if self.total > 0 else float("inf")

    @property
    def throughput_gops(self) -> float:
        """Operations per second of one array doing back-to-back reads, in units of 1e9."""
        return self.operations / self.latency / 1e9

    def scaled(self, factor: int) -> ReadCost:
        """The cost of `factor` such reads counted as one operation (bit-serial inputs)."""
        return ReadCost(drivers=self.drivers * factor, feedback=self.feedback * factor, tia=self.tia * factor,
                        adc=self.adc * factor, dac=self.dac * factor, latency=self.latency * factor,
                        operations=self.operations)


def read_cost(xb, v, backend=None, transpose: bool = False, t_read: float = 50e-9, t_adc: float = 0.0,
              dac_energy: float = 0.0, macs: int | None = None, read: SensedRead | None = None) -> ReadCost:
    """Simulate the read of `v` on crossbar `xb` and return its energy and latency (see the module docstring).

    macs: multiply-accumulates one read performs (default M N; M N / 2 for differential pairs).
    read: a SensedRead of `v` already simulated (xb.sense), to avoid solving it again.
    """
    t_read = real_number("t_read (s)", t_read, minimum=0.0, strict=True)
    t_adc = real_number("t_adc (s)", t_adc, minimum=0.0)
    dac_energy = real_number("dac_energy (J)", dac_energy, minimum=0.0)
    m, n = xb.shape
    macs = m * n if macs is None else positive_int("macs", macs)
    r = read if read is not None else xb.sense(v, backend, transpose)
    batch, lines = r.sensed_current.shape
    drivers = float(np.sum(r.inputs * -r.driver_current)) * t_read / batch
    tia, adc = xb.tia, xb.adc
    feedback = 0.0 if tia is None else float(np.sum(r.sensed_current**2)) * tia.r_f * t_read / batch
    settle = 0.0
    if tia is not None:
        settle = tia.settling_time(adc.bits if adc is not None else 10) or 0.0
    return ReadCost(drivers=drivers, feedback=feedback,
                    tia=0.0 if tia is None else tia.energy_per_read * lines,
                    adc=0.0 if adc is None else adc.energy(lines),
                    dac=dac_energy * r.inputs.shape[1], latency=t_read + settle + t_adc, operations=2 * macs)

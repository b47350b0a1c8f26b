"""The transimpedance amplifier (TIA) that senses a line: an op-amp macro model with feedback.

    TIA(r_f=1e4)                                  # ideal op-amp: an exact virtual ground
    TIA(r_f=1e4, gain=1e3, gbw=1e8, v_out_max=1.0, offset=1e-3, noise=1e-4, seed=3)

The op-amp's non-inverting input sits at its offset voltage (plus a seeded input-referred noise
draw per read and line); its inverting input is the sense node S of the line, which the feedback
resistor r_f (with an optional capacitor c_f in parallel) joins to the output. The output is

    V_out = clip(A0 (V_+ - V_S), -v_out_max, +v_out_max)

so with a finite gain A0 the sense node is not at 0 V: for the current I flowing from the array
into S, V_S = (A0 V_+ + I r_f) / (1 + A0), a Thevenin source of A0 V_+ / (1 + A0) behind
r_f / (1 + A0). That residual resistance adds to the IR drop of the column. A saturated output
holds V_out at the rail and the sense node follows the array. The gain-bandwidth product sets a
single pole at gbw / A0; it matters in transients (and for the settling time), not in the DC
operating points of reads. The sensed current is read back as I = -V_out / r_f.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameterError
from ..validation import non_negative_int, real_number

LARGE_GAIN = 1e9  # open-loop gain used for an "ideal" op-amp that still has output swing limits


@dataclass(frozen=True)
class TIA:
    """Transimpedance amplifier parameters (SI units).

    r_f: feedback resistance, ohms (1e-3 .. 1e15). c_f: feedback capacitance, farads (0 .. 1).
    gain: DC open-loop gain A0 (1 < A0 <= 1e12), or None for an ideal op-amp (infinite gain).
    gbw: gain-bandwidth product, hertz (1 .. 1e15), or None (no pole).
    v_out_max: output swing limit, volts (0 < v <= 1e3; the output stays within +-v_out_max), or None (no limit).
    offset: input offset voltage, volts. noise: input-referred noise, volts rms per read (>= 0),
        drawn independently for every read and line from a stream seeded by `seed` (the array
        using the TIA holds the stream and saves it with its state).
    energy_per_read: energy of one TIA for one read (bias current times supply times read time), joules.
    seed: seed of the noise draws.
    """

    r_f: float
    c_f: float = 0.0
    gain: float | None = None
    gbw: float | None = None
    v_out_max: float | None = None
    offset: float = 0.0
    noise: float = 0.0
    energy_per_read: float = 0.0
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "r_f", real_number("TIA r_f (ohm)", self.r_f, minimum=1e-3, maximum=1e15))
        object.__setattr__(self, "c_f", real_number("TIA c_f (F)", self.c_f, minimum=0.0, maximum=1.0))
        if self.gain is not None:
            gain = real_number("TIA gain", self.gain, maximum=1e12)
            if gain <= 1:
                raise InvalidParameterError(f"TIA gain must be > 1 (an op-amp's open-loop gain), got {gain:g}")
            object.__setattr__(self, "gain", gain)
        if self.gbw is not None:
            object.__setattr__(self, "gbw", real_number("TIA gbw (Hz)", self.gbw, minimum=1.0, maximum=1e15))
        if self.v_out_max is not None:
            object.__setattr__(self, "v_out_max", real_number("TIA v_out_max (V)", self.v_out_max, minimum=0.0,
                                                              strict=True, maximum=1e3))
        object.__setattr__(self, "offset", real_number("TIA offset (V)", self.offset, minimum=-1.0, maximum=1.0))
        object.__setattr__(self, "noise", real_number("TIA noise (V rms)", self.noise, minimum=0.0, maximum=1.0))
        object.__setattr__(self, "energy_per_read", real_number("TIA energy_per_read (J)", self.energy_per_read,
                                                                minimum=0.0, maximum=1.0))
        object.__setattr__(self, "seed", non_negative_int("TIA seed", self.seed))

    # ------------------------------------------------------------------ model
    @property
    def ideal(self) -> bool:
        """True for an infinite-gain op-amp without output limits: the sense node is an exact virtual ground."""
        return self.gain is None and self.v_out_max is None

    @property
    def open_loop_gain(self) -> float:
        """A0 used in the circuit (LARGE_GAIN for gain=None with swing limits)."""
        return LARGE_GAIN if self.gain is None else self.gain

    @property
    def pole_hz(self) -> float | None:
        """The op-amp's open-loop pole, gbw / A0, hertz (None without a gbw)."""
        return None if self.gbw is None else self.gbw / self.open_loop_gain

    def settling_time(self, bits: int = 10) -> float | None:
        """Time for a step to settle within 2^-bits (single-pole closed loop, feedback factor ~1), seconds."""
        if self.gbw is None:
            return None
        return bits * np.log(2) / (2 * np.pi * self.gbw)

    def noise_stream(self) -> np.random.Generator:
        """A fresh generator of this TIA's input noise, seeded by `seed` (an array holds one per TIA)."""
        return np.random.default_rng(np.random.SeedSequence(self.seed))

    def noninverting_input(self, shape: tuple[int, ...], rng: np.random.Generator | None = None) -> np.ndarray:
        """Voltage of the + input for `shape` = (reads, lines): offset plus noise drawn from `rng`.

        rng: the noise stream (see noise_stream); needed only when the TIA has noise.
        """
        v = np.full(shape, self.offset)
        if self.noise > 0:
            if rng is None:
                raise InvalidParameterError("this TIA has input noise: pass rng= (its noise stream, TIA.noise_stream())")
            v = v + self.noise * rng.standard_normal(shape)
        return v

    def sense_thevenin(self, v_plus: np.ndarray) -> tuple[np.ndarray, float]:
        """The sense node as a source behind a resistance, linear region: (volts, ohms); exact virtual ground for gain=None."""
        if self.gain is None:
            return np.array(v_plus, dtype=float), 0.0
        a0 = self.open_loop_gain
        return a0 * v_plus / (1 + a0), self.r_f / (1 + a0)

    def output(self, v_sense: np.ndarray, v_plus: np.ndarray) -> np.ndarray:
        """Op-amp output voltage for a sense-node voltage (finite gain, clipped to the swing)."""
        v = self.open_loop_gain * (v_plus - v_sense)
        return v if self.v_out_max is None else np.clip(v, -self.v_out_max, self.v_out_max)

    def sensed_current(self, v_out: np.ndarray) -> np.ndarray:
        """The current a user reads from the output: -V_out / r_f, amperes."""
        return -np.asarray(v_out) / self.r_f

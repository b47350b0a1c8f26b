"""The readout chain of an array: what terminates its sensed lines and turns their currents into numbers.

    Readout(tia=TIA(r_f=1e4), adc=ADC(bits=6, full_scale="calibrate"))

A read senses the columns (forward) or the rows (transposed). Every sensed line ends in the same
kind of TIA (or an ideal virtual ground when there is none), whose output an ADC may digitise.
The readout describes those terminals to the backend (bias.SenseTerminals: the TIA, its +
input voltages with their noise draws, the device read-noise current injected at every sense
node, and the ADC's thresholds when the quantizer runs inside the netlist), and afterwards turns
the backend's answer into what a user reads: sensed currents, TIA outputs, ADC codes, and the
currents reconstructed from the codes.

It also owns what changes as the array is used: the TIA's and the ADC's noise streams and the
ADC's per-line full scale from calibration, one for each read direction. All of it is in
`state_dict()`.
"""

from __future__ import annotations

import numpy as np

from ..bias import NetlistQuantizer, SenseTerminals
from ..checkpoint import checked_generator_state, generator_state
from ..errors import InvalidParameterError
from .adc import ADC, CALIBRATE
from .tia import TIA

DIRECTIONS = ("forward", "transposed")


def _direction(transpose: bool) -> str:
    return DIRECTIONS[int(bool(transpose))]


class Readout:
    """TIA and ADC on every sensed line, their noise streams and the ADC calibration (see the module docstring).

    tia: a periphery.TIA, or None for an ideal virtual ground (currents read directly).
    adc: a periphery.ADC digitising every TIA output (needs a tia), or None.
    """

    def __init__(self, tia: TIA | None = None, adc: ADC | None = None):
        if tia is not None and not isinstance(tia, TIA):
            raise InvalidParameterError(f"tia must be a spicelim.periphery.TIA, got {type(tia).__name__}")
        if adc is not None and not isinstance(adc, ADC):
            raise InvalidParameterError(f"adc must be a spicelim.periphery.ADC, got {type(adc).__name__}")
        if adc is not None and tia is None:
            raise InvalidParameterError("an ADC digitises TIA output voltages: give the array a tia as well")
        self.tia, self.adc = tia, adc
        self._tia_rng = None if tia is None else tia.noise_stream()
        self._adc_rng = None if adc is None else adc.noise_stream()
        self._full_scale: dict[str, np.ndarray | None] = dict.fromkeys(DIRECTIONS)

    def reseed(self, seed: np.random.SeedSequence) -> None:
        """Start the TIA and ADC noise streams afresh from `seed` (see Crossbar.reseed_read_noise)."""
        tia_seq, adc_seq = seed.spawn(2)
        if self._tia_rng is not None:
            self._tia_rng = np.random.default_rng(tia_seq)
        if self._adc_rng is not None:
            self._adc_rng = np.random.default_rng(adc_seq)

    # ------------------------------------------------------------------ before the backend
    def terminals(self, batch: int, lines: int, transpose: bool, injected: np.ndarray | None = None,
                  quantizer: bool = False) -> SenseTerminals:
        """The sense terminals of one read of `batch` points on `lines` sensed lines (draws the TIA noise).

        quantizer: describe the ADC for a backend that simulates it (draws the ADC noise as well).
        """
        tia = self.tia
        v_plus = None if tia is None else tia.noninverting_input((batch, lines), self._tia_rng)
        q = None
        if quantizer:
            if self.adc is None:
                raise InvalidParameterError("quantizer='netlist' needs an ADC: create the array with adc=ADC(...)")
            fs = self.full_scale(transpose)
            noise = self.adc.draw_noise((batch, lines), fs, self._adc_rng) if self.adc.noise > 0 else None
            q = NetlistQuantizer(thresholds=self.adc.thresholds(lines, fs), noise=noise)
        return SenseTerminals(rows=bool(transpose), tia=tia, v_plus=v_plus, injected=injected, quantizer=q)

    # ------------------------------------------------------------------ after the backend
    def convert(self, v_out: np.ndarray, transpose: bool, full_scale=None) -> np.ndarray:
        """ADC codes (int64) of TIA outputs (B, L) volts, at this direction's full scale (or `full_scale`, volts)."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC: create it with adc=ADC(...)")
        fs = self.full_scale(transpose) if full_scale is None else full_scale
        return self.adc.convert(v_out, full_scale=fs, rng=self._adc_rng)

    def currents(self, sensed_current: np.ndarray, v_out: np.ndarray | None, codes: np.ndarray | None,
                 transpose: bool) -> np.ndarray:
        """What a read returns, amperes: from the codes if digitised, else -V_out / r_f, else the sensed current."""
        if codes is not None:
            return self.tia.sensed_current(self.adc.to_volts(codes, full_scale=self.full_scale(transpose)))
        if v_out is not None:
            return self.tia.sensed_current(v_out)
        return sensed_current

    # ------------------------------------------------------------------ calibration
    def full_scale(self, transpose: bool):
        """The ADC's full scale for this direction: its own, or the calibrated one per line (volts)."""
        if self.adc is None or self.adc.full_scale != CALIBRATE:
            return None
        fs = self._full_scale[_direction(transpose)]
        if fs is None:
            raise InvalidParameterError("the ADC full scale is 'calibrate': call calibrate_adc() first")
        return fs

    def calibrate(self, v_out: np.ndarray, transpose: bool, margin: float = 1.0) -> np.ndarray:
        """Set this direction's per-line full scale to margin x max |TIA output| over the samples v_out (B, L)."""
        if self.adc is None:
            raise InvalidParameterError("this array has no ADC to calibrate")
        fs = self.adc.calibrate(v_out, margin=margin)
        fs.setflags(write=False)
        self._full_scale[_direction(transpose)] = fs
        return fs

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict:
        """Noise-stream states and ADC calibration as plain values (numpy arrays, dicts, None)."""
        return {
            "tia_noise": None if self._tia_rng is None else generator_state(self._tia_rng),
            "adc_noise": None if self._adc_rng is None else generator_state(self._adc_rng),
            "adc_full_scale": {d: (None if fs is None else np.array(fs)) for d, fs in self._full_scale.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict() saved (validated before anything changes)."""
        try:
            tia_noise, adc_noise, scales = state["tia_noise"], state["adc_noise"], state["adc_full_scale"]
            scales = {d: scales[d] for d in DIRECTIONS}
        except (KeyError, TypeError) as exc:
            raise InvalidParameterError(f"saved readout state is missing {exc}") from None
        streams = []
        for name, saved, rng in (("TIA noise", tia_noise, self._tia_rng), ("ADC noise", adc_noise, self._adc_rng)):
            if (saved is None) != (rng is None):
                raise InvalidParameterError(f"saved readout state and this array disagree on having a {name} stream")
            if rng is not None:
                streams.append((rng, checked_generator_state(rng, saved, name)))
        checked = {}
        for d, fs in scales.items():
            if fs is None:
                checked[d] = None
                continue
            if self.adc is None:
                raise InvalidParameterError("saved readout state has an ADC calibration but this array has no ADC")
            arr = np.array(fs, dtype=float)
            if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise InvalidParameterError(f"saved {d} ADC full scale must be positive volts, one per line")
            arr.setflags(write=False)
            checked[d] = arr
        for rng, saved in streams:
            rng.bit_generator.state = saved
        self._full_scale = checked

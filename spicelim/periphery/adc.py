"""Analog-to-digital converter of the column outputs: N-bit, bipolar, with offset, gain, DNL, INL and noise.

    adc = ADC(bits=6, full_scale=0.5, dnl=0.2, inl=0.5, noise=0.3, seed=1)
    codes = adc.convert(v)            # volts (..., n_columns) -> int64 codes 0 .. 2^bits - 1
    v_hat = adc.to_volts(codes)       # ideal code centres, volts

Ideal transfer: LSB = 2 FS / 2^bits; code k covers [-FS + k LSB, -FS + (k + 1) LSB); inputs below
-FS give code 0, inputs at or above FS - LSB give the top code 2^bits - 1.

Every ADC column is one converter instance with its own threshold positions. The non-idealities
act on the thresholds (all in LSB of the ideal transfer):
- dnl: each inner code width is 1 + dnl N(0, 1) LSB, independently per code and per column;
- inl: a deterministic bow inl * sin(pi (k - 1) / (2^bits - 2)) LSB added to threshold k = 1 ..
  2^bits - 1; it is zero at both end thresholds and peaks at +inl mid-range;
- the resulting widths w are clipped from below: each inner code is max(MIN_CODE_WIDTH, a w) wide
  with MIN_CODE_WIDTH = 0.05 LSB, so the transfer stays strictly monotonic and no code vanishes,
  and with the scale a (per column, close to 1) chosen so the end thresholds sit at their ideal
  places: DNL and INL are defined against the endpoint line, offset and gain error are separate
  parameters;
- offset and gain_error move the whole transfer: the converter digitises
  v_eff = (1 + gain_error) v + offset (+ noise), so an input threshold T on the internal scale is
  crossed at v = (T - offset) / (1 + gain_error);
- noise: Gaussian, rms in LSB, added to v_eff independently at every conversion.
A user reconstructs with the ideal code centres (`to_volts`): the errors are unknown to them.

Randomness: column c's DNL draws come from numpy's SeedSequence(seed, spawn_key=(0, c)), so a
column's thresholds do not depend on how many columns are asked for; the conversion noise is
drawn from a Generator the caller passes (`noise_stream()` makes one, seeded from
SeedSequence(seed, spawn_key=(1,)); an array holds one per ADC and saves it with its state).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import (
    as_array,
    finite_array,
    non_negative_int,
    positive_int,
    real_number,
    show,
)

#: Smallest code width the DNL draws may produce, in LSB: keeps the transfer strictly monotonic.
MIN_CODE_WIDTH = 0.05
#: Largest resolution supported, bits.
MAX_BITS = 16
#: Most converter instances (lines) one ADC description serves.
MAX_COLUMNS = 1 << 16
#: Range of a full scale, volts (a nanovolt to a kilovolt).
MIN_FULL_SCALE, MAX_FULL_SCALE = 1e-9, 1e3
#: The `full_scale` value asking for a per-column full scale set from data with `ADC.calibrate`.
CALIBRATE = "calibrate"


@dataclass(frozen=True)
class ADC:
    """An N-bit bipolar ADC, one independent converter instance per column.

    bits: resolution, an integer 1 .. 16; codes are 0 .. 2^bits - 1.
    full_scale: volts > 0; the input range is [-full_scale, +full_scale] (the largest magnitude of
        the TIA output it digitises). Or the string "calibrate": a per-column full scale set from
        data, `full_scale=adc.calibrate(samples)` passed to convert / to_volts / thresholds.
        A `full_scale=` argument to those methods (a scalar or one value per column, volts)
        overrides the field in every case.
    offset: volts, added to the gained input (see gain_error).
    gain_error: relative gain error (0.01 = +1 %), > -1: the ADC digitises (1 + gain_error) v + offset.
    dnl: standard deviation of each inner code width, LSB, in [0, 1). Widths are clipped at
        0.05 LSB (MIN_CODE_WIDTH) so the transfer stays monotonic, which trims the low tail of
        the width distribution when dnl is large (dnl = 0.3 clips about 0.08 % of the codes).
    inl: peak integral non-linearity, LSB, >= 0: a half-sine bow of the thresholds whose peak
        |INL| after an endpoint fit equals `inl` when dnl = 0.
    noise: input-referred thermal noise, rms, LSB, >= 0, drawn per conversion.
    seed: non-negative integer seeding the DNL draws and the noise stream of this instance.
    energy_per_conversion: joules per conversion, >= 0 (`energy()`).

    The dataclass is frozen and holds no random stream (noisy conversions take one, `rng=`); its
    one private helper, `_positions`, caches the threshold positions per column count (a pure
    function of the parameters) and takes no part in equality, hashing or repr.
    """

    bits: int = 6
    full_scale: float | str = 1.0
    offset: float = 0.0
    gain_error: float = 0.0
    dnl: float = 0.0
    inl: float = 0.0
    noise: float = 0.0
    seed: int = 0
    energy_per_conversion: float = 0.0
    _positions: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        bits = self.bits
        if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 1 <= bits <= MAX_BITS:
            raise InvalidParameterError(f"ADC bits must be an integer in 1..{MAX_BITS}, got {show(bits)}")
        object.__setattr__(self, "bits", int(bits))
        fs = self.full_scale
        if isinstance(fs, str):
            if fs != CALIBRATE:
                raise InvalidParameterError(
                    f"ADC full_scale must be a voltage > 0 or the string {show(CALIBRATE)}, got {show(fs)}")
        else:
            if isinstance(fs, bool) or not isinstance(fs, numbers.Real):
                raise InvalidParameterError(
                    f"ADC full_scale must be a voltage > 0 or the string {show(CALIBRATE)}, got {show(fs)}")
            object.__setattr__(self, "full_scale", real_number("ADC full_scale (V)", fs, minimum=MIN_FULL_SCALE,
                                                               maximum=MAX_FULL_SCALE))
        object.__setattr__(self, "offset", real_number("ADC offset (V)", self.offset))
        object.__setattr__(self, "gain_error", real_number("ADC gain_error", self.gain_error, minimum=-1.0, strict=True))
        dnl = real_number("ADC dnl (LSB)", self.dnl, minimum=0.0)
        if not dnl < 1:
            raise InvalidParameterError(f"ADC dnl (LSB) is a code-width standard deviation and must be < 1, got {dnl:g}")
        object.__setattr__(self, "dnl", dnl)
        object.__setattr__(self, "inl", real_number("ADC inl (LSB)", self.inl, minimum=0.0))
        object.__setattr__(self, "noise", real_number("ADC noise (LSB rms)", self.noise, minimum=0.0))
        object.__setattr__(self, "energy_per_conversion",
                           real_number("ADC energy_per_conversion (J)", self.energy_per_conversion, minimum=0.0))
        object.__setattr__(self, "seed", non_negative_int("ADC seed", self.seed))
        object.__setattr__(self, "_positions", {})

    def noise_stream(self) -> np.random.Generator:
        """A fresh generator of this ADC's conversion noise, seeded from SeedSequence(seed, spawn_key=(1,))."""
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))

    def _noise(self, rng: np.random.Generator | None, shape: tuple[int, ...]) -> np.ndarray:
        """Standard normal draws of the conversion noise from `rng`."""
        if not isinstance(rng, np.random.Generator):
            raise InvalidParameterError("this ADC has conversion noise: pass rng= (a numpy Generator, e.g."
                                        " adc.noise_stream())")
        return rng.standard_normal(shape)

    # ---------------------------------------------------------------- simple properties
    @property
    def n_codes(self) -> int:
        """Number of output codes, 2^bits."""
        return 1 << self.bits

    def lsb(self, full_scale=None):
        """Ideal LSB 2 FS / 2^bits, volts: a float for a scalar full scale, else an array, one per column."""
        lsb = 2.0 * self._full_scale(full_scale, None) / self.n_codes
        return float(lsb[0]) if np.ndim(self._raw_full_scale(full_scale)) == 0 else lsb

    def energy(self, n_conversions) -> float:
        """Energy of `n_conversions` conversions, joules."""
        n = real_number("n_conversions", n_conversions, minimum=0.0)
        return n * self.energy_per_conversion

    # ---------------------------------------------------------------- full scale
    def calibrate(self, v_samples, margin: float = 1.0) -> np.ndarray:
        """Per-column full scale from data: margin * max |v| over the samples, volts, shape (n_columns,).

        v_samples: volts, shape (..., n_columns), e.g. the TIA outputs of a calibration batch.
        margin: factor > 0 applied to the maximum (1.0: the largest sample sits at the range edge).
        Pass the result as `full_scale=` to convert, to_volts and thresholds.
        """
        v = finite_array("v_samples (V)", v_samples)
        if v.ndim < 1 or v.shape[-1] < 1 or v.size == 0:
            raise ShapeError(f"v_samples must have shape (..., n_columns) with at least one sample, got {v.shape}")
        m = real_number("calibration margin", margin, minimum=0.0, strict=True)
        fs = m * np.max(np.abs(v.reshape(-1, v.shape[-1])), axis=0)
        dead = np.flatnonzero(fs < MIN_FULL_SCALE)
        if dead.size:
            raise InvalidParameterError(
                f"cannot calibrate the ADC full scale: column(s) {dead.tolist()} stay below"
                f" {MIN_FULL_SCALE:g} V in every sample")
        return fs

    def _raw_full_scale(self, full_scale):
        return self.full_scale if full_scale is None else full_scale

    def _full_scale(self, full_scale, n_columns: int | None) -> np.ndarray:
        """The full scale as a (n_columns,) array of volts (n_columns=None: whatever length was given)."""
        fs = self._raw_full_scale(full_scale)
        if isinstance(fs, str):
            if fs == CALIBRATE:
                raise InvalidParameterError(
                    "this ADC has full_scale='calibrate': pass full_scale=adc.calibrate(samples) "
                    "(volts, one per column) to convert, to_volts and thresholds")
            raise InvalidParameterError(f"full_scale must be volts (a scalar or one per column), got {show(fs)}")
        if isinstance(fs, bool):
            raise InvalidParameterError(f"full_scale must be volts (a scalar or one per column), got {show(fs)}")
        arr = finite_array("full_scale (V)", fs)
        if arr.ndim == 0:
            arr = np.full(1 if n_columns is None else n_columns, float(arr))
        elif arr.ndim != 1 or (n_columns is not None and arr.shape[0] != n_columns):
            want = "(n_columns,)" if n_columns is None else f"({n_columns},)"
            raise ShapeError(f"full_scale must be a scalar or have shape {want}, got {arr.shape}")
        bad = (arr < MIN_FULL_SCALE) | (arr > MAX_FULL_SCALE)
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise InvalidParameterError(f"full_scale must lie in [{MIN_FULL_SCALE:g}, {MAX_FULL_SCALE:g}] V, got"
                                        f" {arr[k]:g} (column {k})")
        return arr

    # ---------------------------------------------------------------- thresholds
    def _internal_positions(self, n_columns: int) -> np.ndarray:
        """(n_columns, 2^bits - 1) read-only threshold positions, in ideal LSB above -FS (ideal: 1, 2, ...)."""
        cached = self._positions.get(n_columns)
        if cached is not None:
            return cached
        n_thr = self.n_codes - 1
        ideal = np.arange(1, n_thr + 1, dtype=np.float64)
        n_inner = n_thr - 1
        if n_inner == 0 or (self.dnl == 0 and self.inl == 0):
            pos = np.broadcast_to(ideal, (n_columns, n_thr))
        else:
            bow_steps = np.diff(self.inl * np.sin(np.pi * np.arange(n_thr) / n_inner))
            if self.dnl == 0:  # deterministic: every column identical
                widths = _fit_widths((1.0 + bow_steps)[None, :], n_inner)
            else:
                z = np.stack([np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(0, c)))
                              .standard_normal(n_inner) for c in range(n_columns)])
                widths = _fit_widths(1.0 + self.dnl * z + bow_steps, n_inner)
            rows = np.empty((widths.shape[0], n_thr))
            rows[:, 0] = 1.0
            rows[:, 1:] = 1.0 + np.cumsum(widths, axis=1)
            rows[:, -1] = n_thr  # the end threshold exactly at its ideal place
            pos = np.broadcast_to(rows, (n_columns, n_thr)) if rows.shape[0] == 1 else rows
        if pos.flags.writeable:
            pos.setflags(write=False)
        self._positions[n_columns] = pos
        return pos

    def thresholds(self, n_columns: int, full_scale=None) -> np.ndarray:
        """Input voltages at which the code steps up, shape (n_columns, 2^bits - 1), volts.

        Row c is column c's converter: threshold k (k = 1 .. 2^bits - 1, stored at index k - 1) is
        the input at which the code goes from k - 1 to k (noise excluded). Strictly increasing
        along each row. Includes DNL, INL, offset and gain error.
        """
        n_columns = positive_int("n_columns", n_columns, maximum=MAX_COLUMNS)
        fs = self._full_scale(full_scale, n_columns)[:, None]
        lsb = 2.0 * fs / self.n_codes
        internal = -fs + self._internal_positions(n_columns) * lsb
        return (internal - self.offset) / (1.0 + self.gain_error)

    # ---------------------------------------------------------------- conversion
    def convert(self, v, full_scale=None, rng: np.random.Generator | None = None) -> np.ndarray:
        """Digitise volts of shape (..., n_columns) into int64 codes of the same shape.

        Column c (the last axis) uses converter c's thresholds. rng: the noise stream, needed only
        when the ADC has noise (see noise_stream). A scalar input is taken as one column.
        """
        raw = finite_array("ADC input v (V)", v)
        shape = raw.shape
        arr = np.atleast_1d(raw)
        n_columns = arr.shape[-1]
        if n_columns < 1:
            raise ShapeError(f"ADC input must have at least one column, got shape {shape}")
        fs = self._full_scale(full_scale, n_columns)
        lsb = 2.0 * fs / self.n_codes
        flat = arr.reshape(-1, n_columns)
        v_eff = (1.0 + self.gain_error) * flat + self.offset
        if self.noise > 0:
            v_eff = v_eff + (self.noise * lsb) * self._noise(rng, flat.shape)
        u = (v_eff + fs) / lsb  # position in LSB above -FS, compared with the internal thresholds
        codes = _count_at_or_below(self._internal_positions(n_columns), u)
        return codes.reshape(shape)

    def draw_noise(self, shape: tuple[int, ...], full_scale=None, rng: np.random.Generator | None = None) -> np.ndarray:
        """Input-referred conversion noise, volts, of shape (..., n_columns), drawn from `rng`.

        convert() adds the same noise internally; this is for quantizers outside Python (the netlist).
        """
        fs = self._full_scale(full_scale, shape[-1])
        lsb = 2.0 * fs / self.n_codes
        if self.noise == 0:
            return np.zeros(shape)
        return (self.noise * lsb) * self._noise(rng, shape) / (1.0 + self.gain_error)

    def to_volts(self, codes, full_scale=None) -> np.ndarray:
        """Reconstruct volts from codes (..., n_columns): the ideal code centres -FS + (k + 1/2) LSB."""
        raw = as_array("ADC codes", codes, kinds="iu")
        arr = np.atleast_1d(raw).astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_codes):
            bad = arr[(arr < 0) | (arr >= self.n_codes)].flat[0]
            raise InvalidParameterError(f"ADC codes must lie in 0..{self.n_codes - 1}, got {bad}")
        fs = self._full_scale(full_scale, arr.shape[-1] if arr.ndim else 1)
        lsb = 2.0 * fs / self.n_codes
        return (-fs + (arr + 0.5) * lsb).reshape(raw.shape)


def _fit_widths(raw: np.ndarray, total: float) -> np.ndarray:
    """Code widths max(MIN_CODE_WIDTH, a * raw), with a per row chosen so each row sums to `total`.

    raw: (n_rows, n_widths) drawn widths in LSB. A row with no positive entry gets equal widths.
    """
    raw = np.asarray(raw, dtype=np.float64)
    positive = np.maximum(raw, 0.0).sum(axis=1, keepdims=True)
    ok = positive[:, 0] > 0
    raw = np.where(ok[:, None], raw, 1.0)
    positive = np.where(ok[:, None], positive, raw.shape[1])
    hi = total / positive  # sum(max(floor, hi raw)) >= total
    widths = np.maximum(MIN_CODE_WIDTH, hi * raw)
    if np.all(widths.sum(axis=1) <= total * (1 + 1e-12)):
        return widths  # no code was clipped
    lo = np.zeros_like(hi)
    for _ in range(64):  # bisection on the scale a: the sum grows monotonically with it
        mid = 0.5 * (lo + hi)
        over = np.maximum(MIN_CODE_WIDTH, mid * raw).sum(axis=1, keepdims=True) > total
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    clipped = hi * raw < MIN_CODE_WIDTH
    free = np.where(clipped, 0.0, raw).sum(axis=1, keepdims=True)
    a = (total - MIN_CODE_WIDTH * clipped.sum(axis=1, keepdims=True)) / free  # exact sum for this clip set
    return np.where(clipped, MIN_CODE_WIDTH, np.maximum(a * raw, MIN_CODE_WIDTH))


def _count_at_or_below(positions: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For sorted rows positions (C, K) and u (n, C): how many of column c's positions are <= u[:, c].

    A vectorised binary search (ceil(log2(K + 1)) steps of gathers), equivalent to
    np.searchsorted(positions[c], u[:, c], side="right") for every column.
    """
    n_cols, k = positions.shape
    cols = np.arange(n_cols)
    count = np.zeros(u.shape, dtype=np.int64)
    step = 1 << (k.bit_length() - 1)
    while step:
        cand = count + step
        idx = np.minimum(cand, k) - 1
        take = (cand <= k) & (positions[cols, idx] <= u)
        count = np.where(take, cand, count)
        step >>= 1
    return count


def measure_dnl_inl(thresholds, full_scale=None) -> tuple[np.ndarray, np.ndarray]:
    """DNL of the inner codes and INL of the thresholds, in LSB, from thresholds (..., 2^bits - 1) volts.

    DNL[..., j] = (T[j + 1] - T[j]) / LSB - 1 for the inner codes 1 .. 2^bits - 2 (shape (..., 2^bits - 2)).
    INL[..., k] = (T[k] - L[k]) / LSB, L the straight line through the two end thresholds
    (endpoint fit, shape (..., 2^bits - 1)): offset and gain error do not show in the INL.
    LSB: by default the endpoint-fit LSB (T[-1] - T[0]) / (2^bits - 2), so offset and gain error do
    not show in the DNL either. With `full_scale` (volts, a scalar or one per row) the unit is the
    ideal LSB 2 FS / 2^bits instead, and a gain error appears as a common DNL.
    Needs at least 2 bits (3 thresholds).
    """
    t = finite_array("thresholds (V)", thresholds)
    if t.ndim < 1:
        raise ShapeError("thresholds must have shape (..., 2^bits - 1)")
    n_thr = t.shape[-1]
    bits = (n_thr + 1).bit_length() - 1
    if n_thr < 3 or n_thr + 1 != 1 << bits:
        raise ShapeError(f"thresholds must have 2^bits - 1 entries with bits >= 2 on the last axis, got {n_thr}")
    if np.any(np.diff(t, axis=-1) <= 0):
        raise InvalidParameterError("thresholds must increase strictly along the last axis")
    span = t[..., -1:] - t[..., :1]
    fit_lsb = span / (n_thr - 1)
    if full_scale is None:
        lsb = fit_lsb
    else:
        fs = finite_array("full_scale (V)", full_scale)
        if np.any(fs < MIN_FULL_SCALE) or np.any(fs > MAX_FULL_SCALE):
            raise InvalidParameterError(f"full_scale must lie in [{MIN_FULL_SCALE:g}, {MAX_FULL_SCALE:g}] V")
        if fs.ndim == 0:
            lsb = 2.0 * fs / (n_thr + 1)
        elif fs.ndim == 1 and t.ndim >= 2 and fs.shape[0] == t.shape[-2]:
            lsb = (2.0 * fs / (n_thr + 1))[:, None]
        else:
            raise ShapeError(f"full_scale must be a scalar or have one value per row of thresholds, got {fs.shape}")
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        dnl = np.diff(t, axis=-1) / lsb - 1.0
        line = t[..., :1] + fit_lsb * np.arange(n_thr)
        inl = (t - line) / lsb
    if not (np.all(np.isfinite(dnl)) and np.all(np.isfinite(inl))):
        raise InvalidParameterError("thresholds and full scale give a DNL or INL beyond float range: check their units")
    return dnl, inl

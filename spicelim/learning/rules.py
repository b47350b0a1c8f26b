"""Update rules: how a layer's weights change after a minibatch, each one a small object the trainer calls.

Every rule is bound to one layer and gets, after each minibatch, the layer's inputs x (B, n_in)
and the errors at its outputs d (B, n_out) (d already divided by the batch size, so the loss
gradient is x^T d). The rules on arrays turn that into programming pulses on the layer's
differential pairs (AnalogLinear.pulse_pairs: +k raises a weight by k SET pulses on G+ and k
RESET pulses on G-); what a pulse does is the device's, at the voltage the circuit gives it.

    DigitalSGD(layer, lr, momentum)      exact float update of a DigitalLinear (software baseline)
    SignUpdate(layer, lr, threshold)     Manhattan rule: one pulse per pair by the sign of the minibatch's
                                         update, where |lr x gradient| exceeds `threshold`
    ThresholdUpdate(layer, lr, threshold, iterations)
                                         Yao et al. 2020: the minibatch's update dW = -lr x gradient is
                                         programmed only into pairs with |dW| > threshold, closed loop:
                                         the nominal number of pulses, then verify reads and single-pulse
                                         corrections until each pair is within the verify band
    MixedPrecisionUpdate(layer, lr)      Nandakumar et al. 2018/2020: a digital accumulator chi += dW;
                                         n = trunc(chi / eps) pulses where eps is one pulse pair's nominal
                                         weight step, and n eps is taken off chi
    StochasticUpdate(layer, lr, bl)      Gokmen and Vlasov 2016: every sample's outer product x (-d) as
                                         stochastic row and column pulse trains of bl slots, all cells
                                         at once; a pair pulses where its row and column fire together
    TikiTakaUpdate(layer, lr, ...)       Tiki-taka v2 (Gokmen 2021): the stochastic update goes into a
                                         second, fast array A; every minibatch a few of A's rows are read
                                         (one-hot reads), accumulated digitally in H, and H's whole
                                         pair steps are pulsed into the layer's own arrays C

Rules carry their own state (accumulators, random streams) in state_dict() for checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import batch_of_vectors, non_negative_int, positive_int, real_number
from .network import DigitalLinear
from .tiles import MAX_PAIR_PULSES, AnalogLinear, DifferentialTile, TileSpec

MAX_LEARNING_RATE = 1e6


@dataclass(frozen=True)
class UpdateReport:
    """What one update did: pairs programmed, pulses given (per device), driver energy (J), pulse time (s),
    verify reads (one per row read)."""

    pairs: int = 0
    pulses: int = 0
    energy: float = 0.0
    duration: float = 0.0
    verify_reads: int = 0


def pair_step(spec: TileSpec) -> float:
    """The nominal weight step of one pulse pair: mean |dw| of a +1 and a -1 pair pulse from the middle of the window.

    Simulated on one isolated pair of the tile's cell, device and pulses (no wires, spread or
    periphery) by the slot engine, both devices starting at the middle of the pair window.
    """
    nominal = replace(spec, r_wire=0.0, r_source=0.0, variability=None, tia=None, adc_bits=None,
                      subtraction="digital", backend="fast-slots")
    g_mid = np.full((1, 2), 0.5 * (spec.pairs.g_min + spec.pairs.g_max))
    steps = []
    for sign in (1, -1):
        tile = DifferentialTile(1, 1, nominal)
        tile.array.set_state(spec.device.state_for_conductance(g_mid, spec.v_read))
        before = tile.weights()
        tile.pulse_pairs([[sign]])
        steps.append(abs(float((tile.weights() - before)[0, 0])))
        tile.array.close()
    return float(np.mean(steps))


class UpdateRule:
    """Base of the rules: validation, the gradient, and an empty state."""

    name = ""
    needs_arrays = True

    def __init__(self, layer, lr: float):
        kind = AnalogLinear if self.needs_arrays else DigitalLinear
        if not isinstance(layer, kind):
            raise InvalidParameterError(f"the {self.name!r} rule updates a {kind.__name__}, got {type(layer).__name__}")
        self.layer = layer
        self.lr = real_number("learning rate", lr, minimum=0.0, strict=True, maximum=MAX_LEARNING_RATE)

    def update_of(self, x, d) -> np.ndarray:
        """-lr x^T d: the update of every weight (n_rows, n_out), bias row last."""
        x, _ = batch_of_vectors("x (layer inputs)", x, self.layer.n_in)
        d, _ = batch_of_vectors("d (layer errors)", d, self.layer.n_out)
        if x.shape[0] != d.shape[0]:
            raise ShapeError(f"{x.shape[0]} inputs but {d.shape[0]} errors")
        xa = np.hstack([x, np.ones((x.shape[0], 1))]) if self.layer.bias else x
        return -self.lr * (xa.T @ d)

    def step(self, x, d) -> UpdateReport:
        raise NotImplementedError

    def _pulse(self, counts: np.ndarray) -> UpdateReport:
        counts = np.clip(counts, -MAX_PAIR_PULSES, MAX_PAIR_PULSES).astype(np.int64)
        if not counts.any():
            return UpdateReport()
        energy, duration = self.layer.pulse_pairs(counts)
        return UpdateReport(pairs=int(np.count_nonzero(counts)), pulses=int(2 * np.abs(counts).sum()),
                            energy=energy, duration=duration)

    def state_dict(self) -> dict:
        return {"rule": self.name}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("rule") != self.name:
            raise InvalidParameterError(f"saved rule state is not a {self.name!r} rule's")

    def close(self) -> None:
        """Release what the rule built (arrays of its own); the layer is the network's."""


class DigitalSGD(UpdateRule):
    """Stochastic gradient descent with momentum on a DigitalLinear (the software baseline)."""

    name = "sgd"
    needs_arrays = False

    def __init__(self, layer, lr: float, momentum: float = 0.9):
        super().__init__(layer, lr)
        self.momentum = real_number("momentum", momentum, minimum=0.0, maximum=0.999)
        self.velocity = np.zeros((layer.n_in + layer.bias, layer.n_out))

    def step(self, x, d) -> UpdateReport:
        self.velocity = self.momentum * self.velocity + self.update_of(x, d)
        w, b = self.layer.weights()
        if self.layer.bias:
            self.layer.set_weights(w + self.velocity[:-1], b + self.velocity[-1])
        else:
            self.layer.set_weights(w + self.velocity)
        return UpdateReport()

    def state_dict(self) -> dict:
        return {"rule": self.name, "velocity": self.velocity.copy()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        v = np.asarray(state.get("velocity"), dtype=float)
        if v.shape != self.velocity.shape:
            raise ShapeError("saved momentum does not fit this layer")
        self.velocity = v.copy()


class SignUpdate(UpdateRule):
    """Manhattan rule: one pulse per pair by the sign of -lr x gradient where its magnitude exceeds `threshold`."""

    name = "sign"

    def __init__(self, layer, lr: float, threshold: float = 0.0):
        super().__init__(layer, lr)
        self.threshold = real_number("threshold", threshold, minimum=0.0)

    def step(self, x, d) -> UpdateReport:
        dw = self.update_of(x, d)
        return self._pulse(np.where(np.abs(dw) > self.threshold, np.sign(dw), 0))


class ThresholdUpdate(UpdateRule):
    """Threshold-gated closed-loop update of Yao et al. 2020 (see the module docstring).

    threshold: smallest |dW| programmed (weight units). iterations: verify-and-correct rounds after
    the first, nominal pulses. The verify band is the tiles' verify_tolerance (per device) in weight units.
    """

    name = "threshold"

    def __init__(self, layer, lr: float, threshold: float, iterations: int = 3):
        super().__init__(layer, lr)
        self.threshold = real_number("threshold", threshold, minimum=0.0)
        self.iterations = positive_int("iterations", iterations, maximum=100)
        spec = layer.spec
        self.eps = pair_step(spec)
        self.tolerance = 2 * spec.verify_tolerance * spec.w_max / (spec.pairs.g_max - spec.pairs.g_min)

    def step(self, x, d) -> UpdateReport:
        dw = self.update_of(x, d)
        chosen = np.abs(dw) > self.threshold
        if not chosen.any():
            return UpdateReport()
        w_max = self.layer.spec.w_max
        measured = self.layer.measured_weights()
        target = np.clip(measured + dw, -w_max, w_max)
        n = np.where(chosen, np.sign(dw) * np.maximum(1, np.rint(np.abs(dw) / self.eps)), 0)
        report = [self._pulse(n)]
        reads = self.layer.n_rows * len(self.layer.col_blocks)
        verify = reads
        for _ in range(self.iterations):
            measured = self.layer.measured_weights()
            verify += reads
            error = target - measured
            fix = chosen & (np.abs(error) > self.tolerance)
            if not fix.any():
                break
            report.append(self._pulse(np.where(fix, np.sign(error), 0)))
        return UpdateReport(pairs=int(chosen.sum()), pulses=sum(r.pulses for r in report),
                            energy=sum(r.energy for r in report), duration=sum(r.duration for r in report),
                            verify_reads=verify)

    def state_dict(self) -> dict:
        return {"rule": self.name, "eps": self.eps}


class MixedPrecisionUpdate(UpdateRule):
    """Mixed precision (Nandakumar et al.): a digital accumulator, pulses when it passes the pair's nominal step."""

    name = "mixed"

    def __init__(self, layer, lr: float, max_pulses: int = 5):
        super().__init__(layer, lr)
        self.max_pulses = positive_int("max_pulses", max_pulses, maximum=MAX_PAIR_PULSES)
        self.eps = pair_step(layer.spec)
        self.chi = np.zeros((layer.n_rows, layer.n_out))

    def step(self, x, d) -> UpdateReport:
        self.chi = self.chi + self.update_of(x, d)
        n = np.clip(np.trunc(self.chi / self.eps), -self.max_pulses, self.max_pulses)
        self.chi = self.chi - n * self.eps
        return self._pulse(n)

    def state_dict(self) -> dict:
        return {"rule": self.name, "chi": self.chi.copy()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        chi = np.asarray(state.get("chi"), dtype=float)
        if chi.shape != self.chi.shape or not np.all(np.isfinite(chi)):
            raise ShapeError("saved accumulator does not fit this layer")
        self.chi = chi.copy()


def _generator_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


def _restore_generator(rng: np.random.Generator, state) -> None:
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidParameterError(f"saved random stream does not fit: {exc}") from None


class StochasticUpdate(UpdateRule):
    """Stochastic pulse-coincidence update (Gokmen and Vlasov 2016) on the layer's arrays.

    For every sample b of the minibatch, the outer product of its inputs x_b (bias 1 appended) and
    its negative errors -d_b becomes firing probabilities p_x = c_x x_b and p_u = -c_d d_b, with
    bl c_x c_d eps = lr (eps: one pulse pair's nominal weight step, so the expected update is
    -lr x_b d_b) and c_x / c_d balanced so the largest row and pair probabilities are equal (the
    update management of Gokmen and Vlasov); probabilities clip at 1. The pulses run on the tiles
    (AnalogLinear.coincidence_update): bl slots per sample and phase, every cell at once.
    """

    name = "stochastic"

    def __init__(self, layer, lr: float, bl: int = 10, seed: int = 0):
        super().__init__(layer, lr)
        self.bl = positive_int("bl (slots per sample)", bl, maximum=1000)
        self.eps = pair_step(layer.spec)
        self.rng = np.random.default_rng(non_negative_int("seed", seed))

    def probabilities(self, x, d) -> tuple[np.ndarray, np.ndarray]:
        """Row (B, n_rows) and pair (B, n_out) firing probabilities of every sample."""
        x, _ = batch_of_vectors("x (layer inputs)", x, self.layer.n_in)
        return self._row_probabilities(self.layer.augmented(x), d)

    def _row_probabilities(self, xa, d) -> tuple[np.ndarray, np.ndarray]:
        xa, _ = batch_of_vectors("layer rows", xa, self.layer.n_rows)
        d, _ = batch_of_vectors("d (layer errors)", d, self.layer.n_out)
        if xa.shape[0] != d.shape[0]:
            raise ShapeError(f"{xa.shape[0]} inputs but {d.shape[0]} errors")
        g = -d
        mx = np.max(np.abs(xa), axis=1, keepdims=True)
        mg = np.max(np.abs(g), axis=1, keepdims=True)
        live = (mx > 0) & (mg > 0)
        k = self.lr / (self.bl * self.eps)
        cx = np.where(live, np.sqrt(k * mg / np.where(live, mx, 1.0)), 0.0)
        cd = np.where(live, np.sqrt(k * mx / np.where(live, mg, 1.0)), 0.0)
        return np.clip(cx * xa, -1, 1), np.clip(cd * g, -1, 1)

    def step(self, x, d) -> UpdateReport:
        x, _ = batch_of_vectors("x (layer inputs)", x, self.layer.n_in)
        return self.step_rows(self.layer.augmented(x), d)

    def step_rows(self, xa, d) -> UpdateReport:
        """step() with the inputs of every row given, bias row included: (B, n_rows)."""
        px, pu = self._row_probabilities(xa, d)
        energy, duration, hits = self.layer.coincidence_update(px, pu, self.bl, self.rng)
        return UpdateReport(pairs=int(np.count_nonzero(hits)), pulses=int(hits.sum()) * (
            2 if self.layer.spec.pair_update == "both" else 1), energy=energy, duration=duration)

    def state_dict(self) -> dict:
        return {"rule": self.name, "rng": _generator_state(self.rng)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        _restore_generator(self.rng, state.get("rng"))


class TikiTakaUpdate(UpdateRule):
    """Tiki-taka v2 (Gokmen and Haensch 2020; Gokmen 2021), every step on arrays (see the module docstring).

    A: a second layer of tiles, alike but with pair_update "both" and every pair centred (both
    devices mid-window, so it moves either way), updated by the stochastic rule at rate lr.
    Each minibatch, `transfer_rows` rows of A (cycling) are read with one-hot inputs through the
    TIAs and ADCs, added times transfer_lr to the digital H, and every whole pair step of H
    (eps of the layer's tiles C, at most max_pulses) is pulsed into C and taken off H. The
    forward and backward reads use C alone.

    chop: the chopped variant (Rasch et al., Nat. Commun. 15, 7133, 2024). Each row of A has a sign
    c = +-1: A learns c x the gradient and is read back times c, and after each read c flips with
    probability `chop`. A pair whose devices balance at a nonzero weight (spread makes every
    pair's symmetric point different) then adds +-offset to H by turns instead of a steady drift
    into C. chop = 0 is plain TTv2.
    """

    name = "tiki-taka"

    def __init__(self, layer, lr: float, bl: int = 10, transfer_lr: float = 1.0, transfer_rows: int = 4,
                 max_pulses: int = 1, chop: float = 0.0, seed: int = 0):
        super().__init__(layer, lr)
        self.transfer_lr = real_number("transfer_lr", transfer_lr, minimum=0.0, strict=True, maximum=MAX_LEARNING_RATE)
        self.transfer_rows = positive_int("transfer_rows", transfer_rows, maximum=layer.n_rows)
        self.max_pulses = positive_int("max_pulses", max_pulses, maximum=MAX_PAIR_PULSES)
        self.chop = real_number("chop (flip probability)", chop, minimum=0.0, maximum=1.0)
        seed = non_negative_int("seed", seed)
        self.chopper = np.ones(layer.n_rows)
        self.chop_rng = np.random.default_rng([seed, 1])
        backends = {"spice": layer.tiles[0][0].array.backends.get("spice")}  # A shares C's ngspice worker
        self.fast = AnalogLinear(layer.n_in, layer.n_out, replace(layer.spec, pair_update="both"), bias=layer.bias,
                                 seed=seed + 1, backends=backends)
        for tile, _, _ in self.fast.blocks():  # ADC full scales for one-hot reads of pairs at their largest
            if tile.array.adc is not None:
                g_top = np.full(tile.array.shape, tile.pairs.g_max)
                lo, hi = tile.array.cell_device.state_bounds
                tile.array.set_state(np.clip(tile.spec.device.state_for_conductance(g_top, tile.spec.v_read), lo, hi))
                tile.calibrate(np.eye(tile.n_in))
        self.fast.center()
        self.a_rule = StochasticUpdate(self.fast, lr, bl, seed)
        self.eps = pair_step(layer.spec)
        self.h = np.zeros((layer.n_rows, layer.n_out))
        self.next_row = 0

    def step(self, x, d) -> UpdateReport:
        x, _ = batch_of_vectors("x (layer inputs)", x, self.layer.n_in)
        xa = self.layer.augmented(x) * self.chopper  # A learns the chopped gradient (bias row included)
        a = self.a_rule.step_rows(xa, d)
        rows = (self.next_row + np.arange(self.transfer_rows)) % self.layer.n_rows
        self.next_row = int((rows[-1] + 1) % self.layer.n_rows)
        self.h[rows] += self.transfer_lr * self.chopper[rows, None] * self.fast.read_rows(rows)
        if self.chop > 0:
            flip = self.chop_rng.random(rows.size) < self.chop
            self.chopper[rows[flip]] *= -1
        n = np.clip(np.trunc(self.h / self.eps), -self.max_pulses, self.max_pulses)
        self.h -= n * self.eps
        c = self._pulse(n)
        return UpdateReport(pairs=a.pairs + c.pairs, pulses=a.pulses + c.pulses, energy=a.energy + c.energy,
                            duration=a.duration + c.duration, verify_reads=rows.size)

    def state_dict(self) -> dict:
        return {"rule": self.name, "h": self.h.copy(), "next_row": self.next_row, "fast": self.fast.state_dict(),
                "a_rule": self.a_rule.state_dict(), "chopper": self.chopper.copy(),
                "chop_rng": _generator_state(self.chop_rng)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        h = np.asarray(state.get("h"), dtype=float)
        if h.shape != self.h.shape or not np.all(np.isfinite(h)):
            raise ShapeError("saved H does not fit this layer")
        row = non_negative_int("saved next_row", state.get("next_row"), maximum=self.layer.n_rows - 1)
        chopper = np.asarray(state.get("chopper"), dtype=float)
        if chopper.shape != self.chopper.shape or not np.all(np.abs(chopper) == 1):
            raise ShapeError("saved chopper signs do not fit this layer")
        self.fast.load_state_dict(state.get("fast"))
        self.a_rule.load_state_dict(state.get("a_rule"))
        _restore_generator(self.chop_rng, state.get("chop_rng"))
        self.h, self.next_row, self.chopper = h.copy(), row, chopper.copy()

    def close(self) -> None:
        self.fast.close()


RULES = {"sgd": DigitalSGD, "sign": SignUpdate, "threshold": ThresholdUpdate, "mixed": MixedPrecisionUpdate,
         "stochastic": StochasticUpdate, "tiki-taka": TikiTakaUpdate}

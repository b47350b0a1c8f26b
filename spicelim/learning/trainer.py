"""The training loop: minibatches and epochs over a Network, its rules updating the layers, checkpoints and metrics.

Each minibatch: a forward read of every layer, the softmax cross-entropy error at the output,
transposed reads down to the lowest layer that trains, and one step of every layer's rule.
Each epoch ends with a test-set read and one row of metrics (metrics.csv in the run directory):
loss, accuracies, pairs programmed, pulses, programming energy and pulse time (from the
simulated transients), read vectors and their energy (drivers and TIA feedback, from a simulated
read of up to ENERGY_SAMPLE images of the epoch's last minibatch on every tile, times the vectors
read), and the wall time of reads and of updates.

With a run directory, a checkpoint (checkpoint.npz) is written atomically after every minibatch:
every layer's state (device states, stuck maps, spread, every random stream, ADC calibration),
every rule's state, the position in the epoch, the metrics so far and a fingerprint of the
configuration. A killed run started again with the same configuration resumes after the last
minibatch it finished: it repeats at most the one it was in, and on the fast backends ends with
bit-identical states. The minibatch order of epoch e comes from the stream (seed, e), so it is
the same on every start.

BLAS threads: the loop alternates numpy's and scipy's BLAS (two OpenBLAS pools); on small tiles
their spinning threads starve each other (measured: one epoch's reads 67 s with both pools at 2
threads, 2 s at 1). The trainer runs with `blas_threads` per pool (default 1).
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ..checkpoint import load_state, save_state
from ..errors import InvalidParameterError
from ..validation import boolean, non_negative_int, path_value, positive_int
from .data import Dataset
from .network import Network, cross_entropy
from .rules import UpdateRule
from .tiles import AnalogLinear

CHECKPOINT = "checkpoint.npz"
ENERGY_SAMPLE = 16  # images of the epoch's last minibatch whose simulated read gives the read energy per vector
METRICS = "metrics.csv"
COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_accuracy", "pairs_programmed", "pulses",
           "update_energy_J", "pulse_time_s", "read_vectors", "read_energy_J", "read_seconds", "update_seconds")


class CheckpointMismatch(InvalidParameterError):
    """A checkpoint written by a run of another configuration."""


def read_energy_per_vector(layer: AnalogLinear, x: np.ndarray) -> float:
    """Joules per input vector of a forward read of the layer (drivers and TIA feedback of every tile)."""
    xa = layer.augmented(x)
    costs = [tile.read_cost(xa[:, rows]) for tile, rows, _ in layer.blocks()]
    return sum(c.drivers + c.feedback for c in costs)


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write the metrics table atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Trainer:
    """Trains `network` on `data` with one rule per layer (None: the layer is not trained).

    epochs, batch_size: the schedule. seed: the minibatch order. run_dir: where checkpoints,
    metrics.csv and plots go (None: nothing is written, nothing resumes). fingerprint: a string
    that identifies the configuration; a checkpoint with another one is refused.
    """

    def __init__(self, network: Network, rules: list, data: Dataset, *, epochs: int, batch_size: int,
                 seed: int = 0, run_dir=None, fingerprint: str = "", progress: bool = True,
                 blas_threads: int | None = 1):
        if not isinstance(network, Network):
            raise InvalidParameterError(f"network must be a learning.Network, got {type(network).__name__}")
        if not isinstance(data, Dataset):
            raise InvalidParameterError(f"data must be a learning.Dataset, got {type(data).__name__}")
        if data.n_features != network.n_in or data.n_classes != network.n_out:
            raise InvalidParameterError(f"the network maps {network.n_in} inputs to {network.n_out} classes; the"
                                        f" data set has {data.n_features} features and {data.n_classes} classes")
        if not isinstance(rules, (list, tuple)) or len(rules) != len(network.layers):
            raise InvalidParameterError("give one rule (or None) per layer")
        for layer, rule in zip(network.layers, rules):
            if rule is not None and (not isinstance(rule, UpdateRule) or rule.layer is not layer):
                raise InvalidParameterError("every rule must be an UpdateRule bound to its own layer")
        self.trained = [k for k, r in enumerate(rules) if r is not None]
        if not self.trained:
            raise InvalidParameterError("no layer has a rule: nothing to train")
        self.network, self.rules, self.data = network, list(rules), data
        self.epochs = positive_int("epochs", epochs, maximum=100_000)
        self.batch_size = positive_int("batch_size", batch_size, maximum=data.train_y.size)
        self.seed = non_negative_int("seed", seed, maximum=2**63 - 1)
        self.run_dir = None if run_dir is None else path_value("run_dir", run_dir)
        if not isinstance(fingerprint, str):
            raise InvalidParameterError("fingerprint must be a string")
        self.fingerprint = fingerprint
        self.progress = boolean("progress", progress)
        self.blas_threads = None if blas_threads is None else positive_int("blas_threads", blas_threads, maximum=1024)
        self.history: list[dict] = []
        self.initial_conductance = self._conductances()
        self.minibatches_run = 0  # in this process (a resumed run counts from its restart)

    # ------------------------------------------------------------------ state
    def _conductances(self) -> dict:
        return {f"layer{k}_tile{a}_{c}": tile.array.conductance.copy()
                for k, layer in enumerate(self.network.layers) if isinstance(layer, AnalogLinear)
                for a, row in enumerate(layer.tiles) for c, tile in enumerate(row)}

    def _checkpoint(self, epoch: int, batch: int, running: dict) -> None:
        if self.run_dir is None:
            return
        save_state(self.run_dir / CHECKPOINT, {
            "fingerprint": self.fingerprint, "epoch": epoch, "batch": batch, "running": running,
            "history": self.history, "network": self.network.state_dict(), "initial": self.initial_conductance,
            "rules": {str(k): self.rules[k].state_dict() for k in self.trained}})

    def _resume(self) -> tuple[int, int, dict | None]:
        path = None if self.run_dir is None else self.run_dir / CHECKPOINT
        if path is None or not path.exists():
            return 0, 0, None
        state = load_state(path)
        if state.get("fingerprint") != self.fingerprint:
            raise CheckpointMismatch(f"{path} was written by a run of another configuration; use a new run"
                                     " directory or delete the checkpoint")
        self.network.load_state_dict(state["network"])
        for k in self.trained:
            self.rules[k].load_state_dict(state["rules"][str(k)])
        self.history = list(state["history"])
        self.initial_conductance = state["initial"]
        return int(state["epoch"]), int(state["batch"]), state["running"]

    # ------------------------------------------------------------------ loop
    def run(self, resume: bool = True) -> list[dict]:
        """Train to the last epoch (from the checkpoint when resume and one exists); return the metrics rows."""
        epoch, start, running = self._resume() if boolean("resume", resume) else (0, 0, None)
        batches = -(-self.data.train_y.size // self.batch_size)
        lowest = min(self.trained)
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=self.epochs * batches, initial=epoch * batches + start, desc="training", unit="batch",
                   disable=not self.progress, leave=False)
        with bar, threadpool_limits(limits=self.blas_threads):
            self._epochs(epoch, start, running, batches, lowest, bar)
        return self.history

    def _epochs(self, epoch: int, start: int, running: dict | None, batches: int, lowest: int, bar) -> None:
        n = self.data.train_y.size
        while epoch < self.epochs:
            order = np.random.default_rng([self.seed, epoch]).permutation(n)
            if running is None:
                running = {"loss": 0.0, "right": 0, "seen": 0, "pairs": 0, "pulses": 0, "energy": 0.0,
                           "pulse_time": 0.0, "read_vectors": 0, "read_seconds": 0.0, "update_seconds": 0.0}
            for b in range(start, batches):
                idx = order[b * self.batch_size:(b + 1) * self.batch_size]
                self._minibatch(self.data.train_x[idx], self.data.train_y[idx], lowest, running)
                self.minibatches_run += 1
                self._checkpoint(epoch, b + 1, running)
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{running['loss'] / max(running['seen'], 1):.3f}")
            self._end_epoch(epoch, running, self.data.train_x[order[-min(self.batch_size, ENERGY_SAMPLE):]])
            epoch, start, running = epoch + 1, 0, None
            self._checkpoint(epoch, 0, None)

    def _minibatch(self, x, y, lowest: int, running: dict) -> None:
        t0 = time.perf_counter()
        logits, inputs, pre = self.network.forward(x)
        loss, d = cross_entropy(logits, y)
        errors = self.network.errors(d, pre, lowest)
        t1 = time.perf_counter()
        for k in self.trained:
            rep = self.rules[k].step(inputs[k], errors[k])
            running["pairs"] += rep.pairs
            running["pulses"] += rep.pulses
            running["energy"] += rep.energy
            running["pulse_time"] += rep.duration
            running["read_vectors"] += rep.verify_reads
            self.network.layers[k].relax()  # time passes before the next minibatch's reads
        t2 = time.perf_counter()
        analog = sum(isinstance(layer, AnalogLinear) for layer in self.network.layers)
        backward = sum(isinstance(self.network.layers[k], AnalogLinear) for k in range(lowest + 1, len(pre)))
        running["read_vectors"] += y.size * (analog + backward)
        running["loss"] += loss * y.size
        running["right"] += int(np.sum(np.argmax(logits, axis=1) == y))
        running["seen"] += int(y.size)
        running["read_seconds"] += t1 - t0
        running["update_seconds"] += t2 - t1

    def _end_epoch(self, epoch: int, running: dict, sample: np.ndarray) -> None:
        t0 = time.perf_counter()
        test = self.network.accuracy(self.data.test_x, self.data.test_y)
        inputs = self.network.forward(sample)[1]
        energy = sum(read_energy_per_vector(layer, inputs[k]) for k, layer in enumerate(self.network.layers)
                     if isinstance(layer, AnalogLinear))
        seen = max(running["seen"], 1)
        row = {"epoch": epoch + 1, "train_loss": running["loss"] / seen, "train_accuracy": running["right"] / seen,
               "test_accuracy": test, "pairs_programmed": running["pairs"], "pulses": running["pulses"],
               "update_energy_J": running["energy"], "pulse_time_s": running["pulse_time"],
               "read_vectors": running["read_vectors"],
               "read_energy_J": energy * running["seen"], "read_seconds": running["read_seconds"]
               + time.perf_counter() - t0, "update_seconds": running["update_seconds"]}
        self.history.append(row)
        if self.run_dir is not None:
            write_csv(self.run_dir / METRICS, self.history)

    def conductance_changes(self) -> tuple[dict, dict]:
        """(conductances before training, after) of every tile, siemens."""
        return self.initial_conductance, self._conductances()

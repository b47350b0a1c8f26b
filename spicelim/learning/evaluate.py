"""A whole test set through a network on simulated arrays, every tile read on one backend, over Dask.

    from spicelim.learning.evaluate import evaluate_on_arrays
    res = evaluate_on_arrays(net, data.test_x, data.test_y, "runs/eval", backend="spice", batch=64)
    res.accuracy, res.predictions, res.images_per_second

The network (a spicelim.learning.Network of AnalogLinear and DigitalLinear layers) is saved once
into the output folder (network.pkl) and every worker loads it from there, so on a cluster of
several machines the folder must be on a file system they share. Layer by layer, every (tile,
image batch) pair is one task of a resumable sweep (spicelim.sweeps) into layer<k>/: the worker
reads its tile on the backend, with its own ngspice process for the "spice" backend, and the
tile's read noise restarted from the task's seed, so no result depends on which worker ran what
before. The driver adds the row tiles' outputs of each layer, applies the activation and hands
the result on as the next layer's inputs (inputs<k>.npy); digital layers run in the driver.
A killed evaluation re-run with the same arguments skips every finished task. The per-image
predictions land in predictions.parquet and predictions.csv, the summary in evaluation.json.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..checkpoint import atomic_write
from ..errors import InvalidParameterError
from ..sweeps import SweepSpec, SweepTask, run_sweep
from ..validation import batch_of_vectors, integer_array, path_value, positive_int, show
from .network import Network, activate
from .tiles import AnalogLinear


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What evaluate_on_arrays measured."""

    accuracy: float
    predictions: np.ndarray  # (N,) class of every image
    labels: np.ndarray
    seconds: float  # wall time of the tile reads run now (all layers)
    tasks_run: int
    tasks_skipped: int
    files: tuple[Path, ...]

    @property
    def images_per_second(self) -> float:
        return self.predictions.size / self.seconds if self.seconds > 0 else float("inf")


@lru_cache(maxsize=2)
def _network_bytes(path: str, fingerprint: str) -> bytes:
    """The saved network's bytes, read once per worker process and network (fingerprint: part of the key)."""
    return Path(path).read_bytes()


def _digest(h, value) -> None:
    """Feed a state (nested dicts, lists, arrays, numbers, strings) into the hash h, in a fixed order."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            h.update(str(key).encode())
            _digest(h, value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            _digest(h, item)
    elif isinstance(value, np.ndarray):
        h.update(str((value.dtype.str, value.shape)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(repr(value).encode())


def network_fingerprint(net: Network) -> str:
    """16 hex digits identifying a network by what it computes: layer types, tile specs, weights and
    array states (random streams included); not by its simulators' bookkeeping."""
    h = hashlib.sha256(net.activation.encode())
    for layer in net.layers:
        h.update(type(layer).__name__.encode())
        if isinstance(layer, AnalogLinear):
            h.update(repr(layer.spec).encode())
            _digest(h, layer.state_dict())
        else:
            _digest(h, [w for w in layer.weights()])
    return h.hexdigest()[:16]


def _tile_task(network_file: Path, inputs: list[Path], backend: str) -> SweepTask:
    """Read one tile of one layer on one batch of images: outputs (batch, the tile's outputs)."""

    def run(p, seed, backends):
        net = pickle.loads(_network_bytes(str(network_file), p["network"]))  # a fresh copy for this task
        layer = net.layers[p["layer"]]
        a, c = (int(k) for k in p["tile"].split("_"))
        r0, r1 = layer.row_blocks[a]
        start = p["batch"] * p["batch_size"]
        x = np.load(inputs[p["layer"]], mmap_mode="r")[start:start + p["batch_size"]]
        x = layer.augmented(np.array(x))[:, r0:r1]
        tile = layer.tiles[a][c]
        tile.array.reseed_read_noise(seed)
        return {"outputs": tile.forward(x, backend=backends.get(backend))}

    return SweepTask("tile-read", run, {"layer": 0, "tile": "0_0", "batch": 0, "batch_size": 1, "network": "",
                                       "inputs": "", "backend": backend}, backend_parameter="backend")


def _save_array(path: Path, arr: np.ndarray) -> None:
    def write(tmp):
        with open(tmp, "wb") as fh:
            np.save(fh, arr)

    atomic_write(path, write)


def evaluate_on_arrays(net: Network, x, y, out_dir, *, backend: str = "spice", batch: int = 64, scheduler=None,
                       workers: int = 2, progress: bool = True) -> Evaluation:
    """Classify every image of x (N, n_in) with every tile read on `backend`; see the module docstring.

    y: labels (N,). batch: images per task. scheduler, workers: as in spicelim.sweeps.run_sweep.
    """
    if not isinstance(net, Network):
        raise InvalidParameterError(f"net must be a spicelim.learning.Network, got {type(net).__name__}")
    x, _ = batch_of_vectors("x (images)", x, net.n_in)
    y = integer_array("y (labels)", y, (x.shape[0],))
    if np.any((y < 0) | (y >= net.n_out)):
        raise InvalidParameterError(f"labels must lie in [0, {net.n_out}), the network's outputs")
    batch = positive_int("batch", batch, maximum=4096)
    if not isinstance(backend, str):
        raise InvalidParameterError(f"backend must be a backend name, got {show(backend)}")
    out = path_value("out_dir", out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"out_dir {out} exists and is not a folder")
    fingerprint = network_fingerprint(net)
    data_id = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()[:16]
    meta = out / "evaluation-of.json"
    ident = {"network": fingerprint, "image_set": data_id, "backend": backend, "batch": batch}
    if meta.exists() and json.loads(meta.read_text()) != ident:
        raise InvalidParameterError(f"{out} holds an evaluation of another network, image set, backend or batch"
                                    f" ({meta.read_text().strip()}); choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    network_file = out / "network.pkl"
    if not network_file.exists():
        blob = pickle.dumps(net)
        atomic_write(network_file, lambda tmp: Path(tmp).write_bytes(blob))
    atomic_write(meta, lambda tmp: Path(tmp).write_text(json.dumps(ident)))

    n_layers = len(net.layers)
    inputs = [out / f"inputs{k}.npy" for k in range(n_layers)]
    task = _tile_task(network_file, inputs, backend)
    a = x
    seconds, ran, skipped = 0.0, 0, 0
    n_batches = -(-x.shape[0] // batch)
    for k, layer in enumerate(net.layers):
        if not isinstance(layer, AnalogLinear):
            z = np.atleast_2d(layer.forward(a))
        else:
            _save_array(inputs[k], a)
            tiles = [f"{r}_{c}" for r in range(len(layer.row_blocks)) for c in range(len(layer.col_blocks))]
            spec = SweepSpec(task, grid={"tile": tiles, "batch": list(range(n_batches))},
                             fixed={"layer": k, "batch_size": batch, "network": fingerprint, "inputs": data_id},
                             name=f"layer {k}")
            res = run_sweep(spec, out / f"layer{k}", scheduler=scheduler, workers=workers, progress=progress)
            seconds, ran, skipped = seconds + res.seconds, ran + res.ran, skipped + res.skipped
            rows = res.table.to_pylist()
            bad = [r for r in rows if r["status"] != "ok"]
            if bad:
                raise InvalidParameterError(f"{len(bad)} tile read(s) of layer {k} failed, first: {bad[0]['error']};"
                                            " run again to retry them")
            z = np.zeros((a.shape[0], layer.n_out))
            for r in rows:
                ta, tc = (int(v) for v in r["tile"].split("_"))
                c0, c1 = layer.col_blocks[tc]
                start = r["batch"] * batch
                z[start:start + batch, c0:c1] += np.asarray(r["outputs"])
        a = activate(net.activation, z) if k < n_layers - 1 else z
    predictions = np.argmax(a, axis=1)
    table = pa.table({"image": np.arange(x.shape[0]), "label": y, "prediction": predictions,
                      "correct": predictions == y})
    files = (out / "predictions.parquet", out / "predictions.csv", out / "evaluation.json")
    atomic_write(files[0], lambda tmp: pq.write_table(table, tmp))
    atomic_write(files[1], lambda tmp: pacsv.write_csv(table, tmp))
    accuracy = float(np.mean(predictions == y))
    summary = {**ident, "accuracy": accuracy, "images": int(x.shape[0]), "seconds_now": seconds,
               "tasks_run_now": ran, "tasks_skipped": skipped}
    atomic_write(files[2], lambda tmp: Path(tmp).write_text(json.dumps(summary, indent=1)))
    return Evaluation(accuracy=accuracy, predictions=predictions, labels=y, seconds=seconds, tasks_run=ran,
                      tasks_skipped=skipped, files=files)

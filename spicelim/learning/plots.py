"""Plots of a training run: accuracy per epoch, conductances before and after, and their changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MOVED_S = 1e-9  # a device moved when its conductance changed by more than this (ngspice round-off is far below)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_accuracy(path: Path, curves: dict[str, list[float]], lines: dict[str, float]) -> Path:
    """Test accuracy (%) per epoch for each named run, with horizontal reference lines (baseline, transfer)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label, acc in curves.items():
        ax.plot(np.arange(1, len(acc) + 1), 100 * np.asarray(acc), marker="o", label=label)
    for k, (label, value) in enumerate(lines.items()):
        ax.axhline(100 * value, color=f"C{k + len(curves)}", linestyle="--", label=label)
    ax.set_xlabel("epoch of in-situ training")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_conductances(path: Path, before: np.ndarray, after: np.ndarray, title: str) -> Path:
    """Histograms of conductances (uS) before and after training, and of their changes (as Yao et al. Fig. 4e,f)."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    bins = np.linspace(min(before.min(), after.min()) * 1e6, max(before.max(), after.max()) * 1e6, 40)
    a.hist(before.ravel() * 1e6, bins=bins, alpha=0.6, label="after transfer")
    a.hist(after.ravel() * 1e6, bins=bins, alpha=0.6, label="after in-situ training")
    a.set_xlabel("device conductance (uS)")
    a.set_ylabel("devices")
    a.legend(fontsize=8)
    change = (after - before).ravel() * 1e6
    moved = np.abs(change) > MOVED_S * 1e6
    b.hist(change[moved], bins=40, color="C2")
    b.set_xlabel("conductance change (uS)")
    b.set_ylabel("devices")
    b.set_title(f"{np.count_nonzero(moved)} of {change.size} devices moved by more than {MOVED_S * 1e9:g} nS",
                fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

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


def plot_validation(rows: list[dict], names: list[str], out: Path) -> list[Path]:
    """Error against array size (at the middle wire resistance), error against wire resistance (at the
    largest size), and time per read against error, one line or marker set per model and cell."""
    plt = _pyplot()
    cells = sorted({r["cell"] for r in rows})
    r_wires = sorted({r["r_wire"] for r in rows})
    sizes = sorted({r["size"] for r in rows})
    r_mid, n_big = r_wires[len(r_wires) // 2], sizes[-1]
    files = []
    for fname, x_key, fixed_key, fixed, xlabel in (
            ("validation_error_vs_size.png", "size", "r_wire", r_mid, "array size N (N x N)"),
            ("validation_error_vs_wire.png", "r_wire", "size", n_big, "wire resistance per segment (ohm)")):
        fig, axes = plt.subplots(1, len(cells), figsize=(5.2 * len(cells), 4.2), squeeze=False, sharey=True)
        for ax, cell in zip(axes[0], cells):
            sel = sorted((r for r in rows if r["cell"] == cell and r[fixed_key] == fixed), key=lambda r: r[x_key])
            for name in names:
                ys = [max(r[f"{name}_max_error"], 1e-12) for r in sel]
                ax.plot([r[x_key] for r in sel], ys, marker="o", label=name)
            ax.set_xscale("log", base=2 if x_key == "size" else 10)
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_title(f"{cell}, {fixed_key} = {fixed:g}", fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel("max error / largest ngspice current")
        axes[0][0].legend(fontsize=8)
        fig.tight_layout()
        files.append(out / fname)
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for name in [*names, "ngspice"]:
        if name == "ngspice":
            xs, ys = [1e-12] * len(rows), [r["reference_s_per_read"] for r in rows]
        else:
            xs = [max(r[f"{name}_max_error"], 1e-12) for r in rows]
            ys = [r[f"{name}_s_per_read"] for r in rows]
        ax.scatter(xs, ys, s=14, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("max error / largest ngspice current (ngspice itself drawn at 1e-12)")
    ax.set_ylabel("seconds per read (one input vector)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(out / "validation_speed_vs_error.png")
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)
    return files

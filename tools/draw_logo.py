"""Draw the book's logo and favicon (`python tools/draw_logo.py`).

The picture is the book's first idea: a sequence memory recalling its stored memories one after
another around a cycle (the cyclic shift Φ of the GSEMM chapter, five memories), the memory being
recalled now filled in. The colours are matplotlib's first two, those of the book's figures.

Writes, atomically and byte-for-byte reproducibly (no dates, fixed SVG ids):

    book/figures/logo.svg      the logo in the navigation bar (_config.yml: logo)
    book/figures/logo.png      the same, 400 x 400 pixels, on the pages' social cards
    book/figures/favicon.png   the cycle alone, 64 x 64 pixels, for browser tabs and the corner of
                               the social cards (_config.yml: html.favicon, ogp_social_cards)
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "book" / "figures"
BLUE, ORANGE = "#1f77b4", "#ff7f0e"
N_MEMORIES, RECALLED = 5, 0

plt.rcParams.update({"svg.hashsalt": "emt-book", "svg.fonttype": "path"})


def draw_cycle(ax, center=(0.0, 0.0), radius=1.0, node=0.27, lw=3.0, arrows=True) -> None:
    """Five memories on a ring, an arrow from each to the next (or the plain ring, for icons too
    small for arrowheads), the recalled one filled."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(N_MEMORIES) / N_MEMORIES
    points = np.c_[np.cos(angles), np.sin(angles)] * radius + np.asarray(center)
    x0, x1 = ax.get_xlim()
    points_per_unit = ax.figure.get_figwidth() * 72 / (x1 - x0)
    gap = node * points_per_unit + lw  # the arrows start and end just outside the circles
    for k, point in enumerate(points):
        ax.add_patch(
            Circle(
                point,
                node,
                facecolor=ORANGE if k == RECALLED else "white",
                edgecolor=BLUE,
                lw=lw,
                zorder=3,
            )
        )
    if not arrows:
        ax.add_patch(Circle(center, radius, fill=False, edgecolor=BLUE, lw=lw, zorder=2))
        return
    for k, point in enumerate(points):
        ax.add_patch(
            FancyArrowPatch(
                point,
                points[(k + 1) % N_MEMORIES],
                connectionstyle="arc3,rad=-0.2",
                arrowstyle="-|>,head_length=0.5,head_width=0.32",
                mutation_scale=9 * lw,
                shrinkA=gap,
                shrinkB=gap,
                color=BLUE,
                lw=lw,
                zorder=2,
            )
        )


def _figure(width_in: float, height_in: float, xlim, ylim):
    fig = plt.figure(figsize=(width_in, height_in))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def logo(fmt: str) -> bytes:
    fig, ax = _figure(2.4, 2.4, (-1.45, 1.45), (-1.45, 1.45))
    draw_cycle(ax, radius=1.0, node=0.27, lw=3.0)
    ax.text(0, -0.05, "EMT", ha="center", va="center", fontsize=21, weight="bold", color=BLUE)
    return _save(fig, fmt, dpi=400 / 2.4)


def favicon() -> bytes:
    fig, ax = _figure(1.0, 1.0, (-1.5, 1.5), (-1.5, 1.5))
    draw_cycle(ax, radius=1.0, node=0.4, lw=4.5, arrows=False)
    return _save(fig, "png", dpi=64)


def _save(fig, fmt: str, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(
        buffer, format=fmt, dpi=dpi, transparent=fmt != "png" or dpi == 64, metadata=metadata
    )
    plt.close(fig)
    return buffer.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    outputs = {"logo.svg": logo("svg"), "logo.png": logo("png"), "favicon.png": favicon()}
    for name, data in outputs.items():
        atomic_write(FIGURES / name, data)
        print(f"wrote {(FIGURES / name).relative_to(ROOT)} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()

"""The book's recurring figures.

Every function draws on a matplotlib ``Axes`` (made for you when ``ax`` is None), returns that
``Axes`` (or the ``Figure`` for multi-panel figures) and never calls ``plt.show()``.
Each docstring names the chapter that uses the figure. Plots sit on top of the library: this
module may import any other emtlib module, and none of them imports it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

#: Diverging colour map used for every signed matrix or sequence in the book.
SIGNED_CMAP = "RdBu_r"


def _axes(ax=None, figsize=(5.0, 4.0)):
    """Return ``ax`` or a fresh Axes of the given size."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def signed_heatmap(M, ax=None, title=None, xlabel=None, ylabel=None, colorbar=True, vmax=None):
    """Heatmap of a signed matrix on a symmetric colour scale (used in every chapter)."""
    M = np.asarray(M, dtype=float)
    if M.ndim != 2:
        raise ValueError(f"signed_heatmap expects a 2-D matrix, got shape {M.shape}")
    ax = _axes(ax)
    v = float(np.max(np.abs(M))) if vmax is None else float(vmax)
    v = v if v > 0 else 1.0
    im = ax.imshow(M, cmap=SIGNED_CMAP, vmin=-v, vmax=v, interpolation="nearest", aspect="auto")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def unit_circle_spectrum(eigenvalues, ax=None, title=None, label=None, marker="o", **kwargs):
    """Eigenvalues in the complex plane with the unit circle drawn (chapters on spectra)."""
    lam = np.asarray(eigenvalues, dtype=complex).ravel()
    ax = _axes(ax, figsize=(4.2, 4.2))
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(theta), np.sin(theta), color="0.7", lw=1, zorder=0)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.scatter(lam.real, lam.imag, marker=marker, label=label, **kwargs)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")
    if title:
        ax.set_title(title)
    return ax

"""The book's recurring figures.

Every function draws on a matplotlib ``Axes`` (made for you when ``ax`` is None), returns that
``Axes`` (or the ``Figure`` for multi-panel figures) and never calls ``plt.show()``.
Each docstring names the chapter that uses the figure. Plots sit on top of the library: this
module may import any other emtlib module, and none of them imports it.  Figures of trained runs
take the models or their records (:class:`emtlib.lab.record.Record`, read through its attributes) as
arguments; this module never loads anything by name.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .circuit import cycles, ideal_spectrum
from .gsemm import overlaps

#: Diverging colour map used for every signed matrix or sequence in the book.
SIGNED_CMAP = "RdBu_r"


def _axes(ax=None, figsize=(5.0, 4.0)):
    """Return ``ax`` or a fresh Axes of the given size."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _panel_grid(n, ncols, panel, pad=(0.0, 0.0)):
    """A constrained-layout Figure with ``n`` panels, ``ncols`` per row, each ``panel = (w, h)``
    inches plus ``pad`` for the whole figure; the unused cells of the last row are hidden.
    Returns ``(fig, axes)`` with ``axes`` 2-D (used by every multi-panel figure)."""
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel[0] * ncols + pad[0], panel[1] * nrows + pad[1]),
        layout="constrained",
        squeeze=False,
    )
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, axes


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


# --- GSEMM chapters ---
def basis_change_figure(M, B, v=None, axes=None):
    """Three panels for a 2-D linear map ``M`` and a basis ``B`` (columns): the plane with both bases,
    the matrix of ``M`` in basis ``B`` (``B^+ M B``) and the spectra of both matrices.

    Chapter "Bases, dual bases and Dirac notation". Returns the Figure.
    """
    M, B = np.asarray(M, dtype=float), np.asarray(B, dtype=float)
    if M.shape != (2, 2) or B.shape != (2, 2):
        raise ValueError(f"basis_change_figure expects 2x2 M and B, got {M.shape} and {B.shape}")
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11.0, 3.6), layout="constrained")
    ax0, ax1, ax2 = axes
    fig = ax0.figure
    A = np.linalg.pinv(B) @ M @ B
    v = np.array([1.0, 0.5]) if v is None else np.asarray(v, dtype=float)
    c = np.linalg.pinv(B) @ v
    for vec, col, lab in (
        (np.eye(2)[:, 0], "0.6", r"$e_1$"),
        (np.eye(2)[:, 1], "0.6", r"$e_2$"),
        (B[:, 0], "C0", r"$b_1$"),
        (B[:, 1], "C1", r"$b_2$"),
        (v, "k", r"$v$"),
    ):
        ax0.annotate(
            "",
            xy=vec,
            xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": col, "lw": 2 if col != "0.6" else 1.2},
        )
        ax0.text(*(1.08 * vec), lab, color=col, fontsize=11)
    # the components of v along b_1 and b_2 (parallelogram)
    p = c[0] * B[:, 0]
    ax0.plot([0, p[0], v[0]], [0, p[1], v[1]], ls=":", color="0.3", lw=1)
    lim = 1.3 * max(1.0, float(np.max(np.abs(np.c_[B, v]))))
    ax0.set(
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        aspect="equal",
        title=f"$v$ = ({v[0]:.2f}, {v[1]:.2f}) in $e$,  ({c[0]:.2f}, {c[1]:.2f}) in $b$",
    )
    ax0.axhline(0, color="0.9", lw=0.8, zorder=0)
    ax0.axvline(0, color="0.9", lw=0.8, zorder=0)
    vmax = max(np.abs(A).max(), np.abs(M).max())
    signed_heatmap(A, ax=ax1, title=r"matrix of $M$ in basis $b$: $B^+MB$", vmax=vmax)
    for (i, j), a in np.ndenumerate(A):
        ax1.text(j, i, f"{a:.2f}", ha="center", va="center", fontsize=11)
    ax1.set_xticks([0, 1], ["$b_1$", "$b_2$"])
    ax1.set_yticks([0, 1], ["$b^1$", "$b^2$"])
    unit_circle_spectrum(
        np.linalg.eigvals(M),
        ax=ax2,
        label="$M$ (standard basis)",
        s=120,
        facecolors="none",
        edgecolors="k",
    )
    unit_circle_spectrum(
        np.linalg.eigvals(A), ax=ax2, label="$B^+MB$", marker="x", color="C3", s=60
    )
    r = 1.2 * max(1.0, float(np.max(np.abs(np.linalg.eigvals(M)))))
    ax2.set(xlim=(-r, r), ylim=(-r, r), title="same eigenvalues")
    ax2.legend(loc="lower left", fontsize=8)
    return fig


def overlap_curves(t, m, ax=None, title=None):
    """Memory overlaps ``m_mu(t)`` of a GSEMM run, one line per memory (chapter "GSEMM")."""
    m = np.asarray(m, dtype=float)
    ax = _axes(ax, figsize=(8.0, 3.0))
    for mu in range(m.shape[1]):
        ax.plot(t, m[:, mu], lw=1.6, label=rf"$\xi_{mu}$")
    ax.set(xlabel="time $t$", ylabel=r"overlap $m_\mu$", ylim=(-0.3, 1.05))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def gsemm_recall_figure(t, m, E, E_frozen=None, title=None):
    """Overlaps (top) and energy (bottom) of a GSEMM run; transitions between memories shaded.

    ``E_frozen`` (optional, same times) is drawn as a second energy curve. Chapter "GSEMM".
    Returns the Figure.
    """
    m, E = np.asarray(m, dtype=float), np.asarray(E, dtype=float)
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(8.5, 5.0), sharex=True, layout="constrained")
    overlap_curves(t, m, ax=a0, title=title)
    a1.plot(t, E, color="k", lw=1.4, label="energy, delay neurons free")
    if E_frozen is not None:
        a1.plot(t, E_frozen, color="C3", lw=1.4, ls="--", label="energy, delay neurons frozen")
    winner = np.argmax(m, axis=1)
    for k in np.nonzero(np.diff(winner))[0]:
        for a in (a0, a1):
            a.axvline(t[k], color="0.75", lw=3, alpha=0.5, zorder=0)
    a1.set(xlabel="time $t$", ylabel="energy $E$")
    a1.legend(loc="best", fontsize=8, frameon=False)
    return fig


def convergence_plot(
    x, errors, ax=None, xlabel=None, ylabel="error", labels=None, slope=1.0, title=None
):
    """Errors against a parameter on log-log axes, with a reference line of the given slope
    (chapter "From GSEMM to RNNs"). ``errors`` is (len(x),) or (len(x), k) for k curves."""
    x = np.asarray(x, dtype=float)
    err = np.asarray(errors, dtype=float).reshape(len(x), -1)
    ax = _axes(ax, figsize=(4.6, 3.6))
    for k in range(err.shape[1]):
        ax.loglog(x, err[:, k], "o-", label=None if labels is None else labels[k])
    ref = 0.5 * err[-1, 0] * (x / x[-1]) ** slope  # offset below the data so both show
    ax.loglog(x, ref, color="0.6", ls=":", label=f"slope {slope:g}")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


# == chapter: gsemm ===============================================================================
_POPULATION_COLORS = {"feature": "C0", "hidden": "C1", "delay": "C2"}


def _box(ax, xy, text, color, width=0.34, height=0.2, dashed=False, fontsize=9):
    """A rounded box centred at ``xy`` with ``text`` (a population of a schematic)."""
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.015,rounding_size=0.03",
            facecolor=color if not dashed else "white",
            alpha=0.18 if not dashed else 1.0,
            edgecolor=color,
            lw=1.2 if dashed else 1.8,
            ls="--" if dashed else "-",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="0.1")


def _arrow(ax, start, end, label=None, color="0.25", rad=0.0, label_xy=None, fontsize=9, **kw):
    """An arrow from ``start`` to ``end`` (curved by ``rad``) with an optional label."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            connectionstyle=f"arc3,rad={rad}",
            color=color,
            lw=1.5,
            **kw,
        )
    )
    if label is not None:
        xy = (
            label_xy if label_xy is not None else ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        )
        ax.text(*xy, label, ha="center", va="center", fontsize=fontsize, color=color)


def _schematic_axes(ax, figsize):
    ax = _axes(ax, figsize=figsize)
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.set_axis_off()
    return ax


def _gsemm_diagram(ax, collapsed=False):
    """GSEMM's three populations and their couplings on ``ax`` (unit square); with ``collapsed``
    the hidden and delay populations are drawn dashed, with the values they take instantly."""
    f, h, d = (0.5, 0.78), (0.2, 0.22), (0.8, 0.22)
    c = _POPULATION_COLORS
    _box(
        ax,
        f,
        "feature neurons $V_f$\n$N_f$ of them, $\\sigma_f=\\tanh$\ntime constant $T_f$",
        c["feature"],
    )
    if collapsed:
        _box(
            ax,
            h,
            "hidden $V_h$, $T_h\\to 0$:\n$V_h = \\Xi^\\top \\tanh V_f$\n$+\\,\\Phi^\\top\\Xi^\\top V_d$",
            c["hidden"],
            dashed=True,
        )
        _box(ax, d, "delay $V_d$, $T_d\\to 0$:\n$V_d = \\tanh V_f$", c["delay"], dashed=True)
    else:
        _box(
            ax, h, "hidden (memory) neurons $V_h$\n$N_h$: one per memory\n$T_h$: fast", c["hidden"]
        )
        _box(
            ax,
            d,
            "delay neurons $V_d$\n$N_f$: a slow copy of $\\tanh V_f$\n$T_d \\gg T_f$: slow",
            c["delay"],
        )
    _arrow(
        ax,
        (0.36, 0.68),
        (0.17, 0.33),
        r"$\sqrt{a_s}\,\Xi^\top$",
        rad=0.25,
        label_xy=(0.14, 0.55),
        color=c["hidden"],
    )
    _arrow(
        ax,
        (0.27, 0.33),
        (0.42, 0.68),
        r"$\sqrt{a_s}\,\Xi$",
        rad=0.25,
        label_xy=(0.41, 0.47),
        color=c["feature"],
    )
    _arrow(
        ax,
        (0.6, 0.68),
        (0.78, 0.33),
        r"copy $\tanh V_f$",
        rad=-0.15,
        label_xy=(0.83, 0.55),
        color=c["delay"],
    )
    _arrow(
        ax,
        (0.63, 0.2),
        (0.37, 0.2),
        r"$a_c\,\Phi^\top\Xi^\top$" + "\n(vote for the successor)",
        label_xy=(0.5, 0.07),
        color=c["hidden"],
    )


def gsemm_schematic(ax=None, title=None):
    """GSEMM's three populations (feature, hidden/memory, delay neurons), their time constants and
    couplings: ``Xi`` between features and hidden neurons, the slow copy into the delay neurons, and
    ``Phi`` from the delay neurons to the hidden ones. Chapter "The General Sequential Episodic
    Memory Model". Returns the Axes."""
    ax = _schematic_axes(ax, (6.4, 4.4))
    _gsemm_diagram(ax)
    ax.set_title(title or "GSEMM: three populations on three time scales")
    return ax


# == chapter: gsemm_to_rnn ========================================================================
def reduction_schematic(axes=None):
    """The reduction of GSEMM to an RNN in two panels: left, GSEMM with its hidden and delay
    populations collapsed to their instantaneous values (``T_h, T_d -> 0``); right, the single
    population that is left, iterated by an Euler step of size ``T_f`` with the weights
    ``W = Xi (I + Phi^T) Xi^T``. Chapter "From GSEMM to RNNs". Returns the Figure."""
    if axes is None:
        fig, axes = plt.subplots(
            1, 2, figsize=(10.5, 4.2), layout="constrained", width_ratios=(1.35, 1.0)
        )
    ax0, ax1 = axes
    for ax in axes:
        ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.set_axis_off()
    _gsemm_diagram(ax0, collapsed=True)
    ax0.set_title("GSEMM with identity $\\sigma_h$, $a_s = a_c = 1$, fast $V_h$ and $V_d$")
    c = _POPULATION_COLORS["feature"]
    _box(
        ax1,
        (0.5, 0.55),
        "firing rates\n$h = \\tanh V_f$\n($N_f$ neurons)",
        c,
        width=0.42,
        height=0.24,
        fontsize=10,
    )
    _arrow(ax1, (0.62, 0.68), (0.38, 0.68), rad=1.6, color=c)
    ax1.text(0.5, 0.93, r"$W = \Xi\,(I + \Phi^\top)\,\Xi^\top$", ha="center", fontsize=11)
    ax1.text(0.5, 0.3, r"$h(t+1) = \tanh(W\,h(t))$", ha="center", fontsize=11)
    ax1.text(
        0.5,
        0.13,
        "one Euler step of size $\\Delta t = T_f$ per time step;\nno hidden or delay neurons left",
        ha="center",
        fontsize=9,
        color="0.3",
    )
    ax1.set_title("the bias-free Elman RNN")
    fig = ax0.figure
    fig.patches.append(
        FancyArrowPatch(
            (0.565, 0.5),
            (0.61, 0.5),
            transform=fig.transFigure,
            arrowstyle="simple",
            mutation_scale=30,
            color="0.5",
        )
    )
    return fig


def timescale_inversion(runs, map_run, dt=1.0, axes=None, threshold=0.9, fast=None):
    """How GSEMM's sequence recall changes as its delay neurons speed up, beside the Euler map.

    ``runs`` maps the delay time constant ``T_d`` to the :class:`emtlib.gsemm.Visits` of a run;
    ``map_run`` is the Visits of the map with step ``dt``. Left: mean dwell on a memory against
    ``T_d`` (log-log, with the line dwell = ``T_d``); right: how close each visit comes to its
    memory (peak overlap, all visits after the first) against ``T_d``. The map's values are drawn
    as horizontal lines, and so are those of ``fast`` (the Visits of the fast-limit flow) when
    given. Chapter "From GSEMM to RNNs". Returns the Figure."""
    if not runs:
        raise ValueError("timescale_inversion needs at least one run")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained")
    ax0, ax1 = axes
    T_d = np.array(sorted(runs), dtype=float)
    dwell = np.array([runs[T].dwell.mean() for T in sorted(runs)])
    ax0.loglog(T_d, dwell, "o-", color="C0", label="GSEMM, mean dwell")
    ax0.loglog(T_d, T_d, ls=":", color="0.5", label="dwell $= T_d$")
    ax0.axhline(map_run.dwell.mean(), color="C3", ls="--", label=f"map, step $\\Delta t$ = {dt:g}")
    if fast is not None:
        ax0.axhline(fast.dwell.mean(), color="C2", ls="-.", label="fast-limit flow")
    ax0.set(xlabel="delay time constant $T_d$", ylabel="time on one memory", title="dwell")
    ax0.legend(fontsize=8, frameon=False)
    for T in sorted(runs):
        peaks = runs[T].peaks[1:]
        ax1.semilogx(np.full(len(peaks), T), peaks, "o", color="C0", alpha=0.35, ms=4)
    ax1.semilogx(
        T_d, [np.median(runs[T].peaks[1:]) for T in sorted(runs)], "-", color="C0", label="GSEMM"
    )
    ax1.axhline(np.median(map_run.peaks[1:]), color="C3", ls="--", label="map")
    if fast is not None:
        ax1.axhline(np.median(fast.peaks[1:]), color="C2", ls="-.", label="fast-limit flow")
    ax1.axhline(threshold, color="0.5", ls=":", label=f"overlap {threshold:g}")
    ax1.set(
        xlabel="delay time constant $T_d$",
        ylabel="peak overlap of each visit",
        ylim=(0, 1.05),
        title="how close the state comes to a memory",
    )
    ax1.legend(fontsize=8, frameon=False, loc="lower right")
    return ax0.figure


def flow_and_map(comparison, Xi, axes=None, title=None):
    """A GSEMM run in continuous time against the Euler map of its fast limit (an
    :class:`emtlib.gsemm.FlowAndMap`): memory overlaps of both (top; the flow as lines, the map as
    markers, or dashed when it has many steps) and their distance at each step of the map (bottom,
    log scale). Chapter "From GSEMM to RNNs" and its explorer. Returns the Figure."""
    if axes is None:
        _, axes = plt.subplots(
            2, 1, figsize=(6.0, 4.6), sharex=True, layout="constrained", height_ratios=(2, 1)
        )
    ax0, ax1 = axes
    m, m_map = overlaps(Xi, comparison.V_f), overlaps(Xi, comparison.V_f_map)
    few = len(comparison.t_map) <= 60
    for mu in range(m.shape[1]):
        color = f"C{mu}"
        ax0.plot(comparison.t, m[:, mu], color=color, lw=1.4, label=rf"$\xi_{mu}$")
        if few:
            ax0.plot(comparison.t_map, m_map[:, mu], "o", color=color, ms=4, mfc="white")
        else:
            ax0.plot(comparison.t_map, m_map[:, mu], "--", color=color, lw=1.0)
    ax0.set(ylabel=r"overlap $m_\mu$", ylim=(-0.35, 1.05))
    handles = [
        Line2D([], [], color="0.3", lw=1.4, label="continuous GSEMM"),
        Line2D(
            [], [], color="0.3", marker="o", mfc="white", ls="" if few else "--", label="Euler map"
        ),
    ]
    ax0.add_artist(ax0.legend(handles=handles, loc="lower right", fontsize=7, frameon=True))
    ax0.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax1.semilogy(comparison.t_map, np.maximum(comparison.distance, 1e-12), ".-", color="k", lw=1)
    ax1.set(xlabel="time $t$", ylabel="distance")
    if title:
        ax0.set_title(title, fontsize=10)
    return ax0.figure


# --- Variable binding tasks chapter ---
def _task_slot_ticks(ax, s, d, axis="x", prefix="z"):
    """Mark the ``s`` history slots (``d`` entries each, oldest first) on one axis of a heatmap."""
    centres = [k * d + (d - 1) / 2 for k in range(s)]
    labels = [f"${prefix}(t-{s - k})$" for k in range(s)]
    line = ax.axvline if axis == "x" else ax.axhline
    for k in range(1, s):
        line(k * d - 0.5, color="0.25", lw=1.0)
    if axis == "x":
        ax.set_xticks(centres, labels, fontsize=8 if s > 6 else 9)
    else:
        ax.set_yticks(centres, labels, fontsize=8 if s > 6 else 9)


def _task_title(task) -> str:
    return f"id = ({task.task_id[0]}, {task.task_id[1]}, {task.task_id[2]})"


def task_operator(task, ax=None, title=None, colorbar=True):
    """Heatmap of ``L^T`` of a variable binding task, history slots marked (chapter "Variable binding tasks").

    Row ``j`` is output component ``j``; column ``k*d + i`` is component ``i`` of ``z(t-s+k)``, so
    the history reads left to right from oldest to newest slot, as in ``z(t) = L^T vec(...)``.
    Red is +1, blue is -1, white is 0 (symmetric colour scale). Returns the Axes.
    """
    s, d = task.s, task.d
    ax = _axes(ax, figsize=(min(2.0 + 0.13 * s * d, 11.0), 1.4 + 0.28 * d))
    signed_heatmap(task.operator.T, ax=ax, colorbar=False, vmax=1.0)
    if colorbar:
        im = ax.images[-1]
        ax.figure.colorbar(im, ax=ax, ticks=[-1, 0, 1], shrink=0.9, pad=0.02)
    _task_slot_ticks(ax, s, d, axis="x")
    if d <= 10:
        ax.set_yticks(range(d))
    ax.set_ylabel("output $j$")
    ax.set_xlabel(f"history window, oldest slot left ({d} entries per slot)", fontsize=9)
    ax.set_title(_task_title(task) if title is None else title, fontsize=10)
    return ax


def _tasks_and_titles(tasks, titles, who):
    """``tasks`` as a list and one title per task; a dict name -> task prefixes titles with its keys."""
    if isinstance(tasks, dict):
        names, tasks = list(tasks), list(tasks.values())
        titles = (
            [f"{k}: {_task_title(t)}" for k, t in zip(names, tasks)] if titles is None else titles
        )
    tasks = list(tasks)
    if not tasks:
        raise ValueError(f"{who} needs at least one task")
    return tasks, [_task_title(t) for t in tasks] if titles is None else list(titles)


def task_operators(tasks, titles=None, ncols=1, panel_size=None):
    """A grid of :func:`task_operator` panels sharing one colour bar (chapter "Variable binding tasks").

    ``tasks`` is a sequence (or dict name -> task; its keys then prefix the titles). Returns the Figure.
    """
    tasks, titles = _tasks_and_titles(tasks, titles, "task_operators")
    if len(titles) != len(tasks):
        raise ValueError(f"got {len(titles)} titles for {len(tasks)} tasks")
    ncols = max(1, min(int(ncols), len(tasks)))
    t0 = tasks[0]
    w, h = panel_size or (min(1.6 + 0.13 * t0.s * t0.d, 10.5), 1.1 + 0.26 * t0.d)
    fig, axes = _panel_grid(len(tasks), ncols, (w, h), pad=(0.8, 0.0))
    for ax, task, title in zip(axes.flat, tasks, titles):
        task_operator(task, ax=ax, title=title, colorbar=False)
    for ax in axes.flat:
        ax.set_xlabel("")
    fig.supxlabel(f"history window, oldest slot left ({t0.d} entries per slot)", fontsize=9)
    fig.colorbar(
        axes.flat[0].images[-1], ax=axes, ticks=[-1, 0, 1], shrink=0.8, label="entry of $L^T$"
    )
    return fig


def recall_raster(task, steps=None, ax=None, title=None):
    """Which input value each output step copies.

    Appendix "Training recipes, measured", section "Which recipe for which width".  Rows are
    the ``s*d`` input values ``x_j(τ)`` in three groups: those on the cycles of the selection graph
    (copied for ever), those on branches that the output phase copies before it forgets them, and
    those it never copies; columns are output steps ``0 .. steps-1`` (default ``2*s*d``).  A dark cell:
    some output component copies that value (perhaps negated) at that step.  Returns the Axes.
    """
    n, s, d = task.n, task.s, task.d
    steps = 2 * n if steps is None else int(steps)
    if steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    z = task.generate(np.eye(n).reshape(n, s, d), steps)[
        :, s:
    ]  # each input value alone: (value, step, d)
    copies = np.any(z != 0, axis=2)  # (value, step)
    ever = copies.any(axis=1)
    on_cycle = sorted(int(p) for cycle, _ in cycles(task) for p in cycle)
    cyclic = set(on_cycle)
    branch = [p for p in range(n) if ever[p] and p not in cyclic]
    never = [p for p in range(n) if not ever[p]]
    order = on_cycle + branch + never
    ax = _axes(ax, figsize=(6.4, 0.17 * n + 1.3))
    ax.imshow(
        copies[order], cmap="Greys", vmin=0.0, vmax=1.25, interpolation="nearest", aspect="auto"
    )
    ax.set_xlabel("output step")
    if title:
        ax.set_title(title)
    ax.set_yticks(range(n), [f"$x_{{{p % d}}}({p // d})$" for p in order], fontsize=7)
    edges = np.cumsum([len(on_cycle), len(branch)])
    for edge in edges:
        if 0 < edge < n:
            ax.axhline(edge - 0.5, color="0.25", lw=1.0)
    labels = (
        f"on cycles ({len(on_cycle)})",
        f"recalled, then\nforgotten ({len(branch)})",
        f"never\ncopied ({len(never)})",
    )
    starts = (0, *edges)
    for start, count, label in zip(starts, (len(on_cycle), len(branch), len(never)), labels):
        if count:
            ax.text(
                1.01,
                1 - (start + count / 2) / n,
                label,
                transform=ax.transAxes,
                va="center",
                fontsize=8,
            )
    return ax


def _phase_marks(ax, s, T):
    """Draw the input/output phase boundary at ``t = s`` and label both phases above the axes."""
    ax.axvline(s - 0.5, color="k", lw=2.0)
    ax.text(
        (s - 1) / 2 / T + 0.5 / T,
        1.02,
        "input phase",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
    )
    ax.text(
        (s + T - 1) / 2 / T + 0.5 / T,
        1.02,
        "output phase (no input)",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
    )


def task_sequence(task, x0=None, horizon=None, seed=0, ax=None, title=None):
    """Heatmap of one whole target sequence ``z(t)`` of a task (chapter "Variable binding tasks").

    ``x0`` (shape ``(s, d)``, entries ±1) is the input phase; drawn from ``seed`` when None.
    Time runs left to right (``horizon`` output steps, default ``3*s``), component ``j`` top to
    bottom; the thick line marks the end of the input phase. Returns the Axes.
    """
    s, d = task.s, task.d
    horizon = 3 * s if horizon is None else int(horizon)
    if x0 is None:
        x0 = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(s, d))
    z = task.generate(x0, horizon)  # (s + horizon, d), time first
    T = z.shape[0]
    ax = _axes(ax, figsize=(min(2.0 + 0.16 * T, 11.0), 1.4 + 0.28 * d))
    signed_heatmap(z.T, ax=ax, colorbar=False, vmax=1.0)
    _phase_marks(ax, s, T)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("component $j$")
    if d <= 10:
        ax.set_yticks(range(d))
    if title is None:
        title = _task_title(task)
    ax.set_title(title, fontsize=10, pad=16)
    return ax


def task_sequences(tasks, x0=None, horizon=None, seed=0, titles=None):
    """One :func:`task_sequence` panel per task, all from the same input phase (chapter "Variable binding tasks").

    ``tasks`` is a sequence or a dict name -> task (all with the same ``s`` and ``d``). Returns the Figure.
    """
    tasks, titles = _tasks_and_titles(tasks, titles, "task_sequences")
    if len({(t.s, t.d) for t in tasks}) != 1:
        raise ValueError(
            "task_sequences needs tasks with the same s and d (they share one input phase)"
        )
    s, d = tasks[0].s, tasks[0].d
    if x0 is None:
        x0 = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(s, d))
    horizon = 3 * s if horizon is None else int(horizon)
    fig, axes = plt.subplots(
        len(tasks),
        1,
        figsize=(min(2.0 + 0.16 * (s + horizon), 11.0), (1.5 + 0.25 * d) * len(tasks)),
        layout="constrained",
        squeeze=False,
    )
    for ax, task, title in zip(axes[:, 0], tasks, titles):
        task_sequence(task, x0=x0, horizon=horizon, ax=ax, title=title)
    for ax in axes[:-1, 0]:
        ax.set_xlabel("")
    fig.colorbar(
        axes[0, 0].images[-1], ax=axes[:, 0], ticks=[-1, 0, 1], shrink=0.6, label="$z_j(t)$"
    )
    return fig


def task_sample(task, horizon=None, seed=0):
    """Inputs and targets of one training example from ``task.sample`` (chapter "Variable binding tasks").

    Two panels sharing the time axis: the input ``x(t)`` (zero after the input phase) and the
    target (zero during the input phase, where no loss is taken). Returns the Figure.
    """
    s, d = task.s, task.d
    horizon = 3 * s if horizon is None else int(horizon)
    inputs, targets = task.sample(1, horizon, seed=seed)  # (T, 1, d), time-major
    T = inputs.shape[0]
    fig, axes = plt.subplots(
        2,
        1,
        figsize=(min(2.4 + 0.2 * T, 11.0), 2.0 * (1.2 + 0.25 * d)),
        sharex=True,
        layout="constrained",
    )
    for ax, data, name in zip(
        axes, (inputs, targets), ("input $x(t)$", "target $z(t)$ (loss only here)")
    ):
        signed_heatmap(data[:, 0, :].numpy().T, ax=ax, colorbar=False, vmax=1.0)
        _phase_marks(ax, s, T)
        ax.set_ylabel("component $j$")
        if d <= 10:
            ax.set_yticks(range(d))
        ax.set_title(name, fontsize=10, pad=16)
    axes[1].set_xlabel("time step $t$")
    fig.colorbar(axes[0].images[-1], ax=axes, ticks=[-1, 0, 1], shrink=0.7)
    return fig


def task_spectra(tasks, titles=None):
    """Eigenvalues of the ideal Φ of each task on the unit circle (chapter "Variable binding tasks").

    One panel per task (a sequence or a dict name -> task); each title gives how many eigenvalues
    lie on the unit circle and how many distinct values they take. Returns the Figure.
    """
    if isinstance(tasks, dict):
        names, tasks = list(tasks), list(tasks.values())
        titles = list(names) if titles is None else titles
    tasks = list(tasks)
    if not tasks:
        raise ValueError("task_spectra needs at least one task")
    titles = [_task_title(t) for t in tasks] if titles is None else list(titles)
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(3.0 * len(tasks), 3.4), layout="constrained", squeeze=False
    )
    for ax, task, title in zip(axes[0], tasks, titles):
        lam = ideal_spectrum(task)
        on = lam[np.abs(lam) > 0.5]
        distinct = len({(round(z.real, 6) + 0.0, round(z.imag, 6) + 0.0) for z in on})
        unit_circle_spectrum(on, ax=ax, s=22, color="C3", zorder=3)
        zeros = lam.size - on.size
        if zeros:
            ax.scatter([0], [0], s=26, color="0.3", marker="x", zorder=3)
        ax.set_xlim(-1.25, 1.25)
        ax.set_ylim(-1.25, 1.25)
        ax.set_title(
            f"{title}\n{on.size} on the circle ({distinct} distinct)\n{zeros} at zero (x)",
            fontsize=9,
        )
    return fig


# --- Variable binding circuit chapter ---
def _slot_lines(ax, s, d, axis="x", color="0.35", lw=0.8):
    """Thin lines between the ``s`` slots (blocks of ``d`` units) of a circuit matrix."""
    for k in range(1, s):
        (ax.axvline if axis == "x" else ax.axhline)(k * d - 0.5, color=color, lw=lw)


def circuit_matrices(circuit, axes=None, title=None):
    """The three matrices of a circuit, ``W_hh``, ``W_uh`` and ``W_r``, with slot boundaries drawn.

    Chapter "The variable binding circuit". ``circuit`` is an :class:`emtlib.circuit.Circuit` (or
    anything with ``W_hh``, ``W_uh``, ``W_r`` and ``task``). Returns the Figure.
    """
    s, d = circuit.task.s, circuit.task.d
    if axes is None:
        fig, axes = plt.subplots(
            1,
            3,
            figsize=(10.0, 3.9),
            layout="constrained",
            gridspec_kw={"width_ratios": [s * d, 2.5 * d, 0.8 * s * d]},
        )
    a0, a1, a2 = axes
    v = float(
        max(np.abs(circuit.W_hh).max(), np.abs(circuit.W_uh).max(), np.abs(circuit.W_r).max())
    )
    signed_heatmap(
        circuit.W_hh, ax=a0, colorbar=False, vmax=v, title=r"$W_{hh}$ (rows: to, columns: from)"
    )
    signed_heatmap(circuit.W_uh, ax=a1, colorbar=False, vmax=v, title=r"$W_{uh}$")
    signed_heatmap(circuit.W_r, ax=a2, colorbar=True, vmax=v, title=r"$W_r$")
    _slot_lines(a0, s, d, "x")
    _slot_lines(a0, s, d, "y")
    _slot_lines(a1, s, d, "y")
    _slot_lines(a2, s, d, "x")
    a1.set_aspect("auto")
    ticks = [k * d + (d - 1) / 2 for k in range(s)]
    a0.set_yticks(ticks, [f"slot {k}" for k in range(s)], fontsize=7)
    a0.set_xticks(ticks, [str(k) for k in range(s)], fontsize=7)
    a0.set_xlabel("slot")
    a1.set_yticks([])
    a1.set_xlabel("input component")
    a2.set_xticks(ticks, [str(k) for k in range(s)], fontsize=7)
    a2.set_xlabel("slot")
    a2.set_ylabel("output component")
    fig = a0.figure
    if title:
        fig.suptitle(title)
    return fig


def slot_grid(
    h, s, d, ax=None, title=None, row_labels=None, vmax=1.0, colorbar=False, annotate=False
):
    """A hidden state of ``s*d`` units drawn as ``s`` rows (slots, oldest on top) of ``d`` cells.

    Chapter "The variable binding circuit". ``row_labels`` (``s`` strings) name what each slot holds;
    ``annotate`` writes the sign of every non-zero cell. Returns the Axes.
    """
    h = np.asarray(h, dtype=float).ravel()
    if h.size != s * d:
        raise ValueError(f"slot_grid expects a hidden state of s*d = {s * d} units, got {h.size}")
    ax = _axes(ax, figsize=(3.2, 3.2))
    grid = h.reshape(s, d)
    im = ax.imshow(grid, cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
    if annotate:
        for (k, j), v in np.ndenumerate(grid):
            if abs(v) > 1e-9:
                ax.text(
                    j,
                    k,
                    "+" if v > 0 else "−",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="w" if abs(v) > 0.6 * vmax else "k",
                )
    ax.set_xticks(range(d), [str(j) for j in range(d)], fontsize=7)
    labels = [f"slot {k}" for k in range(s)] if row_labels is None else list(row_labels)
    ax.set_yticks(range(s), labels, fontsize=7)
    ax.set_xlabel("component", fontsize=8)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def slot_snapshots(
    states, s, d, times, row_labels=None, vmax=1.0, title=None, annotate=False, ncols=None
):
    """Slot grids of a run at several times, ``ncols`` per row (chapter "The variable binding circuit").

    ``states`` is ``(T, s*d)``; ``row_labels`` is None or a function ``t -> s labels``.
    Returns the Figure.
    """
    states = np.asarray(states, dtype=float)
    times = list(times)
    ncols = len(times) if ncols is None else int(ncols)
    fig, axes = _panel_grid(len(times), ncols, (2.1, 2.5), pad=(0.4, 0.3))
    for i, (ax, t) in enumerate(zip(axes.flat, times)):
        labels = None if row_labels is None else row_labels(t)
        slot_grid(
            states[t],
            s,
            d,
            ax=ax,
            title=f"t = {t}",
            row_labels=labels,
            vmax=vmax,
            annotate=annotate,
        )
        if i % ncols and row_labels is None:
            ax.set_yticklabels([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def slot_animation(
    states,
    s,
    d,
    times=None,
    row_labels=None,
    vmax=1.0,
    interval=600,
    title=None,
    figsize=(3.6, 3.6),
    dpi=90,
    annotate=False,
):
    """An animation of the slot grid over time (chapter "The variable binding circuit").

    ``states`` is ``(T, s*d)``; ``times`` the steps to show (default all, keep it short: each
    frame is stored in the page); ``row_labels`` is None or a function ``t -> s labels``;
    ``annotate`` writes the signs into the cells (larger frames).
    Returns a ``matplotlib.animation.FuncAnimation`` whose figure is already closed, so a notebook
    shows only ``HTML(anim.to_jshtml())``.
    """
    states = np.asarray(states, dtype=float)
    times = list(range(len(states))) if times is None else list(times)
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")

    def draw(t):
        ax.clear()
        labels = None if row_labels is None else row_labels(t)
        head = f"t = {t}" if title is None else f"{title}, t = {t}"
        slot_grid(
            states[t], s, d, ax=ax, title=head, row_labels=labels, vmax=vmax, annotate=annotate
        )
        return ()

    anim = FuncAnimation(fig, draw, frames=times, interval=interval, blit=False)
    plt.close(fig)
    return anim


def deviation_map(dev, s, d, ax=None, title=None, ylabel="step t"):
    """Rows: steps; columns: the ``s*d`` hidden units; colour: the deviation from the ideal window.

    Chapter "The variable binding circuit". Slot boundaries are drawn. Returns the Axes.
    """
    dev = np.asarray(dev, dtype=float)
    ax = _axes(ax, figsize=(7.0, 2.8))
    signed_heatmap(dev, ax=ax, title=title, ylabel=ylabel, vmax=max(1.0, float(np.abs(dev).max())))
    _slot_lines(ax, s, d, "x")
    ax.set_xticks(
        [k * d + (d - 1) / 2 for k in range(s)], [f"slot {k}" for k in range(s)], fontsize=7
    )
    ax.set_yticks(range(dev.shape[0]))
    return ax


def io_map(M, t0, ax=None, title=None, highlight=()):
    """The input→output map of a task as one matrix of ``d x d`` blocks ``M(t, τ)``.

    Chapter "The variable binding circuit". ``M`` has shape ``(T_out, s, d, d)``: block ``[i, τ]``
    is the map from input ``u(τ)`` to output ``y(t0 + i)``. A time-invariant system would have
    equal blocks along every block diagonal. ``highlight`` lists ``(t, τ)`` blocks to outline.
    Returns the Axes.
    """
    M = np.asarray(M, dtype=float)
    T_out, s, d, _ = M.shape
    big = M.transpose(0, 2, 1, 3).reshape(T_out * d, s * d)
    ax = _axes(ax, figsize=(3.4, 5.0))
    signed_heatmap(big, ax=ax, colorbar=False, vmax=1.0, title=title)
    ax.set_aspect("equal")
    _slot_lines(ax, s, d, "x", color="0.8", lw=0.5)
    for i in range(1, T_out):
        ax.axhline(i * d - 0.5, color="0.8", lw=0.5)
    ax.set_xticks([k * d + (d - 1) / 2 for k in range(s)], [str(k) for k in range(s)], fontsize=7)
    ax.set_yticks(
        [i * d + (d - 1) / 2 for i in range(T_out)], [str(t0 + i) for i in range(T_out)], fontsize=7
    )
    ax.set_xlabel(r"input step $\tau$")
    ax.set_ylabel("output step $t$")
    for k, (t, tau) in enumerate(highlight):
        ax.add_patch(
            Rectangle(
                (tau * d - 0.5, (t - t0) * d - 0.5), d, d, fill=False, edgecolor=f"C{k + 1}", lw=2.0
            )
        )
    return ax


def error_rate_bars(names, linear, saturating, ax=None, title=None):
    """Bit error rates of the linear and the saturating circuit per task, as paired bars.

    Chapter "The variable binding circuit". Returns the Axes.
    """
    names = list(names)
    linear, saturating = np.asarray(linear, dtype=float), np.asarray(saturating, dtype=float)
    ax = _axes(ax, figsize=(5.2, 3.0))
    x = np.arange(len(names))
    ax.bar(x - 0.18, 100 * linear, width=0.36, color="C3", label="linear circuit")
    ax.bar(x + 0.18, 100 * saturating, width=0.36, color="C0", label="saturating circuit")
    for xi, v in zip(x, saturating):
        ax.text(
            xi + 0.18,
            100 * v + 0.5,
            f"{100 * v:.0f}%",
            ha="center",
            va="bottom",
            fontsize=7,
            color="C0",
        )
    for xi, v in zip(x, linear):
        ax.text(
            xi - 0.18,
            100 * v + 0.5,
            f"{100 * v:.1f}%",
            ha="center",
            va="bottom",
            fontsize=7,
            color="C3",
        )
    ax.set_xticks(x, names)
    ax.set_ylabel("wrong output signs (%)")
    ax.set_ylim(0, max(50.0, 100 * float(linear.max()) + 8))
    ax.axhline(50, color="0.7", ls=":", lw=1)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    if title:
        ax.set_title(title)
    return ax


def gain_sweep_plot(
    ratios, errors, ax=None, title=None, ylabel="sequences with an error (%)", marks=(), xlim=None
):
    """Errors of the saturating circuit against ``input_gain / gain``, one line per task.

    Chapter "The variable binding circuit". ``errors`` maps a task name to one fraction per ratio;
    ``marks`` lists ``(x, label)`` pairs drawn as vertical lines (1.0 is always drawn).
    Returns the Axes.
    """
    ratios = np.asarray(ratios, dtype=float)
    ax = _axes(ax, figsize=(5.2, 3.0))
    for k, (name, err) in enumerate(errors.items()):
        ax.plot(
            ratios,
            100 * np.asarray(err, dtype=float),
            "o-",
            ms=4,
            lw=1.4,
            label=name,
            color=f"C{k}",
            alpha=0.85,
        )
    ax.axvline(1.0, color="0.5", ls="--", lw=1, label="input gain = gain")
    for k, (x, label) in enumerate(marks):
        ax.axvline(x, color="0.5", ls=[":", "-."][k % 2], lw=1, label=label)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_xlabel("input gain / gain")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def circuit_wiring(task, ax=None, title=None):
    """A schematic of the variable binding circuit's wiring for ``task``, unrolled over one step
    (chapter "The variable binding circuit").

    The top row is ``h(t-1)`` and the bottom row ``h(t)``, each cut into the task's ``s`` slots
    (oldest left).  Diagonal arrows are the shift blocks of Φ (slot ``k+1`` of ``h(t-1)`` becomes
    slot ``k`` of ``h(t)``); the bus above the top row collects the slots that the composition row
    ``L^T`` reads (each marked with how many components it reads there) and writes their signed
    copy into the newest slot; the input map ``W_uh`` writes ``u(t)`` into the newest slot and the
    readout ``W_r`` reads it.  ``task`` is a :class:`~emtlib.tasks.Task`.  Returns the Axes.
    """
    if not hasattr(task, "choice") or not hasattr(task, "s"):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    s, d = task.s, task.d
    read = np.bincount(np.asarray(task.choice) // d, minlength=s)  # components read per slot
    step, w, hgt = 1.45, 1.1, 0.72  # slot spacing, box width, box height
    y_old, y_new, y_bus = 2.3, 0.0, 3.45
    xs = step * np.arange(s)
    x_last = xs[-1]
    x_comp = x_last + 2.0  # the composition row's box
    ax = _axes(ax, figsize=(max(6.0, 1.0 * s + 3.2), 4.3))

    def lag(m):
        return "t" if m == 0 else f"t−{m}"

    for y, row, first in ((y_old, "$h(t-1)$", 1), (y_new, "$h(t)$", 0)):
        ax.text(-0.95, y, row, ha="right", va="center", fontsize=11)
        for k, x in enumerate(xs):
            newest = k == s - 1
            ax.add_patch(
                Rectangle(
                    (x - w / 2, y - hgt / 2),
                    w,
                    hgt,
                    facecolor="#fde0c5" if newest else "#e8eef7",
                    edgecolor="0.25",
                    lw=1.0,
                    zorder=2,
                )
            )
            ax.text(x, y + 0.14, f"slot {k}", ha="center", va="center", fontsize=8, zorder=3)
            ax.text(
                x,
                y - 0.14,
                f"z({lag(s - 1 - k + first)})",
                ha="center",
                va="center",
                fontsize=9,
                zorder=3,
            )
    arrow = {"arrowstyle": "-|>", "lw": 1.1, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 11}
    # the shift: slot k+1 of h(t-1) -> slot k of h(t)
    for k in range(s - 1):
        ax.annotate(
            "",
            xy=(xs[k] + 0.15, y_new + hgt / 2),
            xytext=(xs[k + 1] - 0.15, y_old - hgt / 2),
            arrowprops={**arrow, "color": "0.35"},
        )
    ax.text(
        xs[0] + step / 2 - 0.55,
        (y_old + y_new) / 2,
        "shift",
        ha="right",
        va="center",
        fontsize=9,
        color="0.3",
    )
    # the composition row: the slots L^T reads -> bus -> L^T -> the newest slot of h(t)
    used = np.flatnonzero(read)
    for k in used:
        ax.plot([xs[k], xs[k]], [y_old + hgt / 2, y_bus], color="C3", lw=1.3, zorder=1)
        ax.text(
            xs[k] + 0.08, y_old + hgt / 2 + 0.3, f"×{read[k]}", fontsize=8, color="C3", va="center"
        )
    ax.plot([xs[used[0]], x_comp], [y_bus, y_bus], color="C3", lw=1.3, zorder=1)
    y_box = (y_old + y_new) / 2 + 0.35
    ax.annotate(
        "", xy=(x_comp, y_box + 0.3), xytext=(x_comp, y_bus), arrowprops={**arrow, "color": "C3"}
    )
    ax.add_patch(
        Rectangle(
            (x_comp - 0.55, y_box - 0.3),
            1.1,
            0.6,
            facecolor="white",
            edgecolor="C3",
            lw=1.3,
            zorder=2,
        )
    )
    ax.text(x_comp, y_box, r"$L^\top$", ha="center", va="center", fontsize=11, color="C3")
    ax.text(
        x_comp + 0.65,
        y_box,
        "composition\nrow",
        ha="left",
        va="center",
        fontsize=9,
        color="C3",
    )
    ax.annotate(
        "",
        xy=(x_last + w / 2, y_new + 0.12),
        xytext=(x_comp - 0.25, y_box - 0.3),
        arrowprops={**arrow, "color": "C3"},
    )
    # the input map writes u(t) into the newest slot, the readout reads it
    ax.annotate(
        "",
        xy=(x_last, y_new - hgt / 2),
        xytext=(x_last, y_new - 1.25),
        arrowprops={**arrow, "color": "C0"},
    )
    ax.text(x_last, y_new - 1.45, "$u(t)$", ha="center", va="center", fontsize=11, color="C0")
    ax.text(
        x_last - 0.12, y_new - 0.85, r"$W_{uh}$", ha="right", va="center", fontsize=9, color="C0"
    )
    ax.annotate(
        "",
        xy=(x_comp + 0.1, y_new - 0.2),
        xytext=(x_last + w / 2, y_new - 0.2),
        arrowprops={**arrow, "color": "C2"},
    )
    ax.text(x_comp + 0.25, y_new - 0.2, "$y(t)$", ha="left", va="center", fontsize=11, color="C2")
    ax.text(
        (x_last + w / 2 + x_comp) / 2,
        y_new - 0.45,
        "$W_r$",
        ha="center",
        va="center",
        fontsize=9,
        color="C2",
    )
    ax.set_xlim(-2.0, x_comp + 1.9)
    ax.set_ylim(y_new - 1.8, y_bus + 0.35)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- Training chapter ---
def learning_curve(history, axes=None, title=None):
    """Loss, batch accuracy and training horizon against the optimizer step, from a trained
    model's :class:`~emtlib.train.TrainingLog` (``model.log``) or its ``history`` (a list of dicts
    with ``step``, ``loss``, ``accuracy``, ``horizon``) (chapter "Training RNNs on variable
    binding"). Returns the Figure."""
    history = getattr(history, "history", history)
    if not history:
        raise ValueError("history is empty: nothing to plot")
    missing = {"step", "loss", "accuracy", "horizon"} - set(history[0])
    if missing:
        raise ValueError(
            f"history entries need the keys step, loss, accuracy, horizon; missing {sorted(missing)}"
        )
    step = np.array([r["step"] for r in history])
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.0), layout="constrained")
    else:
        fig = axes[0].figure
    a0, a1, a2 = axes
    a0.semilogy(step, [r["loss"] for r in history], color="C0")
    a0.set_ylabel("loss (MSE)")
    a1.plot(step, [r["accuracy"] for r in history], color="C1")
    a1.set_ylabel("batch sign accuracy")
    a1.set_ylim(0.45, 1.02)
    a2.step(step, [r["horizon"] for r in history], where="post", color="C2")
    a2.set_ylabel("training horizon")
    for ax in axes:
        ax.set_xlabel("optimizer step")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def spectrum_vs_ideal(model_eigenvalues, ideal_eigenvalues, ax=None, title=None, threshold=0.9):
    """A trained ``W``'s eigenvalues (dots) against the ideal Φ's (crosses) on the unit circle, with
    the long-lived threshold ``|λ| = threshold`` dashed (chapter "Training RNNs on variable binding")."""
    ax = unit_circle_spectrum(
        model_eigenvalues, ax=ax, label="trained W", s=14, color="C0", alpha=0.8
    )
    lam = np.asarray(ideal_eigenvalues, dtype=complex).ravel()
    ax.scatter(lam.real, lam.imag, marker="x", s=30, color="C3", label="ideal Φ", zorder=3)
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(
        threshold * np.cos(theta), threshold * np.sin(theta), ls="--", color="0.6", lw=0.8, zorder=0
    )
    ax.legend(fontsize=8, loc="lower left", frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def accuracy_vs_horizon(results, horizons, ax=None, title=None):
    """Sign accuracy against the test horizon, one line per model: ``results`` maps a model name
    to its accuracies at ``horizons`` (chapter "Training RNNs on variable binding")."""
    horizons = list(horizons)
    ax = _axes(ax, figsize=(5.0, 3.4))
    for name, acc in results.items():
        acc = list(acc)
        if len(acc) != len(horizons):
            raise ValueError(f"{name}: {len(acc)} accuracies for {len(horizons)} horizons")
        ax.plot(horizons, acc, marker="o", label=name)
    ax.axvline(100, color="0.6", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("test horizon (steps)")
    ax.set_ylabel("sign accuracy")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def margin_histogram(margins, ax=None, title=None, bins=60):
    """Histogram of per-sequence margins (:func:`emtlib.train.sequence_margins`), one outline per
    model, log counts; ``margins`` maps a model name to its margins.  Left of the dashed line at 0
    are the sequences with a wrong sign (chapter "Training RNNs on variable binding")."""
    if not isinstance(margins, dict) or not margins:
        raise ValueError("margins must be a non-empty dict {name: margins}")
    values = {name: np.asarray(m, dtype=float).ravel() for name, m in margins.items()}
    if any(v.size == 0 or not np.all(np.isfinite(v)) for v in values.values()):
        raise ValueError("every model needs at least one finite margin")
    lo = min(min(v.min() for v in values.values()), -0.05)
    hi = max(v.max() for v in values.values())
    edges = np.linspace(lo, hi, bins + 1)
    ax = _axes(ax, figsize=(6.0, 3.4))
    for name, v in values.items():
        ax.hist(
            v,
            bins=edges,
            histtype="step",
            lw=1.5,
            log=True,
            label=f"{name} ({int(np.sum(v < 0))} below 0)",
        )
    ax.axvline(0, color="0.3", ls="--", lw=1)
    ax.set_xlabel("margin of a sequence: min over t, j of output x target")
    ax.set_ylabel("sequences")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    if title:
        ax.set_title(title)
    return ax


# --- chapter: The privileged basis and hidden neurons ---
def _slot_groups(coords):
    """Slot boundaries and group centres along a list of basis coordinates ``(slot, component)``.

    Chapter "The privileged basis and hidden neurons": a compressed basis keeps a different number
    of components per slot, so the slot blocks of ``dual @ W @ Psi`` have uneven sizes.
    Returns ``(boundaries, centres, slots)``: positions between groups, group centres, group slots.
    """
    slots = np.asarray(coords)[:, 0]
    change = np.flatnonzero(np.diff(slots)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(slots)]])
    return change - 0.5, (starts + ends - 1) / 2, slots[starts]


def _slot_block_axes(ax, coords, fontsize=6):
    """Slot boundaries and slot ticks on both axes of a basis matrix (chapter "The privileged basis
    and hidden neurons")."""
    bounds, centres, slots = _slot_groups(coords)
    for b in bounds:
        ax.axvline(b, color="0.35", lw=0.6)
        ax.axhline(b, color="0.35", lw=0.6)
    ax.set_xticks(centres, [str(k) for k in slots], fontsize=fontsize)
    ax.set_yticks(centres, [str(k) for k in slots], fontsize=fontsize)


def phi_in_basis(W, basis, axes=None, title=None, vmax=None):
    """One model seen two ways (chapter "The privileged basis and hidden neurons").

    Three panels: ``W`` in the neuron basis, ``dual @ W @ Psi`` on the variable coordinates, and the
    task's ideal Φ restricted to the same coordinates, with slot blocks drawn (ticks: slot numbers,
    0 oldest). ``basis`` is an :class:`emtlib.basis.Basis`. The two right panels share one colour
    scale (``vmax``, default the largest entry of either). Returns the Figure.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape != (basis.n, basis.n):
        raise ValueError(
            f"W must be the model's ({basis.n}, {basis.n}) recurrent matrix, got shape {W.shape}"
        )
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.5), layout="constrained")
    a0, a1, a2 = axes
    kv = basis.n_variables
    emp, ideal, coords = basis.phi_empirical[:kv, :kv], basis.phi_ideal, basis.coords[:kv]
    v = float(max(np.abs(emp).max(), np.abs(ideal).max())) if vmax is None else float(vmax)
    signed_heatmap(W, ax=a0, colorbar=False, title="W in the neuron basis")
    a0.set_xticks([])
    a0.set_yticks([])
    a0.set_xlabel(f"{basis.n} neurons", fontsize=8)
    signed_heatmap(
        emp, ax=a1, colorbar=False, vmax=v, title=r"$\Psi^{+} W \Psi$ (privileged basis)"
    )
    signed_heatmap(ideal, ax=a2, colorbar=True, vmax=v, title=r"ideal $\Phi$, same coordinates")
    for ax in (a1, a2):
        _slot_block_axes(ax, coords)
        ax.set_xlabel("slot (from)", fontsize=8)
    a1.set_ylabel("slot (to)", fontsize=8)
    for ax in axes:
        ax.set_aspect("equal")
        ax.title.set_fontsize(9)
    fig = a0.figure
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def phi_in_basis_grid(items, titles=None):
    """``phi_in_basis`` for several models, one column each: rows are ``W``, ``dual @ W @ Psi`` and
    the ideal Φ (chapter "The privileged basis and hidden neurons").

    ``items`` is a list of ``(W, basis)``; ``titles`` one string per item. Returns the Figure.
    """
    items = list(items)
    if not items:
        raise ValueError("phi_in_basis_grid needs at least one (W, basis) pair")
    titles = [None] * len(items) if titles is None else list(titles)
    if len(titles) != len(items):
        raise ValueError(f"{len(titles)} titles for {len(items)} models")
    fig, axes = plt.subplots(
        3, len(items), figsize=(3.3 * len(items) + 0.6, 10.0), layout="constrained", squeeze=False
    )
    for c, ((W, basis), head) in enumerate(zip(items, titles)):
        phi_in_basis(W, basis, axes=axes[:, c])
        if head:
            axes[0, c].set_title(f"{head}\nW in the neuron basis", fontsize=9)
        if c:
            for ax in axes[1:, c]:
                ax.set_ylabel("")
    return fig


def basis_state(
    values,
    ax=None,
    title=None,
    row_labels=None,
    vmax=None,
    annotate=True,
    highlight=(),
    readout=True,
    wrong=None,
    fontsize=7,
):
    """One hidden state read in the privileged basis: ``s`` rows (slots, oldest on top) of ``d`` cells
    (chapter "The privileged basis and hidden neurons").

    ``values`` ``(s, d)``, NaN for a coordinate the basis does not keep (drawn grey, hatched);
    ``annotate`` writes the sign of every cell with ``|value| >= vmax / 10`` (smaller ones are noise).
    ``highlight``: ``(slot, component)`` cells outlined in black (the ones the next step composes
    into the newest slot); ``readout`` frames the newest slot, the only one the readout sees;
    ``wrong`` ``(s, d)`` booleans marks cells whose sign disagrees with the ideal window by a
    yellow dot; ``fontsize`` sets the labels (signs and ticks one point smaller). Returns the Axes.
    """
    V = np.asarray(values, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"basis_state expects values of shape (s, d), got {V.shape}")
    s, d = V.shape
    ax = _axes(ax, figsize=(2.6, 2.6))
    finite = np.abs(V[np.isfinite(V)])
    v = (
        (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
        if vmax is None
        else float(vmax)
    )
    cmap = plt.get_cmap(SIGNED_CMAP).with_extremes(bad="0.88")
    ax.imshow(np.ma.masked_invalid(V), cmap=cmap, vmin=-v, vmax=v, interpolation="nearest")
    for (k, j), x in np.ndenumerate(V):
        if not np.isfinite(x):
            ax.add_patch(
                Rectangle((j - 0.5, k - 0.5), 1, 1, fill=False, hatch="////", lw=0, color="0.7")
            )
        elif annotate and abs(x) >= 0.1 * v:
            ax.text(
                j,
                k,
                "+" if x > 0 else "−",
                ha="center",
                va="center",
                fontsize=fontsize - 1,
                color="w" if abs(x) > 0.6 * v else "k",
            )
    for k, j in highlight:
        ax.add_patch(Rectangle((j - 0.47, k - 0.47), 0.94, 0.94, fill=False, lw=1.3, color="k"))
    if readout:
        ax.add_patch(
            Rectangle((-0.5, s - 1.5), d, 1, fill=False, lw=1.6, color="C2", clip_on=False)
        )
    if wrong is not None:
        kk, jj = np.nonzero(np.asarray(wrong, dtype=bool))
        ax.scatter(jj, kk, s=14, color="yellow", edgecolors="k", linewidths=0.5, zorder=3)
    ax.set_xticks(range(d), [str(j) for j in range(d)], fontsize=fontsize - 1)
    labels = [f"slot {k}" for k in range(s)] if row_labels is None else list(row_labels)
    if len(labels) != s:
        raise ValueError(f"{len(labels)} row labels for {s} slots")
    ax.set_yticks(range(s), labels, fontsize=fontsize)
    ax.set_xlabel("component", fontsize=fontsize)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax


def window_labels(t, s):
    """What slot ``k`` holds at step ``t``: ``z(t-s+1+k)``, or "empty" before the first input
    (chapter "The privileged basis and hidden neurons")."""
    return [f"z({t - s + 1 + k})" if t - s + 1 + k >= 0 else "empty" for k in range(s)]


def basis_snapshots(decoded, task, times, ideal=None, vmax=None, title=None, ncols=5):
    """The stored variables of one sequence at several steps, read in the privileged basis
    (chapter "The privileged basis and hidden neurons").

    ``decoded`` ``(T, s, d)`` from :func:`emtlib.basis.decode` for one sequence; ``task`` the task;
    ``times`` the steps to show. Rows are labelled with the vector each slot holds, the newest slot
    (read out) is framed in green, and from step ``s - 1`` on the cells that the next step composes
    into the newest slot are outlined. With ``ideal`` ``(T, s, d)`` (the task's windows), cells
    whose decoded sign is wrong get a yellow dot. Returns the Figure.
    """
    D = np.asarray(decoded, dtype=float)
    s, d = task.s, task.d
    if D.ndim != 3 or D.shape[1:] != (s, d):
        raise ValueError(f"decoded must have shape (T, {s}, {d}) for one sequence, got {D.shape}")
    times = list(times)
    if not times or min(times) < 0 or max(times) >= len(D):
        raise ValueError(f"times must lie in [0, {len(D) - 1}], got {times}")
    if vmax is None:
        finite = np.abs(D[times][np.isfinite(D[times])])
        vmax = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    feeders = [tuple(map(int, divmod(p, d))) for p in task.choice]
    ncols = min(int(ncols), len(times))
    fig, axes = _panel_grid(len(times), ncols, (1.75, 2.0), pad=(0.3, 0.4))
    nrows = axes.shape[0]
    for i, (ax, t) in enumerate(zip(axes.flat, times)):
        wrong = None
        if ideal is not None:
            I = np.asarray(ideal, dtype=float)[t]
            wrong = np.isfinite(D[t]) & (I != 0) & (np.sign(D[t]) != np.sign(I))
        basis_state(
            D[t],
            ax=ax,
            title=f"t = {t}" + (" (input)" if t < s else ""),
            row_labels=window_labels(t, s),
            vmax=vmax,
            highlight=feeders if t >= s - 1 else (),
            wrong=wrong,
            fontsize=8,
        )
        if i // ncols < nrows - 1:
            ax.set_xlabel("")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def principal_angle_curves(angles, ax=None, title=None):
    """Principal angles (degrees, sorted) between pairs of subspaces, one line per pair
    (chapter "The privileged basis and hidden neurons"). ``angles`` maps a label to the angles."""
    ax = _axes(ax, figsize=(5.2, 3.4))
    if not angles:
        raise ValueError("principal_angle_curves needs at least one set of angles")
    for label, a in angles.items():
        a = np.sort(np.asarray(a, dtype=float).ravel())
        if a.size == 0 or np.any(a < -1e-9) or np.any(a > 90 + 1e-9):
            raise ValueError(f"{label}: principal angles must be degrees in [0, 90]")
        ax.plot(np.arange(1, a.size + 1), a, marker=".", ms=4, label=label)
    ax.set_ylim(0, 92)
    ax.set_yticks([0, 15, 30, 45, 60, 75, 90])
    ax.set_xlabel("principal angle index (sorted)")
    ax.set_ylabel("angle (degrees)")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def variant_table(
    values,
    rows,
    cols,
    ax=None,
    title=None,
    fmt="{:.4f}",
    threshold=None,
    cmap="viridis",
    vmin=None,
    vmax=None,
    fontsize=8,
):
    """A table of numbers drawn as an annotated heatmap, ``values[i, j]`` for row ``rows[i]`` and
    column ``cols[j]`` (chapter "The privileged basis and hidden neurons": decoding accuracy per
    model and basis variant). With ``threshold``, values below it are printed in bold with a
    trailing ``*``; NaN cells stay blank. Text is black or white, whichever reads better on its
    cell's colour. Returns the Axes."""
    V = np.asarray(values, dtype=float)
    rows, cols = list(rows), list(cols)
    if V.shape != (len(rows), len(cols)):
        raise ValueError(
            f"values have shape {V.shape}, expected ({len(rows)}, {len(cols)}) for the labels"
        )
    ax = _axes(ax, figsize=(1.3 * len(cols) + 1.8, 0.38 * len(rows) + 1.0))
    im = ax.imshow(V, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    for (i, j), x in np.ndenumerate(V):
        if not np.isfinite(x):  # a cell with no value stays blank
            continue
        bad = threshold is not None and x < threshold
        r, g, b, _ = im.cmap(im.norm(x))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        ax.text(
            j,
            i,
            fmt.format(x) + ("*" if bad else ""),
            ha="center",
            va="center",
            fontsize=fontsize,
            color="w" if dark else "k",
            fontweight="bold" if bad else "normal",
        )
    ax.set_xticks(range(len(cols)), cols, fontsize=fontsize)
    ax.set_yticks(range(len(rows)), rows, fontsize=fontsize)
    ax.tick_params(length=0)
    if title:
        ax.set_title(title, fontsize=fontsize + 1)
    return ax


# == chapter: basis ==
def _pipeline_box(ax, xy, text, color, w=1.55, h=0.62, fontsize=7.5, dashed=False):
    """A rounded box with centred text at ``xy`` (data coordinates) on a schematic."""
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.04,rounding_size=0.08",
            facecolor=color,
            edgecolor="0.25",
            lw=0.9,
            ls="--" if dashed else "-",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, wrap=True)


def _pipeline_arrow(ax, a, b, text=None):
    ax.annotate(
        "",
        xy=b,
        xytext=a,
        arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1.0, "shrinkA": 0, "shrinkB": 0},
    )
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.08, text, fontsize=6.5, ha="center")


def basis_pipeline(ax=None, title=None):
    """The privileged-basis algorithm as a pipeline (chapter "The privileged basis").

    Top row: the paper's algorithm, from the newest slot's block to the dual by a pseudoinverse;
    middle row: the observer grounding, which builds the dual rows from the readout first; bottom
    row (dashed): the supervised probe, which fits the dual to hidden states and labels.  All three
    end in the same two readings, Φ in the basis and the stored variables.  Returns the Axes.
    """
    ax = _axes(ax, figsize=(10.0, 4.2))
    ax.set_xlim(-0.2, 11.9)
    ax.set_ylim(-0.45, 3.75)
    ax.axis("off")
    weights, paper, observer, probe, out = "#e8e8e8", "#cfe3f3", "#d7efd2", "#f6e3c8", "#f3d1d1"
    xs = [0.7, 2.45, 4.2, 5.95, 7.7]
    y_paper, y_obs, y_probe = 3.05, 1.75, 0.35
    _pipeline_box(ax, (xs[0], 2.4), "weights\n$W$, $W_{uh}$, $W_r$", weights, h=1.5)
    steps = [
        "1. newest slot\n$B = W_{uh}$ or $W_r^{+}$",
        "2. slot $k$:\n$W^{s-1-k} B$",
        "3. normalise\nevery column",
        "4. keep cycle\ncoordinates $C$",
    ]
    for x, text in zip(xs[1:], steps):
        _pipeline_box(ax, (x, y_paper), text, paper)
    _pipeline_box(ax, (9.45, y_paper), "5. dual\n$\\Psi^{*} = \\Psi^{+}$", paper)
    obs = [
        "rows $\\pm W_r W^m / \\rho^m$\nread position $f^m(\\mathrm{new}_j)$",
        "keep the rows\nof $C$: $\\Psi^{*}$",
        "basis\n$\\Psi = (\\Psi^{*})^{+}$",
    ]
    for x, text in zip([3.3, 5.95, 9.45], obs):
        _pipeline_box(ax, (x, y_obs), text, observer, w=2.6 if x == 3.3 else 1.55)
    _pipeline_box(
        ax,
        (xs[0], y_probe),
        "hidden states $h(t)$\nand ideal windows $w_C(t)$",
        probe,
        w=1.6,
        dashed=True,
    )
    _pipeline_box(
        ax,
        (4.6, y_probe),
        "least squares: $w_C \\approx \\Psi^{*} h$\n(supervised probe)",
        probe,
        w=3.0,
        dashed=True,
    )
    _pipeline_box(ax, (9.45, y_probe), "basis\n$\\Psi = (\\Psi^{*})^{+}$", probe, dashed=True)
    _pipeline_box(
        ax,
        (11.15, 2.55),
        "read $\\Phi$:\n$\\Psi^{*} W \\Psi \\approx \\Phi_{CC}$",
        out,
        w=1.3,
        h=0.9,
    )
    _pipeline_box(ax, (11.15, 1.1), "decode:\n$\\Psi^{*} h(t) \\approx w_C(t)$", out, w=1.3, h=0.9)
    _pipeline_arrow(ax, (xs[0] + 0.78, y_paper), (xs[1] - 0.8, y_paper))
    for a, b in itertools.pairwise(xs[1:]):
        _pipeline_arrow(ax, (a + 0.8, y_paper), (b - 0.8, y_paper))
    _pipeline_arrow(ax, (xs[-1] + 0.8, y_paper), (9.45 - 0.8, y_paper))
    _pipeline_arrow(ax, (xs[0] + 0.78, y_obs), (3.3 - 1.32, y_obs))
    _pipeline_arrow(ax, (3.3 + 1.32, y_obs), (5.95 - 0.8, y_obs))
    _pipeline_arrow(ax, (5.95 + 0.8, y_obs), (9.45 - 0.8, y_obs))
    _pipeline_arrow(ax, (xs[0] + 0.82, y_probe), (4.6 - 1.52, y_probe))
    _pipeline_arrow(ax, (4.6 + 1.52, y_probe), (9.45 - 0.8, y_probe))
    for y in (y_paper, y_obs, y_probe):
        for target in (2.55, 1.1):
            _pipeline_arrow(ax, (9.45 + 0.8, y), (11.15 - 0.67, target + (y - 1.75) * 0.12))
    for y, label in (
        (y_paper + 0.5, "the paper's algorithm (grounding input or output)"),
        (y_obs + 0.5, "observer grounding: the dual first, from the readout"),
        (y_probe + 0.5, "control: fitted to data (supervised)"),
    ):
        ax.text(1.6, y, label, fontsize=7.5, style="italic", color="0.25")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def basis_control_strips(accuracy, phi_error, networks, kinds, mark=(), axes=None, title=None):
    """Decoding accuracy and Φ-recovery error of every basis kind on every network, one dot per
    network (chapter "The privileged basis", section "How much comes from the weights?").

    ``accuracy`` and ``phi_error`` are ``(len(networks), len(kinds))``; networks in ``mark`` (names)
    are drawn as crosses (e.g. a network that does not solve its task).  Grey bands: chance
    decoding (0.5) and the Φ error of reading nothing (1).  Returns the Figure.
    """
    A, E = np.asarray(accuracy, dtype=float), np.asarray(phi_error, dtype=float)
    networks, kinds = list(networks), list(kinds)
    if A.shape != (len(networks), len(kinds)) or E.shape != A.shape:
        raise ValueError(
            f"accuracy and phi_error must have shape ({len(networks)}, {len(kinds)}), "
            f"got {A.shape} and {E.shape}"
        )
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.6), layout="constrained")
    a0, a1 = axes
    rng = np.random.default_rng(0)
    jitter = rng.uniform(-0.22, 0.22, size=len(networks))
    colors = {"paper": "#d95f02", "default": "#1b9e77"}
    for i, name in enumerate(networks):
        family = "paper" if name.endswith("-paper") else "default"
        marker = "x" if name in mark else "o"
        for ax, V in ((a0, A), (a1, E)):
            ax.scatter(
                np.arange(len(kinds)) + jitter[i],
                V[i],
                s=16 if marker == "o" else 30,
                marker=marker,
                color=colors[family],
                alpha=0.8,
                lw=1.2 if marker == "x" else 0,
            )
    a0.axhline(0.5, color="0.6", lw=4, alpha=0.4)
    a1.axhline(1.0, color="0.6", lw=4, alpha=0.4)
    a0.set_ylabel("decoding accuracy, horizon 200")
    a1.set_ylabel(r"$\varepsilon_\Phi$ (1 = reading nothing)")
    a1.set_yscale("log")
    for ax in axes:
        ax.set_xticks(range(len(kinds)), kinds, fontsize=8, rotation=20)
        ax.axvspan(-0.5, 2.5, color="#cfe3f3", alpha=0.35, lw=0)
        ax.axvspan(2.5, 3.5, color="#f6e3c8", alpha=0.35, lw=0)
        ax.set_xlim(-0.5, len(kinds) - 0.5)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes:
        for x, label in ((1.0, "weights only"), (3.0, "supervised"), (5.0, "controls")):
            ax.text(
                x,
                1.01,
                label,
                ha="center",
                va="bottom",
                fontsize=7.5,
                color="0.3",
                transform=ax.get_xaxis_transform(),
            )
    handles = [
        Line2D([], [], marker="o", ls="", color=colors["default"], label="default recipe"),
        Line2D([], [], marker="o", ls="", color=colors["paper"], label="paper's protocol"),
    ]
    if mark:
        handles.append(
            Line2D([], [], marker="x", ls="", color="0.3", label="does not solve its task")
        )
    a0.legend(handles=handles, fontsize=7, frameon=False, loc="lower left")
    fig = a0.figure
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --- chapter: Interventions ---
def intervention_outputs(
    unedited, edited, predicted, t, s=None, title=None, labels=None, start=None
):
    """Output signs of one sequence around an edit: the unedited run, the edited run and the
    task's prediction for the edited memory, as three stacked panels (chapter "Interventions").

    ``unedited``, ``edited``, ``predicted`` are ``(T, d)`` outputs (time first); ``t`` is the
    edited step (a thick line just before it).  Steps from ``start`` on are drawn (default ``s``,
    the first output step, when ``s`` is given, else 0).  From step ``t`` on, dots in the
    prediction panel mark the outputs the edit should change (where the prediction differs from
    the unedited run) and black crosses in the edited panel mark outputs whose sign differs from
    the prediction (none: the edit worked).  ``labels`` renames the three panels. Returns the Figure.
    """
    arrays = [np.asarray(a, dtype=float) for a in (unedited, edited, predicted)]
    if arrays[0].ndim != 2 or any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(
            f"unedited, edited and predicted must be (T, d) arrays of one shape, got "
            f"{[a.shape for a in arrays]}"
        )
    T, d = arrays[0].shape
    t = int(t)
    start = (0 if s is None else int(s)) if start is None else int(start)
    if not 0 <= start <= t < T:
        raise ValueError(f"need 0 <= start <= t < T = {T}, got start = {start}, t = {t}")
    labels = (
        ["unedited run", "edited run", "prediction for the edited memory"]
        if labels is None
        else list(labels)
    )
    if len(labels) != 3:
        raise ValueError(f"labels must name the three panels, got {len(labels)}")
    signs = [np.sign(a[start:]) for a in arrays]
    after = np.arange(start, T)[:, None] >= t
    fig, axes = plt.subplots(
        3,
        1,
        figsize=(min(2.4 + 0.2 * (T - start), 11.0), 1.1 + 3 * (0.55 + 0.2 * d)),
        sharex=True,
        layout="constrained",
    )
    for ax, sg, label in zip(axes, signs, labels):
        signed_heatmap(sg.T, ax=ax, colorbar=False, vmax=1.0)
        ax.axvline(t - start - 0.5, color="k", lw=2.5)
        ax.set_ylabel("output $j$", fontsize=8)
        if d <= 10:
            ax.set_yticks(range(d), [str(j) for j in range(d)], fontsize=7)
        ax.set_title(label, fontsize=9, loc="left")
    changed = np.argwhere((signs[2] != signs[0]) & after)
    axes[2].scatter(changed[:, 0], changed[:, 1], s=12, color="k", marker="o")
    wrong = np.argwhere((signs[1] != signs[2]) & after)
    axes[1].scatter(wrong[:, 0], wrong[:, 1], s=45, color="k", marker="x", lw=1.6)
    axes[1].set_title(
        f"{len(wrong)} outputs differ from the prediction (crosses)", fontsize=8, loc="right"
    )
    axes[2].set_title(f"{len(changed)} outputs changed by the edit (dots)", fontsize=8, loc="right")
    axes[0].set_title(f"edit at t = {t}", fontsize=8, loc="right")
    axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[2].xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{round(x) + start}"))
    axes[2].set_xlabel("time step $t$")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def intervention_rate_table(rates, threshold=0.99, ax=None, title=None, fmt="{:.3f}"):
    """Success rates as an annotated table: rows are variants (bases or controls), columns models
    (chapter "Interventions").

    ``rates`` maps a variant name to a dict model name -> rate in [0, 1] (all variants with the
    same models); rates at or above ``threshold`` are printed in bold. Returns the Axes.
    """
    variants = list(rates)
    if not variants:
        raise ValueError("rates is empty: nothing to draw")
    models = list(rates[variants[0]])
    for v in variants:
        if list(rates[v]) != models:
            raise ValueError(f"variant {v!r} has models {list(rates[v])}, expected {models}")
    M = np.array([[float(rates[v][m]) for m in models] for v in variants])
    if np.any((M < 0) | (M > 1)) or not np.all(np.isfinite(M)):
        raise ValueError("rates must lie in [0, 1]")
    ax = _axes(ax, figsize=(1.8 + 0.85 * len(models), 1.1 + 0.4 * len(variants)))
    ax.imshow(M, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    for (i, j), v in np.ndenumerate(M):
        ax.text(
            j,
            i,
            fmt.format(v),
            ha="center",
            va="center",
            fontsize=9,
            color="k" if v > 0.6 else "w",
            fontweight="bold" if v >= threshold else "normal",
        )
    ax.set_xticks(range(len(models)), models, fontsize=9, rotation=30, ha="right")
    ax.set_yticks(range(len(variants)), variants, fontsize=9)
    ax.set_xticks(np.arange(len(models) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(variants) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="w", lw=1.5)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def intervention_by_slot(results, ax=None, title=None):
    """Success rate per edited slot, one line per variant (chapter "Interventions").

    ``results`` maps a label to an :class:`emtlib.interventions.InterventionTrials` (or anything with
    ``slot`` and ``success`` arrays and a ``task``). Returns the Axes.
    """
    if not results:
        raise ValueError("results is empty: nothing to draw")
    ax = _axes(ax, figsize=(7.2, 3.0))
    for k, (label, r) in enumerate(results.items()):
        slot, ok = np.asarray(r.slot), np.asarray(r.success, dtype=float)
        s = r.task.s
        rate = [ok[slot == j].mean() if np.any(slot == j) else np.nan for j in range(s)]
        ax.plot(range(s), rate, "o-", ms=4, lw=1.4, color=f"C{k}", label=label)
    ax.axhline(0.99, color="0.5", ls=":", lw=1)
    ax.set_xticks(
        range(s),
        [f"{j}" + (" (newest)" if j == s - 1 else " (oldest)" if j == 0 else "") for j in range(s)],
        fontsize=7,
    )
    ax.set_xlabel("edited slot")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.03, 1.05)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def intervention_survival(results, ax=None, title=None, lags=None):
    """Share of edits still following the prediction ``m`` steps after the edit (solid), and the
    share of the same unedited runs still right (dashed), one colour per label (chapter "Interventions").

    ``results`` maps a label to an :class:`emtlib.interventions.InterventionTrials`. Returns the Axes.
    """
    if not results:
        raise ValueError("results is empty: nothing to draw")
    ax = _axes(ax, figsize=(7.4, 3.2))
    for k, (label, r) in enumerate(results.items()):
        m = np.arange(r.window) if lags is None else np.asarray(lags)
        ax.plot(m, r.survival(m), color=f"C{k}", lw=1.6, label=f"{label}: edited")
        ax.plot(
            m,
            r.survival(m, baseline=True),
            color=f"C{k}",
            lw=1.2,
            ls="--",
            label=f"{label}: unedited",
        )
    ax.set_xlabel("steps after the edit")
    ax.set_ylabel("share still on the prediction")
    ax.set_ylim(-0.03, 1.05)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def paper_panel(values):
    """One panel of the paper's Fig. 3 as the authors' code computes it (chapter "Interventions"):
    the stored variables ``values`` ``(s, d)`` with coordinates the basis drops set to 0 (NaN is
    read as a dropped coordinate), minus their mean, divided by their standard deviation, both
    taken over the whole panel; returned transposed, ``(d, s)``: components down, slots across."""
    V = np.asarray(values, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"paper_panel expects values of shape (s, d), got {V.shape}")
    V = np.where(np.isfinite(V), V, 0.0)
    sd = V.std()
    return ((V - V.mean()) / (sd if sd > 0 else 1.0)).T


def paper_variable_memories(decoded, times, title=None, ncols=5):
    """The paper's Fig. 3, faithfully: the hidden state read in the privileged basis at ``times``,
    each panel normalised on its own by :func:`paper_panel` and drawn on ``[-1, 1]`` with values
    beyond clipped, slots across and components down (chapter "Interventions").

    ``decoded`` ``(T, s, d)`` from :func:`emtlib.basis.decode` for one sequence. Returns the Figure.
    """
    D = np.asarray(decoded, dtype=float)
    if D.ndim != 3:
        raise ValueError(f"decoded must have shape (T, s, d) for one sequence, got {D.shape}")
    times = list(times)
    if not times or min(times) < 0 or max(times) >= len(D):
        raise ValueError(f"times must lie in [0, {len(D) - 1}], got {times}")
    s, d = D.shape[1:]
    ncols = min(int(ncols), len(times))
    fig, axes = _panel_grid(len(times), ncols, (1.6, 1.75), pad=(0.25, 0.35))
    for i, (ax, t) in enumerate(zip(axes.flat, times)):
        ax.imshow(paper_panel(D[t]), cmap="coolwarm", vmin=-1.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"t = {t}", fontsize=8)
        ax.set_xticks(range(s), [str(k) for k in range(s)], fontsize=6)
        ax.set_yticks(range(d), [str(j) for j in range(d)], fontsize=6)
        if i % ncols == 0:
            ax.set_ylabel("component", fontsize=7)
        if i // ncols == axes.shape[0] - 1:
            ax.set_xlabel("slot (0 oldest)", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# --- chapter: Universality ---
#: Colours of the weight decays (L2) in the figures of chapter "Universality"; other values get
#: the next free colours of matplotlib's cycle.
L2_COLORS = {0.0: "C0", 0.001: "C1", 0.1: "C3"}
#: Markers of the tasks (in order of first appearance) in the figures of chapter "Universality".
TASK_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def record_eigenvalues(record) -> np.ndarray:
    """The eigenvalues of ``W`` kept in a lab record (:attr:`emtlib.lab.record.Record.eigenvalues`) as a
    complex numpy array (chapter "Universality").

    ValueError when the record holds no spectrum (a failed run).
    """
    _check_record(record, "record_eigenvalues")
    if record.eigenvalues is None:
        raise ValueError(f"record {record.run_id} holds no eigenvalues (error: {record.error})")
    return np.asarray(record.eigenvalues, dtype=complex)


def _check_record(record, who):
    if not (hasattr(record, "spec") and hasattr(record, "metrics") and hasattr(record, "ok")):
        raise TypeError(
            f"{who}: records must be emtlib.lab.Record objects, got {type(record).__name__}"
        )


def _ok_records(records, who):
    """The finished records of ``records`` (a ``{run id: record}`` dict or an iterable of records)."""
    if isinstance(records, dict):
        records = list(records.values())
    records = list(records)
    for r in records:
        _check_record(r, who)
    return [r for r in records if r.ok]


def _accuracy(record, horizon: int) -> float:
    accuracy = record.metrics.accuracy
    if horizon not in accuracy:
        raise ValueError(
            f"record {record.run_id} has no accuracy at horizon {horizon} (it has {sorted(accuracy)})"
        )
    return accuracy[horizon]


def _l2_color(l2, seen):
    l2 = float(l2)
    if l2 in L2_COLORS:
        return L2_COLORS[l2]
    if l2 not in seen:
        used = set(L2_COLORS.values()) | set(seen.values())
        seen[l2] = next(f"C{k}" for k in range(20) if f"C{k}" not in used)
    return seen[l2]


def _l2_label(l2) -> str:
    return "L2 = 0" if float(l2) == 0 else f"L2 = {float(l2):g}"


def seed_spectra(spectra, ideal, ax=None, title=None, labels=None, threshold=0.9):
    """The eigenvalues of several trained ``W`` (one colour per seed) overlaid on the ideal Φ's
    (black rings, a repeated one labelled with its multiplicity) on the unit circle, with
    ``|λ| = threshold`` dashed (chapter "Universality").

    ``spectra`` is a list of eigenvalue arrays (e.g. :func:`record_eigenvalues` of one grid cell's
    seeds); an empty list draws Φ alone and writes "pending" (no run yet).  Returns the Axes.
    """
    spectra = [np.asarray(lam, dtype=complex).ravel() for lam in spectra]
    labels = [f"seed {k}" for k in range(len(spectra))] if labels is None else list(labels)
    if len(labels) != len(spectra):
        raise ValueError(f"{len(labels)} labels for {len(spectra)} spectra")
    lam_phi = np.asarray(ideal, dtype=complex).ravel()
    ax = unit_circle_spectrum(
        lam_phi,
        ax=ax,
        marker="o",
        s=90,
        facecolors="none",
        edgecolors="k",
        linewidths=1.0,
        label="ideal Φ",
        zorder=2,
    )
    # an eigenvalue of Φ that repeats (repeat copy: each 8th root of unity 8 times) gets its multiplicity
    points, counts = np.unique(np.round(lam_phi, 6), return_counts=True)
    for point, count in zip(points, counts):
        if count > 1:
            ax.text(
                0.78 * point.real,
                0.78 * point.imag,
                f"×{count}",
                ha="center",
                va="center",
                fontsize=7,
                color="0.2",
                zorder=5,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    for k, (lam, label) in enumerate(zip(spectra, labels)):
        ax.scatter(lam.real, lam.imag, s=13, color=f"C{k}", alpha=0.7, label=label, zorder=3)
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(
        threshold * np.cos(theta), threshold * np.sin(theta), ls="--", color="0.6", lw=0.8, zorder=0
    )
    if not spectra:
        ax.text(0, 0, "pending\n(no run yet)", ha="center", va="center", fontsize=10, color="0.35")
    lim = max(1.35, 1.05 * max([np.abs(lam).max() for lam in spectra if lam.size] + [1.0]))
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.legend(fontsize=7, loc="lower left", frameon=False, handletextpad=0.2)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def accuracy_vs_spectral_error(records, axes=None, title=None, horizon=200):
    """Test accuracy (at ``horizon``) of every finished run of a sweep against how well its spectrum
    matches Φ (chapter "Universality"). Left: against the ratio of long-lived modes
    ``n_model / n_ideal`` (every run); right: against the spectral error (log scale), for the runs
    where it is defined.  ``records`` are lab records.  Colour: L2 (:data:`L2_COLORS`); marker:
    task. Returns the Figure."""
    ok = _ok_records(records, "accuracy_vs_spectral_error")
    if not ok:
        raise ValueError("accuracy_vs_spectral_error: no finished (ok) runs to draw")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.8), layout="constrained", sharey=True)
    else:
        fig = axes[0].figure
    a0, a1 = axes
    tasks = sorted(dict.fromkeys(r.spec.label for r in ok))
    extra_colors = {}
    groups = {}
    for r in ok:
        groups.setdefault((r.spec.label, float(r.spec.l2)), []).append(r)
    for (task, l2), rs in groups.items():
        color = _l2_color(l2, extra_colors)
        marker = TASK_MARKERS[tasks.index(task) % len(TASK_MARKERS)]
        ratio = [r.metrics.n_long_lived_model / r.metrics.n_long_lived_ideal for r in rs]
        acc = [_accuracy(r, horizon) for r in rs]
        a0.scatter(ratio, acc, color=color, marker=marker, s=28, alpha=0.75, edgecolor="none")
        defined = [
            (r.metrics.spectral_error, a)
            for r, a in zip(rs, acc)
            if r.metrics.spectral_error is not None
        ]
        if defined:
            err, acc_d = zip(*defined)
            a1.scatter(err, acc_d, color=color, marker=marker, s=28, alpha=0.75, edgecolor="none")
    a0.axvline(1.0, color="0.6", ls=":", lw=1)
    a0.set_xlabel(r"long-lived modes of $W$ / of $\Phi$  ($n_{model}/n_{ideal}$)")
    a0.set_ylabel(f"accuracy at horizon {horizon}")
    a0.set_ylim(-0.03, 1.05)
    a1.set_xscale("log")
    a1.set_xlabel("spectral error (rad), where defined")
    if not a1.collections:
        a1.text(
            0.5,
            0.5,
            "no run with a defined\nspectral error yet",
            transform=a1.transAxes,
            ha="center",
            va="center",
            color="0.35",
        )
    l2s = sorted({l2 for _, l2 in groups})
    handles = [
        Line2D([], [], ls="", marker="o", color=_l2_color(l2, extra_colors), label=_l2_label(l2))
        for l2 in l2s
    ]
    handles += [
        Line2D([], [], ls="", marker=TASK_MARKERS[k % len(TASK_MARKERS)], color="0.4", label=t)
        for k, t in enumerate(tasks)
    ]
    a1.legend(
        handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def mode_counts(
    records, columns=None, tasks=None, n_ideal=None, title=None, ncols=None, horizon=200
):
    """Long-lived modes of every finished run (lab records), one panel per task, against the grid
    column (hidden size, L2); the runs of a column side by side, coloured by L2, hollow where the
    accuracy at ``horizon`` is below 0.9; Φ's count dashed (chapter "Universality").

    ``columns`` ((hidden, l2) pairs) and ``tasks`` (labels) default to those in the records; a
    column without runs is marked "pending".  ``n_ideal`` maps a task label to Φ's count where no
    record gives it; ``ncols`` panels per row (default: up to 4).  Returns the Figure.
    """
    ok = _ok_records(records, "mode_counts")
    columns = (
        sorted({(int(r.spec.hidden), float(r.spec.l2)) for r in ok})
        if columns is None
        else [(int(h), float(l2)) for h, l2 in columns]
    )
    tasks = list(dict.fromkeys(r.spec.label for r in ok)) if tasks is None else list(tasks)
    if not columns or not tasks:
        raise ValueError(
            "mode_counts: nothing to draw (no finished runs, and no columns/tasks given)"
        )
    ideal = dict(n_ideal or {})
    for r in ok:
        ideal.setdefault(r.spec.label, r.metrics.n_long_lived_ideal)
    ncols = min(4, len(tasks)) if ncols is None else int(ncols)
    if ncols <= 0:
        raise ValueError(f"ncols must be a positive integer, got {ncols}")
    fig, axes = _panel_grid(len(tasks), ncols, (3.0, 3.1), pad=(0.6, 0.0))
    extra_colors = {}
    for ax, task in zip(axes.flat, tasks):
        top = ideal.get(task, 1)
        for x, (hidden, l2) in enumerate(columns):
            runs = [
                r
                for r in ok
                if r.spec.label == task and int(r.spec.hidden) == hidden and float(r.spec.l2) == l2
            ]
            runs.sort(
                key=lambda r: (r.spec.seed, -1.0 if r.spec.threshold is None else r.spec.threshold)
            )
            if not runs:
                ax.text(
                    x,
                    0.5 * top,
                    "pending",
                    rotation=90,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="0.5",
                )
                continue
            offsets = np.linspace(-0.28, 0.28, len(runs)) if len(runs) > 1 else [0.0]
            color = _l2_color(l2, extra_colors)
            for dx, r in zip(offsets, runs):
                good = _accuracy(r, horizon) >= 0.9
                ax.scatter(
                    x + dx,
                    r.metrics.n_long_lived_model,
                    s=22,
                    color=color if good else "white",
                    edgecolor=color,
                    linewidth=1.1,
                    zorder=3,
                )
        if task in ideal:
            ax.axhline(ideal[task], color="k", ls="--", lw=0.9, zorder=1)
        ax.set_xticks(range(len(columns)))
        ax.set_xticklabels([f"H={h}\nL2={l2:g}" for h, l2 in columns], fontsize=7)
        ax.set_xlim(-0.6, len(columns) - 0.4)
        ax.set_ylim(-0.05 * top - 1, 1.3 * top + 1)
        ax.set_title(
            f"{task} (Φ: {ideal[task]} long-lived modes)" if task in ideal else task, fontsize=9
        )
    for ax in axes.flat[len(tasks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("long-lived modes of W")
    handles = [
        Line2D([], [], ls="", marker="o", color="0.4", label="accuracy ≥ 0.9"),
        Line2D(
            [], [], ls="", marker="o", color="0.4", markerfacecolor="white", label="accuracy < 0.9"
        ),
        Line2D([], [], color="k", ls="--", lw=0.9, label="Φ"),
    ]
    axes.flat[0].legend(handles=handles, fontsize=7, frameon=False, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# == chapter: Beyond the Elman RNN =================================================================
#: The architectures in the order and colours of the figures of chapter "Beyond the Elman RNN".
ARCHITECTURE_COLORS = {"elman": "C0", "elman-bias": "C1", "gru": "C2", "lstm": "C3"}


def architecture_strips(rows, measures, axes=None, title=None):
    """One panel per measure, the networks of each architecture as a strip of dots (chapter
    "Beyond the Elman RNN").

    ``rows`` are rows of the study (:func:`emtlib.lab.beyond.rows`, read through their
    attributes), ``measures`` maps an attribute name (``"observer_accuracy"``, ...) to a panel
    title.  A network that generalises (``row.generalises``: accuracy at least 0.999 at horizon
    10,000) is a filled dot, one that does not an open one; a row whose value is ``None`` (no basis fits its state) is left
    out.  The tasks are spread across each strip in the order they first appear.  Returns the
    Figure.
    """
    rows, measures = list(rows), dict(measures)
    if not rows or not measures:
        raise ValueError("architecture_strips needs at least one row and one measure")
    for name in measures:
        if not all(hasattr(r, name) for r in rows):
            raise ValueError(f"the rows have no measure {name!r}")
    models = [m for m in ARCHITECTURE_COLORS if any(r.model == m for r in rows)]
    tasks = list(dict.fromkeys(r.task for r in rows))
    if axes is None:
        fig, axes = plt.subplots(
            1, len(measures), figsize=(3.0 * len(measures), 3.0), sharey=True, squeeze=False
        )
        axes = axes[0]
    axes = np.atleast_1d(axes)
    if len(axes) != len(measures):
        raise ValueError(f"{len(axes)} axes for {len(measures)} measures")
    offsets = np.linspace(-0.3, 0.3, len(tasks)) if len(tasks) > 1 else np.zeros(1)
    for ax, (name, label) in zip(axes, measures.items()):
        for r in rows:
            value = getattr(r, name)
            if value is None:
                continue
            x = models.index(r.model) + offsets[tasks.index(r.task)]
            color = ARCHITECTURE_COLORS[r.model]
            ax.scatter(
                x,
                value,
                s=16,
                color=color if r.generalises else "white",
                edgecolor=color,
                linewidth=1.0,
                zorder=3,
            )
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models, fontsize=8, rotation=30, ha="right")
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_title(label, fontsize=9)
        ax.grid(axis="y", color="0.9", lw=0.6)
    axes[0].set_ylim(-0.03, 1.03)
    handles = [
        Line2D([], [], ls="", marker="o", color="0.4", label="≥ 0.999 at 10,000 steps"),
        Line2D([], [], ls="", marker="o", color="0.4", markerfacecolor="white", label="not"),
    ]
    axes[0].legend(handles=handles, fontsize=7, frameon=False, loc="lower left")
    fig = axes[0].figure
    fig.tight_layout()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig

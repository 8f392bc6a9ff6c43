"""The paper's Table 1 from a store of records (chapter "Universality"; appendix "Running the
experiments at scale").

Rows are tasks, columns hidden size x L2, and each cell reads "spectral error (accuracy)",
aggregated as the paper does: per seed the *minimum* spectral error and the *maximum* accuracy over
the curriculum thresholds, then the mean over seeds with the sample standard deviation.
:func:`shipped` is the book's own grid (:data:`TABLE1`), trained with the recipe ``"paper"``::

    from emtlib.lab import table
    print(table.to_markdown(table.table1(table.shipped().records())))

The book's table is a reconstruction: the authors' public code does not compute the spectral
error, so it is computed as :func:`emtlib.spectra.spectral_error` defines it.
:data:`PAPER_TABLE1` holds the paper's printed table, and :func:`compare` holds the book's against
it seed by seed: a cell counts as reproduced only when every seed agrees with the paper's::

    print(table.comparison_markdown(table.compare(table.shipped().records())))
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emtlib.tasks import PAPER_TASKS

from .record import Record
from .store import Store

__all__ = [
    "ACCURACY_TOLERANCE",
    "ERROR_FACTOR",
    "PAPER_TABLE1",
    "SILENT_RADIUS",
    "TABLE1",
    "Cell",
    "CellComparison",
    "SeedAgreement",
    "Table1",
    "compare",
    "comparison_markdown",
    "shipped",
    "silent",
    "table1",
    "to_latex",
    "to_markdown",
]

#: The folder of the shipped store of Table 1's records (its grid is the store's ``grid.yaml``).
TABLE1 = Path(__file__).resolve().parent / "data" / "table1"


def shipped() -> Store:
    """The store of the book's Table 1 runs, shipped with emtlib (records, no weights)."""
    return Store(TABLE1, shipped=True)


@dataclass(frozen=True)
class Cell:
    """One cell of Table 1: a task at one hidden size and L2, aggregated over seeds.

    ``per_seed`` holds ``(seed, best error or None, best accuracy)``; the cell is the mean over
    seeds, the spread the sample standard deviation (``ddof=1``; ``None`` for one seed), and the
    range ``min``/``max``.  The error is averaged over the seeds where it is defined (``n_error`` of
    ``n_seeds``); ``error_mean`` is ``None`` when it is defined for none.
    """

    task: str
    hidden: int
    l2: float
    per_seed: tuple
    n_runs: int
    n_failed: int
    accuracy_mean: float
    accuracy_std: float | None
    accuracy_min: float
    accuracy_max: float
    error_mean: float | None
    error_std: float | None
    error_min: float | None
    error_max: float | None
    n_error: int

    @property
    def n_seeds(self) -> int:
        return len(self.per_seed)

    @property
    def defined(self) -> str:
        """``"all"``, ``"some"`` or ``"none"``: for how many seeds the spectral error is defined."""
        return "all" if self.n_error == self.n_seeds else ("none" if self.n_error == 0 else "some")


@dataclass(frozen=True)
class Table1:
    """Table 1 as computed by :func:`table1`: ``tasks`` (row labels, in order), ``task_numbers``
    (label -> (s, d, t1, t2, t3)), ``columns`` ((hidden, l2) pairs, in order) and ``cells``
    ((task, hidden, l2) -> :class:`Cell`; absent where no run succeeded)."""

    tasks: tuple
    task_numbers: dict
    columns: tuple
    cells: dict
    n_failed: int
    horizon: int = 200
    spread: str = "sample standard deviation over seeds (ddof=1)"

    def cell(self, task: str, hidden: int, l2: float) -> Cell | None:
        return self.cells.get((task, hidden, float(l2)))


def _std(values: list) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def table1(records: Iterable[Record], horizon: int = 200) -> Table1:
    """Aggregate records into the paper's Table 1, with the accuracy at ``horizon``.

    Failed records are counted, not used.  All records must come from one protocol (the same
    recipe, step budget and model), and a grid point (task, hidden, l2, seed, threshold) may appear
    only once; otherwise ValueError.
    """
    protocol, seen, n_failed = None, {}, {}
    per_seed: dict = {}  # (task numbers, hidden, l2) -> {seed: ([errors], [accuracies])}
    labels: dict = {}
    for record in records:
        if not isinstance(record, Record):
            raise TypeError(f"table1 takes Records, got {type(record).__name__}")
        spec = record.spec
        key = (spec.task, spec.hidden, spec.l2)
        point = (*key, spec.seed, spec.threshold)
        labels.setdefault(spec.task, spec.label)
        this = (spec.recipe, spec.max_steps, spec.model)
        if protocol is None:
            protocol = this
        elif this != protocol:
            raise ValueError(
                f"records come from different protocols (recipe, max_steps, model): {protocol} and "
                f"{this} (run {record.run_id}); make one table per protocol"
            )
        if point in seen:
            raise ValueError(f"runs {seen[point]} and {record.run_id} are one grid point {point}")
        seen[point] = record.run_id
        if not record.ok:
            n_failed[key] = n_failed.get(key, 0) + 1
            continue
        m = record.metrics
        if horizon not in m.accuracy:
            raise ValueError(
                f"run {record.run_id} has no accuracy at horizon {horizon} (it has {sorted(m.accuracy)})"
            )
        errors, accs = per_seed.setdefault(key, {}).setdefault(spec.seed, ([], []))
        if m.spectral_error is not None:
            errors.append(m.spectral_error)
        accs.append(m.accuracy[horizon])

    def task_order(numbers):
        paper = list(PAPER_TASKS)
        label = labels[numbers]
        return (paper.index(label) if label in paper else len(paper), numbers)

    keys = list(per_seed) + list(n_failed)
    task_keys = sorted({k[0] for k in keys}, key=task_order)
    columns = tuple(sorted({(k[1], k[2]) for k in keys}))
    cells = {}
    for key, seeds in per_seed.items():
        rows = tuple(
            (seed, min(e) if e else None, max(a)) for seed, (e, a) in sorted(seeds.items())
        )
        accs = [r[2] for r in rows]
        errs = [r[1] for r in rows if r[1] is not None]
        label = labels[key[0]]
        cells[(label, key[1], key[2])] = Cell(
            task=label,
            hidden=key[1],
            l2=key[2],
            per_seed=rows,
            n_runs=sum(len(a) for _, a in seeds.values()),
            n_failed=n_failed.get(key, 0),
            accuracy_mean=float(np.mean(accs)),
            accuracy_std=_std(accs),
            accuracy_min=min(accs),
            accuracy_max=max(accs),
            error_mean=float(np.mean(errs)) if errs else None,
            error_std=_std(errs),
            error_min=min(errs) if errs else None,
            error_max=max(errs) if errs else None,
            n_error=len(errs),
        )
    return Table1(
        tuple(labels[k] for k in task_keys),
        {labels[k]: k for k in task_keys},
        columns,
        cells,
        sum(n_failed.values()),
        horizon,
    )


# --------------------------------------------------------------------------------------------
# The paper's Table 1, and the book's table compared with it seed by seed
# --------------------------------------------------------------------------------------------
#: Table 1 of Karuvally, Delmastro and Siegelmann (2023, arXiv 2310.02430) as printed in the
#: paper: ``(task, hidden, l2) -> (spectral error in radians, or None for "—"; accuracy at
#: horizon 200)``.  The paper's numbers, typed from the paper; nothing here is computed.
PAPER_TABLE1: dict[tuple[str, int, float], tuple[float | None, float]] = {
    ("T1", 64, 0.0): (None, 0.97),
    ("T1", 64, 0.001): (None, 0.88),
    ("T1", 64, 0.1): (None, 0.50),
    ("T1", 128, 0.0): (0.0005, 1.00),
    ("T1", 128, 0.001): (None, 0.93),
    ("T1", 128, 0.1): (None, 0.50),
    ("T2", 64, 0.0): (0.0075, 1.00),
    ("T2", 64, 0.001): (None, 0.85),
    ("T2", 64, 0.1): (None, 0.50),
    ("T2", 128, 0.0): (0.0055, 0.98),
    ("T2", 128, 0.001): (0.0031, 0.98),
    ("T2", 128, 0.1): (None, 0.50),
    ("T3", 64, 0.0): (0.0026, 1.00),
    ("T3", 64, 0.001): (0.0010, 0.97),
    ("T3", 64, 0.1): (None, 0.50),
    ("T3", 128, 0.0): (0.0031, 0.98),
    ("T3", 128, 0.001): (0.0005, 1.00),
    ("T3", 128, 0.1): (None, 0.50),
    ("T4", 64, 0.0): (0.0112, 0.94),
    ("T4", 64, 0.001): (0.0011, 1.00),
    ("T4", 64, 0.1): (None, 0.50),
    ("T4", 128, 0.0): (0.0022, 1.00),
    ("T4", 128, 0.001): (0.0006, 1.00),
    ("T4", 128, 0.1): (None, 0.50),
}

#: How close a seed's spectral error must come to the paper's cell to agree with it, as a factor
#: either way (the same order of magnitude); ACCURACY_TOLERANCE is the distance for the accuracy.
ERROR_FACTOR = 3.0
#: How close a seed's accuracy must come to the paper's cell to agree with it.
ACCURACY_TOLERANCE = 0.05
#: A run is *silent* when ``W`` has no long-lived mode and a spectral radius below this: its
#: hidden state shrinks at least a hundredfold per step once the input stops, so its output is
#: exactly zero in float32 after a few dozen steps.  The authors' code scores an output ``>= 0``
#: as +1, so a silent network scores one half there, and below 0.1 by the book's sign accuracy.
SILENT_RADIUS = 0.01


@dataclass(frozen=True)
class SeedAgreement:
    """One seed of a cell held against the paper's cell: its best ``error`` (None: undefined)
    and best ``accuracy`` over the curriculum thresholds, whether every run of the seed is
    ``silent`` (see :data:`SILENT_RADIUS`), and whether the error and the accuracy agree with
    the paper's (a silent seed's accuracy is compared as the one half that the paper's scoring
    gives an all-zero output)."""

    seed: int
    error: float | None
    accuracy: float
    silent: bool
    error_agrees: bool
    accuracy_agrees: bool

    @property
    def agrees(self) -> bool:
        return self.error_agrees and self.accuracy_agrees


@dataclass(frozen=True)
class CellComparison:
    """The book's cell of Table 1 against the paper's (chapter "Universality").

    ``paper_error`` (None for "—") and ``paper_accuracy`` are the paper's; ``cell`` the book's
    :class:`Cell` (None when no run finished); ``seeds`` one :class:`SeedAgreement` per seed.
    ``verdict`` is ``"reproduced"`` when every seed agrees with the paper on both numbers,
    ``"k of n seeds"`` when only some do, ``"differs"`` when none does, and ``"no runs"``.
    """

    task: str
    hidden: int
    l2: float
    paper_error: float | None
    paper_accuracy: float
    cell: Cell | None
    seeds: tuple

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def n_agree(self) -> int:
        """Seeds that agree with the paper's cell on both the error and the accuracy."""
        return sum(s.agrees for s in self.seeds)

    @property
    def n_error_agree(self) -> int:
        return sum(s.error_agrees for s in self.seeds)

    @property
    def n_accuracy_agree(self) -> int:
        return sum(s.accuracy_agrees for s in self.seeds)

    @property
    def silent(self) -> bool:
        """Whether every seed of the cell is silent (the paper's "— (0.50)" read as such)."""
        return bool(self.seeds) and all(s.silent for s in self.seeds)

    @property
    def verdict(self) -> str:
        if not self.seeds:
            return "no runs"
        if self.n_agree == self.n_seeds:
            return "reproduced"
        return "differs" if self.n_agree == 0 else f"{self.n_agree} of {self.n_seeds} seeds"

    @property
    def mean_agrees(self) -> bool:
        """Whether the cell's *means* agree with the paper by the same rule (what a comparison
        that ignores the seeds would report)."""
        c = self.cell
        if c is None:
            return False
        accuracy = 0.5 if self.silent else c.accuracy_mean
        return _error_agrees(c.error_mean, self.paper_error) and _accuracy_agrees(
            accuracy, self.paper_accuracy
        )

    def why(self) -> str:
        """What differs, seed by seed (empty when every seed agrees)."""
        parts = []
        for s in self.seeds:
            if s.agrees:
                continue
            what = []
            if not s.error_agrees:
                ours = "—" if s.error is None else f"{s.error:.4f}"
                paper = "—" if self.paper_error is None else f"{self.paper_error:.4f}"
                what.append(f"error {ours} (paper {paper})")
            if not s.accuracy_agrees:
                what.append(f"accuracy {s.accuracy:.2f} (paper {self.paper_accuracy:.2f})")
            parts.append(f"seed {s.seed}: " + ", ".join(what))
        return "; ".join(parts)


def _error_agrees(ours: float | None, paper: float | None, factor: float = ERROR_FACTOR) -> bool:
    if paper is None or ours is None:
        return paper is None and ours is None
    return max(ours / paper, paper / ours) <= factor


def _accuracy_agrees(ours: float, paper: float, tolerance: float = ACCURACY_TOLERANCE) -> bool:
    return abs(ours - paper) <= tolerance + 1e-12


def silent(record: Record) -> bool:
    """Whether a finished run's ``W`` has no long-lived mode and a spectral radius below
    :data:`SILENT_RADIUS` (its output dies to exact zeros; chapter "Universality")."""
    if not isinstance(record, Record):
        raise TypeError(f"silent takes a Record, got {type(record).__name__}")
    if not record.ok or record.eigenvalues is None:
        return False
    radius = float(np.abs(record.eigenvalue_array).max())
    return record.metrics.n_long_lived_model == 0 and radius < SILENT_RADIUS


def compare(
    records: Iterable[Record],
    paper: dict | None = None,
    horizon: int = 200,
    error_factor: float = ERROR_FACTOR,
    accuracy_tolerance: float = ACCURACY_TOLERANCE,
) -> dict:
    """Hold the book's Table 1 (from ``records``, by :func:`table1`) against the paper's,
    seed by seed (chapter "Universality").

    A seed agrees on the error when both print "—" or both print a number and the two are
    within ``error_factor`` of each other; on the accuracy when the two are within
    ``accuracy_tolerance``, where a seed whose every run is :func:`silent` counts as the one half
    that the paper's scoring gives an all-zero output.  ``paper`` maps ``(task, hidden, l2)`` to
    ``(error or None, accuracy)`` (default :data:`PAPER_TABLE1`).  Returns ``{(task, hidden, l2):
    CellComparison}`` in the paper's order.
    """
    paper = PAPER_TABLE1 if paper is None else paper
    records = list(records)
    result = table1(records, horizon)
    quiet: dict = {}  # (task, hidden, l2, seed) -> every run silent
    for r in records:
        if r.ok:
            key = (r.spec.label, r.spec.hidden, r.spec.l2, r.spec.seed)
            quiet[key] = quiet.get(key, True) and silent(r)
    out = {}
    for (task, hidden, l2), (p_err, p_acc) in paper.items():
        cell = result.cell(task, hidden, l2)
        seeds = []
        for seed, err, acc in () if cell is None else cell.per_seed:
            is_silent = quiet[(task, hidden, float(l2), seed)]
            seeds.append(
                SeedAgreement(
                    seed,
                    err,
                    acc,
                    is_silent,
                    _error_agrees(err, p_err, error_factor),
                    _accuracy_agrees(0.5 if is_silent else acc, p_acc, accuracy_tolerance),
                )
            )
        out[(task, hidden, float(l2))] = CellComparison(
            task, hidden, float(l2), p_err, p_acc, cell, tuple(seeds)
        )
    return out


def comparison_markdown(comparisons: dict) -> str:
    """The comparison of :func:`compare` as a Markdown table: per cell the paper's numbers, the
    book's (mean over seeds, with the seeds where the error is defined), the seeds that agree and
    the verdict."""
    lines = [
        "| cell | paper | book (mean over seeds) | seeds agreeing | verdict |",
        "|---|---|---|---|---|",
    ]
    for c in comparisons.values():
        paper = (
            f"{'—' if c.paper_error is None else f'{c.paper_error:.4f}'} ({c.paper_accuracy:.2f})"
        )
        ours = _cell_text(c.cell, " ± ", "—", "*", False)
        if c.silent:
            ours += ", silent"
        lines.append(
            f"| {c.task}, H={c.hidden}, L2={_l2_text(c.l2)} | {paper} | {ours} | "
            f"{c.n_agree} of {c.n_seeds} | {c.verdict} |"
        )
    return "\n".join(lines) + "\n"


def _l2_text(l2: float) -> str:
    return "0" if l2 == 0 else f"{l2:g}"


def _cell_text(cell: Cell | None, pm: str, dash: str, mark: str, show_n: bool) -> str:
    if cell is None:
        return "no runs"

    def with_spread(mean, std, digits):
        return f"{mean:.{digits}f}" + ("" if std is None else f"{pm}{std:.{digits}f}")

    acc = with_spread(cell.accuracy_mean, cell.accuracy_std, 2)
    if cell.defined == "none":
        err = dash
    else:
        err = with_spread(cell.error_mean, cell.error_std, 4)
        if cell.defined == "some":
            err += f"{mark} [{cell.n_error}/{cell.n_seeds}]"
    text = f"{err} ({acc})"
    if show_n:
        text += f" n={cell.n_seeds}"
    if cell.n_failed:
        text += f" ({cell.n_failed} failed)"
    return text


def _notes(table: Table1, star: str) -> tuple[list[str], bool]:
    ns = {c.n_seeds for c in table.cells.values()}
    show_n = len(ns) > 1
    notes = [
        (
            "Cells: spectral error in radians (test accuracy at the test horizon); per seed the "
            "minimum error and the maximum accuracy over the curriculum thresholds, then the mean "
            f"over seeds ± the {table.spread}. — : the error is not defined for any seed (the model "
            f"and Φ have different numbers of long-lived modes); {star} [k/n]: defined for k of n "
            "seeds, mean over those."
        )
    ]
    notes.append(f"n = {ns.pop()} seeds per cell." if len(ns) == 1 else "n = seeds per cell.")
    if table.n_failed:
        notes.append(f"{table.n_failed} failed run(s) left out.")
    return notes, show_n


def to_markdown(table: Table1) -> str:
    """Table 1 as a Markdown table, with a note saying how the cells were aggregated."""
    notes, show_n = _notes(table, "*")
    head = ["task"] + [f"H={h} L2={_l2_text(l2)}" for h, l2 in table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task in table.tasks:
        cells = [
            _cell_text(table.cell(task, h, l2), " ± ", "—", "*", show_n) for h, l2 in table.columns
        ]
        lines.append("| " + " | ".join([task] + cells) + " |")
    return "\n".join(lines) + "\n\n" + " ".join(notes) + "\n"


def _latex_escape(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def to_latex(table: Table1) -> str:
    """Table 1 as a LaTeX ``tabular`` (booktabs), with the aggregation note as a comment line."""
    notes, show_n = _notes(table, "*")
    head = ["task"] + [f"$H={h}$, $L_2={_l2_text(l2)}$" for h, l2 in table.columns]
    lines = [
        f"% {' '.join(notes)}".replace("—", "---").replace("±", "+-").replace("Φ", "Phi"),
        "\\begin{tabular}{l" + "c" * len(table.columns) + "}",
        "\\toprule",
        " & ".join(head) + " \\\\",
        "\\midrule",
    ]
    for task in table.tasks:
        cells = [
            _cell_text(table.cell(task, h, l2), "$\\pm$", "---", "$^{*}$", show_n)
            for h, l2 in table.columns
        ]
        lines.append(" & ".join([_latex_escape(task)] + cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"

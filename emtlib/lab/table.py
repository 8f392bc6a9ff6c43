"""The paper's Table 1 from a store of records (chapter "Universality"; appendix "Running the
experiments at scale").

Rows are tasks, columns hidden size x L2, and each cell reads "spectral error (accuracy)",
aggregated as the paper does: per seed the *minimum* spectral error and the *maximum* accuracy over
the curriculum thresholds, then the mean over seeds with the sample standard deviation.
:func:`shipped` is the book's own grid (:data:`TABLE1`), trained with the recipe ``"paper"``::

    from emtlib.lab import table
    print(table.to_markdown(table.table1(table.shipped().records())))
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

__all__ = ["TABLE1", "Cell", "Table1", "shipped", "table1", "to_latex", "to_markdown"]

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

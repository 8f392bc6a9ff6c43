"""The study of chapter "Beyond the Elman RNN": its shipped records, one row per network.

The grid (``data/beyond/grid.yaml``) trains the bias-free Elman RNN, the Elman RNN with biases, the
GRU and the LSTM on the paper's four tasks and two random tasks of the family at 128 units, three
seeds each, and the four again with fewer state numbers than Φ's long-lived modes; every run
records its :class:`~emtlib.lab.record.Analysis`.  :func:`shipped` is the store of those records,
:func:`rows` one :class:`Row` per finished network::

    from emtlib.lab import beyond
    rows = beyond.rows(beyond.shipped().records())
    len(beyond.grid().specs)            # the runs the study holds

``python -m emtlib.lab rebuild beyond --force`` trains the whole study again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .record import Record
from .store import Store
from .sweep import Grid, _read_grid

__all__ = ["FOLDER", "SUCCESS", "Row", "grid", "rows", "shipped"]

#: The accuracy a network must reach to count as right at a horizon (chapter "Training RNNs on
#: variable binding" applies it at horizon 200; the study also at 10,000).
SUCCESS = 0.999

#: The folder of the shipped store of the study's records (its grid is the store's ``grid.yaml``).
FOLDER = Path(__file__).resolve().parent / "data" / "beyond"


def shipped() -> Store:
    """The store of the study's records, shipped with emtlib (records, no weights)."""
    return Store(FOLDER, shipped=True)


def grid(store: Store | None = None) -> Grid:
    """The study's grid, read from the ``grid.yaml`` of ``store`` (default :func:`shipped`) and
    checked against its manifest."""
    store = shipped() if store is None else store
    return _read_grid(store.read_file("grid.yaml"), store.folder / "grid.yaml")


@dataclass(frozen=True)
class Row:
    """One trained network of the study: its spec's task, architecture, width and seed, what its
    record measured, and its :class:`~emtlib.lab.record.Analysis` flattened (``None`` where the
    analysis could not be made; ``note`` says why)."""

    task: str
    model: str
    hidden: int
    seed: int
    state_size: int
    accuracy_200: float
    accuracy_10k: float
    n_long_lived_model: int
    n_long_lived_ideal: int
    spectral_error: float | None
    steps: int
    solved: bool
    fixed_point_offset: float
    fixed_point_residual: float | None
    observer_accuracy: float | None
    probe_accuracy: float | None
    intervention_rate: float | None
    probe_intervention_rate: float | None
    intervention_baseline: float | None
    note: str | None

    @property
    def generalises(self) -> bool:
        """Whether the network is right at horizon 10,000, the records' long test, by the
        success criterion of chapter "Training RNNs on variable binding": accuracy at least
        :data:`SUCCESS`."""
        return self.accuracy_10k >= SUCCESS


def rows(records: Iterable[Record]) -> list[Row]:
    """One :class:`Row` per record, in the order task, architecture, width, seed.  A failed run or
    a record without an analysis or an accuracy at horizon 10,000 is a ValueError naming its run
    (the study measures all of them)."""
    out = []
    for record in records:
        if not isinstance(record, Record):
            raise TypeError(f"records must be lab Records, got {type(record).__name__}")
        spec, m = record.spec, record.metrics
        if not record.ok:
            raise ValueError(f"run {record.run_id} ({spec}) failed: {record.error}")
        if m.analysis is None or 10_000 not in m.accuracy:
            raise ValueError(
                f"run {record.run_id} ({spec}) has no analysis or no accuracy at 10,000"
            )
        a = m.analysis
        out.append(
            Row(
                spec.label,
                spec.model,
                spec.hidden,
                spec.seed,
                len(record.eigenvalues),
                m.accuracy[200],
                m.accuracy[10_000],
                m.n_long_lived_model,
                m.n_long_lived_ideal,
                m.spectral_error,
                m.steps,
                m.solved,
                a.fixed_point_offset,
                a.fixed_point_residual,
                a.observer_accuracy,
                a.probe_accuracy,
                a.intervention_rate,
                a.probe_intervention_rate,
                a.intervention_baseline,
                a.note,
            )
        )
    order = {name: i for i, name in enumerate(("elman", "elman-bias", "gru", "lstm"))}
    return sorted(out, key=lambda r: (r.task, order[r.model], r.hidden, r.seed))

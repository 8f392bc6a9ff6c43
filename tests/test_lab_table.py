"""Table 1 from a store: the aggregation checked by hand, its refusals, and the shipped store of the
book's grid (its files verify, its records are its grid's, typed and plausible)."""

from __future__ import annotations

import statistics

import pytest

from emtlib.circuit import long_lived_modes
from emtlib.lab import Metrics, Record, RunSpec, table
from emtlib.lab.sweep import _read_grid
from emtlib.tasks import PAPER_TASKS


def make_record(task, hidden, l2, seed, threshold, error, accuracy, ok=True, recipe="paper"):
    spec = RunSpec(task, hidden, seed, l2, threshold, recipe)
    if not ok:
        return Record.failure(spec, "RuntimeError: it broke")
    n = PAPER_TASKS[task].d * PAPER_TASKS[task].s if error is not None else 0
    metrics = Metrics({200: accuracy}, error, n, 36 if error is None else n, 100, None, 1.0)
    return Record(spec, metrics)


HAND = [
    # T2, H=8, L2=0: every seed defined (min over thresholds), max accuracy over thresholds
    ("T2", 8, 0.0, 0, 0.9, 0.03, 0.90),
    ("T2", 8, 0.0, 0, 0.96, 0.01, 0.95),
    ("T2", 8, 0.0, 1, 0.9, None, 0.99),
    ("T2", 8, 0.0, 1, 0.96, 0.02, 0.80),
    ("T2", 8, 0.0, 2, 0.9, 0.05, 0.70),
    ("T2", 8, 0.0, 2, 0.96, 0.04, 0.75),
    # T2, H=8, L2=0.01: undefined everywhere
    ("T2", 8, 0.01, 0, 0.9, None, 0.50),
    ("T2", 8, 0.01, 0, 0.96, None, 0.52),
    ("T2", 8, 0.01, 1, 0.9, None, 0.49),
    ("T2", 8, 0.01, 1, 0.96, None, 0.51),
    # T1, H=16, L2=0: defined for one seed of two
    ("T1", 16, 0.0, 0, 0.9, None, 0.97),
    ("T1", 16, 0.0, 0, 0.96, None, 0.93),
    ("T1", 16, 0.0, 1, 0.9, 0.002, 1.00),
    ("T1", 16, 0.0, 1, 0.96, 0.004, 0.99),
]


def hand_records():
    return [make_record(*row) for row in HAND] + [
        make_record("T1", 16, 0.0, 2, 0.9, None, None, ok=False)
    ]


def test_table1_matches_a_hand_computation():
    result = table.table1(hand_records())
    assert result.tasks == ("T1", "T2")  # paper order, whatever the order of the records
    assert result.columns == ((8, 0.0), (8, 0.01), (16, 0.0))
    assert result.n_failed == 1

    full = result.cell("T2", 8, 0)
    best_errors, best_accs = [0.01, 0.02, 0.04], [0.95, 0.99, 0.75]
    assert [s for s, _, _ in full.per_seed] == [0, 1, 2]
    assert [e for _, e, _ in full.per_seed] == best_errors
    assert [a for _, _, a in full.per_seed] == best_accs
    assert full.error_mean == pytest.approx(0.07 / 3)
    assert full.error_std == pytest.approx(statistics.stdev(best_errors))
    assert full.accuracy_mean == pytest.approx(2.69 / 3)
    assert (full.n_seeds, full.n_error, full.n_runs, full.defined) == (3, 3, 6, "all")

    none = result.cell("T2", 8, 0.01)
    assert none.error_mean is None and none.defined == "none"
    some = result.cell("T1", 16, 0.0)
    assert some.defined == "some" and (some.n_error, some.n_seeds, some.n_failed) == (1, 2, 1)
    assert result.cell("T1", 8, 0.0) is None

    lines = table.to_markdown(result).splitlines()
    assert lines[0] == "| task | H=8 L2=0 | H=8 L2=0.01 | H=16 L2=0 |"
    t1_acc, t1_sd = (0.97 + 1.00) / 2, statistics.stdev([0.97, 1.00])
    assert (
        lines[2]
        == f"| T1 | no runs | no runs | 0.0020* [1/2] ({t1_acc:.2f} ± {t1_sd:.2f}) n=2 (1 failed) |"
    )
    tex = table.to_latex(result)
    assert "\\toprule" in tex and "--- (0.52$\\pm$0.01)" in tex and "$^{*}$ [1/2]" in tex


def test_table1_refuses_mixed_protocols_duplicates_and_missing_horizons():
    records = hand_records()
    with pytest.raises(ValueError, match="different protocols"):
        table.table1(records + [make_record("T3", 8, 0.0, 0, 0.9, None, 0.9, recipe="default")])
    with pytest.raises(ValueError, match="are one grid point"):
        table.table1(records + [make_record(*HAND[0][:-1], 0.5)])
    with pytest.raises(ValueError, match="no accuracy at horizon 1000"):
        table.table1(records, horizon=1000)
    with pytest.raises(TypeError, match="takes Records"):
        table.table1([{"run_id": "x"}])


def test_the_shipped_table1_store_is_its_grid_verified():
    store = table.shipped()
    assert store.verify() == []
    grid = _read_grid(store.read_file("grid.yaml"), store.folder / "grid.yaml")
    records = store.records()
    assert sorted(r.run_id for r in records) == sorted(s.run_id for s in grid.specs)
    assert len(records) == 144 and all(r.ok and r.spec.recipe == "paper" for r in records)
    for r in records:
        m = r.metrics
        assert len(r.eigenvalues) == r.spec.hidden and 0.0 <= m.accuracy[200] <= 1.0
        assert m.n_long_lived_ideal == long_lived_modes(r.spec.task_object)
        assert (m.spectral_error is None) == (m.n_long_lived_model != m.n_long_lived_ideal)
    result = table.table1(records)
    assert result.tasks == ("T1", "T2", "T3", "T4") and len(result.cells) == 24
    assert {c.n_seeds for c in result.cells.values()} == {3}

"""Tests of the figures and the explorer of chapter "Universality: Table 1 at scale"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots, widgets
from emtlib.lab.record import Metrics, Record
from emtlib.lab.spec import RunSpec
from emtlib.spectra import ideal_eigenvalues
from emtlib.tasks import PAPER_TASKS


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _record(
    task="T2",
    hidden=64,
    l2=0.0,
    seed=0,
    threshold=0.9,
    accuracy=1.0,
    n_model=36,
    n_ideal=36,
    error=0.005,
    eigenvalues=None,
    status="ok",
):
    """A lab record with the fields the figures read (its spectrum padded with zeros to ``hidden``)."""
    spec = RunSpec(task, hidden, seed, l2=l2, threshold=threshold)
    if status != "ok":
        return Record.failure(spec, RuntimeError("boom"))
    lam = np.zeros(hidden, dtype=complex)
    given = [1.1, 0.5j, -0.5j] if eigenvalues is None else list(eigenvalues)
    lam[: len(given)] = given
    metrics = Metrics(
        accuracy={200: accuracy},
        spectral_error=error,
        n_long_lived_model=n_model,
        n_long_lived_ideal=n_ideal,
        steps=1000,
        solved_step=None,
        wall_time_s=1.0,
    )
    return Record(spec, metrics, tuple(lam))


RECORDS = [
    _record("T1", 64, 0.0, 0, accuracy=0.97, n_model=54, n_ideal=64, error=None),
    _record("T1", 64, 0.1, 0, accuracy=0.02, n_model=0, n_ideal=64, error=None),
    _record("T2", 64, 0.0, 0, accuracy=1.0, n_model=36, error=0.008),
    _record("T2", 64, 0.0, 1, accuracy=1.0, n_model=36, error=0.004),
    _record("T2", 64, 0.001, 0, accuracy=0.85, n_model=20, error=None),
    _record("T2", 128, 0.001, 0, status="failed"),
]


# --- record_eigenvalues ---------------------------------------------------------------------
def test_record_eigenvalues_round_trips_the_stored_spectrum():
    lam = np.array([1.2 + 0.3j, 1.2 - 0.3j, -0.1])
    record = _record(hidden=3, eigenvalues=lam)
    np.testing.assert_allclose(plots.record_eigenvalues(record), lam)
    np.testing.assert_allclose(plots.record_eigenvalues(Record.from_json(record.to_json())), lam)


def test_record_eigenvalues_rejects_records_without_a_spectrum():
    with pytest.raises(ValueError, match="no eigenvalues"):
        plots.record_eigenvalues(_record(status="failed"))
    with pytest.raises(TypeError, match="emtlib.lab.Record"):
        plots.record_eigenvalues({"eigenvalues": [1, 2]})


# --- seed_spectra ---------------------------------------------------------------------------
def test_seed_spectra_draws_phi_and_one_set_per_seed():
    ideal = ideal_eigenvalues(PAPER_TASKS["T2"])
    spectra = [1.1 * ideal, 1.2 * ideal]
    ax = plots.seed_spectra(spectra, ideal, title="T2", labels=["a", "b"])
    offsets = [c.get_offsets() for c in ax.collections]
    assert [len(o) for o in offsets] == [len(ideal), len(ideal), len(ideal)]
    np.testing.assert_allclose(offsets[2][:, 0], (1.2 * ideal).real)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ideal Φ", "a", "b"]
    assert ax.get_title() == "T2"
    # the axes show the largest modulus
    assert ax.get_xlim()[1] >= 1.2 * np.abs(ideal).max()


def test_seed_spectra_marks_the_multiplicity_of_repeated_eigenvalues():
    ax = plots.seed_spectra(
        [], ideal_eigenvalues(PAPER_TASKS["T1"])
    )  # eight 8th roots of unity, 8 times each
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("×8") == 8
    assert any("pending" in t for t in texts)


def test_seed_spectra_checks_labels():
    with pytest.raises(ValueError, match="2 labels for 1 spectra"):
        plots.seed_spectra([np.ones(3)], np.ones(3), labels=["a", "b"])


# --- accuracy_vs_spectral_error -------------------------------------------------------------
def test_accuracy_vs_spectral_error_places_every_ok_run():
    fig = plots.accuracy_vs_spectral_error(RECORDS)
    left, right = fig.axes[:2]
    points = np.concatenate([c.get_offsets() for c in left.collections])
    ok = [r for r in RECORDS if r.ok]
    assert len(points) == len(ok)  # the failed run is left out
    expected = sorted(
        (m.n_long_lived_model / m.n_long_lived_ideal, m.accuracy[200])
        for m in (r.metrics for r in ok)
    )
    np.testing.assert_allclose(sorted(map(tuple, points)), expected)
    defined = np.concatenate([c.get_offsets() for c in right.collections])
    np.testing.assert_allclose(sorted(defined[:, 0]), [0.004, 0.008])
    assert right.get_xscale() == "log"
    legend = [t.get_text() for t in right.get_legend().get_texts()]
    assert legend == ["L2 = 0", "L2 = 0.001", "L2 = 0.1", "T1", "T2"]


def test_accuracy_vs_spectral_error_colours_by_weight_decay():
    fig = plots.accuracy_vs_spectral_error(
        {"a": _record(l2=0.1, n_model=0, error=None, accuracy=0.02)}
    )
    (collection,) = fig.axes[0].collections
    np.testing.assert_allclose(
        collection.get_facecolor()[0][:3], matplotlib.colors.to_rgb(plots.L2_COLORS[0.1])
    )
    assert "no run with a defined" in fig.axes[1].texts[0].get_text()


def test_accuracy_vs_spectral_error_needs_finished_runs():
    with pytest.raises(ValueError, match="no finished"):
        plots.accuracy_vs_spectral_error([_record(status="failed")])
    with pytest.raises(TypeError, match="emtlib.lab.Record"):
        plots.accuracy_vs_spectral_error([{"no": "config"}])
    with pytest.raises(ValueError, match="no accuracy at horizon 1000"):
        plots.accuracy_vs_spectral_error(RECORDS, horizon=1000)


# --- mode_counts ----------------------------------------------------------------------------
def test_mode_counts_one_panel_per_task_and_pending_columns():
    columns = [(64, 0.0), (64, 0.001), (64, 0.1), (128, 0.0)]
    fig = plots.mode_counts(RECORDS, columns=columns, tasks=["T1", "T2", "T3"], n_ideal={"T3": 36})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    t1, t2, t3 = visible
    t2_points = np.concatenate([c.get_offsets() for c in t2.collections])
    assert sorted(t2_points[:, 1]) == [20, 36, 36]
    # the two seeds of (64, 0) sit side by side around column 0; the L2 = 1e-3 run at column 1
    assert sorted(np.round(t2_points[:, 0])) == [0, 0, 1]
    assert sum(t.get_text() == "pending" for t in t2.texts) == 2  # (64, 0.1) and (128, 0)
    assert sum(t.get_text() == "pending" for t in t3.texts) == 4
    assert t3.lines[0].get_ydata()[0] == 36  # Φ's count given for a task without runs
    assert "64" in t1.get_title()
    # a run below 0.9 accuracy is hollow
    low = [c for c in t1.collections if c.get_offsets()[0][1] == 0]
    assert np.allclose(low[0].get_facecolor()[0], [1, 1, 1, 1])


def test_mode_counts_needs_something_to_draw():
    with pytest.raises(ValueError, match="nothing to draw"):
        plots.mode_counts([])


# --- the explorer ---------------------------------------------------------------------------
def test_universality_explorer_view_draws_a_run_or_pending():
    recs = {r.run_id: r for r in RECORDS}
    fig, record = widgets.universality_explorer_view("T2", 64, 0.0, 1, 0.9, records=recs)
    assert record is RECORDS[3]
    title = fig.axes[0].get_title()
    assert "accuracy 1.000" in title and "modes 36/36" in title and "0.0040 rad" in title
    fig, record = widgets.universality_explorer_view("T3", 128, 0.1, 2, 0.98, records=recs)
    assert record is None and "pending" in fig.axes[0].get_title()
    assert len(fig.axes[0].collections[0].get_offsets()) == 36  # Φ of T3 alone
    fig, record = widgets.universality_explorer_view("T2", 128, 0.001, 0, 0.9, records=RECORDS)
    assert not record.ok and "failed: RuntimeError" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="not a paper task"):
        widgets.universality_explorer_view("mine", 16, 0.0, 0, 0.9, records=recs)


def test_universality_explorer_widget_offers_the_grid():
    w = widgets.universality_explorer(RECORDS)
    values = {c.description: [v for _, v in c.options] for c in w.children[:5]}
    assert values["task"] == ["T1", "T2"] and values["hidden"] == [64, 128]
    assert values["L2"] == [0.0, 0.001, 0.1] and values["threshold"] == [0.9]
    grid = {"task": ["T1", "T3"], "hidden": [32], "l2": [0.0], "seed": [0, 1], "threshold": [None]}
    w = widgets.universality_explorer(RECORDS, grid=grid)  # points not run yet are offered too
    assert [v for _, v in w.children[0].options] == ["T1", "T3"]
    with pytest.raises(ValueError, match="at least one record"):
        widgets.universality_explorer({})
    with pytest.raises(ValueError, match="grid must list values for \\['seed'\\]"):
        widgets.universality_explorer(RECORDS, grid={**grid, "seed": []})


def test_mode_counts_lays_panels_out_in_rows():
    fig = plots.mode_counts(RECORDS, tasks=["T1", "T2", "T3"], ncols=2, n_ideal={"T3": 36})
    assert len(fig.axes) == 4 and sum(ax.get_visible() for ax in fig.axes) == 3
    with pytest.raises(ValueError, match="ncols"):
        plots.mode_counts(RECORDS, ncols=0)

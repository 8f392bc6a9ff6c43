"""Tests of the figures and the explorer of chapter "Training RNNs on variable binding"."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots, widgets
from emtlib.spectra import ideal_eigenvalues
from emtlib.tasks import PAPER_TASKS
from emtlib.train import TrainingLog


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


HISTORY = [
    {
        "step": 50 * i,
        "loss": 1.0 / (i + 1),
        "accuracy": 0.5 + 0.05 * i,
        "horizon": 10 * (1 + i // 3),
    }
    for i in range(10)
]


def test_learning_curve_draws_three_panels_from_history():
    fig = plots.learning_curve(HISTORY, title="demo")
    assert len(fig.axes) == 3
    x, y = fig.axes[1].lines[0].get_data()
    np.testing.assert_array_equal(x, [r["step"] for r in HISTORY])
    np.testing.assert_allclose(y, [r["accuracy"] for r in HISTORY])
    assert fig.axes[0].get_yscale() == "log"


def test_learning_curve_rejects_empty_or_incomplete_history():
    with pytest.raises(ValueError, match="empty"):
        plots.learning_curve([])
    with pytest.raises(ValueError, match="horizon"):
        plots.learning_curve([{"step": 1, "loss": 1.0, "accuracy": 0.5}])


def test_spectrum_vs_ideal_draws_both_sets():
    lam = ideal_eigenvalues(PAPER_TASKS["T2"])
    ax = plots.spectrum_vs_ideal(1.05 * lam, lam, title="T2")
    offsets = [c.get_offsets() for c in ax.collections]
    assert [len(o) for o in offsets] == [len(lam), len(lam)]
    np.testing.assert_allclose(offsets[1][:, 0], lam.real)
    assert ax.get_title() == "T2"


def test_accuracy_vs_horizon_one_line_per_model_and_checks_lengths():
    ax = plots.accuracy_vs_horizon({"a": [1.0, 0.9], "b": [1.0, 1.0]}, [200, 1000])
    assert len(ax.lines) == 3  # two models and the training-horizon mark
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="2 horizons"):
        plots.accuracy_vs_horizon({"a": [1.0]}, [200, 1000])


def test_learning_curve_reads_a_training_log():
    log = TrainingLog(steps=450, history=HISTORY)
    fig = plots.learning_curve(log)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [r["step"] for r in HISTORY])


def test_training_explorer_view_and_widget(t2_model):
    model, task = t2_model
    fig, acc = widgets.training_explorer_view(t2_model, 20, name="circuit")
    assert acc == 1.0
    assert "circuit: accuracy 1.0000" in fig.axes[0].get_title()
    # a model that carries its record (as the zoo's do) needs no task beside it
    model.record = SimpleNamespace(spec=SimpleNamespace(task_object=task))
    try:
        _, again = widgets.training_explorer_view(model, 20)
        explorer = widgets.training_explorer({"circuit": model, "pair": t2_model}, (20, 200))
    finally:
        del model.record
    assert again == 1.0
    assert [c.description for c in explorer.children[:2]] == ["model", "horizon"]
    assert list(explorer.children[0].options) == ["circuit", "pair"]


def test_training_explorer_needs_models():
    with pytest.raises(ValueError, match="non-empty dict of models"):
        widgets.training_explorer({})
    with pytest.raises(TypeError, match=r"\(model, task\) pair or a model with its lab record"):
        widgets.training_explorer({"x": object()})


def test_margin_histogram_counts_the_sequences_below_zero():
    margins = {"a": np.array([-0.4, -0.1, 0.5, 0.6, 0.9]), "b": np.array([0.3, 0.7, 0.8])}
    ax = plots.margin_histogram(margins, title="demo")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a (2 below 0)", "b (0 below 0)"]
    assert ax.get_yscale() == "log" and len(ax.patches) == 2
    assert ax.lines[0].get_xdata()[0] == 0  # the dashed line at margin 0
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.margin_histogram({})
    with pytest.raises(ValueError, match="finite"):
        plots.margin_histogram({"a": np.array([np.nan])})

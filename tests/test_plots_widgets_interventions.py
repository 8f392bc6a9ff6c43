"""Tests of the figures and the explorer of chapter "Interventions"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots, widgets
from emtlib.basis import privileged_basis
from emtlib.circuit import build_circuit
from emtlib.interventions import intervention_trials
from emtlib.tasks import PAPER_TASKS


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _runs(T=20, d=3, seed=0):
    rng = np.random.default_rng(seed)
    unedited = rng.choice([-1.0, 1.0], size=(T, d))
    predicted = unedited.copy()
    predicted[12:, 0] *= -1  # the edit at t = 10 should flip component 0 from step 12 on
    edited = predicted.copy()
    edited[15, 1] *= -1  # one output off the prediction
    edited[3, 2] *= -1  # before the edit: not counted
    return unedited, edited, predicted


def test_intervention_outputs_marks_changes_and_misses_after_the_edit():
    unedited, edited, predicted = _runs()
    fig = plots.intervention_outputs(unedited, edited, predicted, t=10, s=4, title="demo")
    a0, a1, a2 = fig.axes
    np.testing.assert_array_equal(
        a0.images[0].get_array(), np.sign(unedited[4:]).T
    )  # drawn from s on
    crosses = a1.collections[0].get_offsets()
    np.testing.assert_array_equal(crosses, [[15 - 4, 1]])
    dots = a2.collections[0].get_offsets()
    assert len(dots) == 8 and np.all(dots[:, 1] == 0) and dots[:, 0].min() == 12 - 4
    assert "1 outputs differ" in a1.get_title(loc="right")
    assert "8 outputs changed" in a2.get_title(loc="right")
    assert fig.get_suptitle() == "demo"
    # tick labels are the true time steps
    assert a2.xaxis.get_major_formatter()(0, 0) == "4"


def test_intervention_outputs_bad_input():
    unedited, edited, predicted = _runs()
    with pytest.raises(ValueError, match="one shape"):
        plots.intervention_outputs(unedited, edited[:-1], predicted, t=10)
    with pytest.raises(ValueError, match="start"):
        plots.intervention_outputs(unedited, edited, predicted, t=2, s=4)
    with pytest.raises(ValueError, match="three panels"):
        plots.intervention_outputs(unedited, edited, predicted, t=10, labels=["a", "b"])


def test_intervention_rate_table_draws_the_rates_and_bolds_the_passes():
    rates = {"fitted": {"A": 1.0, "B": 0.995}, "input": {"A": 0.5, "B": 0.98}}
    ax = plots.intervention_rate_table(rates, threshold=0.99, title="rates")
    np.testing.assert_allclose(ax.images[0].get_array(), [[1.0, 0.995], [0.5, 0.98]])
    texts = {t.get_text(): t.get_fontweight() for t in ax.texts}
    assert texts["1.000"] == "bold" and texts["0.995"] == "bold"
    assert texts["0.500"] == "normal" and texts["0.980"] == "normal"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fitted", "input"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]


def test_intervention_rate_table_bad_input():
    with pytest.raises(ValueError, match="empty"):
        plots.intervention_rate_table({})
    with pytest.raises(ValueError, match="expected"):
        plots.intervention_rate_table({"a": {"A": 1.0}, "b": {"B": 1.0}})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plots.intervention_rate_table({"a": {"A": 1.5}})


def _trials(window=20):
    task = PAPER_TASKS["T2"]
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    return intervention_trials(model, task, b, edits=48, window=window, latest=10, seed=0)


def test_intervention_by_slot_plots_one_rate_per_slot():
    r = _trials()

    class Fake:  # half the edits of slot 0 fail
        task, slot = r.task, r.slot
        success = r.success.copy()

    first0 = np.flatnonzero(r.slot == 0)
    Fake.success[first0[: len(first0) // 2]] = False
    ax = plots.intervention_by_slot({"ok": r, "fake": Fake}, title="by slot")
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, range(8))
    np.testing.assert_allclose(y, 1.0)
    y2 = ax.lines[1].get_data()[1]
    assert y2[0] == pytest.approx(1 - (len(first0) // 2) / len(first0))
    with pytest.raises(ValueError, match="empty"):
        plots.intervention_by_slot({})


def test_intervention_survival_draws_edited_and_unedited_curves():
    r = _trials(window=15)
    ax = plots.intervention_survival({"T2 circuit": r})
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_data()[1], r.survival())
    np.testing.assert_allclose(ax.lines[1].get_data()[1], r.survival(baseline=True))
    assert ax.lines[1].get_linestyle() == "--"
    with pytest.raises(ValueError, match="empty"):
        plots.intervention_survival({})


def test_intervention_explorer_view_edits_a_model(t2_model):
    fig, wrong = widgets.intervention_explorer_view(t2_model, "fitted", 6, 14, [0, 3], name="T2")
    assert wrong == 0
    assert "T2, fitted basis: slot 6 at t = 14, flip [0, 3]" in fig.get_suptitle()
    # slot 0 of compose copy holds only component 0: the others are skipped and named
    fig, wrong = widgets.intervention_explorer_view(t2_model, "observer", 0, 12, [0, 5])
    assert wrong == 0 and "[5] are not stored in slot 0" in fig.get_suptitle()
    # the neuron control builds and runs; it does not carry the edit through on this model
    _, wrong = widgets.intervention_explorer_view(t2_model, "neurons", 7, 12, range(8))
    assert wrong > 0


def test_intervention_explorer_view_bad_input_and_widget(t2_model):
    with pytest.raises(ValueError, match="basis must be one of"):
        widgets.intervention_explorer_view(t2_model, "pca", 0, 12, [0])
    with pytest.raises(ValueError, match="output phase"):
        widgets.intervention_explorer_view(t2_model, "fitted", 0, 3, [0])
    with pytest.raises(ValueError, match="components"):
        widgets.intervention_explorer_view(t2_model, "fitted", 0, 12, [9])
    explorer = widgets.intervention_explorer({"T2": t2_model})
    assert [c.description for c in explorer.children[:6]] == [
        "model",
        "basis",
        "slot",
        "step t",
        "flip",
        "sequence",
    ]


def test_intervention_explorer_needs_models():
    with pytest.raises(ValueError, match="non-empty dict of models"):
        widgets.intervention_explorer({})

"""Tests of the figures and the explorer of the chapter "Variable binding tasks"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots, widgets
from emtlib.tasks import PAPER_TASKS, Task, random_task

EXAMPLE = Task(3, 4, (2130, 18, 5))  # the chapter's worked example


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _vertical_lines(ax):
    """x positions of the vertical lines drawn on ``ax`` (axvline)."""
    xs = []
    for line in ax.lines:
        x = np.asarray(line.get_xdata(), dtype=float)
        if x.size == 2 and x[0] == x[1]:
            xs.append(float(x[0]))
    return sorted(xs)


# --- figures -------------------------------------------------------------------------------------
def test_task_operator_draws_L_transposed_with_slots_and_symmetric_scale():
    ax = plots.task_operator(EXAMPLE)
    assert isinstance(ax, matplotlib.axes.Axes)
    image = ax.images[-1]
    np.testing.assert_array_equal(image.get_array(), EXAMPLE.operator.T)
    assert image.get_clim() == (-1.0, 1.0)
    assert _vertical_lines(ax) == [k * EXAMPLE.d - 0.5 for k in range(1, EXAMPLE.s)]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["$z(t-3)$", "$z(t-2)$", "$z(t-1)$"]
    assert "(2130, 18, 5)" in ax.get_title()


def test_task_operator_uses_a_given_axes():
    fig, ax = plt.subplots()
    assert plots.task_operator(PAPER_TASKS["T1"], ax=ax, colorbar=False) is ax
    assert len(fig.axes) == 1  # no colour bar added


def test_task_operators_grid_and_titles():
    fig = plots.task_operators(PAPER_TASKS)
    assert isinstance(fig, matplotlib.figure.Figure)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4
    assert panels[2].get_title().startswith("T3: id = (9241421688590303745, 262676, 189)")
    for ax, task in zip(panels, PAPER_TASKS.values()):
        np.testing.assert_array_equal(ax.images[-1].get_array(), task.operator.T)
    tasks = [random_task(4, 3, seed) for seed in range(5)]
    fig = plots.task_operators(tasks, ncols=2)
    assert sum(ax.get_visible() and bool(ax.images) for ax in fig.axes) == 5
    with pytest.raises(ValueError):
        plots.task_operators([])
    with pytest.raises(ValueError):
        plots.task_operators(tasks, titles=["only one"])


def test_task_sequence_shows_the_generated_sequence_and_phase_boundary():
    x0 = np.random.default_rng(0).choice([-1.0, 1.0], size=(EXAMPLE.s, EXAMPLE.d))
    ax = plots.task_sequence(EXAMPLE, x0=x0, horizon=7)
    np.testing.assert_array_equal(ax.images[-1].get_array(), EXAMPLE.generate(x0, 7).T)
    assert _vertical_lines(ax) == [EXAMPLE.s - 0.5]
    texts = [t.get_text() for t in ax.texts]
    assert "input phase" in texts and any(t.startswith("output phase") for t in texts)
    # the seed decides x0
    a = plots.task_sequence(EXAMPLE, seed=3).images[-1].get_array()
    b = plots.task_sequence(EXAMPLE, seed=3).images[-1].get_array()
    np.testing.assert_array_equal(a, b)


def test_task_sequences_share_one_input_phase():
    fig = plots.task_sequences(PAPER_TASKS, horizon=10, seed=1)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4
    first = [ax.images[-1].get_array()[:, :8] for ax in panels]
    for block in first[1:]:
        np.testing.assert_array_equal(block, first[0])
    with pytest.raises(ValueError):
        plots.task_sequences([EXAMPLE, PAPER_TASKS["T1"]])


def test_task_sample_inputs_and_targets():
    fig = plots.task_sample(EXAMPLE, horizon=6, seed=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    inputs, targets = EXAMPLE.sample(1, 6, seed=2)
    np.testing.assert_array_equal(panels[0].images[-1].get_array(), inputs[:, 0].numpy().T)
    np.testing.assert_array_equal(panels[1].images[-1].get_array(), targets[:, 0].numpy().T)
    assert np.all(panels[0].images[-1].get_array()[:, EXAMPLE.s :] == 0)
    assert np.all(panels[1].images[-1].get_array()[:, : EXAMPLE.s] == 0)


def test_task_spectra_counts_in_titles():
    fig = plots.task_spectra(PAPER_TASKS)
    titles = [ax.get_title() for ax in fig.axes]
    assert "64 on the circle (8 distinct)" in titles[0] and "0 at zero" in titles[0]
    for title in titles[1:]:
        assert "36 on the circle" in title and "28 at zero" in title


# --- the explorer ------------------------------------------------------------------------------
def test_explorer_view_valid_and_invalid():
    task, text = widgets.task_explorer_view(3, 4, "2130", "18", "5")
    assert task == EXAMPLE
    assert "t2 digits, base d=4, least significant first: [2, 0, 1]" in text
    assert EXAMPLE.describe() in text
    task, text = widgets.task_explorer_view(3, 4, "0b100001010010", 18, 5)  # binary input
    assert task == EXAMPLE
    for bad, fragment in [
        (("7", "0", "0"), "exactly d = 4 set bits"),
        (("2130", "12", "0"), "digit i must be below"),
        (("2130", "0", "16"), "t3 may only set"),
        (("abc", "0", "0"), "t1 must be a non-negative integer"),
        (("-15", "0", "0"), "t1 must be an integer >= 0, got -15"),
    ]:
        task, text = widgets.task_explorer_view(3, 4, *bad)
        assert task is None and text.startswith("Invalid id") and fragment in text, text


def test_explorer_widget_shows_errors_instead_of_raising():
    import ipywidgets

    box = widgets.task_explorer(s=3, d=4, task_id=(2130, 18, 5), seed=1)
    assert isinstance(box, ipywidgets.VBox)
    assert box.task == EXAMPLE and "z(t)[0] = -z(t-2)[2]" in box.message.value
    c = box.controls
    c["t1"].value = "7"  # three set bits: invalid
    assert box.task is None
    assert "Invalid id" in box.message.value and "exactly d = 4 set bits" in box.message.value
    c["t1"].value = "not a number"
    assert box.task is None and "t1 must be a non-negative integer" in box.message.value
    c["repeat_copy"].click()
    assert box.task == Task(3, 4, (15, 0, 0)) and c["t1"].value == "15"
    c["d"].value = 5  # the id of d=4 is invalid for d=5
    assert box.task is None and "exactly d = 5 set bits" in box.message.value
    c["seed"].value = 7
    c["random"].click()
    assert box.task == random_task(3, 5, 7)
    c["s"].value = 8
    c["d"].value = 8
    c["repeat_copy"].click()
    assert box.task == PAPER_TASKS["T1"]
    c["t1"].value, c["t2"].value, c["t3"].value = "9241421688590303745", "262676", "189"
    assert box.task == PAPER_TASKS["T3"]

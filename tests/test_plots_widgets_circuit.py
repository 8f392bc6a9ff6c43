"""Tests of the figures and the explorer of chapter "The variable binding circuit"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots, widgets
from emtlib.circuit import build_circuit, ideal_hidden_states, recalled_bits
from emtlib.tasks import PAPER_TASKS, Task, random_task


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _states(task, horizon=6, nonlinear=False, seed=0):
    inputs, _ = task.sample(1, horizon, seed=seed)
    return build_circuit(task, nonlinear=nonlinear).hidden_states(inputs.numpy()[:, 0])


def test_circuit_matrices_draws_three_panels():
    c = build_circuit(PAPER_TASKS["T3"])
    fig = plots.circuit_matrices(c, title="T3")
    assert isinstance(fig, matplotlib.figure.Figure)
    images = [ax.images[0].get_array() for ax in fig.axes[:3]]
    np.testing.assert_array_equal(images[0], c.W_hh)
    np.testing.assert_array_equal(images[1], c.W_uh)
    np.testing.assert_array_equal(images[2], c.W_r)


def test_slot_grid_reshapes_into_slots_and_labels_rows():
    task = Task(3, 2, (0b100100, 1, 2))
    h = np.arange(6.0) - 2.5
    ax = plots.slot_grid(h, 3, 2, row_labels=["a", "b", "c"], annotate=True, vmax=3)
    np.testing.assert_array_equal(ax.images[0].get_array(), h.reshape(3, 2))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 6  # one sign per non-zero cell
    with pytest.raises(ValueError, match="s\\*d"):
        plots.slot_grid(np.zeros(5), task.s, task.d)


def test_slot_snapshots_one_panel_per_time():
    task = PAPER_TASKS["T1"]
    h = _states(task)
    fig = plots.slot_snapshots(h, 8, 8, times=[0, 3, 9], row_labels=lambda t: [str(t)] * 8)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["t = 0", "t = 3", "t = 9"]
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), h[9].reshape(8, 8))


def test_slot_animation_has_one_frame_per_time_and_renders_to_html():
    task = Task(2, 2, (0b0011, 0, 0))
    h = _states(task, horizon=4)
    anim = plots.slot_animation(h, 2, 2, times=range(5), interval=100)
    html = anim.to_jshtml()
    assert "<script" in html and html.count("data:image/png;base64") == 5
    assert not plt.fignum_exists(anim._fig.number)  # closed: no duplicate static figure


def test_deviation_map_and_io_map():
    task = PAPER_TASKS["T2"]
    x0 = np.ones((8, 8))
    inputs = np.zeros((10, 8))
    inputs[:8] = x0
    dev = build_circuit(task).hidden_states(inputs) - ideal_hidden_states(task, x0, 2)
    ax = plots.deviation_map(dev, 8, 8, title="dev")
    np.testing.assert_array_equal(ax.images[0].get_array(), dev)

    M = np.zeros((3, 8, 8, 8))
    M[0, 6, 6, 6] = 1.0
    ax = plots.io_map(M, t0=8, highlight=[(8, 6), (9, 7)])
    big = ax.images[0].get_array()
    assert big.shape == (24, 64) and big[6, 6 * 8 + 6] == 1.0 and big.sum() == 1.0
    assert len(ax.patches) == 2
    assert ax.get_yticklabels()[0].get_text() == "8"


def test_error_rate_bars_and_gain_sweep():
    ax = plots.error_rate_bars(["T1", "T2"], [0.0, 0.3], [0.0, 0.0])
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [0.0, 0.0, 0.0, 30.0]
    ax = plots.gain_sweep_plot(
        [0.5, 1.0, 2.0], {"T2": [1.0, 0.0, 0.0]}, marks=[(0.9, "g a")], xlim=(0.4, 2.1)
    )
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [100.0, 0.0, 0.0])
    assert ax.get_xlim() == (0.4, 2.1)


def test_circuit_explorer_builds_and_updates():
    import ipywidgets

    w = widgets.circuit_explorer(horizon=6, seed=1)
    assert isinstance(w, ipywidgets.interactive)
    controls = {c.description: c for c in w.children if hasattr(c, "description")}
    assert set(controls) >= {"task", "circuit", "step t"}
    assert controls["step t"].max == 6 + 8 - 1
    controls["circuit"].value = "saturating"
    controls["task"].value = "T4"
    controls["step t"].value = 9
    w.update()  # draws without error
    with pytest.raises(ValueError, match="at least one task"):
        widgets.circuit_explorer(tasks={})


def test_recall_raster_groups_the_input_values():
    task = random_task(
        5, 4, seed=2
    )  # 5 values on a cycle, 8 copied and then forgotten, 7 never copied
    ax = plots.recall_raster(task, steps=30, title="random:5:4:2")
    image = np.asarray(ax.images[0].get_array(), dtype=bool)
    assert image.shape == (20, 30) and int(image.any(axis=1).sum()) == recalled_bits(task) == 13
    assert image[:5, 10:].any(axis=1).all() and not image[5:, 10:].any()  # only cycle values last
    assert not image[13:].any()
    assert [t.get_text() for t in ax.texts] == [
        "on cycles (5)",
        "recalled, then\nforgotten (8)",
        "never\ncopied (7)",
    ]
    ax = plots.recall_raster(PAPER_TASKS["T1"])  # repeat copy: every value on a cycle
    assert ax.images[0].get_array().shape == (64, 128) and len(ax.texts) == 1
    with pytest.raises(ValueError, match="steps"):
        plots.recall_raster(task, steps=0)
    plt.close("all")

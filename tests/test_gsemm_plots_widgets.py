"""The schematics, figures and explorer of the chapters "The General Sequential Episodic Memory
Model" and "From GSEMM to RNNs"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import gsemm, plots, widgets


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def recall():
    Xi, Phi = gsemm.random_patterns(40, 3, seed=0), gsemm.cyclic_shift(3)
    x0 = Xi[:, 0] + 0.3 * np.random.default_rng(0).standard_normal(40)
    return gsemm.GSEMM(Xi, Phi), x0


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def test_gsemm_schematic_names_the_three_populations_and_couplings():
    ax = plots.gsemm_schematic()
    text = _texts(ax)
    for word in ("feature", "hidden", "delay", r"\Xi", r"\Phi"):
        assert word in text
    assert len(ax.patches) == 3 + 4  # three boxes, four couplings


def test_reduction_schematic_shows_the_collapsed_model_and_the_rnn():
    fig = plots.reduction_schematic()
    left, right = fig.axes[:2]
    assert "T_h" in _texts(left) and "T_d" in _texts(left)
    assert r"\tanh(W\,h(t))" in _texts(right)


def test_timescale_inversion_draws_one_point_per_delay_time_constant(recall):
    model, x0 = recall
    runs = {}
    for T_d in (3.0, 30.0):
        tr = model.replace(T_d=T_d).simulate(x0, 150.0, n_points=601, rtol=1e-6, atol=1e-8)
        runs[T_d] = gsemm.visits(model.Xi, tr.V_f, tr.t)
    t, xs = gsemm.discrete_run(model, x0, 10.0)
    fig = plots.timescale_inversion(runs, gsemm.visits(model.Xi, xs, t))
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [3.0, 30.0])
    fast = gsemm.visits(model.Xi, *reversed(gsemm.discrete_run(model, x0, 10.0, dt=0.05)))
    fig = plots.timescale_inversion(runs, gsemm.visits(model.Xi, xs, t), fast=fast)
    assert "fast-limit flow" in [line.get_label() for line in fig.axes[0].lines]
    with pytest.raises(ValueError):
        plots.timescale_inversion({}, runs[3.0])


def test_reduction_explorer_view_returns_the_figure_and_the_comparison(recall):
    model, x0 = recall
    fig, comparison = widgets.reduction_explorer_view(model, x0, t_end=5.0, T_d=1.0, dt=0.5)
    np.testing.assert_allclose(comparison.t_map, np.arange(0.0, 5.01, 0.5))
    assert len(fig.axes[1].lines[0].get_xdata()) == len(comparison.t_map)
    with pytest.raises(TypeError):
        widgets.reduction_explorer_view("model", x0)


def test_reduction_explorer_builds(recall):
    model, x0 = recall
    explorer = widgets.reduction_explorer(model, x0, t_end=5.0)
    assert {c.description for c in explorer.children[:3]} == {"T_h", "T_d", "step Δt"}

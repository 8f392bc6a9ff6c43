"""Tests of the figures and the explorer of chapter "The privileged basis and hidden neurons"."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from emtlib import plots, widgets
from emtlib.basis import cycle_coordinates, decode, privileged_basis
from emtlib.circuit import build_circuit, ideal_hidden_states
from emtlib.tasks import PAPER_TASKS


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def shuffled_t2():
    """The saturating T2 circuit with its neurons shuffled, sign-flipped and spread over 80 units (a
    change of basis that commutes with tanh), and its (exact) observer basis."""
    task = PAPER_TASKS["T2"]
    c = build_circuit(task, nonlinear=True)
    rng = np.random.default_rng(0)
    Q = np.eye(80)[:, rng.permutation(80)[:64]] * rng.choice([-1.0, 1.0], 64)
    c = type(c)(
        task, Q @ c.W_hh @ Q.T, Q @ c.W_uh, c.W_r @ Q.T, c.phi, c.nonlinear, c.gain, c.input_gain
    )
    return task, c, privileged_basis(c, task, grounding="observer")


def _hatched(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]


def _outlined(ax, color):
    return [
        p
        for p in ax.patches
        if isinstance(p, Rectangle)
        and not p.get_hatch()
        and np.allclose(p.get_edgecolor()[:3], matplotlib.colors.to_rgb(color))
    ]


def test_slot_groups_of_compose_copy():
    bounds, centres, slots = plots._slot_groups(cycle_coordinates(PAPER_TASKS["T2"]))
    np.testing.assert_array_equal(slots, np.arange(8))  # slot k keeps components 0..k: sizes 1..8
    sizes = np.diff(np.concatenate([[-0.5], bounds, [35.5]]))
    np.testing.assert_array_equal(sizes, np.arange(1, 9))
    assert centres[0] == 0 and centres[-1] == (28 + 35) / 2


def test_phi_in_basis_shows_the_basis_matrices(shuffled_t2):
    _task, c, b = shuffled_t2
    fig = plots.phi_in_basis(c.W_hh, b, title="T2")
    a0, a1, a2 = fig.axes[:3]
    np.testing.assert_allclose(a0.images[0].get_array(), c.W_hh)
    np.testing.assert_allclose(a1.images[0].get_array(), b.phi_empirical)
    np.testing.assert_allclose(a2.images[0].get_array(), b.phi_ideal)
    assert a1.images[0].get_clim() == a2.images[0].get_clim()  # one colour scale for both
    assert len(a1.lines) == 2 * 7  # slot boundaries, both directions
    with pytest.raises(ValueError, match="recurrent matrix"):
        plots.phi_in_basis(c.W_hh[:10, :10], b)


def test_phi_in_basis_grid_one_column_per_model(shuffled_t2):
    _task, c, b = shuffled_t2
    fig = plots.phi_in_basis_grid([(c.W_hh, b), (c.W_hh, b)], titles=["a", "b"])
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 6
    assert fig.axes[0].get_title().startswith("a")
    with pytest.raises(ValueError, match="titles"):
        plots.phi_in_basis_grid([(c.W_hh, b)], titles=["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        plots.phi_in_basis_grid([])


def test_basis_state_marks_missing_highlighted_readout_and_wrong_cells():
    V = np.arange(1.0, 13.0).reshape(3, 4) * np.array([1, -1, 1, -1])
    V[0, 3] = np.nan
    wrong = np.zeros((3, 4), dtype=bool)
    wrong[2, 1] = wrong[1, 0] = True
    ax = plots.basis_state(V, highlight=[(0, 0), (1, 1)], wrong=wrong, row_labels=["a", "b", "c"])
    assert len(_hatched(ax)) == 1
    assert len(_outlined(ax, "k")) == 2 and len(_outlined(ax, "C2")) == 1
    assert len(ax.texts) == 10  # one sign per kept cell with |value| >= vmax / 10 (here 11 / 10)
    assert sorted(t.get_text() for t in ax.texts).count("−") == 5
    np.testing.assert_array_equal(np.sort(ax.collections[0].get_offsets()[:, 0]), [0, 1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="row labels"):
        plots.basis_state(V, row_labels=["a"])
    with pytest.raises(ValueError, match="shape"):
        plots.basis_state(np.zeros(5))


def test_window_labels():
    assert plots.window_labels(1, 3) == ["empty", "z(0)", "z(1)"]
    assert plots.window_labels(10, 3) == ["z(8)", "z(9)", "z(10)"]


def test_basis_snapshots_flags_wrong_signs_and_composition_sources(shuffled_t2):
    task, c, b = shuffled_t2
    inputs, _ = task.sample(1, 20, seed=3)
    x = inputs.numpy()[:, 0]
    D = decode(c, b, x)
    ideal = ideal_hidden_states(task, x[: task.s], 20).reshape(-1, task.s, task.d)
    fig = plots.basis_snapshots(D, task, [2, 14, 15], ideal=ideal, ncols=2)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 3
    assert all(
        len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 0 for ax in axes
    )
    assert (
        len(_outlined(axes[0], "k")) == 0 and len(_outlined(axes[1], "k")) == task.d
    )  # input phase: none
    flipped = D.copy()
    flipped[14, 7, 3] *= -1
    fig = plots.basis_snapshots(flipped, task, [14], ideal=ideal)
    assert len(fig.axes[0].collections[0].get_offsets()) == 1
    assert fig.axes[0].get_yticklabels()[-1].get_text() == "z(14)"
    with pytest.raises(ValueError, match="times"):
        plots.basis_snapshots(D, task, [len(D)])
    with pytest.raises(ValueError, match="one sequence"):
        plots.basis_snapshots(D[:, None], task, [1])


def test_principal_angle_curves_sorted_and_checked():
    ax = plots.principal_angle_curves({"A vs B": [30.0, 5.0, 80.0], "A vs A": [0.0, 0.0, 0.0]})
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [5.0, 30.0, 80.0])
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="degrees"):
        plots.principal_angle_curves({"radians?": [np.pi * 40]})


def test_variant_table_prints_every_value_and_flags_low_ones():
    V = np.array([[0.999, 0.95], [1.0, 0.5]])
    ax = plots.variant_table(V, ["m1", "m2"], ["a", "b"], threshold=0.99, fmt="{:.3f}")
    texts = {t.get_text(): t for t in ax.texts}
    assert set(texts) == {"0.999", "0.950*", "1.000", "0.500*"}
    assert (
        texts["0.950*"].get_fontweight() == "bold" and texts["0.999"].get_fontweight() == "normal"
    )
    # readable text: white on the dark (low) end of viridis, black on the bright (high) end
    assert texts["0.500*"].get_color() == "w" and texts["1.000"].get_color() == "k"
    with pytest.raises(ValueError, match="expected"):
        plots.variant_table(V, ["m1"], ["a", "b"])


def test_basis_explorer_view_and_widget(t2_model):
    fig, wrong = widgets.basis_explorer_view(t2_model, "observer", 15, horizon=20, name="T2")
    assert wrong == 0  # the observer basis reads the circuit exactly, in any basis
    assert "T2, output phase: 0 of 36 signs wrong" in fig._suptitle.get_text()
    assert len(fig.axes) == 2 and fig.axes[0].get_yticklabels()[-1].get_text() == "z(15)"
    fig, wrong_probe = widgets.basis_explorer_view(t2_model, "probe", 15, horizon=20)
    assert wrong_probe == 0
    with pytest.raises(ValueError, match="grounding"):
        widgets.basis_explorer_view(t2_model, "nonsense", 3)
    with pytest.raises(ValueError, match="t must"):
        widgets.basis_explorer_view(t2_model, "observer", 99, horizon=20)
    explorer = widgets.basis_explorer({"T2": t2_model}, horizon=20)
    assert [c.description for c in explorer.children[:3]] == ["model", "basis", "step t"]
    assert explorer.children[2].max == 20 + 8 - 1


def test_basis_explorer_needs_models():
    with pytest.raises(ValueError, match="non-empty dict of models"):
        widgets.basis_explorer({})

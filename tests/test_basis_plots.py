"""The figures of chapter "The privileged basis": the pipeline schematic and the control strips."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots
from emtlib.basis import CONTROL_KINDS


def test_basis_pipeline_draws_every_step():
    ax = plots.basis_pipeline(title="pipeline")
    texts = " ".join(t.get_text() for t in ax.texts)
    for words in ("newest slot", "normalise", "cycle", "observer", "probe", "decode", "read"):
        assert words in texts, words
    assert ax.get_title() == "pipeline"
    plt.close(ax.figure)


def test_basis_control_strips_one_dot_per_network_and_kind():
    names = ["T1-h128-s0", "T1-h128-s0-paper", "T2-h128-s0-paper"]
    rng = np.random.default_rng(0)
    A = rng.uniform(0.5, 1.0, (3, len(CONTROL_KINDS)))
    E = rng.uniform(0.1, 2.0, (3, len(CONTROL_KINDS)))
    fig = plots.basis_control_strips(A, E, names, CONTROL_KINDS, mark=["T2-h128-s0-paper"])
    left, right = fig.axes[:2]
    assert len(left.collections) == len(right.collections) == 3
    assert np.allclose(left.collections[2].get_offsets()[:, 1], A[2])
    assert right.get_yscale() == "log"
    plt.close(fig)


def test_basis_control_strips_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        plots.basis_control_strips(np.zeros((2, 3)), np.zeros((2, 3)), ["a"], ["x", "y", "z"])


def test_variant_table_leaves_nan_cells_blank():
    ax = plots.variant_table(np.array([[0.5, np.nan]]), ["row"], ["a", "b"], fmt="{:.2f}")
    assert [t.get_text() for t in ax.texts] == ["0.50"]
    plt.close(ax.figure)

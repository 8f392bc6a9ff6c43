"""The paper's Fig. 3 as drawn in chapter "Interventions" (plots.paper_panel, plots.paper_variable_memories)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emtlib import plots


def test_paper_panel_zero_fills_standardises_and_transposes():
    V = np.array([[1.0, np.nan], [3.0, -1.0]])
    P = plots.paper_panel(V)
    filled = np.array([[1.0, 0.0], [3.0, -1.0]])
    np.testing.assert_allclose(P, ((filled - filled.mean()) / filled.std()).T)
    assert abs(P.mean()) < 1e-12 and abs(P.std() - 1) < 1e-12
    np.testing.assert_array_equal(plots.paper_panel(np.zeros((2, 3))), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(s, d\)"):
        plots.paper_panel(np.zeros(4))


def test_paper_variable_memories_draws_one_normalised_panel_per_step():
    rng = np.random.default_rng(0)
    D = rng.standard_normal((6, 3, 4))
    fig = plots.paper_variable_memories(D, [1, 2, 5], title="fig 3", ncols=2)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 3 and fig.get_suptitle() == "fig 3"
    np.testing.assert_allclose(drawn[2].images[0].get_array(), plots.paper_panel(D[5]))
    assert drawn[0].images[0].get_clim() == (-1.0, 1.0)
    assert drawn[1].get_title() == "t = 2"
    with pytest.raises(ValueError, match="times"):
        plots.paper_variable_memories(D, [6])
    with pytest.raises(ValueError, match="one sequence"):
        plots.paper_variable_memories(D[0], [0])
    plt.close("all")

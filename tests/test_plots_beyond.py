"""The figure of chapter "Beyond the Elman RNN": one strip per architecture and measure, filled
dots for the networks that generalise, rows without a value left out, bad input refused."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from emtlib.plots import architecture_strips


def row(model, task, value, generalises=True):
    return SimpleNamespace(
        model=model, task=task, observer_accuracy=value, probe_accuracy=0.9, generalises=generalises
    )


def test_one_dot_per_row_with_a_value():
    rows = [row("gru", "T1", 0.7), row("gru", "T2", None), row("elman", "T1", 1.0, False)]
    fig = architecture_strips(rows, {"observer_accuracy": "weights", "probe_accuracy": "probe"})
    left, right = fig.axes[:2]
    assert sum(len(c.get_offsets()) for c in left.collections) == 2  # the None is left out
    assert sum(len(c.get_offsets()) for c in right.collections) == 3
    assert [t.get_text() for t in left.get_xticklabels()] == ["elman", "gru"]
    faces = [tuple(c.get_facecolors()[0]) for c in left.collections]
    assert (1.0, 1.0, 1.0, 1.0) in faces  # the network that does not generalise is open
    plt.close(fig)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="at least one row"):
        architecture_strips([], {"observer_accuracy": "x"})
    with pytest.raises(ValueError, match="no measure 'speed'"):
        architecture_strips([row("gru", "T1", 0.5)], {"speed": "x"})

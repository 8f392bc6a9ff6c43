"""The circuit's wiring schematic (emtlib.plots.circuit_wiring, chapter "The variable binding
circuit"): one box per slot in each of the two rows, a bus tap per slot that L^T reads, and a
clear TypeError for something that is not a task."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from emtlib import plots
from emtlib.tasks import PAPER_TASKS, Task


@pytest.mark.parametrize(("name", "taps"), [("T1", ["×8"]), ("T2", ["×1"] * 8)])
def test_the_schematic_draws_both_rows_and_the_slots_that_are_read(name, taps):
    ax = plots.circuit_wiring(PAPER_TASKS[name], title=name)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("slot 7") == 2 and texts.count("slot 0") == 2  # h(t-1) and h(t)
    assert [t for t in texts if t.startswith("×")] == taps
    assert "z(t−8)" in texts and "z(t)" in texts and "$u(t)$" in texts and "$y(t)$" in texts
    assert ax.get_title() == name
    plt.close(ax.figure)


def test_a_small_task_and_a_bad_argument():
    ax = plots.circuit_wiring(Task(3, 2, (0b100001, 0, 0)))
    assert sorted(t.get_text() for t in ax.texts if t.get_text().startswith("×")) == ["×1", "×1"]
    plt.close(ax.figure)
    with pytest.raises(TypeError, match="task must be an emtlib.tasks.Task"):
        plots.circuit_wiring("T1")

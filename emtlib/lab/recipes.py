"""The named training recipes (chapter "Training RNNs on variable binding").

A recipe is a :class:`~emtlib.train.Schedule` plus the callbacks it needs.  :func:`train` trains a
model with one of them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from emtlib.tasks import Task
from emtlib.train import SCHEDULES, Schedule, TrainingLog, train_rnn

__all__ = ["RECIPES", "Recipe", "recommended", "train"]


@dataclass(frozen=True)
class Recipe:
    """A named way to train: a schedule, the callbacks it adds, and what it does and costs."""

    name: str
    schedule: Schedule
    make_callbacks: Callable
    summary: str


def _none(task, hidden):
    return []


RECIPES: dict[str, Recipe] = {
    "paper": Recipe("paper", SCHEDULES["paper"], _none, "The paper's protocol."),
    "default": Recipe("default", SCHEDULES["chunked"], _none, "The book's default."),
    "narrow": Recipe("narrow", SCHEDULES["narrow"], _none, "For narrow networks."),
}


def recommended(task: Task, hidden: int) -> str:
    """``"default"``, or ``"narrow"`` below 1.75 times the values the task recalls."""
    return "default" if 4 * hidden >= 7 * task.recalled_bits() else "narrow"


def train(
    task: Task,
    hidden: int = 128,
    seed: int = 0,
    l2: float = 0.0,
    recipe: str = "default",
    threshold: float | None = None,
    max_steps: int | None = None,
    progress: bool = False,
    device: str = "cpu",
):
    """Train with the recipe named ``recipe``; returns the model with ``.log``."""
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    sched = RECIPES[recipe].schedule
    if threshold is not None:
        sched = replace(sched, threshold=threshold)
    if max_steps is not None:
        sched = replace(sched, max_steps=max_steps)
    model = train_rnn(task, hidden, seed, l2, schedule=sched, progress=progress, device=device)
    md = model.metadata
    model.log = TrainingLog(
        md["steps"],
        md["batches"],
        md["solved_step"],
        list(md["restarted_at"]),
        md["final_horizon_reached"],
        md["wall_time_s"],
        model.history,
    )
    return model

"""One training run as a frozen, validated, hashable spec (appendix "Running the experiments at
scale").

A :class:`RunSpec` names everything that determines what :func:`emtlib.lab.run.run` produces: the task,
the hidden size, the seed, the weight decay, the curriculum threshold, the training recipe, the step
budget and the model.  Its fields are checked once, where they enter; its :attr:`~RunSpec.run_id`
names its record in a :class:`~emtlib.lab.store.Store`.  Every seed a run uses is derived from the spec in
one place, :meth:`RunSpec.seeds`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields

import numpy as np

from emtlib._checks import boolean, choice, integer, real
from emtlib.architectures import MODELS as _ARCHITECTURES
from emtlib.tasks import PAPER_TASKS, Task, task_label

from .recipes import RECIPES

__all__ = ["EVALUATION", "MODELS", "Evaluation", "RunSpec", "Seeds", "task_numbers"]

#: The names of the architectures a run can train, the keys of :data:`emtlib.architectures.MODELS`
#: ("elman", the paper's bias-free Elman RNN and the default; "elman-bias"; "gru"; "lstm").
MODELS = tuple(_ARCHITECTURES)


@dataclass(frozen=True)
class Evaluation:
    """How accuracy is measured at one horizon: ``batches`` fresh batches of ``batch_size``
    sequences drawn from ``seed`` (:func:`emtlib.train.evaluate`)."""

    batches: int
    batch_size: int
    seed: int


#: Accuracy is measured at horizon 200 (the paper's test) and 10,000 (far beyond training), on the
#: same sequences for every run: the seeds are fixed and differ from every training stream.
EVALUATION: Mapping[int, Evaluation] = {
    200: Evaluation(batches=10, batch_size=64, seed=20_231_003),
    10_000: Evaluation(batches=2, batch_size=64, seed=20_231_004),
}


@dataclass(frozen=True)
class Seeds:
    """Every seed of one run: ``train`` initialises the model and draws its training batches (the
    recipe derives its own streams from it), ``evaluation`` maps a horizon to its test sequences."""

    train: int
    evaluation: Mapping[int, Evaluation]


def task_numbers(task) -> tuple[int, int, int, int, int]:
    """The five numbers of a task given as a :class:`~emtlib.tasks.Task`, a key of
    ``PAPER_TASKS`` or its five numbers."""
    if isinstance(task, Task):
        return tuple(task.to_json())
    if isinstance(task, str):
        if task not in PAPER_TASKS:
            raise ValueError(
                f"task must be a Task, one of {sorted(PAPER_TASKS)} or [s, d, t1, t2, t3], "
                f"got {task!r}"
            )
        return tuple(PAPER_TASKS[task].to_json())
    if isinstance(task, np.ndarray):
        task = task.tolist()
    if isinstance(task, bytes) or not isinstance(task, Sequence):
        raise TypeError(
            f"task must be a Task, one of {sorted(PAPER_TASKS)} or [s, d, t1, t2, t3], "
            f"got {task!r} ({type(task).__name__})"
        )
    if len(task) != 5:
        raise ValueError(f"task must hold five numbers [s, d, t1, t2, t3], got {list(task)!r}")
    names = ("task s", "task d", "task t1", "task t2", "task t3")
    numbers = [integer(v, name, 1 if i < 2 else 0) for i, (v, name) in enumerate(zip(task, names))]
    return tuple(Task.from_json(numbers).to_json())  # ValueError naming the broken rule


@dataclass(frozen=True)
class RunSpec:
    """One training run (appendix "Running the experiments at scale").

    ``task`` is a :class:`~emtlib.tasks.Task`, a key of :data:`~emtlib.tasks.PAPER_TASKS` or the
    five numbers ``[s, d, t1, t2, t3]``; it is stored as the five numbers.  ``l2`` is Adam's weight
    decay; ``threshold`` the curriculum threshold, ``max_steps`` the step budget and
    ``stop_when_solved`` whether training stops once the task is solved (``None``: the recipe's
    own); ``recipe`` a name in ``emtlib.lab.recipes.RECIPES`` (chapter "Training RNNs on
    variable binding"); ``model`` an architecture in :data:`MODELS` (chapter "Beyond the Elman RNN";
    the default ``"elman"`` leaves the run id of every existing spec as it was); ``analysis``
    whether the record also measures the trained network's basis and interventions
    (:class:`~emtlib.lab.record.Analysis`, same chapter).  A bad value raises
    ``TypeError`` or ``ValueError`` naming the field.
    """

    task: tuple[int, int, int, int, int]
    hidden: int
    seed: int
    l2: float = 0.0
    threshold: float | None = None
    recipe: str = "default"
    max_steps: int | None = None
    model: str = "elman"
    stop_when_solved: bool | None = None
    analysis: bool = False

    def __post_init__(self):
        checked = {
            "task": task_numbers(self.task),
            "hidden": integer(self.hidden, "hidden", 1),
            "seed": integer(self.seed, "seed", 0, 2**63 - 1),
            "l2": real(self.l2, "l2", 0.0),
            "threshold": None
            if self.threshold is None
            else real(self.threshold, "threshold", 0.0, 1.0, strict_min=True),
            "recipe": choice(self.recipe, "recipe", sorted(RECIPES)),
            "max_steps": None
            if self.max_steps is None
            else integer(self.max_steps, "max_steps", 1),
            "model": choice(self.model, "model", MODELS),
            "stop_when_solved": None
            if self.stop_when_solved is None
            else boolean(self.stop_when_solved, "stop_when_solved"),
            "analysis": boolean(self.analysis, "analysis"),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    # -- the task ---------------------------------------------------------------------------------
    @property
    def task_object(self) -> Task:
        """The :class:`~emtlib.tasks.Task` this run trains on."""
        return Task.from_json(list(self.task))

    @property
    def label(self) -> str:
        """The task's short name, ``"T1"`` ... ``"T4"`` or ``"s5d4(t1,t2,t3)"``."""
        return task_label(self.task_object)

    # -- seeds --------------------------------------------------------------------------------------
    def seeds(self) -> Seeds:
        """Every seed this run uses, derived here and nowhere else: training from ``seed``,
        evaluation from the fixed :data:`EVALUATION` (the same test sequences for every run)."""
        return Seeds(train=self.seed, evaluation=dict(EVALUATION))

    # -- identity -----------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """Every field as JSON values (the task as its five numbers)."""
        return {
            f.name: list(self.task) if f.name == "task" else getattr(self, f.name)
            for f in fields(self)
        }

    @classmethod
    def from_json(cls, data) -> RunSpec:
        """The spec written by :meth:`to_json`; a missing optional field takes its default, an
        unknown one is a ValueError."""
        if not isinstance(data, Mapping):
            raise TypeError(f"a run spec is a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"a run spec has no field(s) {unknown}; known: {sorted(known)}")
        required = [f.name for f in fields(cls) if f.default is MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise ValueError(f"a run spec needs {missing}")
        return cls(**data)

    @property
    def run_id(self) -> str:
        """16 hex digits of the sha256 of the canonical JSON of the fields that differ from their
        default (so a field added later with a default keeps every existing id)."""
        defaults = {f.name: f.default for f in fields(self) if f.default is not MISSING}
        data = {k: v for k, v in self.to_json().items() if k not in defaults or v != defaults[k]}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __str__(self) -> str:
        parts = [self.label, f"hidden {self.hidden}", f"seed {self.seed}", f"recipe {self.recipe}"]
        if self.l2:
            parts.append(f"l2 {self.l2:g}")
        if self.threshold is not None:
            parts.append(f"threshold {self.threshold:g}")
        if self.max_steps is not None:
            parts.append(f"{self.max_steps} steps")
        if self.stop_when_solved is not None:
            parts.append("stops when solved" if self.stop_when_solved else "full budget")
        if self.model != "elman":
            parts.append(f"model {self.model}")
        if self.analysis:
            parts.append("analysed")
        return ", ".join(parts)

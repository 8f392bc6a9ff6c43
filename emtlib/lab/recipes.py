"""The named training recipes (chapter "Training RNNs on variable binding").

A :class:`Recipe` is a :class:`~emtlib.train.Schedule` plus the callbacks
(:class:`~emtlib.train.Callback`) it adds to :func:`~emtlib.train.train_rnn`.  Three recipes:

* ``"paper"``: the paper's protocol (whole sequences, Adam at 1e-3, curriculum threshold 0.96,
  20,000 steps, no early stop);
* ``"default"``: the book's default, truncated backpropagation in chunks of 20 output steps, a
  larger step size that decays at the last horizon, and a stop as soon as the task is solved;
* ``"narrow"``: the default plus what a network with few units to spare needs to keep every one
  of the circuit's modes (:func:`recommended` picks it below 1.75 times the values a task
  recalls): a singular-value floor, weight decay on the readout, restarts, and polishing.

:func:`train` trains with a recipe by name.  The callbacks the recipes use live here too:
:class:`Restarts`, :class:`SingularValueFloor`, :class:`ReadoutWeightDecay` and :class:`Polish`.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from emtlib._checks import integer, real
from emtlib.circuit import long_lived_modes, recalled_bits
from emtlib.rnn import RecurrentModel
from emtlib.tasks import Task
from emtlib.train import (
    Callback,
    Schedule,
    TrainingState,
    adam,
    hardest_sequences,
    train_rnn,
    update,
)

__all__ = [
    "RECIPES",
    "Polish",
    "ReadoutWeightDecay",
    "Recipe",
    "Restarts",
    "SingularValueFloor",
    "recommended",
    "restart_seed",
    "singular_value_floor",
    "train",
]


# -- the callbacks ------------------------------------------------------------------------------------
def restart_seed(seed: int, attempt: int) -> int:
    """The initialisation seed of ``attempt`` (0, 1, ...) of a run with ``seed``: ``seed`` itself for
    attempt 0, a number drawn from ``(seed, attempt)`` for each restart (appendix "Training
    recipes, measured")."""
    seed, attempt = integer(seed, "seed"), integer(attempt, "attempt")
    if attempt == 0:
        return seed
    return int(np.random.SeedSequence([seed, attempt]).generate_state(1, np.uint64)[0] >> 2)


class Restarts(Callback):
    """Start again from a new initialisation when an attempt is stuck (appendix "Training
    recipes, measured").

    An attempt still at the first horizon restarts once it has taken ``after`` steps with a mean
    batch accuracy below ``below`` over its last 50 batches, or ``limit`` steps whatever its
    accuracy (None: no such rule).  An attempt at a horizon past the first and before the last
    restarts when the mean error of its last 50 batches there has not halved in ``stall`` steps
    (the clock starts once 50 batches are in, and again at every halving; None: no such rule).
    At most ``times`` restarts; every attempt's steps count towards the run's budget and the
    batches keep coming from the run's one stream.  Attempt ``k`` starts from
    ``restart_seed(seed, k)``; when the task's Φ is a signed permutation (every value on a cycle,
    as in repeat copy) and ``permutation_gain`` is a number, from an orthogonal ``W_hh`` of that
    gain.  Restarts are logged in ``log.restarted_at``.
    """

    def __init__(
        self, after=3_000, below=0.96, limit=10_000, stall=8_000, times=5, permutation_gain=1.0
    ):
        self.after = None if after is None else integer(after, "after", 1)
        self.below = real(below, "below", 0.0, 1.0, strict_min=True)
        self.limit = None if limit is None else integer(limit, "limit", 1)
        self.stall = None if stall is None else integer(stall, "stall", 1)
        self.times = integer(times, "times")
        self.permutation_gain = (
            None
            if permutation_gain is None
            else real(permutation_gain, "permutation_gain", 0.0, strict_min=True)
        )

    def before_fit(self, state: TrainingState) -> None:
        self.attempt, self.attempt_start = 0, 0
        self.recent = collections.deque(maxlen=50)  # the batch accuracies at this horizon
        self.stall_error, self.stall_since = None, 0  # the error when it last halved, and when
        self.permutation = long_lived_modes(state.task) == state.task.n

    def before_batch(self, state: TrainingState) -> None:
        taken, level = state.step - self.attempt_start, state.level
        stuck_first = level == 0 and (
            (self.after is not None and taken >= self.after and np.mean(self.recent) < self.below)
            or (self.limit is not None and taken >= self.limit)
        )
        stalled = (
            0 < level < len(state.schedule.horizons) - 1
            and self.stall is not None
            and self.stall_error is not None
            and state.step - self.stall_since >= self.stall
        )
        if self.attempt < self.times and (stuck_first or stalled):
            self.attempt, self.attempt_start = self.attempt + 1, state.step
            self.recent.clear()
            self.stall_error, self.stall_since = None, state.step
            state.start_over(self._initial(state))
            state.log.restarted_at.append(state.step)

    def _initial(self, state: TrainingState) -> RecurrentModel:
        seed = restart_seed(state.seed, self.attempt)
        model = type(state.model)(state.task.d, state.model.hidden, seed=seed)
        square = model.rnn.weight_hh_l0.shape[0] == model.hidden  # an Elman RNN, not gated
        if self.permutation and self.permutation_gain is not None and square:
            generator = torch.Generator().manual_seed(seed + 1)
            with torch.no_grad():
                torch.nn.init.orthogonal_(
                    model.rnn.weight_hh_l0, gain=self.permutation_gain, generator=generator
                )
        return model

    def after_batch(self, state: TrainingState) -> None:
        self.recent.append(state.accuracy)
        if len(self.recent) == self.recent.maxlen:
            error = 1 - float(np.mean(self.recent))
            if self.stall_error is None or error <= self.stall_error / 2:
                self.stall_error, self.stall_since = error, state.step

    def after_level(self, state: TrainingState) -> None:
        self.recent.clear()
        self.stall_error, self.stall_since = None, state.step


def singular_value_floor(W: torch.Tensor, floor: float) -> torch.Tensor:
    """The penalty ``sum_i max(0, floor - sigma_i)^2`` over the singular values ``sigma_i`` of ``W``.

    Zero when no singular value is below ``floor``; it keeps ``W`` away from low rank without asking
    anything else of it (appendix "Training recipes, measured").
    """
    return torch.sum(torch.relu(floor - torch.linalg.svdvals(W)) ** 2)


class SingularValueFloor(Callback):
    """Add :func:`singular_value_floor` of ``W_hh`` to the loss of every step, polishing included."""

    def __init__(self, floor: float = 1.0):
        self.floor = real(floor, "floor", 0.0, strict_min=True)

    def extra_loss(self, state: TrainingState) -> torch.Tensor:
        return singular_value_floor(state.model.rnn.weight_hh_l0, self.floor)


class ReadoutWeightDecay(Callback):
    """Adam's weight decay on the readout alone set to ``decay`` (the run's ``l2`` stays on the
    input and recurrent weights): repeat copy at narrow widths needs it (appendix "Training
    recipes, measured")."""

    def __init__(self, decay: float = 0.003):
        self.decay = real(decay, "decay", 0.0)

    def before_batch(self, state: TrainingState) -> None:
        state.opt.param_groups[1]["weight_decay"] = self.decay


class Polish(Callback):
    """After a run that has not solved the task, ``steps`` more steps on the last horizon with a
    fresh Adam whose step size falls geometrically from ``lr`` to ``lr_end``, each on ``batch``
    fresh sequences plus the ``batch`` hardest of ``pool`` fresh ones (the smallest output margin,
    :func:`~emtlib.train.hardest_sequences`; ``pool=0``: no mining), whole sequences, the run's
    weight decays.  With ``stop_when_solved`` it stops once the model is solved, checked every
    ``check_every`` of its steps (appendix "Training recipes, measured").
    """

    def __init__(self, steps=2_000, lr=5e-4, lr_end=5e-5, batch=128, pool=1024):
        self.steps, self.batch = integer(steps, "steps"), integer(batch, "batch", 1)
        self.lr = real(lr, "lr", 0.0, strict_min=True)
        self.lr_end = real(lr_end, "lr_end", 0.0, strict_min=True)
        self.pool = integer(pool, "pool")
        if 0 < self.pool < self.batch:
            raise ValueError(f"pool must be 0 (no mining) or at least batch ({batch}), got {pool}")

    def after_fit(self, state: TrainingState) -> None:
        if not self.steps or state.log.solved_step is not None:
            return
        task, sched, model = state.task, state.schedule, state.model
        horizon = sched.horizons[-1]
        state.opt = adam(model, self.lr, *[g["weight_decay"] for g in state.opt.param_groups])
        if state.bar is not None:
            state.bar.total += self.steps
        for i in range(self.steps):
            for group in state.opt.param_groups:
                group["lr"] = self.lr * (self.lr_end / self.lr) ** (i / self.steps)
            inputs, targets = task.sample(self.batch, horizon, int(state.rng.integers(2**63)))
            if self.pool:
                seed = int(state.rng.integers(2**63))
                hard = hardest_sequences(model, task, self.batch, self.pool, horizon, seed)
                inputs, targets = torch.cat([inputs, hard[0]], 1), torch.cat([targets, hard[1]], 1)
            inputs, targets = inputs.to(state.device), targets[task.s :].to(state.device)
            outputs = model.readout(model.rnn(inputs)[0])[task.s :]
            state.loss = update(state, outputs, targets).item()
            state.accuracy = float((torch.sign(outputs.detach()) == targets).float().mean())
            state.record(horizon=horizon, polish=True)
            if state.bar is not None:
                state.bar.update(1)
            if sched.stop_when_solved and (i + 1) % sched.check_every == 0 and state.solved():
                state.log.solved_step = state.step
                return


# -- the recipes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """A named way to train: a schedule, the callbacks it adds (``make_callbacks(task, hidden)``
    gives fresh ones for each run) and a summary of what it does and what it costs."""

    name: str
    schedule: Schedule
    make_callbacks: Callable[[Task, int], list]
    summary: str


def _no_callbacks(task: Task, hidden: int) -> list:
    return []


def _narrow_callbacks(task: Task, hidden: int) -> list:
    return [Restarts(), ReadoutWeightDecay(0.003), SingularValueFloor(1.0), Polish()]


#: The named recipes by name; each name is a value of :func:`train`'s ``recipe``.
RECIPES: dict[str, Recipe] = {
    "paper": Recipe(
        "paper",
        Schedule(
            lr=1e-3,
            threshold=0.96,
            decay_steps=0,
            chunk=None,
            stop_when_solved=False,
            check_every=25,
        ),
        _no_callbacks,
        "The paper's protocol: Adam at 1e-3 with L2 as its weight decay, gradient norm clipped at "
        "1.0, batches of 64 fresh sequences, MSE on the output phase, the curriculum over horizons "
        "10, 20, 40, 60, 100 moving on past batch accuracy 0.96, whole sequences.  Costs its full "
        "20,000 steps every time: about 100 s for T2 at 128 units on two CPU cores, and it does not "
        "solve repeat copy (T1) in that budget (benchmarks/results.md).",
    ),
    "default": Recipe(
        "default",
        Schedule(),
        _no_callbacks,
        "The book's default: the paper's model, loss and data, trained by truncated "
        "backpropagation (one step per chunk of 20 output steps, the hidden state carried over), "
        "Adam at 2e-3 falling tenfold over 2,000 steps at the last horizon, the curriculum moving "
        "on past 0.99, and a stop as soon as the task is solved (evaluation at horizon 200 exactly "
        "1.0, checked at most every 250 steps); at most 20,000 steps.  Costs a median of about "
        "2,000 (T2) to 14,000 (T1) steps at 128 units, 9 to 60 s on two CPU cores: about a tenth of "
        "the paper's protocol's time on T2 (benchmarks/results.md).",
    ),
    "narrow": Recipe(
        "narrow",
        Schedule(threshold=0.9999, max_steps=40_000),
        _narrow_callbacks,
        "For networks with fewer than 1.75 times as many units as the task recalls input values: "
        "the default with the curriculum moving on only past 0.9999, at most 40,000 steps, a floor "
        "of 1 under the singular values of W_hh, weight decay 0.003 on the readout, restarts "
        "(Restarts: after 3,000 steps stuck below 0.96 at the first horizon or 10,000 there in "
        "all, or 8,000 steps without the error halving at a middle horizon; at most five; "
        "orthogonal starts when Φ is a signed permutation), and, if the run ends unsolved, up to "
        "2,000 polishing steps on fresh plus hard sequences.  Costs up to twice the default's "
        "steps, and each polishing step also scores a pool of 1,024 sequences; small tasks at "
        "exactly their width take 20 to 55 s on two CPU cores (benchmarks/results.md).",
    ),
}


def recommended(task: Task, hidden: int) -> str:
    """The recipe for ``hidden`` units on ``task``: ``"default"`` when ``hidden`` is at least 1.75
    times the number of input values the task's output phase recalls
    (:func:`~emtlib.circuit.recalled_bits`), ``"narrow"`` below (appendix "Training recipes,
    measured", section "Which recipe for which width")."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    hidden = integer(hidden, "hidden", 1)
    return "default" if 4 * hidden >= 7 * recalled_bits(task) else "narrow"


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
    stop_when_solved: bool | None = None,
    architecture: str = "elman",
) -> RecurrentModel:
    """Train ``hidden`` units on ``task`` with the recipe named ``recipe`` (a key of
    :data:`RECIPES`); ``threshold``, ``max_steps`` and ``stop_when_solved`` replace the recipe's own
    when given; ``architecture`` names the model (:data:`emtlib.architectures.MODELS`).  Returns
    the model with its :class:`~emtlib.train.TrainingLog` as ``.log``."""
    if not isinstance(recipe, str):
        raise TypeError(f"recipe must be a recipe name, got {type(recipe).__name__}")
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    chosen = RECIPES[recipe]
    schedule = chosen.schedule
    if threshold is not None:
        schedule = replace(schedule, threshold=threshold)
    if max_steps is not None:
        schedule = replace(schedule, max_steps=max_steps)
    if stop_when_solved is not None:
        schedule = replace(schedule, stop_when_solved=stop_when_solved)
    callbacks = chosen.make_callbacks(task, hidden)
    return train_rnn(task, hidden, seed, l2, schedule, callbacks, progress, device, architecture)

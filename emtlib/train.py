"""Training Elman RNNs on variable binding tasks (chapter "Training RNNs on variable binding").

:func:`train_rnn` is the loop that chapter explains.  It draws fresh random batches, trains on the
output phase with mean squared error, Adam and a clipped gradient norm, and follows a curriculum
over training horizons: it moves to the next horizon once the batch accuracy passes
``Schedule.threshold``.  With ``Schedule.chunk`` a sequence is trained by truncated
backpropagation through time, one optimizer step per chunk of output steps, the hidden state
carried across chunks (:func:`chunk_bounds`).  Once the last horizon is reached the step size
falls tenfold over ``Schedule.decay_steps`` steps, and with ``Schedule.stop_when_solved`` the run
stops as soon as the model is *solved*: batch accuracy at least :data:`SOLVED_BATCH_ACCURACY` and
:func:`evaluate` at ``test_horizon`` exactly 1.0.

Everything else a run may need is a :class:`Callback`, a hook named by the event it runs at
(``before_fit``, ``before_batch``, ``extra_loss``, ``after_batch``, ``after_level``,
``after_fit``); every hook receives the live :class:`TrainingState` and may change it.  The
named recipes of :mod:`emtlib.lab.recipes` (the paper's protocol, the book's default, narrow
networks) are schedules plus callbacks.

The same loop trains the other architectures of :mod:`emtlib.architectures` (``architecture``;
chapter "Beyond the Elman RNN").

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.rnn`, :mod:`emtlib.architectures` and
:mod:`emtlib._checks`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ._checks import boolean, choice, integer, real
from .architectures import MODELS
from .rnn import RecurrentModel
from .tasks import MAX_HORIZON, Task

__all__ = [
    "SOLVED_BATCH_ACCURACY",
    "Callback",
    "Schedule",
    "TrainingDiverged",
    "TrainingLog",
    "TrainingState",
    "adam",
    "chunk_bounds",
    "evaluate",
    "hardest_sequences",
    "sequence_margins",
    "train_rnn",
    "update",
]

#: The batch accuracy at the last horizon above which a run checks whether it has solved the task.
SOLVED_BATCH_ACCURACY = 0.999


@dataclass(frozen=True)
class Schedule:
    """The hyper-parameters of :func:`train_rnn`; the defaults are the book's default recipe
    (chapter "Training RNNs on variable binding", section "The default recipe").

    ``lr``: Adam's step size; ``batch``: sequences per batch; ``horizons``: the curriculum's
    training horizons; ``threshold``: the batch accuracy that moves it to the next one;
    ``max_steps``: the step budget (one step per chunk); ``clip``: the gradient-norm clip;
    ``decay_steps``: the step size falls tenfold over this many steps once the last horizon is
    reached (0: never); ``chunk``: output steps per chunk of truncated backpropagation through
    time (None: whole sequences); ``stop_when_solved``: stop once the model is solved, checked at
    most once every ``check_every`` steps on ``test_batches`` batches of 64 at ``test_horizon``.
    """

    lr: float = 2e-3
    batch: int = 64
    horizons: tuple = (10, 20, 40, 60, 100)
    threshold: float = 0.99
    max_steps: int = 20_000
    clip: float = 1.0
    decay_steps: int = 2_000
    chunk: int | None = 20
    stop_when_solved: bool = True
    check_every: int = 250
    test_horizon: int = 200
    test_batches: int = 10

    def __post_init__(self):
        real(self.lr, "lr", 0.0, strict_min=True)
        real(self.threshold, "threshold", 0.0, 1.0, strict_min=True)
        real(self.clip, "clip", 0.0, strict_min=True)
        boolean(self.stop_when_solved, "stop_when_solved")
        for name, minimum in (("batch", 1), ("max_steps", 1), ("decay_steps", 0)):
            object.__setattr__(self, name, integer(getattr(self, name), name, minimum))
        for name in ("check_every", "test_batches"):
            object.__setattr__(self, name, integer(getattr(self, name), name, 1))
        object.__setattr__(self, "test_horizon", integer(self.test_horizon, "test_horizon", 1))
        if self.chunk is not None:
            object.__setattr__(self, "chunk", integer(self.chunk, "chunk", 1))
        horizons = self.horizons
        if isinstance(horizons, np.ndarray) and horizons.ndim == 1:
            horizons = list(horizons)
        if isinstance(horizons, (str, bytes)) or not isinstance(horizons, Sequence):
            raise TypeError(f"horizons must be a sequence of integers, got {self.horizons!r}")
        if not horizons:
            raise ValueError("horizons must hold at least one training horizon")
        horizons = tuple(integer(h, "each horizon", 1, MAX_HORIZON) for h in horizons)
        object.__setattr__(self, "horizons", horizons)


@dataclass
class TrainingLog:
    """What happened during one run of :func:`train_rnn` (chapter "Training RNNs on variable binding").

    ``steps``: optimizer steps taken; ``batches``: training batches drawn; ``solved_step``: the
    step at which the run was found to solve the task (None: not solved, or never checked);
    ``restarted_at``: the steps at which training started again from a new initialisation;
    ``final_horizon_reached``: whether the curriculum got to its last horizon; ``wall_time_s``;
    ``history``: one dict (step, loss, accuracy, horizon, time) at least every 50 steps.
    """

    steps: int = 0
    batches: int = 0
    solved_step: int | None = None
    restarted_at: list = field(default_factory=list)
    final_horizon_reached: bool = False
    wall_time_s: float = 0.0
    history: list = field(default_factory=list)


class Callback:
    """A hook into :func:`train_rnn`, in the manner of fastai's callbacks.  Subclasses override the
    events they need; each receives the live :class:`TrainingState` and may change it.

    ``before_fit``: once, after the model and optimizer exist.  ``before_batch``: before each batch
    is drawn (a restart replaces the model here with :meth:`TrainingState.start_over`).
    ``extra_loss``: at every optimizer step, a tensor added to the loss, or None.
    ``after_batch``: after each batch's updates (``state.accuracy``, ``state.loss`` are set).
    ``after_level``: after the curriculum moved to the next horizon.  ``after_fit``: once, after
    the loop (a polishing phase runs more steps here).
    """

    def before_fit(self, state: TrainingState) -> None:
        """Runs once before the first batch."""

    def before_batch(self, state: TrainingState) -> None:
        """Runs before each batch is drawn."""

    def extra_loss(self, state: TrainingState) -> torch.Tensor | None:
        """A term added to the loss of every optimizer step (None: nothing)."""
        return None

    def after_batch(self, state: TrainingState) -> None:
        """Runs after each batch."""

    def after_level(self, state: TrainingState) -> None:
        """Runs after the curriculum moved to the next horizon."""

    def after_fit(self, state: TrainingState) -> None:
        """Runs once after the loop."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training."""


def adam(model: RecurrentModel, lr: float, l2: float, readout_l2: float | None = None):
    """Adam over two parameter groups: the input and recurrent weights, and biases where the model
    has them (weight decay ``l2``), and the readout (``readout_l2``, default ``l2``), in that
    order (the paper puts L2 into Adam)."""
    readout_l2 = l2 if readout_l2 is None else readout_l2
    return torch.optim.Adam(
        [
            {"params": list(model.rnn.parameters()), "weight_decay": l2},
            {"params": list(model.readout.parameters()), "weight_decay": readout_l2},
        ],
        lr=lr,
    )


@dataclass
class TrainingState:
    """The live state of one run of :func:`train_rnn`, handed to every :class:`Callback`.

    ``step`` counts optimizer steps, ``level`` indexes ``schedule.horizons``, ``decay_from`` is the
    step at which the step-size decay began (None: not yet), ``rng`` draws every training batch,
    ``accuracy`` and ``loss`` are those of the last batch, and setting ``stop`` ends the run.
    """

    task: Task
    schedule: Schedule
    seed: int
    l2: float
    device: torch.device
    callbacks: tuple
    rng: np.random.Generator
    model: RecurrentModel | None = None
    opt: torch.optim.Optimizer | None = None
    log: TrainingLog = field(default_factory=TrainingLog)
    step: int = 0
    level: int = 0
    decay_from: int | None = None
    last_check: int = 0
    accuracy: float = math.nan
    loss: float = math.nan
    stop: bool = False
    started: float = field(default_factory=time.perf_counter)
    bar: object = None

    @property
    def horizon(self) -> int:
        """The current training horizon."""
        return self.schedule.horizons[self.level]

    @property
    def last_level(self) -> bool:
        """Whether the curriculum is at its last horizon."""
        return self.level == len(self.schedule.horizons) - 1

    def start_over(self, model: RecurrentModel) -> None:
        """Train ``model`` from here: a fresh optimizer, the curriculum back at its first horizon."""
        self.model = model.to(self.device)
        self.opt = adam(self.model, self.schedule.lr, self.l2)
        self.level = 0
        self.decay_from = self.step if self.last_level else None
        self.last_check = self.step - self.schedule.check_every

    def solved(self) -> bool:
        """Whether the model is solved: :func:`evaluate` at ``test_horizon`` exactly 1.0 (the test
        sequences come from ``seed + 10_000``, apart from every training batch)."""
        sched = self.schedule
        return (
            evaluate(
                self.model, self.task, sched.test_horizon, sched.test_batches, self.seed + 10_000
            )
            == 1.0
        )

    def record(self, **extra) -> None:
        """Add an entry to ``log.history`` if 50 steps have passed since the last one."""
        history = self.log.history
        if not history or self.step - history[-1]["step"] >= 50:
            entry = {"step": self.step, "loss": self.loss, "accuracy": self.accuracy}
            history.append({**entry, "horizon": self.horizon, "time": self.elapsed(), **extra})

    def elapsed(self) -> float:
        """Seconds since the run began."""
        return time.perf_counter() - self.started

    def call(self, event: str) -> None:
        """Run hook ``event`` of every callback, in order."""
        for callback in self.callbacks:
            getattr(callback, event)(self)


def update(state: TrainingState, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """One optimizer step on the output-phase ``outputs`` against ``targets``: mean squared error
    plus every callback's ``extra_loss``, gradient norm clipped at ``schedule.clip``.  Counts the
    step and returns the mean squared error (without the extra terms)."""
    loss = torch.mean((outputs - targets) ** 2)
    if not torch.isfinite(loss):
        raise TrainingDiverged(
            f"loss became {loss.item()} at step {state.step + 1} (horizon {state.horizon}); lower "
            f"the learning rate (now {state.opt.param_groups[0]['lr']:.2g}) or the gradient clip "
            f"(now {state.schedule.clip}), or try another seed"
        )
    total = loss
    for callback in state.callbacks:
        extra = callback.extra_loss(state)
        if extra is not None:
            total = total + extra
    state.opt.zero_grad(set_to_none=True)
    total.backward()
    torch.nn.utils.clip_grad_norm_(state.model.parameters(), state.schedule.clip)
    state.opt.step()
    state.step += 1
    return loss


def _fit_batch(state: TrainingState, inputs: torch.Tensor, targets: torch.Tensor) -> None:
    """Train on one batch, one update per chunk with the hidden state carried across chunks
    (truncated backpropagation through time); sets ``state.accuracy`` and ``state.loss``."""
    sched, s = state.schedule, state.task.s
    h, correct, total = None, 0, 0
    for c0, c1 in chunk_bounds(s, state.horizon, sched.chunk):
        if state.decay_from is not None and sched.decay_steps:
            frac = min(state.step - state.decay_from, sched.decay_steps) / sched.decay_steps
            for group in state.opt.param_groups:
                group["lr"] = sched.lr * 0.1**frac
        states, h_last = state.model.rnn(inputs[c0:c1], h)
        outputs, z = state.model.readout(states), targets[c0:c1]
        k = max(0, s - c0)  # the output phase starts at row k of this chunk
        loss = update(state, outputs[k:], z[k:])
        h = _detached(h_last)
        correct += int((torch.sign(outputs[k:].detach()) == z[k:]).sum())
        total += z[k:].numel()
        if state.bar is not None:
            state.bar.update(1)
            state.bar.set_postfix(loss=f"{loss.item():.4f}", horizon=state.horizon)
        if state.step >= sched.max_steps:
            break
    state.accuracy, state.loss = correct / total, loss.item()


def _detached(state):
    """The fused module's last state cut from the graph (the LSTM's is a pair ``(h, c)``)."""
    return tuple(x.detach() for x in state) if isinstance(state, tuple) else state.detach()


def train_rnn(
    task: Task,
    hidden: int = 128,
    seed: int = 0,
    l2: float = 0.0,
    schedule: Schedule | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
    device: str | torch.device = "cpu",
    architecture: str = "elman",
) -> RecurrentModel:
    """Train a bias-free tanh Elman RNN of ``hidden`` units on ``task`` (chapter "Training RNNs on
    variable binding"), or another architecture named by ``architecture``, a key of
    :data:`emtlib.architectures.MODELS` (chapter "Beyond the Elman RNN").  ``l2`` is Adam's
    weight decay; ``schedule`` defaults to ``Schedule()``; ``callbacks`` hook into the loop.  The same ``seed`` on the same machine and device gives the
    same weights: it fixes the initialisation and every batch.  Returns the model, on the CPU, with
    a :class:`TrainingLog` as ``.log``.  Raises :class:`TrainingDiverged` if the loss stops being
    finite.
    """
    sched, callbacks, device = _check_arguments(task, hidden, seed, l2, schedule, callbacks, device)
    model_class = MODELS[choice(architecture, "architecture", tuple(MODELS))]
    rng = np.random.default_rng([int(seed), 1])  # the batches, apart from the initialisation
    state = TrainingState(task, sched, int(seed), float(l2), device, callbacks, rng)
    state.start_over(model_class(task.d, hidden, seed=seed))
    state.bar = _progress_bar(sched.max_steps) if progress else None
    try:
        state.call("before_fit")
        while state.step < sched.max_steps and not state.stop:
            state.call("before_batch")
            state.log.batches += 1
            inputs, targets = task.sample(sched.batch, state.horizon, int(rng.integers(2**63)))
            _fit_batch(state, inputs.to(device), targets.to(device))
            state.record()
            state.call("after_batch")
            if not state.last_level and state.accuracy > sched.threshold:
                state.level += 1
                state.decay_from = state.step if state.last_level else None
                state.call("after_level")
            elif (
                state.last_level
                and sched.stop_when_solved
                and state.accuracy >= SOLVED_BATCH_ACCURACY
                and state.step - state.last_check >= sched.check_every
            ):
                state.last_check = state.step
                if state.solved():
                    state.log.solved_step = state.step
                    break
        state.call("after_fit")
    finally:
        if state.bar is not None:
            state.bar.close()
    log, model = state.log, state.model.to("cpu")
    log.steps, log.final_horizon_reached = state.step, state.last_level
    log.wall_time_s = round(state.elapsed(), 3)
    model.log = log
    return model


def _check_arguments(task, hidden, seed, l2, schedule, callbacks, device):
    """The arguments of :func:`train_rnn`, checked: ``(schedule, callbacks, device)``."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    integer(hidden, "hidden", 1)
    integer(seed, "seed", 0, 2**63 - 1)
    real(l2, "l2", 0.0)
    schedule = Schedule() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise TypeError(
            f"schedule must be an emtlib.train.Schedule or None, got {type(schedule).__name__} "
            "(named recipes are trained with emtlib.lab.recipes.train)"
        )
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Sequence):
        raise TypeError(f"callbacks must be a sequence of Callback, got {type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(callback).__name__}")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from err
    return schedule, tuple(callbacks), device


def _progress_bar(total: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", leave=True)


def chunk_bounds(s: int, horizon: int, chunk: int | None) -> list[tuple[int, int]]:
    """The time ranges ``[start, end)`` of the chunks of one training sequence of ``s + horizon`` steps.

    Each chunk holds ``chunk`` output steps; the first also holds the ``s`` input steps, the last may be
    shorter.  ``chunk=None`` (or at least ``horizon``) gives the whole sequence as one range.  One
    optimizer step per range is truncated backpropagation through time (chapter "Training RNNs on
    variable binding", section "The default recipe").
    """
    s, horizon = integer(s, "s", 1), integer(horizon, "horizon", 1)
    chunk = None if chunk is None else integer(chunk, "chunk", 1)
    T = s + horizon
    step = chunk or T
    starts = [0, *range(s + step, T, step)]
    return list(zip(starts, [*starts[1:], T]))


#: Time steps per piece when :func:`evaluate` runs an :class:`~emtlib.rnn.ElmanRNN` (or another
#: :class:`~emtlib.rnn.RecurrentModel`).
EVALUATION_CHUNK = 1_000


def _outputs(model, inputs: torch.Tensor):
    """The model's outputs for ``inputs``, piece by piece: a :class:`~emtlib.rnn.RecurrentModel` runs
    :data:`EVALUATION_CHUNK` steps at a time with its hidden state carried over, so no more than
    that many hidden states are held at once; any other model runs whole through ``run``."""
    if not isinstance(model, RecurrentModel):
        out = model.run(inputs)
        yield 0, out.cpu() if isinstance(out, torch.Tensor) else torch.from_numpy(np.asarray(out))
        return
    weight = model.readout.weight
    h = None
    with torch.no_grad():
        for t0 in range(0, inputs.shape[0], EVALUATION_CHUNK):
            x = inputs[t0 : t0 + EVALUATION_CHUNK].to(device=weight.device, dtype=weight.dtype)
            states, h = model.rnn(x, h)
            yield t0, model.readout(states).cpu()


def evaluate(
    model, task: Task, horizon: int = 200, batches: int = 10, seed: int = 0, batch_size: int = 64
) -> float:
    """Sign accuracy of ``model`` over the output phase of ``batches`` fresh batches.

    ``model`` is anything with ``run(inputs)`` (an :class:`~emtlib.rnn.ElmanRNN`, a circuit).
    Same ``seed``, same test sequences.  A recurrent model is run in pieces of
    :data:`EVALUATION_CHUNK` steps, so a long horizon does not hold every hidden state in memory.
    Chapter "Training RNNs on variable binding".
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if not hasattr(model, "run"):
        raise TypeError(f"model must have a run(inputs) method, got {type(model).__name__}")
    horizon = integer(horizon, "horizon", 1, MAX_HORIZON)
    batches, batch_size = integer(batches, "batches", 1), integer(batch_size, "batch_size", 1)
    rng = np.random.default_rng(integer(seed, "seed", 0))
    correct = total = 0
    for _ in range(batches):
        inputs, targets = task.sample(batch_size, horizon, seed=int(rng.integers(2**63)))
        for t0, out in _outputs(model, inputs):
            start = max(task.s - t0, 0)  # the output phase starts at row `start` of this piece
            z = targets[t0 + start : t0 + out.shape[0]]
            correct += int((torch.sign(out[start:]) == z).sum())
            total += z.numel()
    return correct / total


def sequence_margins(model, task: Task, inputs, targets) -> torch.Tensor:
    """Each sequence's worst margin, ``min output * target`` over its output phase: ``(batch,)``.

    Negative where ``model`` gets at least one sign of that sequence wrong; small where it nearly
    does.  Appendix "Training recipes, measured".
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            f"model must be an emtlib.rnn.ElmanRNN or another RecurrentModel, "
            f"got {type(model).__name__}"
        )
    if inputs.shape != targets.shape or inputs.ndim != 3 or inputs.shape[0] <= task.s:
        raise ValueError(
            f"inputs and targets must both be (s + horizon, batch, d) with horizon > 0, "
            f"got {tuple(inputs.shape)} and {tuple(targets.shape)}"
        )
    device = next(model.parameters()).device
    with torch.no_grad():
        outputs = model.readout(model.rnn(inputs.to(device))[0]).cpu()
    return (outputs[task.s :] * targets[task.s :]).amin(dim=(0, 2))


def hardest_sequences(model, task: Task, count: int, pool: int, horizon: int, seed: int):
    """The ``count`` sequences of ``pool`` fresh ones with the smallest :func:`sequence_margins`.

    Returns ``(inputs, targets)`` like :meth:`emtlib.tasks.Task.sample`, hardest first.  Same
    ``seed``, same pool (appendix "Training recipes, measured").
    """
    count, pool = integer(count, "count", 1), integer(pool, "pool", 1)
    horizon = integer(horizon, "horizon", 1)
    if count > pool:
        raise ValueError(f"count ({count}) must not exceed pool ({pool})")
    inputs, targets = task.sample(pool, horizon, seed=seed)
    keep = torch.argsort(sequence_margins(model, task, inputs, targets), stable=True)[:count]
    return inputs[:, keep], targets[:, keep]

"""Training Elman RNNs on variable binding tasks (chapter "Training RNNs on variable binding").

Four named schedules:

* ``"paper"`` reproduces the paper's protocol: Adam (lr 1e-3, L2 as Adam's weight decay), gradient
  norm clipped at 1.0, batches of 64 fresh random sequences, mean squared error on the output phase,
  a curriculum over training horizons 10, 20, 40, 60, 100 that moves on when the batch accuracy
  passes a threshold, 20,000 steps.
* ``"fast"``: the same model, loss and data, a larger step size with a decay once the last horizon is
  reached, and a stop as soon as the model solves the task.  The zoo's planned models are built with it.
* ``"chunked"``, the book's default: ``"fast"`` trained by truncated backpropagation through time,
  one update per chunk of 20 output steps with the hidden state carried across chunks (chapter
  "Training RNNs on variable binding", section "The paper's protocol and the book's default";
  :func:`chunk_bounds`).  Measured against ``"paper"`` and ``"fast"`` in ``benchmarks/training_speed.py``.
* ``"narrow"``, the default for a network with fewer than 1.75 times as many units as the task's
  output phase recalls input values (:meth:`emtlib.tasks.Task.recalled_bits`; :func:`default_schedule`;
  chapter "Training RNNs on variable binding", section "Narrow networks"): ``"chunked"`` plus the
  measures that keep all of the circuit's modes when there are few units to spare, restarts from a new
  initialisation when an attempt is stuck at the first horizon or stalls at a later one (orthogonal
  starts when Φ is a signed permutation), and polishing.

A run can end with a *polishing* phase (``polish_steps`` > 0): more steps with a fresh Adam at a small
step size, each on fresh sequences plus the hardest of a larger fresh pool (those with the smallest
output margin).  The zoo polishes repeat copy and T4 this way, and ``"narrow"`` polishes when its main
run ends unsolved.  A run that stops because it solved the task is not polished; with
``stop_when_solved`` polishing stops as soon as the task is solved.

A run can also keep the singular values of ``W_hh`` above a floor (``sv_floor``, for the first
``sv_floor_steps`` steps): :func:`singular_value_floor` is added to the loss.  The zoo's 64-unit
repeat-copy networks need it to keep all of the circuit's long-lived modes.

A run stops early when ``stop_when_solved`` and the model is *solved*: batch accuracy at the last
horizon at least ``solved_accuracy`` and :func:`evaluate` at ``test_horizon`` exactly 1.0.
This module imports :mod:`emtlib.tasks` and :mod:`emtlib.rnn` only.
"""

from __future__ import annotations

import collections
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .rnn import ElmanRNN
from .tasks import Task

__all__ = [
    "SCHEDULES",
    "Schedule",
    "TrainingDiverged",
    "TrainingLog",
    "chunk_bounds",
    "default_schedule",
    "evaluate",
    "hardest_sequences",
    "restart_seed",
    "sequence_margins",
    "singular_value_floor",
    "train_rnn",
]


def _positive_number(value) -> bool:
    """True for a finite int or float above zero (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > 0
        and math.isfinite(value)
    )


@dataclass(frozen=True)
class Schedule:
    """Hyper-parameters of a training run (chapter "Training RNNs on variable binding")."""

    lr: float = 1e-3
    batch: int = 64
    horizons: tuple = (10, 20, 40, 60, 100)
    threshold: float = 0.96  # batch accuracy that moves the curriculum to the next horizon
    max_steps: int = 20_000
    clip: float = 1.0
    decay_steps: int = 0  # lr falls 10x over this many steps once decay starts (0: never)
    decay_from: int | None = (
        None  # index of the horizon whose start begins the decay (None: the last)
    )
    stop_when_solved: bool = False
    solved_accuracy: float = 0.999
    test_horizon: int = 200
    test_batches: int = 10
    check_every: int = 25  # at most one solved-check evaluation per this many steps
    input_scale: float = 1.0  # the initial input weights are multiplied by this
    recurrent_gain: float | None = (
        None  # None: PyTorch's uniform init; a number: orthogonal init, this gain
    )
    input_noise: float = 0.0  # std of Gaussian noise added to every input step while training
    loss: str = "mse"  # "mse" (the paper's) or "hinge": squared hinge max(0, 1 - y*z)^2 on the sign
    chunk: int | None = (
        None  # None: whole sequences; a number: truncated BPTT, this many output steps a chunk
    )
    readout_l2: float | None = (
        None  # Adam weight decay on the readout alone (None: the run's l2, like every weight)
    )
    readout_l2_from: int = (
        0  # index of the horizon from whose start readout_l2 applies (before it: the run's l2)
    )
    # a floor under the singular values of W_hh: sum_i max(0, sv_floor - sigma_i)^2 is added to the loss of
    # every step before sv_floor_steps (None: every step, polishing included); None: no floor
    sv_floor: float | None = None
    sv_floor_steps: int | None = None
    # polishing: after the main run, polish_steps more steps with a fresh Adam whose step size falls
    # geometrically from polish_lr to polish_lr_end (None: stays at polish_lr), at polish_horizon (None: the
    # last horizon); each step trains on polish_batch (None: batch) fresh sequences plus as many of the
    # hardest (smallest margin) of polish_pool fresh ones (0: no mining), whole sequences (no chunks).  Same loss
    # and weight decay as the run.
    polish_steps: int = 0
    polish_lr: float = 2e-4
    polish_lr_end: float | None = None
    polish_batch: int | None = None
    polish_pool: int = 1024
    polish_horizon: int | None = None
    # restarts: an attempt still at the first horizon is dropped, and training starts again from a new
    # initialisation, once it has taken restart_after steps with a mean batch accuracy below restart_below over
    # its last 50 batches, or restart_limit steps whatever its accuracy (None: no such rule).  At most `restarts`
    # times; the steps of every attempt count towards max_steps, and the batches keep coming from the run's
    # one stream.  Restart k (1, 2, ...) starts from the recurrent_gain restart_gains[(k - 1) % len(restart_gains)]
    # (None there: PyTorch's uniform start); an empty restart_gains: the run's own recurrent_gain.
    restart_after: int | None = None
    restart_below: float = 0.96
    restart_limit: int | None = None
    # an attempt at a horizon past the first and before the last also restarts (from the first horizon) when the
    # mean error of its last 50 batches at that horizon has not halved in restart_stall steps: the clock starts once
    # 50 batches at the horizon are in, and again at every halving (None: no such rule)
    restart_stall: int | None = None
    restarts: int = 0
    restart_gains: tuple = ()
    # a number: for a task whose Φ is a signed permutation (every input value on a cycle, as in repeat copy),
    # every restart starts from an orthogonal W_hh of this gain, whatever restart_gains says (None: no exception)
    permutation_restart_gain: float | None = None

    def __post_init__(self):
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        for name in ("batch", "max_steps", "test_horizon", "test_batches", "check_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.horizons or any(not isinstance(h, int) or h <= 0 for h in self.horizons):
            raise ValueError(
                f"horizons must be a non-empty sequence of positive integers, got {self.horizons!r}"
            )
        if not 0 < self.threshold <= 1 or not 0 < self.solved_accuracy <= 1:
            raise ValueError("threshold and solved_accuracy must lie in (0, 1]")
        if not self.clip > 0:
            raise ValueError(f"clip must be positive, got {self.clip}")
        if self.chunk is not None and (
            isinstance(self.chunk, bool) or not isinstance(self.chunk, int) or self.chunk <= 0
        ):
            raise ValueError(f"chunk must be None or a positive integer, got {self.chunk!r}")
        if self.decay_from is not None and not (
            isinstance(self.decay_from, int) and 0 <= self.decay_from < len(self.horizons)
        ):
            raise ValueError(
                f"decay_from must index the horizons (0..{len(self.horizons) - 1}), got {self.decay_from!r}"
            )
        if self.loss not in ("mse", "hinge"):
            raise ValueError(f"loss must be 'mse' or 'hinge', got {self.loss!r}")
        if self.readout_l2 is not None and (
            isinstance(self.readout_l2, bool)
            or not isinstance(self.readout_l2, (int, float))
            or not (self.readout_l2 >= 0 and math.isfinite(self.readout_l2))
        ):
            raise ValueError(
                f"readout_l2 must be None or a non-negative number, got {self.readout_l2!r}"
            )
        if (
            isinstance(self.readout_l2_from, bool)
            or not isinstance(self.readout_l2_from, int)
            or not (0 <= self.readout_l2_from < len(self.horizons))
        ):
            raise ValueError(
                f"readout_l2_from must index the horizons (0..{len(self.horizons) - 1}), "
                f"got {self.readout_l2_from!r}"
            )
        for name in ("sv_floor", "permutation_restart_gain", "polish_lr_end"):
            value = getattr(self, name)
            if value is not None and not _positive_number(value):
                raise ValueError(f"{name} must be None or a positive number, got {value!r}")
        if not _positive_number(self.polish_lr):
            raise ValueError(f"polish_lr must be a positive number, got {self.polish_lr!r}")
        for name in (
            "sv_floor_steps",
            "restart_after",
            "restart_limit",
            "restart_stall",
            "polish_batch",
            "polish_horizon",
        ):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{name} must be None or a positive integer, got {value!r}")
        if (
            isinstance(self.decay_steps, bool)
            or not isinstance(self.decay_steps, int)
            or self.decay_steps < 0
        ):
            raise ValueError(
                f"decay_steps must be a non-negative integer, got {self.decay_steps!r}"
            )
        if not isinstance(self.restart_gains, tuple) or any(
            g is not None and not _positive_number(g) for g in self.restart_gains
        ):
            raise ValueError(
                f"restart_gains must be a tuple of positive numbers or None, got {self.restart_gains!r}"
            )
        if (
            isinstance(self.restart_below, bool)
            or not isinstance(self.restart_below, (int, float))
            or not 0 < self.restart_below <= 1
        ):
            raise ValueError(f"restart_below must lie in (0, 1], got {self.restart_below!r}")
        for name in ("polish_steps", "polish_pool", "restarts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if 0 < self.polish_pool < (self.polish_batch or self.batch):
            raise ValueError(
                f"polish_pool must be 0 (no mining) or at least the polish batch "
                f"({self.polish_batch or self.batch}), got {self.polish_pool}"
            )


_FAST = Schedule(
    lr=2e-3,
    threshold=0.99,
    max_steps=6_000,
    decay_steps=2_000,
    stop_when_solved=True,
    check_every=50,
)

_CHUNKED = replace(_FAST, chunk=20, max_steps=20_000, check_every=250)

#: The named schedules.  ``paper`` follows the paper's protocol.  ``chunked``, the book's default for
#: networks with at least 1.75 times as many units as the task recalls input values: ``fast`` with
#: truncated BPTT in chunks of 20 output steps, at most 20,000 steps (a step is one chunk, five per
#: sequence at horizon 100) and a solved check every 250 steps.  ``narrow``, the default below that width:
#: ``chunked`` with the measures that let a network keep every one of the circuit's modes when it has
#: few units to spare (the zoo's 64-unit repeat-copy recipe, in chunks, without its orthogonal start):
#: a floor of 1 under the singular values of ``W_hh``, weight decay 0.003 on the readout, a curriculum
#: that moves on only past batch accuracy 0.9999, at most 40,000 steps, then up to 2,000 polishing steps
#: on fresh plus hard sequences (skipped when the run has solved the task; stopped once it has).  An
#: attempt still at the first horizon after 3,000 steps, below batch accuracy 0.96 over its last 50
#: batches, or after 10,000 steps whatever its accuracy, starts again from a new initialisation, at most
#: five times, within the same 40,000 steps; so does an attempt at a horizon past the first and before the
#: last whose error (over its last 50 batches there) has not halved in 8,000 steps.  When the task's Φ is
#: a signed permutation (repeat copy), the restarts start from an orthogonal ``W_hh`` of gain 1.
#: ``fast`` (whole sequences) was the default until 2026-11-26; the zoo's planned models are built with it.
SCHEDULES: dict[str, Schedule] = {
    "paper": Schedule(),
    "fast": _FAST,
    "chunked": _CHUNKED,
    "narrow": replace(
        _CHUNKED,
        threshold=0.9999,
        sv_floor=1.0,
        readout_l2=0.003,
        max_steps=40_000,
        polish_steps=2_000,
        polish_lr=5e-4,
        polish_lr_end=5e-5,
        polish_batch=128,
        restart_after=3_000,
        restart_limit=10_000,
        restart_stall=8_000,
        restarts=5,
        permutation_restart_gain=1.0,
    ),
}


def default_schedule(task: Task, hidden: int) -> str:
    """The schedule :func:`train_rnn` uses when none is named: ``"chunked"`` when ``hidden`` is at least
    1.75 times the number of input values the task's output phase recalls (``task.recalled_bits()``, which
    is the long-lived modes for the paper's tasks and more for many others), ``"narrow"`` below that
    (chapter "Training RNNs on variable binding", section "Narrow networks").  ``benchmarks/results.md``
    ("Narrow networks") records where ``chunked`` alone fails: repeat copy at 64-96 units, compose copy
    at 36."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden <= 0:
        raise ValueError(f"hidden must be a positive integer, got {hidden!r}")
    return (
        "chunked" if 4 * hidden >= 7 * task.recalled_bits() else "narrow"
    )  # hidden >= 1.75 x bits, exactly


@dataclass
class TrainingLog:
    """What happened during one run of :func:`train_rnn` (chapter "Training RNNs on variable binding").

    ``steps``: optimizer steps taken; ``batches``: training batches drawn; ``solved_step``: the
    step at which the run was found to solve the task (None: never checked or not solved);
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


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training."""


def evaluate(
    model, task: Task, horizon: int = 200, batches: int = 10, seed: int = 0, batch_size: int = 64
) -> float:
    """Sign accuracy of ``model`` over the output phase of ``batches`` fresh batches.

    ``model`` is anything with ``run(inputs)`` (an :class:`~emtlib.rnn.ElmanRNN`, a circuit).
    Same ``seed``, same test sequences.  Chapter "Training RNNs on variable binding".
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if not hasattr(model, "run"):
        raise TypeError(f"model must have a run(inputs) method, got {type(model).__name__}")
    for name, value in (("horizon", horizon), ("batches", batches), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    correct = total = 0
    for _ in range(batches):
        inputs, targets = task.sample(batch_size, horizon, seed=int(rng.integers(2**63)))
        out = model.run(inputs)
        out = out.cpu() if isinstance(out, torch.Tensor) else torch.from_numpy(np.asarray(out))
        correct += int((torch.sign(out[task.s :]) == targets[task.s :]).sum())
        total += targets[task.s :].numel()
    return correct / total


def sequence_margins(model, task: Task, inputs, targets) -> torch.Tensor:
    """Each sequence's worst margin, ``min output * target`` over its output phase: ``(batch,)``.

    Negative where ``model`` gets at least one sign of that sequence wrong; small where it nearly
    does.  Chapter "Training RNNs on variable binding", section "Polishing with hard sequences".
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if not hasattr(model, "rnn") or not hasattr(model, "readout"):
        raise TypeError(f"model must be an emtlib.rnn.ElmanRNN, got {type(model).__name__}")
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

    Returns ``(inputs, targets)`` like :meth:`emtlib.tasks.Task.sample`, hardest first.  Same ``seed``,
    same pool.  Mining them is how the zoo polishes its repeat-copy and T4 networks (chapter "Training
    RNNs on variable binding", section "Polishing with hard sequences").
    """
    for name, value in (("count", count), ("pool", pool), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if count > pool:
        raise ValueError(f"count ({count}) must not exceed pool ({pool})")
    inputs, targets = task.sample(pool, horizon, seed=seed)
    keep = torch.argsort(sequence_margins(model, task, inputs, targets), stable=True)[:count]
    return inputs[:, keep], targets[:, keep]


def chunk_bounds(s: int, horizon: int, chunk: int | None) -> list[tuple[int, int]]:
    """The time ranges ``[start, end)`` of the chunks of one training sequence of ``s + horizon`` steps.

    Each chunk holds ``chunk`` output steps; the first also holds the ``s`` input steps, the last may be
    shorter.  ``chunk=None`` (or at least ``horizon``) gives the whole sequence as one range.  One
    optimizer step per range is truncated backpropagation through time (chapter "Training RNNs on
    variable binding", section "The paper's protocol and the book's default").
    """
    for name, value in (("s", s), ("horizon", horizon)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk <= 0):
        raise ValueError(f"chunk must be None or a positive integer, got {chunk!r}")
    T = s + horizon
    step = chunk or T
    starts = [0, *range(s + step, T, step)]
    return list(zip(starts, [*starts[1:], T]))


def _adam(model, lr: float, decay: float, readout_decay: float):
    """Adam with two parameter groups: the recurrent and input weights (weight decay ``decay``) and
    the readout (``readout_decay``), in that order."""
    return torch.optim.Adam(
        [
            {"params": [model.rnn.weight_ih_l0, model.rnn.weight_hh_l0], "weight_decay": decay},
            {"params": list(model.readout.parameters()), "weight_decay": readout_decay},
        ],
        lr=lr,
    )


def singular_value_floor(W: torch.Tensor, floor: float) -> torch.Tensor:
    """The penalty sum_i max(0, floor - sigma_i)^2 over the singular values sigma_i of ``W``.

    Zero when no singular value is below ``floor``; it keeps ``W`` away from low rank without asking
    anything else of it.  Chapter "Training RNNs on variable binding", section "The zoo".
    """
    return torch.sum(torch.relu(floor - torch.linalg.svdvals(W)) ** 2)


def _update(model, opt, sched: Schedule, outputs, targets, step: int, horizon: int):
    """One optimizer step on the output-phase ``outputs`` against ``targets``, plus the schedule's
    singular-value floor while it applies; returns the task loss (without the floor's term)."""
    if sched.loss == "mse":
        loss = torch.mean((outputs - targets) ** 2)
    else:
        loss = torch.mean(torch.relu(1 - outputs * targets) ** 2)
    if not torch.isfinite(loss):
        raise TrainingDiverged(
            f"loss became {loss.item()} at step {step + 1} (horizon {horizon}); lower the learning "
            f"rate (now {opt.param_groups[0]['lr']:.2g}) or the gradient clip (now {sched.clip}), "
            "or try another seed"
        )
    total = loss
    if sched.sv_floor is not None and (sched.sv_floor_steps is None or step < sched.sv_floor_steps):
        total = loss + singular_value_floor(model.rnn.weight_hh_l0, sched.sv_floor)
    opt.zero_grad(set_to_none=True)
    total.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), sched.clip)
    opt.step()
    return loss


def _polish(
    model,
    task: Task,
    sched: Schedule,
    decays: list,
    rng,
    step: int,
    history: list,
    bar,
    start: float,
    check_seed: int,
) -> tuple[int, int | None]:
    """The polishing phase of :func:`train_rnn`; returns the step count after it and the step at which
    the model was solved (None: not solved, or not checked).

    ``decays`` are the weight decays of the run's two parameter groups (recurrent and input
    weights; readout) at its end.  With ``stop_when_solved`` the phase checks every ``check_every``
    of its steps whether the model is solved (:func:`evaluate` at ``test_horizon`` exactly 1.0) and
    stops if so (the test sequences come from ``check_seed``).  Chapter "Training RNNs on variable
    binding", section "Polishing with hard sequences".
    """
    opt = _adam(model, sched.polish_lr, *decays)
    horizon = sched.polish_horizon or sched.horizons[-1]
    count = sched.polish_batch or sched.batch
    device = next(model.parameters()).device
    end = sched.polish_lr if sched.polish_lr_end is None else sched.polish_lr_end
    for i in range(sched.polish_steps):
        for group in opt.param_groups:
            group["lr"] = sched.polish_lr * (end / sched.polish_lr) ** (i / sched.polish_steps)
        inputs, targets = task.sample(count, horizon, seed=int(rng.integers(2**63)))
        if sched.polish_pool:
            hard = hardest_sequences(
                model, task, count, sched.polish_pool, horizon, int(rng.integers(2**63))
            )
            inputs, targets = torch.cat([inputs, hard[0]], 1), torch.cat([targets, hard[1]], 1)
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model.readout(model.rnn(inputs)[0])[task.s :]
        loss = _update(model, opt, sched, outputs, targets[task.s :], step, horizon)
        step += 1
        if not history or step - history[-1]["step"] >= 50:
            acc = float((torch.sign(outputs.detach()) == targets[task.s :]).float().mean())
            history.append(
                {
                    "step": step,
                    "loss": loss.item(),
                    "accuracy": acc,
                    "horizon": horizon,
                    "time": time.perf_counter() - start,
                    "polish": True,
                }
            )
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", horizon=horizon, phase="polish")
        if (
            sched.stop_when_solved
            and (i + 1) % sched.check_every == 0
            and evaluate(model, task, sched.test_horizon, sched.test_batches, seed=check_seed)
            == 1.0
        ):
            return step, step
    return step, None


def restart_seed(seed: int, attempt: int) -> int:
    """The initialisation seed of ``attempt`` (0, 1, ...) of a run with ``seed``: ``seed`` itself for
    attempt 0, a number drawn from ``(seed, attempt)`` for each restart (chapter "Training RNNs on
    variable binding", section "Restarts")."""
    for name, value in (("seed", seed), ("attempt", attempt)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if attempt == 0:
        return seed
    return int(np.random.SeedSequence([seed, attempt]).generate_state(1, np.uint64)[0] >> 2)


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", leave=True)


def train_rnn(
    task: Task,
    hidden: int = 128,
    seed: int = 0,
    l2: float = 0.0,
    schedule: str | Schedule | None = None,
    progress: bool = False,
    device: str | torch.device = "cpu",
    **overrides,
) -> ElmanRNN:
    """Train a bias-free tanh Elman RNN on ``task`` (chapter "Training RNNs on variable binding").

    ``schedule`` is a name in :data:`SCHEDULES` (``"chunked"``, ``"narrow"``, ``"fast"``, ``"paper"``), a
    :class:`Schedule`, or None (default): :func:`default_schedule` picks ``"chunked"`` or, for a network
    with fewer than 1.75 times as many units as the task recalls input values, ``"narrow"``; keyword ``overrides``
    replace single fields (e.g. ``max_steps=500``).  ``l2`` is Adam's weight decay, on every weight
    unless the schedule's ``readout_l2`` sets the readout's own (repeat copy needs that: chapter
    "Training RNNs on variable binding", section "Weight decay on the readout").  The same
    ``seed`` gives the same weights: it fixes the initialisation and every training batch.
    Returns the model with two extra attributes: ``history`` (one dict per logged step) and
    ``metadata`` (everything :func:`emtlib.rnn.save_model` should store).
    ``device`` is where the training runs (``"cpu"``, ``"cuda"``, ...); the model comes back on the
    CPU either way.  Same seed, device and machine, same weights; another device, or a CPU of another
    make (other floating-point kernels), gives other rounding, so other (equally trained) weights and step
    counts (``benchmarks/results.md``, the runs of 2026-11-27).
    Raises :class:`TrainingDiverged` if the loss stops being finite.
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    if schedule is None:
        schedule = default_schedule(task, hidden)
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {sorted(SCHEDULES)} or a Schedule, got {schedule!r}"
            )
        name, sched = schedule, SCHEDULES[schedule]
    elif isinstance(schedule, Schedule):
        name, sched = "custom", schedule
    else:
        raise TypeError(f"schedule must be a name or a Schedule, got {type(schedule).__name__}")
    if overrides:
        unknown = set(overrides) - set(Schedule.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown schedule fields: {sorted(unknown)}")
        sched = replace(sched, **overrides)
    if not (
        isinstance(l2, (int, float)) and not isinstance(l2, bool) and l2 >= 0 and math.isfinite(l2)
    ):
        raise ValueError(f"l2 must be a non-negative number, got {l2!r}")

    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        ) from err

    # l2 decays the recurrent and input weights; the readout gets sched.readout_l2 where it is set
    # (from the start of horizon index sched.readout_l2_from; before it the readout decays with l2)
    readout_l2 = float(l2) if sched.readout_l2 is None else float(sched.readout_l2)

    # Φ a signed permutation: its circuit is orthogonal, and so are the restarts' starts if the schedule says so
    permutation = sched.permutation_restart_gain is not None and task.long_lived_modes() == task.n

    def initial(attempt: int):
        """The model and optimizer an attempt starts from (attempt 0: ``seed`` itself)."""
        init_seed = restart_seed(seed, attempt)
        model = ElmanRNN(task.d, hidden, seed=init_seed)
        gain = sched.recurrent_gain
        if attempt and permutation:
            gain = sched.permutation_restart_gain
        elif attempt and sched.restart_gains:
            gain = sched.restart_gains[(attempt - 1) % len(sched.restart_gains)]
        with torch.no_grad():
            model.rnn.weight_ih_l0.mul_(sched.input_scale)
            if gain is not None:
                generator = torch.Generator().manual_seed(init_seed + 1)
                torch.nn.init.orthogonal_(model.rnn.weight_hh_l0, gain=gain, generator=generator)
        model.to(device)
        return model, _adam(
            model, sched.lr, float(l2), readout_l2 if sched.readout_l2_from == 0 else float(l2)
        )

    attempt = attempt_start = 0
    restarted_at = []  # the steps at which a restart began
    recent = collections.deque(
        maxlen=50
    )  # the batch accuracies of the attempt's last 50 batches at this horizon
    stall_error, stall_since = (
        None,
        0,
    )  # the error of those 50 when it last halved, and the step it did
    model, opt = initial(attempt)
    rng = np.random.default_rng([seed, 1])  # the batches: independent of the initialisation stream
    level, final_since, history = 0, None, []
    decay_level = len(sched.horizons) - 1 if sched.decay_from is None else sched.decay_from
    if decay_level == 0:
        final_since = 0
    solved_step, last_check = None, -sched.check_every
    bar = _progress(sched.max_steps + sched.polish_steps, progress)
    start = time.perf_counter()
    step = sequences = 0
    try:
        while step < sched.max_steps:
            taken = step - attempt_start
            stuck_first = level == 0 and (
                (
                    sched.restart_after is not None
                    and taken >= sched.restart_after
                    and np.mean(recent) < sched.restart_below
                )
                or (sched.restart_limit is not None and taken >= sched.restart_limit)
            )
            stalled = (
                0 < level < len(sched.horizons) - 1
                and sched.restart_stall is not None
                and stall_error is not None
                and step - stall_since >= sched.restart_stall
            )
            if attempt < sched.restarts and (stuck_first or stalled):
                # stuck: drop this attempt and start again from a new initialisation
                attempt, attempt_start = attempt + 1, step
                recent.clear()
                level, stall_error, stall_since = 0, None, step
                model, opt = initial(attempt)
                final_since = step if decay_level == 0 else None
                last_check = step - sched.check_every
                restarted_at.append(step)
            horizon = sched.horizons[level]
            sequences += 1
            inputs, targets = task.sample(sched.batch, horizon, seed=int(rng.integers(2**63)))
            if sched.input_noise:
                noise = torch.from_numpy(rng.standard_normal(inputs.shape)).float()
                inputs = inputs + sched.input_noise * noise
            inputs, targets = inputs.to(device), targets.to(device)
            # one optimizer step per chunk; the hidden state is carried across chunks (truncated BPTT)
            h, correct, total = None, 0, 0
            for c0, c1 in chunk_bounds(task.s, horizon, sched.chunk):
                if final_since is not None and sched.decay_steps:
                    frac = min(step - final_since, sched.decay_steps) / sched.decay_steps
                    for group in opt.param_groups:
                        group["lr"] = sched.lr * 0.1**frac
                states, h_last = model.rnn(inputs[c0:c1], h)
                outputs, z = model.readout(states), targets[c0:c1]
                k = max(0, task.s - c0)  # the output phase starts at row k of this chunk
                loss = _update(model, opt, sched, outputs[k:], z[k:], step, horizon)
                step += 1
                h = h_last.detach()
                correct += int((torch.sign(outputs[k:].detach()) == z[k:]).sum())
                total += z[k:].numel()
                if bar is not None:
                    bar.update(1)
                if step >= sched.max_steps:
                    break
            acc = correct / total
            recent.append(acc)
            if (
                len(recent) == recent.maxlen
            ):  # the stall rule's reference: the error when it last halved
                error = 1 - float(np.mean(recent))
                if stall_error is None or error <= stall_error / 2:
                    stall_error, stall_since = error, step
            if not history or step - history[-1]["step"] >= 50:
                history.append(
                    {
                        "step": step,
                        "loss": loss.item(),
                        "accuracy": acc,
                        "horizon": horizon,
                        "time": time.perf_counter() - start,
                    }
                )
            if bar is not None:
                bar.set_postfix(loss=f"{loss.item():.4f}", acc=f"{acc:.4f}", horizon=horizon)
            last_level = level == len(sched.horizons) - 1
            if not last_level and acc > sched.threshold:
                level += 1
                recent.clear()
                stall_error, stall_since = None, step
                if level == sched.readout_l2_from:
                    opt.param_groups[1]["weight_decay"] = readout_l2
                if level == decay_level:
                    final_since = step
            elif (
                last_level
                and sched.stop_when_solved
                and acc >= sched.solved_accuracy
                and step - last_check >= sched.check_every
            ):
                last_check = step
                if (
                    evaluate(
                        model, task, sched.test_horizon, sched.test_batches, seed=seed + 10_000
                    )
                    == 1.0
                ):
                    solved_step = step
                    break
        # polishing follows the run, unless the run stopped because it had solved the task
        if sched.polish_steps and solved_step is None:
            step, solved_step = _polish(
                model,
                task,
                sched,
                [g["weight_decay"] for g in opt.param_groups],
                rng,
                step,
                history,
                bar,
                start,
                seed + 10_000,
            )
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    model.to("cpu")
    model.history = history
    model.metadata = {
        "task_id": list(task.task_id),
        "s": task.s,
        "d": task.d,
        "hidden": hidden,
        "seed": seed,
        "l2": l2,
        "schedule": name,
        "hyperparameters": {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(sched).items()
        },
        "steps": step,
        "batches": sequences,
        "restarted_at": restarted_at,
        "solved_step": solved_step,
        "final_horizon_reached": level == len(sched.horizons) - 1,
        "wall_time_s": round(wall, 3),
        "torch": torch.__version__,
        "device": str(device),
    }
    return model

"""The variable binding task family (chapter "Variable binding tasks").

A task of the family is fixed by a window length ``s``, a dimension ``d`` and a linear operator
``L`` of shape ``(s*d, d)``.  For the first ``s`` steps the input ``x(t)`` (entries ±1) is copied
into the target, ``z(t) = x(t)``; afterwards the input is zero and the target obeys

    z(t) = L^T vec(z(t-s), ..., z(t-1)),

where the history is flattened oldest first: row ``k*d + j`` of ``L`` (``k = 0`` oldest) multiplies
component ``j`` of ``z(t-s+k)``.  Every column of ``L`` holds exactly one entry ±1, so each output
component copies one remembered component, possibly negated.

Tasks are named by the three-number id of the paper (Karuvally, Delmastro and Siegelmann, 2023)::

    t1: its d set bits (all below s*d) are the rows of L in use, ascending: `rows`
    t2: base-d digits, least significant first; digit i > 0 swaps choice[i] and choice[i+digit]
        (allowed only while digit < d - i); the result is `choice`
    t3: bit i set negates output component i: `signs`
    L[choice[j], j] = signs[j]

Φ, its cycles and the values a task recalls belong to the circuit that solves it
(:mod:`emtlib.circuit`).  This module imports only :mod:`emtlib._checks`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ._checks import integer

__all__ = [
    "MAX_HORIZON",
    "MAX_VALUES",
    "PAPER_TASKS",
    "Task",
    "check_task",
    "decode_task_id",
    "encode_task_id",
    "random_task",
    "repeat_copy",
    "task_label",
]

#: The longest output phase :meth:`Task.generate` and :meth:`Task.sample` produce in one call.
MAX_HORIZON = 1_000_000
#: The most numbers one call of :meth:`Task.generate` returns (800 MB of float64); generate a longer
#: or larger batch in pieces.
MAX_VALUES = 100_000_000


def _check_id(task_id) -> tuple[int, int, int]:
    if isinstance(task_id, (str, bytes)) or not isinstance(task_id, Sequence):
        raise TypeError(
            f"task_id must be a sequence of three non-negative integers (t1, t2, t3), "
            f"got {task_id!r} ({type(task_id).__name__})"
        )
    if len(task_id) != 3:
        raise ValueError(
            f"task_id must be a sequence of three non-negative integers (t1, t2, t3), got {task_id!r}"
        )
    return tuple(integer(v, name) for v, name in zip(task_id, ("t1", "t2", "t3")))


# --------------------------------------------------------------------------------------------
# The id encoding
# --------------------------------------------------------------------------------------------
def decode_task_id(s: int, d: int, task_id) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``(t1, t2, t3)`` into ``(choice, signs)`` (chapter "Variable binding tasks").

    ``choice[j]`` is the row of ``L`` that feeds output component ``j``; ``signs[j]`` is ±1.
    Raises ValueError naming the rule that an invalid id breaks.
    """
    s, d = integer(s, "s", 1), integer(d, "d", 1)
    t1, t2, t3 = _check_id(task_id)

    # t1: the set bits are the rows in use
    rows = [bit for bit in range(t1.bit_length()) if (t1 >> bit) & 1]
    if len(rows) != d:
        raise ValueError(
            f"t1 must have exactly d = {d} set bits (one row of L per output component), "
            f"but t1 = {t1} has {len(rows)}"
        )
    if rows[-1] >= s * d:
        raise ValueError(
            f"t1 may only set bits below s*d = {s * d} (the rows of L), but bit {rows[-1]} is set"
        )

    # t2: base-d digits, least significant first, each a swap
    choice = list(rows)
    rest, i = t2, 0
    while rest:
        digit = rest % d
        if digit:
            if digit >= d - i:
                raise ValueError(
                    f"t2 digit {i} (base d = {d}, least significant first) is {digit}, "
                    f"but digit i must be below d - i = {d - i}"
                )
            choice[i], choice[i + digit] = choice[i + digit], choice[i]
        rest //= d
        i += 1

    # t3: bit i negates output component i
    if t3 >= 2**d:
        raise ValueError(
            f"t3 may only set the lowest d = {d} bits (one per output component), got t3 = {t3}"
        )
    signs = np.array([-1 if (t3 >> j) & 1 else 1 for j in range(d)], dtype=np.int64)
    return np.array(choice, dtype=np.int64), signs


def encode_task_id(s: int, d: int, choice, signs=None) -> tuple[int, int, int]:
    """Encode ``choice`` (the row feeding each output) and ``signs`` into the paper's id.

    The inverse of :func:`decode_task_id` (chapter "Variable binding tasks"): ``t1`` marks the
    rows used, ``t2`` records the swaps that turn the ascending rows into ``choice``, and ``t3``
    marks the negated outputs.  ``signs`` defaults to all +1.
    """
    s, d = integer(s, "s", 1), integer(d, "d", 1)
    choice = [int(c) for c in np.asarray(choice).ravel()]
    if len(choice) != d:
        raise ValueError(f"choice must hold d = {d} rows, got {len(choice)}")
    if len(set(choice)) != d:
        raise ValueError(f"choice must hold d distinct rows, got {choice}")
    if min(choice) < 0 or max(choice) >= s * d:
        raise ValueError(f"rows in choice must lie in [0, s*d) = [0, {s * d}), got {choice}")
    signs = np.ones(d, dtype=np.int64) if signs is None else np.asarray(signs).ravel()
    if signs.shape != (d,) or not np.all(np.isin(signs, (-1, 1))):
        raise ValueError(f"signs must be d = {d} entries, each +1 or -1, got {signs.tolist()}")

    t1 = sum(1 << r for r in choice)
    current = sorted(choice)
    t2 = 0
    for i in range(d):
        j = current.index(choice[i])  # j >= i: positions before i are already fixed
        current[i], current[j] = current[j], current[i]
        t2 += (j - i) * d**i
    t3 = sum(1 << j for j in range(d) if signs[j] == -1)
    return t1, t2, t3


# --------------------------------------------------------------------------------------------
# The task
# --------------------------------------------------------------------------------------------
class Task:
    """One task of the variable binding family (chapter "Variable binding tasks").

    >>> task = Task(s=8, d=8, task_id=(255, 0, 0))   # repeat copy: z(t) = z(t-8)
    >>> task.operator.shape
    (64, 8)
    """

    def __init__(self, s: int, d: int, task_id):
        self.s = integer(s, "s", 1)
        self.d = integer(d, "d", 1)
        self.task_id = _check_id(task_id)
        self.choice, self.signs = decode_task_id(self.s, self.d, self.task_id)
        self.choice.setflags(write=False)
        self.signs.setflags(write=False)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_choice(cls, s: int, d: int, choice, signs=None) -> Task:
        """The task whose output ``j`` copies row ``choice[j]`` of the history, times ``signs[j]``."""
        return cls(s, d, encode_task_id(s, d, choice, signs))

    # -- the operator and its reading ----------------------------------------------------------
    @property
    def n(self) -> int:
        """Size of the flattened history window, ``s*d`` (the circuit's hidden size)."""
        return self.s * self.d

    @property
    def rows(self) -> np.ndarray:
        """The rows of ``L`` in use, ascending (the set bits of t1)."""
        return np.sort(self.choice)

    @property
    def operator(self) -> np.ndarray:
        """``L`` as a float array ``(s*d, d)``; row ``k*d + j`` is component j of ``z(t-s+k)``."""
        L = np.zeros((self.n, self.d))
        L[self.choice, np.arange(self.d)] = self.signs
        return L

    @property
    def is_repeat_copy(self) -> bool:
        """True when ``z(t) = z(t-s)``: the id ``(2^d - 1, 0, 0)``."""
        return self.task_id == (2**self.d - 1, 0, 0)

    def rules(self) -> list[str]:
        """One readable line per output component, e.g. ``z(t)[0] = -z(t-4)[4]``."""
        lines = []
        for j, (row, sign) in enumerate(zip(self.choice, self.signs)):
            k, i = divmod(int(row), self.d)
            lines.append(f"z(t)[{j}] = {'-' if sign < 0 else ''}z(t-{self.s - k})[{i}]")
        return lines

    def describe(self) -> str:
        """A multi-line description of the task: its id, sizes and rules."""
        kind = "repeat copy" if self.is_repeat_copy else "variable binding task"
        return f"{kind} s={self.s}, d={self.d}, id={self.task_id}\n" + "\n".join(self.rules())

    # -- the one serialised form ---------------------------------------------------------------
    def to_json(self) -> list[int]:
        """``[s, d, t1, t2, t3]``: the one form in which a task is written to a file."""
        return [self.s, self.d, *self.task_id]

    @classmethod
    def from_json(cls, value) -> Task:
        """The task written by :meth:`to_json`; a ValueError names what is wrong with ``value``."""
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 5:
            raise ValueError(f"a task is stored as [s, d, t1, t2, t3], got {value!r}")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise ValueError(f"a stored task holds five integers [s, d, t1, t2, t3], got {value!r}")
        try:
            return cls(value[0], value[1], tuple(value[2:]))
        except ValueError as err:
            raise ValueError(f"the stored task {list(value)} is not valid: {err}") from None

    # -- sequences -------------------------------------------------------------------------------
    def generate(self, x0, horizon: int) -> np.ndarray:
        """The whole target sequence from its first ``s`` steps (chapter "Variable binding tasks").

        ``x0`` has shape ``(..., s, d)`` (any leading batch shape; entries ±1 for the task, but any
        real numbers are accepted since the recurrence is linear).  Returns ``(..., s+horizon, d)``.
        ``horizon`` is at most :data:`MAX_HORIZON` and the result at most :data:`MAX_VALUES` numbers.
        """
        horizon = integer(horizon, "horizon", 0, MAX_HORIZON)
        x0 = np.asarray(x0, dtype=float)
        if x0.ndim < 2 or x0.shape[-2:] != (self.s, self.d):
            raise ValueError(
                f"x0 must have shape (..., s, d) = (..., {self.s}, {self.d}), got {x0.shape}"
            )
        if not np.all(np.isfinite(x0)):
            raise ValueError("x0 must be finite")
        lead = x0.shape[:-2]
        values = int(np.prod(lead, dtype=np.int64)) * (self.s + horizon) * self.d
        if values > MAX_VALUES:
            raise ValueError(
                f"the sequence would hold {values:,} numbers, more than MAX_VALUES = {MAX_VALUES:,}: "
                "generate fewer sequences or a shorter horizon at a time"
            )
        z = np.zeros((int(np.prod(lead, dtype=int)), self.s + horizon, self.d))
        z[:, : self.s, :] = x0.reshape(-1, self.s, self.d)
        # Output j reads z(t - s + k)[i] with k*d + i = choice[j]: an index into the flattened
        # window z(t-s .. t-1), which is one contiguous block of each row of z.
        flat = z.reshape(z.shape[0], -1)
        width = self.s * self.d
        for t in range(self.s, self.s + horizon):
            start = (t - self.s) * self.d
            flat[:, t * self.d : (t + 1) * self.d] = (
                self.signs * flat[:, start : start + width][:, self.choice]
            )
        return z.reshape(lead + z.shape[1:])

    def sample(self, batch: int, horizon: int, seed=None):
        """A random batch ``(inputs, targets)``, torch float32, time-major ``(s+horizon, batch, d)``.

        Inputs are ±1 for the first ``s`` steps and zero after; targets are zero for the first
        ``s`` steps (no loss there) and follow the task afterwards.  Same ``seed``, same batch;
        ``seed=None`` draws fresh randomness.
        """
        batch = integer(batch, "batch", 1)
        horizon = integer(horizon, "horizon", 0, MAX_HORIZON)
        rng = np.random.default_rng(seed)
        x0 = rng.choice(np.array([-1.0, 1.0]), size=(batch, self.s, self.d))
        z = self.generate(x0, horizon)  # (batch, T, d)
        inputs = np.zeros_like(z)
        inputs[:, : self.s] = x0
        targets = z.copy()
        targets[:, : self.s] = 0.0
        to_torch = lambda a: torch.from_numpy(
            np.ascontiguousarray(a.transpose(1, 0, 2), dtype=np.float32)
        )
        return to_torch(inputs), to_torch(targets)

    # -- dunder ----------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Task(s={self.s}, d={self.d}, task_id={self.task_id})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Task) and (self.s, self.d, self.task_id) == (
            other.s,
            other.d,
            other.task_id,
        )

    def __hash__(self) -> int:
        return hash((self.s, self.d, self.task_id))


def repeat_copy(s: int, d: int) -> Task:
    """The repeat copy task ``z(t) = z(t-s)``, id ``(2^d - 1, 0, 0)``."""
    return Task(s, d, (2 ** integer(d, "d", 1) - 1, 0, 0))


def random_task(s: int, d: int, seed=None) -> Task:
    """A uniformly random task of the family for window ``s`` and dimension ``d``.

    Draws ``d`` distinct rows of ``L`` in random order and random signs. Same seed, same task.
    """
    s, d = integer(s, "s", 1), integer(d, "d", 1)
    rng = np.random.default_rng(seed)
    choice = rng.choice(s * d, size=d, replace=False)
    signs = rng.choice(np.array([-1, 1]), size=d)
    return Task.from_choice(s, d, choice, signs)


#: The four tasks of the paper's Table 1 (s = d = 8).  The authors' notebooks disagree on which
#: of the last three is called T2 and which T3, so the book names them by id as well; here T2 is
#: the plain compose copy and T3, T4 its permuted, sign-flipped variants in the paper's row order.
PAPER_TASKS: dict[str, Task] = {
    "T1": Task(8, 8, (255, 0, 0)),
    "T2": Task(8, 8, (9241421688590303745, 0, 0)),
    "T3": Task(8, 8, (9241421688590303745, 262676, 189)),
    "T4": Task(8, 8, (9241421688590303745, 38637, 145)),
}


def task_label(task: Task) -> str:
    """A short name: ``"T1"`` ... ``"T4"`` for the paper's tasks, ``"s5d4(t1,t2,t3)"`` otherwise."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    for name, paper in PAPER_TASKS.items():
        if task == paper:
            return name
    t1, t2, t3 = task.task_id
    return f"s{task.s}d{task.d}({t1},{t2},{t3})"


def check_task(task) -> Task:
    """``task`` itself if it is a :class:`Task`; a TypeError naming what it got otherwise (the
    argument check of every function that takes a task)."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    return task

"""The variable binding circuit (chapter "The variable binding circuit").

The hidden space of the circuit has ``n = s*d`` dimensions, split into ``s`` subspaces ("slots")
of ``d`` dimensions each; slot ``k = 0`` holds the oldest remembered vector and slot ``s-1`` the
newest.  Each step the recurrent matrix Φ (:func:`phi`) shifts every slot one
place towards the oldest and writes ``L^T`` applied to the whole window into the newest slot.  The
input map writes ``u(t)`` into the newest slot, and the readout reads it.

Two versions:

* ``build_circuit(task, nonlinear=False)``: the paper's linear circuit
  ``h(t) = Φ h(t-1) + W_uh u(t)``.  Exact for repeat copy; on the compose tasks the composition
  row already fires while the inputs arrive and adds stray terms, so it makes errors.
* ``build_circuit(task, nonlinear=True)``: ``h(t) = tanh(g Φ h(t-1) + b W_uh u(t))`` with input
  gain ``b`` above the largest stray term ``g`` (every ``|h| < 1``) and ``g > 1`` so that
  ``m -> tanh(g m)`` holds the magnitudes at its fixed point.  Signs then follow the task's
  recurrence exactly, on every task of the family, for as long as one cares to run it.

The module also holds what the circuit says about a task: Φ, the cycles of its selection graph,
its long-lived modes and the input values the output phase recalls (chapters "Variable binding
tasks" and "The variable binding circuit").  It imports :mod:`emtlib.tasks` and
:mod:`emtlib._checks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._checks import boolean, real
from .tasks import Task, check_task

__all__ = [
    "Circuit",
    "build_circuit",
    "cycles",
    "ideal_hidden_states",
    "ideal_spectrum",
    "long_lived_modes",
    "phi",
    "recalled_bits",
    "saturation_level",
]


# -- what the circuit says about a task ----------------------------------------------------------
def phi(task: Task) -> np.ndarray:
    """The ideal Φ of ``task``, ``(s*d, s*d)``: it maps ``vec(z(t-s+1..t))`` to ``vec(z(t-s+2..t+1))``.

    Rows ``i < (s-1)*d`` shift the window (``Φ[i, i+d] = 1``); the last ``d`` rows are ``L^T``
    (chapter "The variable binding circuit").
    """
    n, d = check_task(task).n, task.d
    out = np.zeros((n, n))
    out[np.arange(n - d), np.arange(d, n)] = 1.0
    out[n - d :, :] = task.operator.T
    return out


def ideal_spectrum(task: Task) -> np.ndarray:
    """Eigenvalues of Φ (numerically), sorted by modulus (descending) then angle; eigenvalues
    below ``1e-9`` in modulus are set to zero (chapter "Variable binding tasks")."""
    lam = np.linalg.eigvals(phi(task))
    lam = np.where(np.abs(lam) < 1e-9, 0.0, lam)
    order = np.lexsort((np.round(np.angle(lam), 9), -np.round(np.abs(lam), 9)))
    return lam[order]


def cycles(task: Task) -> list[tuple[list[int], int]]:
    """Cycles of the selection graph of ``task``, each as (positions, sign product).

    Position ``p`` (0 oldest ... ``s*d - 1`` newest) of the window is fed, one step later, by
    position ``p + d`` or, in the last block, by ``choice[p - (s-1)*d]``.  The non-zero
    eigenvalues of Φ are the roots of ``λ^m = sign`` for each cycle of length ``m`` (chapter
    "Variable binding tasks").
    """
    n, d = check_task(task).n, task.d
    feeder = np.empty(n, dtype=np.int64)
    feeder[: n - d] = np.arange(d, n)
    feeder[n - d :] = task.choice
    sign = np.ones(n, dtype=np.int64)
    sign[n - d :] = task.signs
    seen = np.zeros(n, dtype=bool)
    found = []
    for start in range(n):
        path, p = [], start
        while not seen[p]:
            seen[p] = True
            path.append(p)
            p = int(feeder[p])
        if p in path:
            cycle = path[path.index(p) :]
            found.append((cycle, int(np.prod(sign[cycle]))))
    return found


def long_lived_modes(task: Task, threshold: float = 0.9) -> int:
    """Number of eigenvalues of Φ with modulus above ``threshold`` (the circuit's memory size).

    Counted exactly from :func:`cycles`, not from a numerical eigen-decomposition (whose
    eigenvalues spread for defective blocks).  Φ's non-zero eigenvalues are roots of ±1, so every
    ``threshold`` in [0, 1) gives the same count (chapter "Variable binding tasks").
    """
    threshold = real(threshold, "threshold", 0.0)
    if not threshold < 1:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold}")
    return sum(len(cycle) for cycle, _ in cycles(task))


def recalled_bits(task: Task) -> int:
    """How many of the ``s*d`` input values the output phase of ``task`` ever copies.

    The values on the cycles of the selection graph are copied forever; a value on a branch that
    leads into a cycle is copied a few times and then forgotten, or never copied at all.  So the
    count is at least :func:`long_lived_modes`, and larger when the early outputs copy such branch
    values.  It is the rank of Φ's observability matrix (the readout being Φ's last ``d`` rows),
    and a lower bound on the units of any network that is linear after the input phase (appendix
    "Training recipes, measured", section "Which recipe for which width").
    """
    n, d = check_task(task).n, task.d
    held = np.arange(n)  # which input value each window position holds
    recalled = set()
    for _ in range(2 * n):  # within n steps only cycle values remain; each is read within n more
        read = held[task.choice]
        recalled.update(read.tolist())
        held = np.concatenate([held[d:], read])
    return len(recalled)


# -- the circuit -------------------------------------------------------------------------------------


def saturation_level(gain: float, tol: float = 1e-13) -> float:
    """The positive fixed point ``a = tanh(gain * a)`` (exists for ``gain > 1``).

    The saturating circuit's hidden magnitudes settle there; its readout divides by it so that
    outputs approach ±1 (chapter "The variable binding circuit").
    """
    gain = real(gain, "gain", 1.0, strict_min=True)  # > 1: a non-zero fixed point of tanh(gain*a)
    a = 1.0
    for _ in range(10_000):
        new = np.tanh(gain * a)
        if abs(new - a) < tol:
            break
        a = new
    return float(new)


@dataclass(frozen=True, eq=False)
class Circuit:
    """A circuit solving one task: ``h(t) = act(W_hh h(t-1) + W_uh u(t))``, ``y(t) = W_r h(t)``.

    Attributes are numpy arrays: ``W_hh (n, n)``, ``W_uh (n, d)``, ``W_r (d, n)`` and the ideal
    ``phi (n, n)`` of the task.  ``nonlinear`` says whether ``act`` is tanh or the identity.
    Built by :func:`build_circuit`; explained in chapter "The variable binding circuit".
    """

    task: Task
    W_hh: np.ndarray
    W_uh: np.ndarray
    W_r: np.ndarray
    phi: np.ndarray
    nonlinear: bool
    gain: float = 1.0
    input_gain: float = 1.0

    def __post_init__(self):
        for name in ("W_hh", "W_uh", "W_r", "phi"):
            getattr(self, name).setflags(write=False)

    @property
    def n(self) -> int:
        """Hidden size ``s*d``."""
        return self.W_hh.shape[0]

    def _as_numpy(self, inputs):
        """Inputs as float64 numpy ``(T, batch, d)``, plus a function that gives results back as
        floating point: numpy float64 for numpy input; for torch input a tensor of the input's
        floating dtype, or of torch's default dtype when the input holds integers or bools."""
        is_torch = isinstance(inputs, torch.Tensor)
        if is_torch:
            dtype, device = inputs.dtype, inputs.device
            if not (dtype.is_floating_point or dtype.is_complex):
                dtype = torch.get_default_dtype()
            x = inputs.detach().cpu().double().numpy()
        elif isinstance(inputs, (np.ndarray, list, tuple)):
            dtype = device = None
            x = np.asarray(inputs, dtype=float)
        else:
            raise TypeError(
                f"inputs must be a numpy array or torch tensor, got {type(inputs).__name__}"
            )
        d = self.task.d
        if x.ndim not in (2, 3) or x.shape[-1] != d:
            raise ValueError(
                f"inputs must have shape (T, {d}) or (T, batch, {d}), got {tuple(x.shape)}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("inputs must be finite")
        squeeze = x.ndim == 2
        if squeeze:
            x = x[:, None, :]

        def back(a):
            a = a[:, 0, :] if squeeze else a
            return (
                torch.from_numpy(np.ascontiguousarray(a)).to(dtype=dtype, device=device)
                if is_torch
                else a
            )

        return x, back

    def _states(self, x: np.ndarray, readout: np.ndarray | None = None) -> np.ndarray:
        """The hidden states for inputs ``x (T, batch, d)``, or with ``readout`` only the outputs
        ``readout @ h(t)`` (then no more than one hidden state is held at a time)."""
        T, batch, _ = x.shape
        h = np.zeros((batch, self.n))
        out = np.empty((T, batch, self.n if readout is None else readout.shape[0]))
        for t in range(T):
            h = h @ self.W_hh.T + x[t] @ self.W_uh.T
            if self.nonlinear:
                h = np.tanh(h)
            out[t] = h if readout is None else h @ readout.T
        return out

    def hidden_states(self, inputs):
        """Hidden states ``(T, n)`` or ``(T, batch, n)`` for inputs ``(T, d)`` or ``(T, batch, d)``.

        Starts from ``h = 0``; returns floating point numpy for numpy input and torch for torch
        input, whatever the input's dtype.
        """
        x, back = self._as_numpy(inputs)
        return back(self._states(x))

    def run(self, inputs):
        """Outputs ``y(t) = W_r h(t)``, same shape as ``inputs``, floating point, numpy or torch
        like ``inputs``."""
        x, back = self._as_numpy(inputs)
        return back(self._states(x, self.W_r))


def build_circuit(
    task: Task, nonlinear: bool = False, gain: float = 2.0, input_gain: float | None = None
) -> Circuit:
    """The variable binding circuit of ``task`` (chapter "The variable binding circuit").

    ``nonlinear=False`` gives the paper's linear circuit (``W_hh = Φ``, unit input and readout on
    the newest slot; ``gain`` and ``input_gain`` are ignored).  ``nonlinear=True`` gives the
    saturating tanh circuit ``W_hh = gain * Φ`` with ``W_uh`` of size ``input_gain`` (default
    ``2 * gain``) on the newest slot and a readout scaled by ``1 / saturation_level(gain)``.
    It is exact when ``gain > 1`` and ``input_gain > gain``.
    """
    n, d = check_task(task).n, task.d
    ideal = phi(task)
    newest = np.zeros((n, d))
    newest[n - d :, :] = np.eye(d)
    if not boolean(nonlinear, "nonlinear"):
        return Circuit(task, ideal.copy(), newest.copy(), newest.T.copy(), ideal, nonlinear=False)

    gain = real(gain, "gain", 1.0, strict_min=True)  # > 1: tanh then holds the stored signs
    input_gain = 2.0 * gain if input_gain is None else real(input_gain, "input_gain")
    if not input_gain > gain:
        raise ValueError(
            f"input_gain must exceed gain (= {gain}), the largest stray term the composition row "
            f"can add while inputs arrive; got {input_gain}"
        )
    a = saturation_level(gain)
    return Circuit(
        task,
        gain * ideal,
        input_gain * newest,
        newest.T / a,
        ideal,
        nonlinear=True,
        gain=gain,
        input_gain=input_gain,
    )


def ideal_hidden_states(task: Task, x0, horizon: int) -> np.ndarray:
    """The window an ideal circuit holds at each step: ``vec(z(t-s+1), ..., z(t))``, oldest first.

    ``x0`` has shape ``(..., s, d)`` (the inputs); entries of ``z`` before time 0 are zero, as in a
    circuit that starts from ``h = 0``.  Returns ``(..., s+horizon, s*d)``: slot ``k`` (``k = 0``
    oldest) of step ``t`` holds ``z(t-s+1+k)`` (chapter "The variable binding circuit").
    """
    z = task.generate(x0, horizon)  # (..., T, d), validates x0 and horizon
    s, d = task.s, task.d
    padded = np.concatenate([np.zeros(z.shape[:-2] + (s - 1, d)), z], axis=-2)
    T = z.shape[-2]
    windows = np.stack([padded[..., t : t + s, :] for t in range(T)], axis=-3)  # (..., T, s, d)
    return windows.reshape(z.shape[:-2] + (T, s * d))

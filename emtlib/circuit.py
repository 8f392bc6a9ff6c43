"""The variable binding circuit (chapter "The variable binding circuit").

The hidden space of the circuit has ``n = s*d`` dimensions, split into ``s`` subspaces ("slots")
of ``d`` dimensions each; slot ``k = 0`` holds the oldest remembered vector and slot ``s-1`` the
newest.  Each step the recurrent matrix Φ (:attr:`emtlib.tasks.Task.phi`) shifts every slot one
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

This module imports only :mod:`emtlib.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .tasks import Task

__all__ = ["Circuit", "build_circuit", "ideal_hidden_states", "saturation_level"]


def saturation_level(gain: float, tol: float = 1e-13) -> float:
    """The positive fixed point ``a = tanh(gain * a)`` (exists for ``gain > 1``).

    The saturating circuit's hidden magnitudes settle there; its readout divides by it so that
    outputs approach ±1 (chapter "The variable binding circuit").
    """
    if not gain > 1:
        raise ValueError(f"gain must be > 1 for a non-zero fixed point of tanh(gain*a), got {gain}")
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
        """Inputs as float64 numpy ``(T, batch, d)``, plus what is needed to give results back."""
        is_torch = isinstance(inputs, torch.Tensor)
        if is_torch:
            dtype, device = inputs.dtype, inputs.device
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

    def _states(self, x: np.ndarray) -> np.ndarray:
        T, batch, _ = x.shape
        h = np.zeros((batch, self.n))
        states = np.empty((T, batch, self.n))
        drive = x @ self.W_uh.T  # (T, batch, n)
        for t in range(T):
            h = h @ self.W_hh.T + drive[t]
            if self.nonlinear:
                h = np.tanh(h)
            states[t] = h
        return states

    def hidden_states(self, inputs):
        """Hidden states ``(T, n)`` or ``(T, batch, n)`` for inputs ``(T, d)`` or ``(T, batch, d)``.

        Starts from ``h = 0``; returns numpy for numpy input and torch for torch input.
        """
        x, back = self._as_numpy(inputs)
        return back(self._states(x))

    def run(self, inputs):
        """Outputs ``y(t) = W_r h(t)``, same shape and type as ``inputs`` (numpy or torch)."""
        x, back = self._as_numpy(inputs)
        return back(self._states(x) @ self.W_r.T)


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
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    n, d = task.n, task.d
    phi = task.phi
    newest = np.zeros((n, d))
    newest[n - d :, :] = np.eye(d)
    if not nonlinear:
        return Circuit(task, phi.copy(), newest.copy(), newest.T.copy(), phi, nonlinear=False)

    gain = float(gain)
    input_gain = 2.0 * gain if input_gain is None else float(input_gain)
    if not gain > 1:
        raise ValueError(f"gain must be > 1 so that tanh holds the stored signs, got {gain}")
    if not input_gain > gain:
        raise ValueError(
            f"input_gain must exceed gain (= {gain}), the largest stray term the composition row "
            f"can add while inputs arrive; got {input_gain}"
        )
    a = saturation_level(gain)
    return Circuit(
        task,
        gain * phi,
        input_gain * newest,
        newest.T / a,
        phi,
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

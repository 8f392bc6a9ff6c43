"""Interventions: editing a stored variable through a basis (chapter "Interventions").

A basis Ψ with its dual (:class:`emtlib.basis.Basis`) reads the variables a network stores,
``v = Ψ⁺ h``.  Writing new values ``v'`` for one slot's variables, ``h' = h + Ψ_slot (v' − v)``,
leaves every other coordinate as it was (``Ψ⁺ Ψ = I``).  If the network runs the task's circuit in
that basis, the run goes on as the task's recurrence predicts for the edited memory
(:func:`predicted_outputs`); :func:`run_with_intervention` does one such edit, and
:func:`intervention_trials` many random edits at once, each judged against the prediction, with
the unedited runs as the baseline and edits in a random direction as a control.
:func:`emtlib.basis.random_basis` is the other control: a basis of random directions with the
same coordinates.  Every architecture of :mod:`emtlib.architectures` can be edited: ``h`` is then
the model's whole state and ``v`` is read from the basis's fixed point, ``v = Ψ⁺ (h − h*)``
(chapter "Beyond the Elman RNN").

This module imports :mod:`emtlib.basis`, :mod:`emtlib.rnn`, :mod:`emtlib.tasks` and
:mod:`emtlib._checks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._checks import array, integer, real
from .basis import Basis
from .rnn import RecurrentModel
from .tasks import Task, check_task

__all__ = [
    "InterventionTrials",
    "intervene",
    "intervention_trials",
    "predicted_outputs",
    "run_with_intervention",
]


def _check_basis(model, basis, task=None) -> None:
    if not isinstance(basis, Basis):
        raise TypeError(f"basis must be an emtlib.basis.Basis, got {type(basis).__name__}")
    basis.check_model(model, task)


def _slot_values(basis, slot, values, batch_shape) -> tuple[np.ndarray, np.ndarray]:
    """Check ``values`` (d,) or (batch, d) with NaN = leave; return (column indices, values per column)."""
    d = basis.task.d
    idx = basis.slot_columns(slot)
    v = array(values, "component_values")
    if v.shape[-1:] != (d,) or v.ndim > 2:
        raise ValueError(f"component values must have shape ({d},) or (batch, {d}), got {v.shape}")
    v = np.broadcast_to(v, batch_shape + (d,)) if v.ndim == 1 else v
    if v.shape[:-1] != batch_shape:
        raise ValueError(
            f"component values have batch shape {v.shape[:-1]}, the hidden state {batch_shape}"
        )
    present = np.zeros(d, dtype=bool)
    present[basis.coords[idx, 1]] = True
    bad = ~present & np.any(np.isfinite(v), axis=tuple(range(v.ndim - 1)))
    if np.any(bad):
        raise ValueError(
            f"components {np.flatnonzero(bad).tolist()} of slot {slot} are not in the basis "
            "(not long-lived); pass NaN to leave them as they are"
        )
    return idx, v[..., basis.coords[idx, 1]]


def intervene(model, basis, h, slot, component_values):
    """``h`` with the variables of ``slot`` overwritten: ``h' = h + Ψ_slot (v_new − v_old)``.

    ``v_old = dual_slot @ (h − basis.fixed_point)`` are the current values (in the basis's units,
    those of :func:`~emtlib.basis.decode`; the fixed point is zero for the bias-free Elman RNN);
    ``component_values`` ``(d,)`` or ``(batch, d)`` are the new ones, NaN for a component to leave
    unchanged.  Since ``dual @ Ψ = I``, every other coordinate reads as before.
    ``h`` is ``(n,)`` or ``(batch, n)``, numpy or torch; the result has the same type.
    """
    _check_basis(model, basis)
    is_torch = isinstance(h, torch.Tensor)
    x = array(h, "h")
    if x.ndim not in (1, 2) or x.shape[-1] != basis.n:
        raise ValueError(f"h must have shape ({basis.n},) or (batch, {basis.n}), got {x.shape}")
    idx, v_new = _slot_values(basis, slot, component_values, x.shape[:-1])
    v_old = (x - basis.fixed_point) @ basis.dual[idx].T
    delta = np.where(np.isnan(v_new), 0.0, v_new - v_old)
    out = x + delta @ basis.Psi[:, idx].T
    return torch.from_numpy(out).to(h.dtype) if is_torch else out


def _stepper(model):
    """A one-step function ``(x, u) -> x'`` on numpy float64 states for ``model``: a
    :class:`~emtlib.rnn.RecurrentModel` (any architecture) through its own ``step`` on its whole
    state (``[h, c]`` for an LSTM), a circuit through ``W_hh``, ``W_uh`` and tanh (identity when
    ``model.nonlinear`` is False)."""
    if isinstance(model, RecurrentModel):
        weight = model.readout.weight

        def step(x, u):
            with torch.no_grad():
                out = model.step(
                    torch.as_tensor(x, dtype=weight.dtype), torch.as_tensor(u, dtype=weight.dtype)
                )
            return out.double().numpy()

        return step
    W, Wu = np.asarray(model.W_hh, dtype=float), np.asarray(model.W_uh, dtype=float)
    act = np.tanh if getattr(model, "nonlinear", True) else (lambda a: a)
    return lambda h, u: act(h @ W.T + u @ Wu.T)


def _check_edit(task, inputs, t, slot, new_value):
    x = array(inputs, "inputs")
    if x.ndim != 3 or x.shape[-1] != task.d:
        raise ValueError(f"inputs must have shape (T, batch, {task.d}), got {x.shape}")
    t = integer(t, "t", task.s - 1, x.shape[0] - 1)
    slot = integer(slot, "slot", 0, task.s - 1)
    v = array(new_value, "new_value")
    if v.ndim not in (1, 2) or v.shape[-1] != task.d:
        raise ValueError(
            f"new_value must have shape ({task.d},) or (batch, {task.d}), got {v.shape}"
        )
    return x, t, slot, np.broadcast_to(v, (x.shape[1], task.d))


def run_with_intervention(model, task, basis, inputs, t, slot, new_value) -> np.ndarray:
    """Run ``model`` step by step, edit slot ``slot`` at step ``t``, continue; return outputs ``(T, batch, d)``.

    The edit happens to ``h(t)`` before ``y(t) = W_r h(t)`` is read.  ``new_value`` ``(d,)`` or
    ``(batch, d)`` gives the new *signs* (±1, NaN = leave): each edited coordinate keeps its
    current magnitude ``|v_old|`` and takes the new sign, so the state stays at the saturation
    level the model uses.  ``t`` must be at least ``s - 1`` (all inputs in).  A
    :class:`~emtlib.rnn.RecurrentModel` of any architecture runs through its own ``step`` on its
    whole state (``[h, c]`` for an LSTM, edited as one vector, values read from the basis's fixed
    point); a circuit through ``W_hh``, ``W_uh`` with tanh (identity when ``model.nonlinear`` is
    False).
    """
    _check_basis(model, basis, task)
    x, t, slot, v = _check_edit(task, inputs, t, slot, new_value)
    idx = basis.slot_columns(slot)
    step = _stepper(model)
    Wr = np.asarray(model.W_r, dtype=float)  # reads h, the state's first numbers
    h = np.zeros((x.shape[1], basis.n))
    outputs = np.empty(x.shape)
    for tau in range(x.shape[0]):
        h = step(h, x[tau])
        if tau == t:
            v_old = (h - basis.fixed_point) @ basis.dual[idx].T
            cols = v[:, basis.coords[idx, 1]]
            _slot_values(basis, slot, v, (x.shape[1],))  # refuses values for absent components
            h = intervene(
                model, basis, h, slot, _full(task.d, basis.coords[idx, 1], cols * np.abs(v_old))
            )
        outputs[tau] = h[:, : Wr.shape[1]] @ Wr.T
    return outputs


def _full(d, components, values):
    out = np.full(values.shape[:-1] + (d,), np.nan)
    out[..., components] = values
    return out


def predicted_outputs(task, inputs, t, slot, new_value) -> np.ndarray:
    """The outputs the task's recurrence predicts after editing the memory at step ``t``.

    The ideal window of step ``t`` has slot ``slot`` (holding ``z(t-s+1+slot)``) overwritten with
    ``new_value`` (NaN = leave), and the sequence continues by the task's rule.  Returns
    ``(T, batch, d)``: ``z`` with the edit (steps before ``t`` unchanged; step ``t`` changes only if
    ``slot = s-1``).  Compare signs after ``t`` with :func:`run_with_intervention`.
    """
    task = check_task(task)
    x, t, slot, v = _check_edit(task, inputs, t, slot, new_value)
    z = task.generate(x[: task.s].transpose(1, 0, 2), x.shape[0] - task.s)  # (batch, T, d)
    tau = t - task.s + 1 + slot
    z[:, tau] = np.where(np.isnan(v), z[:, tau], v)
    k, i = np.divmod(task.choice, task.d)
    for u in range(t + 1, z.shape[1]):
        z[:, u] = task.signs * z[:, u - task.s + k, i]
    return z.transpose(1, 0, 2)


@dataclass(frozen=True, eq=False, repr=False)
class InterventionTrials:
    """Many random edits of one model, each judged against the task (chapter "Interventions").

    Per edit ``e``: the step ``t[e]`` and the ``slot[e]`` edited, ``flipped[e]`` (``d`` booleans:
    which stored signs were reversed), ``norm[e] = ‖Δh‖``, and, over the judged steps
    ``t <= u < t + window``:

    * ``success[e]``: every output sign of the edited run equals the prediction of the task's
      recurrence for the edited memory (:func:`predicted_outputs`);
    * ``baseline[e]``: every output sign of the *unedited* run equals the unedited targets (the
      model's own reliability on the same sequence and steps);
    * ``unchanged[e]``: the edit left every output sign as the unedited run had it;
    * ``first_error[e]``: steps after ``t`` to the first sign that differs from the prediction
      (``window`` if none); ``baseline_first_error[e]`` the same for the unedited run and targets;
    * ``missed[e]``: output signs (step, component) that the edit should change and the edited run
      gets wrong (the edit did not take); ``spilled[e]``: signs that the edit should leave alone
      and the edited run gets wrong (side effects, the model's own errors included);
      ``baseline_errors[e]``: wrong signs of the unedited run.
    """

    task: Task
    method: str
    direction: str
    magnitude: object
    window: int
    t: np.ndarray
    slot: np.ndarray
    flipped: np.ndarray
    norm: np.ndarray
    success: np.ndarray
    baseline: np.ndarray
    unchanged: np.ndarray
    first_error: np.ndarray
    baseline_first_error: np.ndarray
    missed: np.ndarray
    spilled: np.ndarray
    baseline_errors: np.ndarray

    def __post_init__(self):
        for name in (
            "t",
            "slot",
            "flipped",
            "norm",
            "success",
            "baseline",
            "unchanged",
            "first_error",
            "baseline_first_error",
            "missed",
            "spilled",
            "baseline_errors",
        ):
            getattr(self, name).setflags(write=False)

    @property
    def edits(self) -> int:
        """Number of edits."""
        return len(self.t)

    @property
    def rate(self) -> float:
        """Fraction of edits whose outputs follow the prediction at every judged step."""
        return float(np.mean(self.success))

    @property
    def baseline_rate(self) -> float:
        """Fraction of the same sequences and steps on which the unedited model is right."""
        return float(np.mean(self.baseline))

    @property
    def unchanged_rate(self) -> float:
        """Fraction of edits that changed no output sign at all."""
        return float(np.mean(self.unchanged))

    def survival(self, lags=None, baseline=False) -> np.ndarray:
        """Fraction of edits still following the prediction up to each of ``lags`` steps after ``t``
        (default ``0 ... window - 1``): the share with ``first_error > lag``.  ``baseline=True``:
        the same for the unedited runs against the unedited targets."""
        lags = np.arange(self.window) if lags is None else np.asarray(lags)
        first = self.baseline_first_error if baseline else self.first_error
        return np.mean(first[:, None] > lags[None, :], axis=0)

    def __repr__(self) -> str:
        return (
            f"InterventionTrials({self.task!r}, method={self.method!r}, direction={self.direction!r}, "
            f"edits={self.edits}, window={self.window}, rate={self.rate:.4f}, baseline={self.baseline_rate:.4f})"
        )


def _predict_many(
    task: Task, z: np.ndarray, t: np.ndarray, slot: np.ndarray, new: np.ndarray
) -> np.ndarray:
    """:func:`predicted_outputs` for one edit per sequence: ``z (batch, T, d)`` ideal sequences,
    edit ``e`` sets ``z[e, t-s+1+slot]`` to ``new[e]`` (NaN = leave) at step ``t[e]``. Returns ``(T, batch, d)``."""
    zp = z.copy()
    rows, tau = np.arange(len(t)), t - task.s + 1 + slot
    zp[rows, tau] = np.where(np.isnan(new), zp[rows, tau], new)
    k, i = np.divmod(task.choice, task.d)
    for u in range(int(t.min()) + 1, z.shape[1]):
        zp[:, u] = np.where((u > t)[:, None], task.signs * zp[:, u - task.s + k, i], zp[:, u])
    return zp.transpose(1, 0, 2)


def intervention_trials(
    model,
    task,
    basis,
    edits=256,
    window=100,
    latest=100,
    direction="basis",
    magnitude="keep",
    seed=0,
) -> InterventionTrials:
    """Edit ``edits`` random sequences once each and check every edit against the task (chapter "Interventions").

    Edit ``e`` runs its own random sequence, picks a step ``t`` of the output phase uniformly in
    ``[s, s+latest)`` and a slot uniformly, and reverses a random non-empty subset of that
    slot's stored signs (each component of the slot present in ``basis`` with probability 1/2).
    At step ``t``, before the output is read, ``h`` becomes ``h + Δh`` with

    * ``direction="basis"``: ``Δh = Ψ_slot (v_new − v_old)`` as in :func:`intervene`, where
      ``v_old = dual_slot @ (h − fixed_point)`` and ``v_new`` carries the slot's new signs (the unflipped ones
      included) with magnitude ``|v_old|`` (``magnitude="keep"``, like
      :func:`run_with_intervention`) or a fixed positive ``magnitude``;
    * ``direction="random"``: a random direction with the same norm ``‖Δh‖`` (a control).

    The run continues and is judged on steps ``t ... t + window - 1`` against
    :func:`predicted_outputs`; the same sequences run unedited give the baseline.  Same
    ``seed``, same sequences, steps, slots and flips, whatever the basis: results of different
    bases (of the same coordinates) are paired.  Returns :class:`InterventionTrials`.
    """
    _check_basis(model, basis, task)
    edits = integer(edits, "edits", 1)
    window = integer(window, "window", 1)
    latest = integer(latest, "latest", 1)
    if direction not in ("basis", "random"):
        raise ValueError(f"direction must be 'basis' or 'random', got {direction!r}")
    if isinstance(magnitude, str):
        if magnitude != "keep":
            raise ValueError(f"magnitude must be 'keep' or a positive number, got {magnitude!r}")
    else:
        magnitude = real(magnitude, "magnitude", 0.0, strict_min=True)
    seed = integer(seed, "seed")
    s, d, n = task.s, task.d, basis.n
    rng = np.random.default_rng(seed)
    T = s - 1 + latest + window  # the last edit (t = s - 1 + latest) is judged for `window` steps
    inputs, _ = task.sample(edits, T - s, seed=int(rng.integers(2**63)))
    x = inputs.double().numpy()
    t = rng.integers(s, s + latest, size=edits)
    slot = rng.integers(0, s, size=edits)
    u01 = rng.random((edits, d))
    r = rng.standard_normal((edits, n))
    # which signs to reverse: a random non-empty subset of the slot's components in the basis
    present = np.zeros((s, d), dtype=bool)
    k_all, j_all = basis.coords[: basis.n_variables].T
    present[k_all, j_all] = True
    if not present.any(axis=1).all():
        raise ValueError(
            f"every slot needs a component in the basis; slots {np.flatnonzero(~present.any(1)).tolist()} have none"
        )
    mask = present[slot]
    flipped = (u01 < 0.5) & mask
    none = ~flipped.any(axis=1)
    pick = np.argmin(np.where(mask, u01, np.inf), axis=1)
    flipped[none, pick[none]] = True
    z = task.generate(x[:s].transpose(1, 0, 2), T - s)  # (edits, T, d)
    rows = np.arange(edits)
    tau = t - s + 1 + slot
    new = np.where(mask, np.where(flipped, -1.0, 1.0) * z[rows, tau], np.nan)
    pred = _predict_many(task, z, t, slot, new)

    step = _stepper(model)
    Wr = np.asarray(model.W_r, dtype=float)  # reads h, the state's first numbers
    h = np.zeros((2 * edits, n))  # rows [:edits] edited, [edits:] unedited
    out = np.empty((T, 2 * edits, d))
    norm = np.zeros(edits)
    for u in range(T):
        h = step(h, np.concatenate([x[u], x[u]]))
        for e in np.flatnonzero(t == u):
            idx = basis.slot_columns(int(slot[e]))
            v_old = basis.dual[idx] @ (h[e] - basis.fixed_point)
            size = np.abs(v_old) if magnitude == "keep" else float(magnitude)
            delta = basis.Psi[:, idx] @ (new[e, basis.coords[idx, 1]] * size - v_old)
            norm[e] = np.linalg.norm(delta)
            if direction == "random":
                delta = norm[e] * r[e] / np.linalg.norm(r[e])
            h[e] = h[e] + delta
        # einsum, not BLAS: a threaded BLAS crawls in this loop
        out[u] = np.einsum("bn,dn->bd", h[:, : Wr.shape[1]], Wr)
    edited, unedited = np.sign(out[:, :edits]), np.sign(out[:, edits:])
    steps = np.arange(T)[:, None]
    judged = (steps >= t[None]) & (steps < (t + window)[None])  # (T, edits)
    target = np.sign(z.transpose(1, 0, 2))
    wrong_signs = (edited != np.sign(pred)) & judged[..., None]  # (T, edits, d)
    should_change = np.sign(pred) != target
    base_signs = (unedited != target) & judged[..., None]
    wrong = np.any(wrong_signs, axis=-1)
    base_wrong = np.any(base_signs, axis=-1)
    moved = np.any(edited != unedited, axis=-1) & judged
    first = np.where(wrong.any(axis=0), np.argmax(wrong, axis=0) - t, window)
    base_first = np.where(base_wrong.any(axis=0), np.argmax(base_wrong, axis=0) - t, window)
    return InterventionTrials(
        task,
        basis.method,
        direction,
        magnitude,
        window,
        t,
        slot,
        flipped,
        norm,
        ~wrong.any(axis=0),
        ~base_wrong.any(axis=0),
        ~moved.any(axis=0),
        first,
        base_first,
        np.sum(wrong_signs & should_change, axis=(0, 2)),
        np.sum(wrong_signs & ~should_change, axis=(0, 2)),
        np.sum(base_signs, axis=(0, 2)),
    )

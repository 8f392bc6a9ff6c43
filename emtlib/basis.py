"""The privileged basis, hidden neurons and interventions (chapters "The privileged basis and
hidden neurons" and "Interventions").

EMT says a trained recurrent matrix is the task's ideal Φ seen in another basis, ``W = Ψ Φ Ψ⁺``.
The *privileged basis* Ψ makes that visible: in it, ``Ψ⁺ W Ψ`` looks like Φ and ``Ψ⁺ h(t)`` lists
the stored variables, slot by slot.  Most of them are *hidden neurons*: they are not read out at
time ``t``, yet they hold the inputs the network will need later.

Circuit coordinates.  The circuit's hidden space is the window ``vec(z(t-s+1), ..., z(t))``,
oldest first: coordinate ``(k, j)`` (slot ``k = 0`` oldest ... ``s-1`` newest, component ``j``)
is position ``p = k*d + j`` and holds ``z(t-s+1+k)[j]``.

Which coordinates carry the long-lived modes.  Position ``p`` is fed, one step later, by one
position ``f(p)`` (``p + d``, or ``choice[j]`` for the newest slot; :meth:`Task.cycles`), so
``(Φ x)_p = ±x_{f(p)}`` and ``e_p^T Φ = ±e_{f(p)}^T``.  Every position's orbit under ``f`` ends in
a cycle.  Hence, with ``C`` the positions on cycles:

* the dual rows ``e_c^T``, ``c ∈ C``, span a subspace that Φ maps into itself from the right
  (``E_C^T Φ = Φ_CC E_C^T``): *reading* the cycle coordinates is closed under the dynamics;
* the other coordinates (trees hanging off the cycles) span an invariant subspace on which Φ is
  nilpotent: what sits there is copied upwards and lost within ``s`` steps;
* ``Φ_CC`` (Φ restricted to rows and columns ``C``) is a signed permutation whose eigenvalues are
  exactly Φ's long-lived ones (``|C| = task.long_lived_modes()``: 64 of 64 for repeat copy, 36 of
  64 for the compose tasks of the paper).

So "rank compression" keeps the columns of the cycle positions, and ``phi_ideal = Φ_CC``.  For
the compose copy ``z(t)[j] = z(t-8+j)[j]`` the kept coordinates are ``(k, j)`` with ``k >= j``:
component ``j`` is needed only for ``8 - j`` steps, and its older copies are dead.

The algorithm (:func:`privileged_basis`), as in the paper and the authors' code:

1. newest-slot block ``B``: ``W_uh`` (``grounding="input"``, the paper's text) or ``pinv(W_r)``
   (``"output"``, the authors' later code), both ``(n, d)``;
2. slot ``k`` block ``= W^(s-1-k) B`` (0-based ``k``; the paper's ``W^(s-k)`` with 1-based slots),
   because Φ moves slot ``k+1`` into slot ``k``;
3. normalise every column; 4. keep the cycle coordinates; 5. ``dual = pinv(Ψ)``;
6. optionally add ``complete`` principal directions of hidden-state data outside ``span(Ψ)``.

That recovers Φ exactly (to rounding) when the model is the circuit seen through an *orthogonal*
map (a rotation, a signed permutation, an orthonormal embedding in more neurons), which is what
the tests check, provided the chains ``W^m B`` meet no composition row on their way (true for
repeat copy and the paper's four tasks, not for every task of the family: then a column picks
up stray terms).  Through a general invertible map it is not exact either: column normalisation and the
pseudoinverse both assume orthogonality, and ``pinv(W_r)`` is then not the newest slot's column
(the paper's "Ψ is not orthogonal" caveat).  ``grounding="observer"`` is exact in any basis: it
builds the *dual* first from the readout, since ``e_new_j^T Φ^m = ±e_{f^m(new_j)}^T`` and every
cycle passes through the newest slot, so each cycle coordinate's dual row is a row of
``W_r W^m / ρ^m`` (``ρ`` the gain of the long-lived eigenvalues), and then ``Ψ = pinv(dual)``.
:func:`probe_basis` estimates the basis from hidden states instead.

Interventions (:func:`intervene`, :func:`run_with_intervention`, :func:`predicted_outputs`)
overwrite one slot's variables in a running model and compare with what the task's recurrence
predicts for the edited memory.

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.circuit` and :mod:`emtlib.rnn`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from .circuit import ideal_hidden_states
from .rnn import ElmanRNN
from .tasks import Task

__all__ = [
    "Basis",
    "cycle_coordinates",
    "decode",
    "decoding_accuracy",
    "intervene",
    "predicted_outputs",
    "privileged_basis",
    "probe_basis",
    "run_with_intervention",
]

GROUNDINGS = ("input", "output", "observer")


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _check_task(task) -> Task:
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    return task


def _weights(model, task: Task):
    """``W_hh (n, n)``, ``W_uh (n, d)``, ``W_r (d, n)`` of ``model`` as float64, checked against ``task``."""
    try:
        W, Wu, Wr = (
            np.asarray(getattr(model, name), dtype=float) for name in ("W_hh", "W_uh", "W_r")
        )
    except AttributeError:
        raise TypeError(
            f"model must expose numpy weights W_hh, W_uh, W_r (an ElmanRNN or Circuit), got {type(model).__name__}"
        ) from None
    n, d = W.shape[0], task.d
    if W.shape != (n, n) or Wu.shape != (n, d) or Wr.shape != (d, n):
        raise ValueError(
            f"model weights must be W_hh (n, n), W_uh (n, {d}), W_r ({d}, n) for a task with d = {d}; "
            f"got {W.shape}, {Wu.shape}, {Wr.shape}"
        )
    if n < task.long_lived_modes():
        raise ValueError(
            f"hidden size {n} is below the task's {task.long_lived_modes()} long-lived modes"
        )
    for name, a in (("W_hh", W), ("W_uh", Wu), ("W_r", Wr)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"model.{name} must be finite")
    return W, Wu, Wr


def _int(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        raise ValueError(
            f"{name} must lie in [{low}, {high if high is not None else 'inf'}], got {value}"
        )
    return int(value)


def _array(value, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    if not isinstance(value, (np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(value).__name__}")
    value = np.asarray(value, dtype=float)
    return value


def cycle_coordinates(task: Task) -> np.ndarray:
    """The circuit coordinates that carry Φ's long-lived modes: ``(slot, component)`` of every
    position on a cycle of :meth:`Task.cycles`, in position order, shape ``(|C|, 2)``.

    Chapter "The privileged basis and hidden neurons" explains why these and no others.
    """
    positions = np.sort(
        np.concatenate([np.asarray(c, dtype=np.int64) for c, _ in _check_task(task).cycles()])
    )
    return np.stack(np.divmod(positions, task.d), axis=1)


# --------------------------------------------------------------------------------------------
# The basis object
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class Basis:
    """A privileged basis of one model for one task (chapter "The privileged basis and hidden neurons").

    ``Psi (n, k)``: basis vectors as columns; ``dual (k, n)``: the dual basis (``dual @ Psi = I``);
    ``coords (k, 2)``: the circuit coordinate ``(slot, component)`` of each column, ``(-1, i)``
    for the ``i``-th PCA completion direction; ``phi_empirical = dual @ W_hh @ Psi``;
    ``phi_ideal``: Φ restricted to the variable coordinates.

    ``phi_error`` = ``‖phi_empirical − phi_ideal‖ / ‖phi_ideal‖`` (Frobenius, variable block only);
    ``gain`` = the best scalar ``g`` in ``phi_empirical ≈ g·phi_ideal`` and ``phi_error_scaled``
    = ``‖phi_empirical − g·phi_ideal‖ / ‖g·phi_ideal‖``: the error left once the overall gain of a
    saturating model (``W = g·PΦP⁻¹``, ``g > 1``) is allowed.
    """

    task: Task
    method: str
    Psi: np.ndarray
    dual: np.ndarray
    coords: np.ndarray
    phi_empirical: np.ndarray
    phi_ideal: np.ndarray
    phi_error: float
    gain: float
    phi_error_scaled: float

    def __post_init__(self):
        for name in ("Psi", "dual", "coords", "phi_empirical", "phi_ideal"):
            getattr(self, name).setflags(write=False)

    @property
    def n(self) -> int:
        """Hidden size of the model the basis belongs to."""
        return self.Psi.shape[0]

    @property
    def n_variables(self) -> int:
        """Number of columns standing for circuit coordinates (the rest are PCA completion)."""
        return int(np.sum(self.coords[:, 0] >= 0))

    def _slot_index(self, k) -> np.ndarray:
        k = _int(k, "slot", 0, self.task.s - 1)
        return np.flatnonzero(self.coords[:, 0] == k)

    def components(self, k) -> np.ndarray:
        """The components of slot ``k`` present in the basis (all ``d`` unless compressed)."""
        return self.coords[self._slot_index(k), 1].copy()

    def slot(self, k) -> np.ndarray:
        """Columns of Ψ for slot ``k`` (``0`` oldest ... ``s-1`` newest), shape ``(n, len(components(k)))``."""
        return self.Psi[:, self._slot_index(k)].copy()

    def slot_dual(self, k) -> np.ndarray:
        """Rows of the dual for slot ``k``: ``slot_dual(k) @ h`` reads that slot's variables."""
        return self.dual[self._slot_index(k)].copy()

    def __repr__(self) -> str:
        return (
            f"Basis({self.task!r}, method={self.method!r}, n={self.n}, columns={self.Psi.shape[1]} "
            f"({self.n_variables} variables), phi_error={self.phi_error:.3g}, gain={self.gain:.3g}, "
            f"phi_error_scaled={self.phi_error_scaled:.3g})"
        )


def _make_basis(task, method, W, Psi, dual, coords) -> Basis:
    """Fill in Φ in the basis and its errors (shared by both estimators)."""
    phi_emp = dual @ W @ Psi
    kv = int(np.sum(coords[:, 0] >= 0))
    pos = coords[:kv, 0] * task.d + coords[:kv, 1]
    ideal = task.phi[np.ix_(pos, pos)]
    block = phi_emp[:kv, :kv]
    norm = np.linalg.norm(ideal)
    if norm == 0:
        error = scaled = 0.0 if np.linalg.norm(block) == 0 else np.inf
        gain = 1.0
    else:
        error = float(np.linalg.norm(block - ideal) / norm)
        gain = float(np.sum(block * ideal) / norm**2)
        scaled = (
            float(np.linalg.norm(block - gain * ideal) / (abs(gain) * norm)) if gain else np.inf
        )
    return Basis(
        task, method, Psi, dual, coords.astype(np.int64), phi_emp, ideal, error, gain, scaled
    )


def _complete(Psi, coords, complete, data):
    """Add ``complete`` principal directions of ``data`` outside ``span(Psi)`` (step 6)."""
    n = Psi.shape[0]
    if complete == 0:
        return Psi, coords
    if data is None:
        raise ValueError("complete > 0 needs data: hidden states (T, batch, n) of the model")
    H = _array(data, "data")
    if H.ndim < 2 or H.shape[-1] != n:
        raise ValueError(f"data must be hidden states (..., n) with n = {n}, got shape {H.shape}")
    H = H.reshape(-1, n).T  # (n, samples)
    residual = H - Psi @ (np.linalg.pinv(Psi) @ H)
    U, _sv, _ = np.linalg.svd(residual, full_matrices=False)
    if complete > Psi.shape[0] - Psi.shape[1]:
        raise ValueError(
            f"complete must be at most n - {Psi.shape[1]} = {n - Psi.shape[1]}, got {complete}"
        )
    extra = np.stack([-np.ones(complete, dtype=np.int64), np.arange(complete)], axis=1)
    return np.concatenate([Psi, U[:, :complete]], axis=1), np.concatenate([coords, extra])


def _long_lived_gain(W: np.ndarray, m: int) -> float:
    """Geometric mean modulus of the ``m`` largest eigenvalues of ``W`` (1 for Φ, ``g`` for ``gΦ``)."""
    lam = np.sort(np.abs(np.linalg.eigvals(W)))[::-1][:m]
    return float(np.exp(np.mean(np.log(np.maximum(lam, 1e-300)))))


# --------------------------------------------------------------------------------------------
# The weight-based algorithm (chapter "The privileged basis and hidden neurons")
# --------------------------------------------------------------------------------------------
def privileged_basis(
    model, task, grounding="output", compress=True, complete=0, data=None
) -> Basis:
    """The privileged basis of ``model`` for ``task`` from its weights (the paper's algorithm).

    ``grounding``: ``"input"`` (newest slot = ``W_uh``), ``"output"`` (newest slot =
    ``pinv(W_r)``) or ``"observer"`` (dual rows from ``W_r W^m``; exact in any basis, see the
    module docstring; with it ``compress`` must be True unless every coordinate is on a cycle).
    ``compress=True`` keeps only the cycle coordinates (:func:`cycle_coordinates`), which carry
    Φ's long-lived modes; ``False`` keeps all ``s*d`` coordinates (Φ itself is then the reference,
    which the input/output groundings only reach for repeat copy).  ``complete`` adds that many PCA
    directions of ``data`` (hidden states ``(T, batch, n)``) outside ``span(Ψ)``.
    Returns a :class:`Basis`; columns are ordered by position ``slot*d + component``.
    """
    task = _check_task(task)
    if grounding not in GROUNDINGS:
        raise ValueError(f"grounding must be one of {GROUNDINGS}, got {grounding!r}")
    if not isinstance(compress, bool):
        raise TypeError(f"compress must be True or False, got {compress!r}")
    W, Wu, Wr = _weights(model, task)
    n, s, d = W.shape[0], task.s, task.d
    complete = _int(complete, "complete", 0, n)
    if compress:
        coords = cycle_coordinates(task)
    else:
        coords = np.stack(np.divmod(np.arange(s * d), d), axis=1)
    if len(coords) > n:
        raise ValueError(f"hidden size {n} is below the {len(coords)} coordinates asked for")
    positions = coords[:, 0] * d + coords[:, 1]

    if grounding == "observer":
        # Dual first: row (j, m) of W_r W^m reads position f^m(new_j) (with a sign) in the circuit.
        feeder = np.concatenate([np.arange(d, s * d), task.choice])
        sign = np.concatenate([np.ones(s * d - d), task.signs])
        rho = _long_lived_gain(W, task.long_lived_modes())
        rows = {}  # position -> its dual row
        current, acc = (s - 1) * d + np.arange(d), np.ones(d)
        R = Wr.copy()  # W_r W^m / rho^m
        for _ in range(s * d):
            for j in range(d):
                rows.setdefault(int(current[j]), acc[j] * R[j])
            if all(p in rows for p in positions):
                break
            acc = acc * sign[current]
            current = feeder[current]
            R = R @ W / rho
        missing = [tuple(c) for c, p in zip(coords, positions) if p not in rows]
        if missing:
            raise ValueError(
                f"grounding='observer' reaches only coordinates the readout will see; {missing[:4]}... "
                "are not among them: use compress=True"
            )
        dual = np.stack([rows[p] for p in positions])
        Psi = np.linalg.pinv(dual)
    else:
        B = Wu if grounding == "input" else np.linalg.pinv(Wr)
        blocks = [B]
        for _ in range(s - 1):
            blocks.append(W @ blocks[-1])
        K = np.concatenate(blocks[::-1], axis=1)  # slot 0 = W^(s-1) B ... slot s-1 = B
        norms = np.linalg.norm(K, axis=0)
        if np.any(norms == 0):
            raise ValueError(
                f"the {grounding} weights give zero basis vectors (W_uh or W_r is degenerate)"
            )
        Psi = (K / norms)[:, positions]
    Psi, coords = _complete(Psi, coords, complete, data)
    dual = np.linalg.pinv(Psi)
    return _make_basis(task, grounding, W, Psi, dual, coords)


# --------------------------------------------------------------------------------------------
# The data-driven estimate
# --------------------------------------------------------------------------------------------
def _hidden(model, inputs: np.ndarray) -> np.ndarray:
    if not hasattr(model, "hidden_states"):
        raise TypeError(
            f"model must have hidden_states(inputs) (an ElmanRNN or Circuit), got {type(model).__name__}"
        )
    return np.asarray(model.hidden_states(inputs), dtype=float)


def _windows(task: Task, inputs: np.ndarray) -> np.ndarray:
    """Ideal windows ``(T, batch, s*d)`` for task inputs ``(T, batch, d)``."""
    T, s = inputs.shape[0], task.s
    x0 = inputs[:s].transpose(1, 0, 2)
    return ideal_hidden_states(task, x0, T - s).transpose(1, 0, 2)


def probe_basis(
    model, task, batch=64, horizon=50, seed=0, estimator="dual", compress=True
) -> Basis:
    """The privileged basis estimated from hidden states (chapter "The privileged basis and hidden neurons").

    Runs ``model`` on ``batch`` random sequences and regresses, over the output phase, the hidden
    states ``h`` on the ideal windows ``x`` restricted to the basis coordinates.
    ``estimator="basis"``: ``h ≈ Ψ x`` (least squares for Ψ), then ``dual = pinv(Ψ)``.
    ``estimator="dual"``: ``x ≈ D h`` (least squares for the dual, the map decoding needs), then
    ``Ψ = pinv(D)``.  On a model that runs the circuit exactly both agree; the dual fit is the one
    that minimises decoding error.  Works in any basis, orthogonal or not.
    """
    task = _check_task(task)
    if estimator not in ("dual", "basis"):
        raise ValueError(f"estimator must be 'dual' or 'basis', got {estimator!r}")
    W, _, _ = _weights(model, task)
    batch, horizon = _int(batch, "batch", 1), _int(horizon, "horizon", 1)
    coords = (
        cycle_coordinates(task)
        if compress
        else np.stack(np.divmod(np.arange(task.n), task.d), axis=1)
    )
    positions = coords[:, 0] * task.d + coords[:, 1]
    inputs, _ = task.sample(batch, horizon, seed=seed)
    inputs = inputs.double().numpy()
    H = _hidden(model, inputs)[task.s :].reshape(-1, W.shape[0])  # (samples, n)
    X = _windows(task, inputs)[task.s :][..., positions].reshape(-1, len(positions))
    if estimator == "basis":
        Psi = np.linalg.lstsq(X, H, rcond=None)[0].T
        dual = np.linalg.pinv(Psi)
    else:
        dual = np.linalg.lstsq(H, X, rcond=None)[0].T
        Psi = np.linalg.pinv(dual)
    return _make_basis(task, f"probe-{estimator}", W, Psi, dual, coords)


# --------------------------------------------------------------------------------------------
# Decoding (chapter "The privileged basis and hidden neurons")
# --------------------------------------------------------------------------------------------
def _check_basis(model, basis, task=None):
    if not isinstance(basis, Basis):
        raise TypeError(f"basis must be an emtlib.basis.Basis, got {type(basis).__name__}")
    if task is not None and _check_task(task) != basis.task:
        raise ValueError(f"basis was built for {basis.task!r}, not for {task!r}")
    n = np.shape(getattr(model, "W_hh", None))
    if n != (basis.n, basis.n):
        raise ValueError(f"basis has hidden size {basis.n}, but the model's W_hh has shape {n}")


def decode(model, basis, inputs) -> np.ndarray:
    """The stored variables at every step: ``dual @ h(t)`` arranged as ``(T, batch, s, d)``.

    Coordinates not in the basis (compressed away) are NaN.  ``inputs`` ``(T, batch, d)``
    (or ``(T, d)``, then ``(T, s, d)``), numpy or torch.
    """
    _check_basis(model, basis)
    x = _array(inputs, "inputs")
    task = basis.task
    if x.ndim not in (2, 3) or x.shape[-1] != task.d:
        raise ValueError(
            f"inputs must have shape (T, {task.d}) or (T, batch, {task.d}), got {x.shape}"
        )
    squeeze = x.ndim == 2
    H = _hidden(model, x[:, None] if squeeze else x)
    values = H @ basis.dual[: basis.n_variables].T
    out = np.full(H.shape[:2] + (task.s, task.d), np.nan)
    k, j = basis.coords[: basis.n_variables].T
    out[..., k, j] = values
    return out[:, 0] if squeeze else out


def decoding_accuracy(
    model, task, basis, horizon=200, batches=10, batch=64, seed=0, reference="ideal", slots=None
) -> float:
    """Fraction of stored-variable signs decoded correctly over the output phase.

    Compares ``sign(dual @ h(t))`` on the basis's coordinates with a reference, for ``batches``
    random batches (paper's test protocol: horizon 200, 10 batches of 64).

    ``reference="ideal"``: the task's ideal window (is the stored memory *right*?).
    ``reference="model"``: what the model itself emitted for each stored vector ``z(u)``, its input
    ``u(u)`` during the input phase and the sign of its own output ``W_r h(u)`` afterwards (does the
    basis read the memory the network *has*, right or wrong?).  The two differ only where the
    model's own outputs are wrong.  ``slots``: the slots to score (default all; e.g.
    ``range(s - 1)`` for the hidden ones).  Chapter "The privileged basis and hidden neurons".
    """
    _check_basis(model, basis, task)
    horizon, batches = _int(horizon, "horizon", 1), _int(batches, "batches", 1)
    if reference not in ("ideal", "model"):
        raise ValueError(f"reference must be 'ideal' or 'model', got {reference!r}")
    kv = basis.n_variables
    keep = np.ones(kv, dtype=bool)
    if slots is not None:
        wanted = [_int(k, "slot", 0, task.s - 1) for k in slots]
        keep = np.isin(basis.coords[:kv, 0], wanted)
        if not keep.any():
            raise ValueError(f"the basis keeps no coordinate in slots {wanted}")
    k, j = basis.coords[:kv][keep].T
    dual = basis.dual[:kv][keep]
    s, T = task.s, task.s + horizon
    rng = np.random.default_rng(seed)
    correct = total = 0
    for _ in range(batches):
        inputs, _ = task.sample(batch, horizon, seed=int(rng.integers(2**63)))
        x = inputs.double().numpy()
        H = _hidden(model, x)
        decoded = H[s:] @ dual.T  # (T - s, batch, kept), as decode() computes it
        if reference == "ideal":
            ref = _windows(task, x)[s:][..., k * task.d + j]
        else:
            said = np.concatenate([x[:s], np.sign(H[s:] @ np.asarray(model.W_r, dtype=float).T)])
            u = np.arange(s, T)[:, None] - s + 1 + k[None, :]  # z(u) sits in slot k at step t
            ref = said[u, :, j[None, :]].transpose(0, 2, 1)
        correct += int(np.sum(np.sign(decoded) == np.sign(ref)))
        total += ref.size
    return correct / total


# --------------------------------------------------------------------------------------------
# Interventions (chapter "Interventions")
# --------------------------------------------------------------------------------------------
def _slot_values(basis, slot, values, batch_shape) -> tuple[np.ndarray, np.ndarray]:
    """Check ``values`` (d,) or (batch, d) with NaN = leave; return (column indices, values per column)."""
    d = basis.task.d
    idx = basis._slot_index(slot)
    v = _array(values, "component_values")
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

    ``v_old = dual_slot @ h`` are the current values (in the basis's units, those of
    :func:`decode`); ``component_values`` ``(d,)`` or ``(batch, d)`` are the new ones, NaN for a
    component to leave unchanged.  Since ``dual @ Ψ = I``, every other coordinate reads as before.
    ``h`` is ``(n,)`` or ``(batch, n)``, numpy or torch; the result has the same type.
    """
    _check_basis(model, basis)
    is_torch = isinstance(h, torch.Tensor)
    x = _array(h, "h")
    if x.ndim not in (1, 2) or x.shape[-1] != basis.n:
        raise ValueError(f"h must have shape ({basis.n},) or (batch, {basis.n}), got {x.shape}")
    idx, v_new = _slot_values(basis, slot, component_values, x.shape[:-1])
    v_old = x @ basis.dual[idx].T
    delta = np.where(np.isnan(v_new), 0.0, v_new - v_old)
    out = x + delta @ basis.Psi[:, idx].T
    return torch.from_numpy(out).to(h.dtype) if is_torch else out


def _stepper(model):
    """A one-step function ``(h, u) -> h'`` on numpy float64 arrays for ``model``."""
    if isinstance(model, ElmanRNN):
        weight = model.rnn.weight_hh_l0

        def step(h, u):
            with torch.no_grad():
                out = model.step(
                    torch.as_tensor(h, dtype=weight.dtype), torch.as_tensor(u, dtype=weight.dtype)
                )
            return out.double().numpy()

        return step
    W, Wu = np.asarray(model.W_hh, dtype=float), np.asarray(model.W_uh, dtype=float)
    act = np.tanh if getattr(model, "nonlinear", True) else (lambda a: a)
    return lambda h, u: act(h @ W.T + u @ Wu.T)


def _check_edit(task, inputs, t, slot, new_value):
    x = _array(inputs, "inputs")
    if x.ndim != 3 or x.shape[-1] != task.d:
        raise ValueError(f"inputs must have shape (T, batch, {task.d}), got {x.shape}")
    t = _int(t, "t", task.s - 1, x.shape[0] - 1)
    slot = _int(slot, "slot", 0, task.s - 1)
    v = _array(new_value, "new_value")
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
    level the model uses.  ``t`` must be at least ``s - 1`` (all inputs in).  An
    :class:`~emtlib.rnn.ElmanRNN` runs through its own :meth:`~emtlib.rnn.ElmanRNN.step`;
    other models through ``W_hh``, ``W_uh`` with tanh (identity when ``model.nonlinear`` is False).
    """
    _check_basis(model, basis, task)
    x, t, slot, v = _check_edit(task, inputs, t, slot, new_value)
    idx = basis._slot_index(slot)
    step = _stepper(model)
    Wr = np.asarray(model.W_r, dtype=float)
    h = np.zeros((x.shape[1], basis.n))
    outputs = np.empty(x.shape)
    for tau in range(x.shape[0]):
        h = step(h, x[tau])
        if tau == t:
            v_old = h @ basis.dual[idx].T
            cols = v[:, basis.coords[idx, 1]]
            _slot_values(basis, slot, v, (x.shape[1],))  # refuses values for absent components
            h = intervene(
                model, basis, h, slot, _full(task.d, basis.coords[idx, 1], cols * np.abs(v_old))
            )
        outputs[tau] = h @ Wr.T
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
    task = _check_task(task)
    x, t, slot, v = _check_edit(task, inputs, t, slot, new_value)
    z = task.generate(x[: task.s].transpose(1, 0, 2), x.shape[0] - task.s)  # (batch, T, d)
    tau = t - task.s + 1 + slot
    z[:, tau] = np.where(np.isnan(v), z[:, tau], v)
    k, i = np.divmod(task.choice, task.d)
    for u in range(t + 1, z.shape[1]):
        z[:, u] = task.signs * z[:, u - task.s + k, i]
    return z.transpose(1, 0, 2)


# --- interventions chapter ---
# Helpers of chapter "Interventions": a control basis made of single neurons, and many random
# edits at once, each judged against the task's recurrence.
__all__ += ["InterventionTrials", "intervention_trials", "neuron_basis"]


def neuron_basis(model, task, batch=64, horizon=100, seed=0, compress=True) -> Basis:
    """The neuron basis as if it were privileged: one neuron per circuit coordinate (chapter "Interventions").

    The control of chapter "Interventions".  Runs ``model`` on ``batch`` random sequences and
    correlates, over the output phase, every neuron with every ideal window coordinate; then gives
    each coordinate its own neuron, the assignment of distinct neurons with the largest total
    ``|correlation|`` (Hungarian algorithm).  Column ``c`` of Ψ is that neuron's unit vector
    times the regression slope of the neuron on the coordinate, and the dual row is the unit
    vector divided by the slope, so ``dual @ Ψ = I`` and an edit in this basis overwrites single
    neurons.  ``compress`` as in :func:`privileged_basis`.  Needs ``n`` at least the number of
    coordinates.
    """
    from scipy.optimize import linear_sum_assignment

    task = _check_task(task)
    if not isinstance(compress, bool):
        raise TypeError(f"compress must be True or False, got {compress!r}")
    W, _, _ = _weights(model, task)
    n = W.shape[0]
    batch, horizon = _int(batch, "batch", 2), _int(horizon, "horizon", 1)
    coords = (
        cycle_coordinates(task)
        if compress
        else np.stack(np.divmod(np.arange(task.n), task.d), axis=1)
    )
    if len(coords) > n:
        raise ValueError(
            f"hidden size {n} is below the {len(coords)} coordinates that need a neuron each"
        )
    positions = coords[:, 0] * task.d + coords[:, 1]
    inputs, _ = task.sample(batch, horizon, seed=seed)
    inputs = inputs.double().numpy()
    H = _hidden(model, inputs)[task.s :].reshape(-1, n)
    X = _windows(task, inputs)[task.s :][..., positions].reshape(-1, len(positions))
    Hc, Xc = H - H.mean(axis=0), X - X.mean(axis=0)
    h_sd, x_sd = Hc.std(axis=0), Xc.std(axis=0)
    cov = Xc.T @ Hc / len(H)  # (coordinates, neurons)
    corr = cov / np.maximum(np.outer(x_sd, h_sd), 1e-300)
    rows, cols = linear_sum_assignment(-np.abs(corr))
    neuron = np.empty(len(positions), dtype=np.int64)
    neuron[rows] = cols
    slope = cov[np.arange(len(positions)), neuron] / np.maximum(x_sd**2, 1e-300)
    if np.any(slope == 0):
        raise ValueError(
            "a coordinate's best neuron does not vary with it: the data cannot assign neurons"
        )
    Psi = np.zeros((n, len(positions)))
    Psi[neuron, np.arange(len(positions))] = slope
    dual = np.zeros((len(positions), n))
    dual[np.arange(len(positions)), neuron] = 1.0 / slope
    return _make_basis(task, "neurons", W, Psi, dual, coords)


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
      ``v_old = dual_slot @ h`` and ``v_new`` carries the slot's new signs (the unflipped ones
      included) with magnitude ``|v_old|`` (``magnitude="keep"``, like
      :func:`run_with_intervention`) or a fixed positive ``magnitude``;
    * ``direction="random"``: a random direction with the same norm ``‖Δh‖`` (a control).

    The run continues and is judged on steps ``t ... t + window - 1`` against
    :func:`predicted_outputs`; the same sequences run unedited give the baseline.  Same
    ``seed``, same sequences, steps, slots and flips, whatever the basis: results of different
    bases (of the same coordinates) are paired.  Returns :class:`InterventionTrials`.
    """
    _check_basis(model, basis, task)
    edits = _int(edits, "edits", 1)
    window = _int(window, "window", 1)
    latest = _int(latest, "latest", 1)
    if direction not in ("basis", "random"):
        raise ValueError(f"direction must be 'basis' or 'random', got {direction!r}")
    if isinstance(magnitude, str):
        if magnitude != "keep":
            raise ValueError(f"magnitude must be 'keep' or a positive number, got {magnitude!r}")
    elif isinstance(magnitude, bool) or not isinstance(magnitude, numbers.Real):
        raise TypeError(
            f"magnitude must be 'keep' or a positive number, got {type(magnitude).__name__}"
        )
    elif not (np.isfinite(magnitude) and magnitude > 0):
        raise ValueError(f"magnitude must be 'keep' or a positive number, got {magnitude!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
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
    Wr = np.asarray(model.W_r, dtype=float)
    h = np.zeros((2 * edits, n))  # rows [:edits] edited, [edits:] unedited
    out = np.empty((T, 2 * edits, d))
    norm = np.zeros(edits)
    for u in range(T):
        h = step(h, np.concatenate([x[u], x[u]]))
        for e in np.flatnonzero(t == u):
            idx = basis._slot_index(int(slot[e]))
            v_old = basis.dual[idx] @ h[e]
            size = np.abs(v_old) if magnitude == "keep" else float(magnitude)
            delta = basis.Psi[:, idx] @ (new[e, basis.coords[idx, 1]] * size - v_old)
            norm[e] = np.linalg.norm(delta)
            if direction == "random":
                delta = norm[e] * r[e] / np.linalg.norm(r[e])
            h[e] = h[e] + delta
        out[u] = np.einsum(
            "bn,dn->bd", h, Wr
        )  # einsum, not BLAS: a threaded BLAS crawls in this loop
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

"""The privileged basis and hidden neurons (chapter "The privileged basis and hidden neurons").

EMT says a trained recurrent matrix is the task's ideal Φ seen in another basis, ``W = Ψ Φ Ψ⁺``.
The *privileged basis* Ψ makes that visible: in it, ``Ψ⁺ W Ψ`` looks like Φ and ``Ψ⁺ h(t)`` lists
the stored variables, slot by slot.  Most of them are *hidden neurons*: they are not read out at
time ``t``, yet they hold the inputs the network will need later.

Circuit coordinates.  The circuit's hidden space is the window ``vec(z(t-s+1), ..., z(t))``,
oldest first: coordinate ``(k, j)`` (slot ``k = 0`` oldest ... ``s-1`` newest, component ``j``)
is position ``p = k*d + j`` and holds ``z(t-s+1+k)[j]``.

Which coordinates carry the long-lived modes.  Position ``p`` is fed, one step later, by one
position ``f(p)`` (``p + d``, or ``choice[j]`` for the newest slot; :func:`emtlib.circuit.cycles`), so
``(Φ x)_p = ±x_{f(p)}`` and ``e_p^T Φ = ±e_{f(p)}^T``.  Every position's orbit under ``f`` ends in
a cycle.  Hence, with ``C`` the positions on cycles:

* the dual rows ``e_c^T``, ``c ∈ C``, span a subspace that Φ maps into itself from the right
  (``E_C^T Φ = Φ_CC E_C^T``): *reading* the cycle coordinates is closed under the dynamics;
* the other coordinates (trees hanging off the cycles) span an invariant subspace on which Φ is
  nilpotent: what sits there is copied upwards and lost within ``s`` steps;
* ``Φ_CC`` (Φ restricted to rows and columns ``C``) is a signed permutation whose eigenvalues are
  exactly Φ's long-lived ones (``|C| = long_lived_modes(task)``: 64 of 64 for repeat copy, 36 of
  64 for the compose tasks of the paper).

So "rank compression" keeps the columns of the cycle positions, and ``phi_ideal = Φ_CC``.  For
the compose copy ``z(t)[j] = z(t-8+j)[j]`` the kept coordinates are ``(k, j)`` with ``k >= j``:
component ``j`` is needed only for ``8 - j`` steps, and its older copies are dead.

The algorithm (:func:`privileged_basis`), as in the paper and the authors' code:

1. newest-slot block ``B``: ``W_uh`` (``grounding="input"``, the paper's text) or ``pinv(W_r)``
   (``"output"``, the authors' later code), both ``(n, d)``;
2. slot ``k`` block ``= W^(s-1-k) B`` (0-based ``k``; the paper's ``W^(s-k)`` with 1-based slots),
   because Φ moves slot ``k+1`` into slot ``k``;
3. normalise every column;
4. keep the cycle coordinates;
5. ``dual = pinv(Ψ)``;
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
:func:`probe_basis` estimates the basis from hidden states instead, and :func:`neuron_basis`
builds the control of chapter "Interventions": single neurons standing in for the coordinates.
Editing a stored variable through a basis is :mod:`emtlib.interventions`.

Any architecture (chapter "Beyond the Elman RNN").  The algorithm needs three linear maps: the
recurrent one, the input and the readout.  For a model of :mod:`emtlib.architectures` they are
the update linearised at its fixed point ``x*`` (:func:`emtlib.spectra.linearised_maps`):
``J = ∂F/∂x`` stands for ``W_hh``, ``B = ∂F/∂u`` for ``W_uh`` and the readout ``C`` for ``W_r``,
and a state is read as its deviation from the fixed point, ``dual @ (x − x*)``
(:attr:`Basis.fixed_point`).  For the bias-free Elman RNN ``x* = 0`` and the three maps are
exactly ``W_hh``, ``W_uh``, ``W_r``, so its basis is the one above.  The LSTM's state is the joint
``x = [h, c]`` (``2n`` numbers): ``J`` and ``B`` are taken over it, the readout reads ``h`` only,
``C = [W_r, 0]``, so the output grounding's newest slot ``pinv(C)`` lies in ``h`` while the
observer's dual rows ``C J^m`` read ``c`` too; every basis, decoding and probe of an LSTM lives in
the joint state along the step path.  An object that is not a model but exposes ``W_hh``,
``W_uh``, ``W_r`` (a :class:`~emtlib.circuit.Circuit`) is a bias-free tanh RNN read at the origin.

Controls (chapter "The privileged basis", section "How much comes from the weights?"): to tell what
the weights contribute from what supervision or chance contributes, :func:`basis_controls` builds,
beside the weight-only bases and the probe, three bases that should *not* work:
:func:`shuffled_probe_basis` (the probe fitted to labels shuffled across samples),
:func:`transfer_basis` (another network's basis, read in this one) and :func:`random_basis`
(random columns of the same rank).

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.circuit`, :mod:`emtlib.rnn`,
:mod:`emtlib.spectra` and :mod:`emtlib._checks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from ._checks import array, integer
from .circuit import cycles, ideal_hidden_states, long_lived_modes, phi
from .rnn import RecurrentModel
from .spectra import FixedPointError, LinearisedMaps, linearised_maps
from .tasks import Task, check_task

__all__ = [
    "CONTROL_KINDS",
    "GROUNDINGS",
    "Basis",
    "basis_controls",
    "controls_markdown",
    "cycle_coordinates",
    "decode",
    "decoding_accuracy",
    "neuron_basis",
    "privileged_basis",
    "probe_basis",
    "random_basis",
    "shuffled_probe_basis",
    "transfer_basis",
]

GROUNDINGS = ("input", "output", "observer")


def _maps(model, task: Task, maps=None) -> LinearisedMaps:
    """The recurrent, input and readout maps ``J (N, N)``, ``B (N, d)``, ``C (d, N)`` of ``model``
    and the fixed point they are taken at, float64, checked against ``task``.

    A :class:`~emtlib.rnn.RecurrentModel` is linearised at its fixed point
    (:func:`emtlib.spectra.linearised_maps`) unless ``maps`` gives that linearisation already; an
    object exposing ``W_hh``, ``W_uh``, ``W_r`` (a :class:`~emtlib.circuit.Circuit`) is a
    bias-free tanh RNN at the origin: the weights themselves.
    """
    given = maps is not None
    if given and not isinstance(maps, LinearisedMaps):
        raise TypeError(
            f"maps must be emtlib.spectra.linearised_maps(model), got {type(maps).__name__}"
        )
    if isinstance(model, RecurrentModel):
        maps = maps if given else _linearise(model)
    elif all(hasattr(model, name) for name in ("W_hh", "W_uh", "W_r")):
        W, Wu, Wr = (np.asarray(getattr(model, k), dtype=float) for k in ("W_hh", "W_uh", "W_r"))
        maps = maps if given else LinearisedMaps(W, Wu, Wr, np.zeros(W.shape[:1]))
    else:
        raise TypeError(
            "model must be an emtlib RecurrentModel (emtlib.rnn, emtlib.architectures) or expose "
            f"the weights W_hh, W_uh, W_r of a bias-free tanh RNN (a Circuit), got "
            f"{type(model).__name__}"
        )
    if given and maps.J.shape[0] != _state_size(model):
        raise ValueError(
            f"maps are of a state of {maps.J.shape[0]} numbers, the model's has "
            f"{_state_size(model)}: pass linearised_maps(model) of this model"
        )
    J, B, C = maps.J, maps.B, maps.C
    n, d = J.shape[0], task.d
    if J.shape != (n, n) or B.shape != (n, d) or C.shape != (d, n):
        raise ValueError(
            f"model must take and give d = {d} numbers for the task: its (linearised) weights "
            f"must be W_hh (n, n), W_uh (n, {d}), W_r ({d}, n); got {J.shape}, {B.shape}, {C.shape}"
        )
    if n < long_lived_modes(task):
        raise ValueError(
            f"hidden size (state size) {n} is below the task's {long_lived_modes(task)} "
            "long-lived modes"
        )
    for name, a in (("W_hh", J), ("W_uh", B), ("W_r", C)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"model.{name} (or its linearisation) must be finite")
    return maps


def _linearise(model: RecurrentModel) -> LinearisedMaps:
    """:func:`emtlib.spectra.linearised_maps` of ``model``, its error saying what to do instead."""
    try:
        return linearised_maps(model)
    except FixedPointError as err:
        raise FixedPointError(
            f"{err}.  The basis is built at a fixed point: find one with "
            "emtlib.spectra.fixed_point and pass maps=linearised_maps(model, state=...)"
        ) from None


def _state_size(model) -> int | None:
    """Numbers in ``model``'s state: ``state_size`` of a RecurrentModel, else rows of ``W_hh``."""
    if isinstance(model, RecurrentModel):
        return model.state_size
    shape = np.shape(getattr(model, "W_hh", None))
    return shape[0] if len(shape) == 2 else None


# -- the coordinates and the basis object ------------------------------------------------------------
def cycle_coordinates(task: Task) -> np.ndarray:
    """The circuit coordinates that carry Φ's long-lived modes: ``(slot, component)`` of every
    position on a cycle of :func:`emtlib.circuit.cycles`, in position order, shape ``(|C|, 2)``.

    Chapter "The privileged basis and hidden neurons" explains why these and no others.
    """
    positions = np.sort(
        np.concatenate([np.asarray(c, dtype=np.int64) for c, _ in cycles(check_task(task))])
    )
    return np.stack(np.divmod(positions, task.d), axis=1)


@dataclass(frozen=True, eq=False, repr=False)
class Basis:
    """A privileged basis of one model for one task (chapter "The privileged basis and hidden neurons").

    ``Psi (n, k)``: basis vectors as columns; ``dual (k, n)``: the dual basis (``dual @ Psi = I``);
    ``coords (k, 2)``: the circuit coordinate ``(slot, component)`` of each column, ``(-1, i)``
    for the ``i``-th PCA completion direction; ``phi_empirical = dual @ W_hh @ Psi`` (``W_hh``
    the linearised update ``J`` for other architectures); ``phi_ideal``: Φ restricted to the
    variable coordinates; ``fixed_point (n,)``: the state the variables are measured from,
    ``dual @ (x − fixed_point)`` (zero, the default, for the bias-free Elman RNN and the
    circuit; chapter "Beyond the Elman RNN").  ``n`` is the size of the model's state: the hidden
    size, ``2n`` for an LSTM's joint ``[h, c]``.

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
    fixed_point: np.ndarray | None = None

    def __post_init__(self):
        if self.fixed_point is None:
            object.__setattr__(self, "fixed_point", np.zeros(self.Psi.shape[0]))
        for name in ("Psi", "dual", "coords", "phi_empirical", "phi_ideal", "fixed_point"):
            getattr(self, name).setflags(write=False)

    @property
    def n(self) -> int:
        """State size of the model the basis belongs to (its hidden size; ``2n`` for an LSTM)."""
        return self.Psi.shape[0]

    @property
    def n_variables(self) -> int:
        """Number of columns standing for circuit coordinates (the rest are PCA completion)."""
        return int(np.sum(self.coords[:, 0] >= 0))

    def slot_columns(self, k) -> np.ndarray:
        """Indices of the columns of Ψ (rows of the dual) that belong to slot ``k``."""
        k = integer(k, "slot", 0, self.task.s - 1)
        return np.flatnonzero(self.coords[:, 0] == k)

    def check_model(self, model, task=None) -> None:
        """Raise unless ``model`` has this basis's hidden (state) size (and ``task``, when given,
        is the task the basis was built for)."""
        if task is not None and check_task(task) != self.task:
            raise ValueError(f"basis was built for {self.task!r}, not for {task!r}")
        n = _state_size(model)
        if n != self.n:
            raise ValueError(
                f"basis has hidden size (state size) {self.n}, but the model's state has {n} "
                f"numbers ({type(model).__name__})"
            )

    def components(self, k) -> np.ndarray:
        """The components of slot ``k`` present in the basis (all ``d`` unless compressed)."""
        return self.coords[self.slot_columns(k), 1].copy()

    def slot(self, k) -> np.ndarray:
        """Columns of Ψ for slot ``k`` (``0`` oldest ... ``s-1`` newest), shape ``(n, len(components(k)))``."""
        return self.Psi[:, self.slot_columns(k)].copy()

    def slot_dual(self, k) -> np.ndarray:
        """Rows of the dual for slot ``k``: ``slot_dual(k) @ h`` reads that slot's variables."""
        return self.dual[self.slot_columns(k)].copy()

    def __repr__(self) -> str:
        return (
            f"Basis({self.task!r}, method={self.method!r}, n={self.n}, columns={self.Psi.shape[1]} "
            f"({self.n_variables} variables), phi_error={self.phi_error:.3g}, gain={self.gain:.3g}, "
            f"phi_error_scaled={self.phi_error_scaled:.3g})"
        )


def _make_basis(task, method, maps: LinearisedMaps, Psi, dual, coords) -> Basis:
    """Fill in Φ in the basis (``dual @ J @ Psi``) and its errors (shared by every estimator)."""
    phi_emp = dual @ maps.J @ Psi
    kv = int(np.sum(coords[:, 0] >= 0))
    pos = coords[:kv, 0] * task.d + coords[:kv, 1]
    ideal = phi(task)[np.ix_(pos, pos)]
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
    coords = coords.astype(np.int64)
    fixed_point = np.array(maps.fixed_point, dtype=float)
    return Basis(task, method, Psi, dual, coords, phi_emp, ideal, error, gain, scaled, fixed_point)


def _complete(Psi, coords, complete, data, fixed_point):
    """Add ``complete`` principal directions of ``data − fixed_point`` outside ``span(Psi)``
    (step 6)."""
    n = Psi.shape[0]
    if complete == 0:
        return Psi, coords
    if data is None:
        raise ValueError("complete > 0 needs data: hidden states (T, batch, n) of the model")
    H = array(data, "data")
    if H.ndim < 2 or H.shape[-1] != n:
        raise ValueError(f"data must be hidden states (..., n) with n = {n}, got shape {H.shape}")
    H = (H.reshape(-1, n) - fixed_point).T  # (n, samples)
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


# -- the weight-based algorithm (chapter "The privileged basis and hidden neurons") ---------------------
def privileged_basis(
    model, task, grounding="output", compress=True, complete=0, data=None, maps=None
) -> Basis:
    """The privileged basis of ``model`` for ``task`` from its weights (the paper's algorithm).

    ``model`` is any :class:`~emtlib.rnn.RecurrentModel` (then ``W_hh``, ``W_uh``, ``W_r`` below
    mean its update linearised at its fixed point, see the module docstring) or an object with
    those weights (a :class:`~emtlib.circuit.Circuit`).

    ``grounding``: ``"input"`` (newest slot = ``W_uh``), ``"output"`` (newest slot =
    ``pinv(W_r)``) or ``"observer"`` (dual rows from ``W_r W^m``; exact in any basis, see the
    module docstring; with it ``compress`` must be True unless every coordinate is on a cycle).
    ``compress=True`` keeps only the cycle coordinates (:func:`cycle_coordinates`), which carry
    Φ's long-lived modes; ``False`` keeps all ``s*d`` coordinates (Φ itself is then the reference,
    which the input/output groundings only reach for repeat copy).  ``complete`` adds that many PCA
    directions of ``data`` (states ``(T, batch, n)``, measured from the fixed point) outside
    ``span(Ψ)``.  ``maps``: :func:`emtlib.spectra.linearised_maps` of ``model``, to build several
    bases of one model without finding its fixed point again (computed when None).
    Returns a :class:`Basis`; columns are ordered by position ``slot*d + component``.
    """
    task = check_task(task)
    if grounding not in GROUNDINGS:
        raise ValueError(f"grounding must be one of {GROUNDINGS}, got {grounding!r}")
    if not isinstance(compress, bool):
        raise TypeError(f"compress must be True or False, got {compress!r}")
    maps = _maps(model, task, maps)
    W, Wu, Wr = maps.J, maps.B, maps.C
    n, s, d = W.shape[0], task.s, task.d
    complete = integer(complete, "complete", 0, n)
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
        rho = _long_lived_gain(W, long_lived_modes(task))
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
    Psi, coords = _complete(Psi, coords, complete, data, maps.fixed_point)
    dual = np.linalg.pinv(Psi)
    return _make_basis(task, grounding, maps, Psi, dual, coords)


# -- estimates from hidden states, and the neuron control -----------------------------------------------
def _states(model, inputs: np.ndarray) -> np.ndarray:
    """The states ``(T, batch, n)`` ``model`` passes through on ``inputs`` ``(T, batch, d)``: its
    hidden states, or for a model with a second state (the LSTM) the joint state ``[h, c]``
    along its step path."""
    if isinstance(model, RecurrentModel) and model.state_size != model.hidden:
        weight = model.readout.weight
        x = torch.as_tensor(inputs).to(device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            state, states = x.new_zeros(x.shape[1], model.state_size), []
            for u in x:
                state = model.step(state, u)
                states.append(state)
        return torch.stack(states).cpu().double().numpy()
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
    model,
    task,
    batch=64,
    horizon=50,
    seed=0,
    estimator="dual",
    compress=True,
    shuffle=None,
    maps=None,
) -> Basis:
    """The privileged basis estimated from hidden states (chapter "The privileged basis and hidden neurons").

    Runs ``model`` on ``batch`` random sequences and regresses, over the output phase, the hidden
    states ``h`` on the ideal windows ``x`` restricted to the basis coordinates.
    ``estimator="basis"``: ``h ≈ Ψ x`` (least squares for Ψ), then ``dual = pinv(Ψ)``.
    ``estimator="dual"``: ``x ≈ D h`` (least squares for the dual, the map decoding needs), then
    ``Ψ = pinv(D)``.  On a model that runs the circuit exactly both agree; the dual fit is the one
    that minimises decoding error.  Works in any basis, orthogonal or not.  The states are
    measured from the model's fixed point, as in :func:`privileged_basis`; for an LSTM they are
    the joint ``[h, c]``.
    ``shuffle``: a seed; when given, the labels ``x`` are permuted across samples before the fit
    (the control :func:`shuffled_probe_basis`).  ``maps`` as in :func:`privileged_basis`.
    """
    task = check_task(task)
    if shuffle is not None:
        shuffle = integer(shuffle, "shuffle", 0)
    if estimator not in ("dual", "basis"):
        raise ValueError(f"estimator must be 'dual' or 'basis', got {estimator!r}")
    maps = _maps(model, task, maps)
    n = maps.J.shape[0]
    batch, horizon = integer(batch, "batch", 1), integer(horizon, "horizon", 1)
    coords = (
        cycle_coordinates(task)
        if compress
        else np.stack(np.divmod(np.arange(task.n), task.d), axis=1)
    )
    positions = coords[:, 0] * task.d + coords[:, 1]
    inputs, _ = task.sample(batch, horizon, seed=seed)
    inputs = inputs.double().numpy()
    H = _states(model, inputs)[task.s :].reshape(-1, n) - maps.fixed_point  # (samples, n)
    X = _windows(task, inputs)[task.s :][..., positions].reshape(-1, len(positions))
    if shuffle is not None:
        X = X[np.random.default_rng(shuffle).permutation(len(X))]
    if estimator == "basis":
        Psi = np.linalg.lstsq(X, H, rcond=None)[0].T
        dual = np.linalg.pinv(Psi)
    else:
        dual = np.linalg.lstsq(H, X, rcond=None)[0].T
        Psi = np.linalg.pinv(dual)
    method = f"probe-{estimator}" if shuffle is None else f"shuffled-{estimator}"
    return _make_basis(task, method, maps, Psi, dual, coords)


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
    task = check_task(task)
    if not isinstance(compress, bool):
        raise TypeError(f"compress must be True or False, got {compress!r}")
    maps = _maps(model, task)
    n = maps.J.shape[0]
    batch, horizon = integer(batch, "batch", 2), integer(horizon, "horizon", 1)
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
    H = _states(model, inputs)[task.s :].reshape(-1, n)
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
    return _make_basis(task, "neurons", maps, Psi, dual, coords)


# -- controls (chapter "The privileged basis", section "How much comes from the weights?") ----------
#: The bases :func:`basis_controls` builds, in the order the chapter tabulates them.
CONTROL_KINDS = ("input", "output", "observer", "probe", "shuffled", "other seed", "random")


def shuffled_probe_basis(
    model, task, batch=64, horizon=50, seed=0, shuffle_seed=0, maps=None
) -> Basis:
    """The supervised probe fitted to shuffled labels: :func:`probe_basis` (``estimator="dual"``)
    with the ideal windows permuted across samples by ``numpy.random.default_rng(shuffle_seed)``
    (``maps`` as in :func:`privileged_basis`).

    The control for supervision: the same fit, the same number of parameters, no relation between
    hidden state and label.  Chapter "The privileged basis", section "How much comes from the
    weights?".
    """
    return probe_basis(
        model, task, batch=batch, horizon=horizon, seed=seed, shuffle=shuffle_seed, maps=maps
    )


def transfer_basis(basis, model, maps=None) -> Basis:
    """``basis`` (built on one network) used to read ``model`` (another network of the same task
    and hidden size): the same ``Psi`` and dual, with Φ in the basis recomputed from
    ``model.W_hh`` (its linearised update, for other architectures) and the states measured from
    ``model``'s own fixed point (``maps``: ``model``'s, as in :func:`privileged_basis`).

    The control for the weights: a basis that decodes a network only because it came from *that*
    network's weights fails on another seed's network, whose neurons are arranged differently.
    Chapter "The privileged basis", section "How much comes from the weights?".
    """
    if not isinstance(basis, Basis):
        raise TypeError(f"basis must be an emtlib.basis.Basis, got {type(basis).__name__}")
    basis.check_model(model)
    maps = _maps(model, basis.task, maps)
    return _make_basis(
        basis.task, f"{basis.method} (transferred)", maps, basis.Psi, basis.dual, basis.coords
    )


def random_basis(model, task, seed=0, compress=True, maps=None) -> Basis:
    """A random basis of the same rank as the privileged one: Gaussian columns (one per circuit
    coordinate, :func:`cycle_coordinates` when ``compress``), dual = pseudoinverse, measured from
    the model's fixed point like the privileged basis.

    The control for chance: how well an arbitrary set of directions "decodes" and "recovers Φ".
    ``seed`` seeds ``numpy.random.default_rng``; ``maps`` as in :func:`privileged_basis`.
    Chapter "The privileged basis", section "How much comes from the weights?".
    """
    task = check_task(task)
    if not isinstance(compress, bool):
        raise TypeError(f"compress must be True or False, got {compress!r}")
    seed = integer(seed, "seed", 0)
    maps = _maps(model, task, maps)
    coords = (
        cycle_coordinates(task)
        if compress
        else np.stack(np.divmod(np.arange(task.n), task.d), axis=1)
    )
    n = maps.J.shape[0]
    Psi = np.random.default_rng(seed).standard_normal((n, len(coords))) / np.sqrt(n)
    return _make_basis(task, "random", maps, Psi, np.linalg.pinv(Psi), coords)


def basis_controls(model, task, other, seed=0, batch=64, horizon=50) -> dict[str, Basis]:
    """Every basis of :data:`CONTROL_KINDS` for ``model``: name -> :class:`Basis`.

    ``"input"``, ``"output"``, ``"observer"``: :func:`privileged_basis` with that grounding (the
    paper's text, the authors' code, this book's; all three from the weights alone); ``"probe"``: :func:`probe_basis` (the
    dual fitted to ideal windows, supervised); ``"shuffled"``: :func:`shuffled_probe_basis`;
    ``"other seed"``: the observer basis of ``other`` (a network of the same task and hidden size,
    trained from another seed) read in ``model`` (:func:`transfer_basis`); ``"random"``:
    :func:`random_basis`.  ``seed`` seeds the probe's data, the shuffle and the random basis;
    ``batch`` and ``horizon`` size the probe's data.  Chapter "The privileged basis".
    """
    task = check_task(task)
    if other is model:
        raise ValueError("other must be a different network (another seed), not model itself")
    seed = integer(seed, "seed", 0)
    maps = _maps(model, task)  # the fixed point is found once for every basis of model
    data = {"batch": batch, "horizon": horizon, "seed": seed, "maps": maps}
    return {
        **{g: privileged_basis(model, task, grounding=g, maps=maps) for g in GROUNDINGS},
        "probe": probe_basis(model, task, **data),
        "shuffled": shuffled_probe_basis(model, task, shuffle_seed=seed, **data),
        "other seed": transfer_basis(
            privileged_basis(other, task, grounding="observer"), model, maps=maps
        ),
        "random": random_basis(model, task, seed=seed, maps=maps),
    }


def controls_markdown(accuracy, phi_error, kinds=CONTROL_KINDS) -> str:
    """The control table as Markdown: one row per network, one column per basis kind, each cell
    ``decoding accuracy / Φ error`` (chapter "The privileged basis", section "How much comes from
    the weights?").  ``accuracy`` and ``phi_error`` map a network's name to ``{kind: value}``."""
    if not isinstance(accuracy, dict) or not isinstance(phi_error, dict):
        raise TypeError("accuracy and phi_error must be dicts: network -> {kind: value}")
    if set(accuracy) != set(phi_error):
        raise ValueError("accuracy and phi_error must name the same networks")
    kinds = list(kinds)
    lines = [
        "| network | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for name in accuracy:
        cells = []
        for kind in kinds:
            if kind not in accuracy[name] or kind not in phi_error[name]:
                raise ValueError(f"no {kind!r} value for network {name!r}")
            cells.append(f"{accuracy[name][kind]:.3f} / {phi_error[name][kind]:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- decoding (chapter "The privileged basis and hidden neurons") ---------------------------------------
def _check_basis(model, basis, task=None) -> None:
    if not isinstance(basis, Basis):
        raise TypeError(f"basis must be an emtlib.basis.Basis, got {type(basis).__name__}")
    basis.check_model(model, task)


def decode(model, basis, inputs) -> np.ndarray:
    """The stored variables at every step: ``dual @ (h(t) − fixed_point)`` arranged as
    ``(T, batch, s, d)``.

    Coordinates not in the basis (compressed away) are NaN.  ``inputs`` ``(T, batch, d)``
    (or ``(T, d)``, then ``(T, s, d)``), numpy or torch.  ``h`` is the model's state (the joint
    ``[h, c]`` for an LSTM) and ``fixed_point`` the basis's (zero for the bias-free Elman RNN).
    """
    _check_basis(model, basis)
    x = array(inputs, "inputs")
    task = basis.task
    if x.ndim not in (2, 3) or x.shape[-1] != task.d:
        raise ValueError(
            f"inputs must have shape (T, {task.d}) or (T, batch, {task.d}), got {x.shape}"
        )
    squeeze = x.ndim == 2
    H = _states(model, x[:, None] if squeeze else x) - basis.fixed_point
    values = H @ basis.dual[: basis.n_variables].T
    out = np.full(H.shape[:2] + (task.s, task.d), np.nan)
    k, j = basis.coords[: basis.n_variables].T
    out[..., k, j] = values
    return out[:, 0] if squeeze else out


def decoding_accuracy(
    model, task, basis, horizon=200, batches=10, batch=64, seed=0, reference="ideal", slots=None
) -> float:
    """Fraction of stored-variable signs decoded correctly over the output phase.

    Compares ``sign(dual @ (h(t) − fixed_point))`` on the basis's coordinates (as
    :func:`decode` reads them) with a reference, for ``batches``
    random batches (paper's test protocol: horizon 200, 10 batches of 64).

    ``reference="ideal"``: the task's ideal window (is the stored memory *right*?).
    ``reference="model"``: what the model itself emitted for each stored vector ``z(u)``, its input
    ``u(u)`` during the input phase and the sign of its own output ``W_r h(u)`` afterwards (does the
    basis read the memory the network *has*, right or wrong?).  The two differ only where the
    model's own outputs are wrong.  ``slots``: the slots to score (default all; e.g.
    ``range(s - 1)`` for the hidden ones).  Chapter "The privileged basis and hidden neurons".
    """
    _check_basis(model, basis, task)
    horizon, batches = integer(horizon, "horizon", 1), integer(batches, "batches", 1)
    if reference not in ("ideal", "model"):
        raise ValueError(f"reference must be 'ideal' or 'model', got {reference!r}")
    kv = basis.n_variables
    keep = np.ones(kv, dtype=bool)
    if slots is not None:
        wanted = [integer(k, "slot", 0, task.s - 1) for k in slots]
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
        H = _states(model, x)
        decoded = (H[s:] - basis.fixed_point) @ dual.T  # (T - s, batch, kept), as decode() does
        if reference == "ideal":
            ref = _windows(task, x)[s:][..., k * task.d + j]
        else:
            Wr = np.asarray(model.W_r, dtype=float)  # reads h, the state's first numbers
            said = np.concatenate([x[:s], np.sign(H[s:, :, : Wr.shape[1]] @ Wr.T)])
            u = np.arange(s, T)[:, None] - s + 1 + k[None, :]  # z(u) sits in slot k at step t
            ref = said[u, :, j[None, :]].transpose(0, 2, 1)
        correct += int(np.sum(np.sign(decoded) == np.sign(ref)))
        total += ref.size
    return correct / total

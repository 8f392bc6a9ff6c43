"""Linearization, eigen-spectra and the spectral error (chapters "Training RNNs on variable
binding" and "Universality").

A bias-free tanh RNN with zero input is the map ``h -> tanh(W h)``.  Near a point ``h*`` it acts
like its Jacobian

    J = diag(1 - tanh(W h*)^2) W,

and at the origin, a fixed point of every bias-free RNN, ``J = W``.  EMT predicts that a trained
``W`` is the ideal Φ of the task seen in another basis, ``W = Ψ Φ Ψ⁺``, so the two share their
*long-lived* eigenvalues (``|λ| > 0.9``).  Trained models hold their memories in limit cycles
(``|λ| > 1``, kept bounded by tanh), so only the *angles* are compared::

    spectral error = mean over optimally matched pairs of |angle(λ_W) - angle(λ_Φ)|,

with angle differences wrapped to ``[0, π]``.  When ``W`` and Φ have different numbers of
long-lived eigenvalues the error is not defined (the "—" of the paper's Table 1), and when neither
has any there is nothing to compare.

Other architectures (chapter "Beyond the Elman RNN") have biases or gates, so the origin is in
general not a fixed point and no closed form is at hand: :func:`fixed_point` finds a fixed point
``x* = F(x*, 0)`` of the autonomous update by damped Newton iteration and :func:`state_jacobian`
takes the Jacobian ``∂F/∂x`` there by autograd, over the model's whole state (for the LSTM the
joint state ``[h, c]``, so ``2n × 2n``).  :func:`linearised_maps` adds the input and readout maps
there, the three matrices the privileged basis of any architecture is built from
(:mod:`emtlib.basis`).

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.circuit`, :mod:`emtlib.rnn` and
:mod:`emtlib._checks`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment, root

from ._checks import integer, real
from .circuit import cycles
from .rnn import ElmanRNN, RecurrentModel
from .tasks import Task

__all__ = [
    "FixedPointError",
    "LinearisedMaps",
    "SpectralComparison",
    "angle_distance",
    "autograd_jacobian",
    "eigen_angles",
    "eigenvalues",
    "fixed_point",
    "ideal_eigenvalues",
    "jacobian",
    "linearised_maps",
    "long_lived",
    "match_eigenvalues",
    "slow_point",
    "spectral_error",
    "state_jacobian",
    "state_update",
]


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _to_numpy(value, name: str) -> np.ndarray:
    """A numpy or torch array as a float64 / complex128 numpy array; anything else: TypeError."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(value).__name__}")
    if value.dtype == bool or not np.issubdtype(value.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
    return value.astype(complex if np.iscomplexobj(value) else float)


def _matrix(W, name: str = "W") -> np.ndarray:
    """``W`` as a real square float64 matrix; ``W`` may be an array or hold one in ``W_hh``."""
    if isinstance(W, RecurrentModel) and not isinstance(W, ElmanRNN):
        raise TypeError(
            f"{name}: the closed-form linearization holds for the bias-free ElmanRNN only; for "
            f"a {type(W).__name__} pass the matrix state_jacobian(model) (taken at a fixed point)"
        )
    if hasattr(W, "W_hh") and not isinstance(W, (np.ndarray, torch.Tensor)):
        W = W.W_hh
        name = f"{name}.W_hh"
    W = _to_numpy(W, name)
    if np.iscomplexobj(W):
        raise TypeError(f"{name} must be a real matrix, got a complex one")
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix (n, n), got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{name} must be finite (it holds NaN or inf)")
    return W


def _vector(h, n: int, name: str = "h") -> np.ndarray:
    if isinstance(h, (list, tuple)):
        h = np.asarray(h)
    h = _to_numpy(h, name)
    if np.iscomplexobj(h):
        raise TypeError(f"{name} must be real")
    if h.shape != (n,):
        raise ValueError(f"{name} must be a vector of shape ({n},) to match W, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError(f"{name} must be finite")
    return h


def _threshold(threshold) -> float:
    return real(threshold, "threshold", 0.0, strict_min=True)


def _is_linear(model) -> bool:
    """True for objects that declare an identity activation (the linear :class:`Circuit`)."""
    return getattr(model, "nonlinear", True) is False


# --------------------------------------------------------------------------------------------
# Linearization (chapter "Training RNNs on variable binding")
# --------------------------------------------------------------------------------------------
def jacobian(W, h_star=None) -> np.ndarray:
    """The Jacobian of ``h -> tanh(W h)`` at ``h_star``: ``diag(1 - tanh(W h*)^2) W``.

    ``W`` is a numpy/torch matrix ``(n, n)`` or a model with a ``W_hh`` attribute
    (:class:`~emtlib.rnn.ElmanRNN`, :class:`~emtlib.circuit.Circuit`).  ``h_star=None`` means the
    origin, where ``J = W`` (tanh'(0) = 1).  A linear circuit (``nonlinear=False``) has ``J = W``
    everywhere.  The formula holds at any point; at a fixed point it decides stability
    (chapter "Training RNNs on variable binding").  Returns a float64 numpy array.
    """
    linear = _is_linear(W)
    W = _matrix(W)
    if h_star is None or linear:
        if h_star is not None:
            _vector(h_star, W.shape[0], "h_star")
        return W.copy()
    h = _vector(h_star, W.shape[0], "h_star")
    gain = 1.0 - np.tanh(W @ h) ** 2
    return gain[:, None] * W


def autograd_jacobian(model_or_W, h) -> np.ndarray:
    """The same Jacobian as :func:`jacobian`, by automatic differentiation.

    For an :class:`~emtlib.rnn.ElmanRNN` it differentiates the model's own :meth:`~emtlib.rnn.ElmanRNN.step` with zero
    input (in the model's dtype, float32 by default); otherwise ``h -> tanh(W h)`` in float64 with
    ``W`` the matrix or the object's ``W_hh`` (identity activation for a linear circuit).  Used to
    check the closed form (chapter "Training RNNs on variable binding").
    """
    if isinstance(model_or_W, ElmanRNN):
        model = model_or_W
        weight = model.rnn.weight_hh_l0
        x = torch.as_tensor(_vector(h, model.hidden), dtype=weight.dtype, device=weight.device)
        zero_input = torch.zeros(1, model.d_in, dtype=weight.dtype, device=weight.device)
        func = lambda v: model.step(v[None, :], zero_input)[0]
    else:
        linear = _is_linear(model_or_W)
        W = torch.from_numpy(_matrix(model_or_W))
        x = torch.from_numpy(_vector(h, W.shape[0]))
        func = (lambda v: W @ v) if linear else (lambda v: torch.tanh(W @ v))
    J = torch.autograd.functional.jacobian(func, x)
    return J.detach().cpu().double().numpy()


# --------------------------------------------------------------------------------------------
# Fixed points and Jacobians of any architecture (chapter "Beyond the Elman RNN")
# --------------------------------------------------------------------------------------------
class FixedPointError(RuntimeError):
    """:func:`fixed_point` did not converge; the message gives the residual it reached."""


def _autonomous(model) -> tuple[RecurrentModel, Callable]:
    """A float64 copy of ``model`` and its autonomous update ``x -> F(x, 0)`` on one state vector."""
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            "model must be an ElmanRNN or another emtlib RecurrentModel (emtlib.architectures), "
            f"got {type(model).__name__}"
        )
    exact = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
    zero_input = torch.zeros(1, exact.d_in, dtype=torch.float64)
    return exact, lambda x: exact.step(x[None, :], zero_input)[0]


def _state(model: RecurrentModel, state, name: str = "state") -> torch.Tensor:
    return torch.from_numpy(_vector(state, model.state_size, name).copy())


def state_update(model, state) -> np.ndarray:
    """The next state ``F(x, 0)`` of ``model`` from ``state`` with zero input, in float64.

    ``state`` is a vector of ``model.state_size`` numbers (``[h, c]`` for the LSTM).  Chapter
    "Beyond the Elman RNN".
    """
    exact, update = _autonomous(model)
    with torch.no_grad():
        return update(_state(exact, state)).numpy()


def fixed_point(
    model,
    start=None,
    tol: float = 1e-10,
    max_iter: int = 100,
    restarts: int = 0,
    seed: int = 0,
    settle: tuple = (100, 1_000, 10_000),
) -> np.ndarray:
    """A fixed point ``x* = F(x*, 0)`` of the autonomous update of ``model``, in float64.

    Tries a list of starts in turn: ``start`` (default: the zero state, itself the fixed point of
    a bias-free Elman RNN), the states the autonomous update reaches from it after each number of
    steps in ``settle``, then ``restarts`` random states (each number uniform in ``(-1, 1)``, drawn
    by ``numpy.random.default_rng(seed)``).  From each, damped Newton iteration: each step solves
    ``(J - I) dx = x - F(x)`` with ``J`` the autograd Jacobian and halves ``dx`` until the residual
    ``max |F(x) - x|`` falls (at most 30 times), for at most ``max_iter`` steps.  Newton can stall
    at a slow point that is not fixed; then a Levenberg–Marquardt search
    (``scipy.optimize.root``, method ``"lm"``, at most ``10 * max_iter`` evaluations) starts again
    from the same start.  Returns the first state whose residual is at most ``tol`` and whose
    ``h`` (the first ``hidden`` numbers) lies in ``[-1, 1]``: ``h`` is a tanh, a gated mix of
    tanh's or a gated tanh in every architecture, so a point outside is no fixed point but a place
    where a saturated gate freezes the state to rounding.  An LSTM's cell state is not bounded so:
    with a forget gate near 1 it settles far out (thousands), which the settled starts reach and
    random ones in ``(-1, 1)`` do not.  Raises :class:`FixedPointError` with the smallest residual
    reached when no start converges (:func:`slow_point` returns that state instead).  Which fixed
    point is found depends on the starts when there are several (chapter "Beyond the Elman RNN").
    """
    x, r, starts, outside = _search(model, start, tol, max_iter, restarts, seed, settle)
    if r <= tol:
        return x
    raise FixedPointError(
        f"no fixed point of the {type(model).__name__}'s autonomous update found: the residual "
        f"max|F(x) - x| is {r:.3g} after {max_iter} Newton steps and a Levenberg-Marquardt "
        f"search from each of {starts} starts (tol {tol:g})"
        + (f", {outside} of them ending at a state with |h| > 1" if outside else "")
        + "; try another start, more steps (max_iter) or restarts"
    )


def slow_point(
    model,
    start=None,
    tol: float = 1e-10,
    max_iter: int = 100,
    restarts: int = 0,
    seed: int = 0,
    settle: tuple = (100, 1_000, 10_000),
) -> tuple[np.ndarray, float]:
    """The state with ``|h| <= 1`` of least residual ``max |F(x, 0) - x|`` that the search of
    :func:`fixed_point` (same arguments) reaches, and that residual: a fixed point when the
    residual is at most ``tol``, else a *slow point*, where the state still moves but slowly, the
    place where a network without a fixed point found is linearized (Sussillo and Barak, 2013;
    chapter "Beyond the Elman RNN").  Raises :class:`FixedPointError` only when every search ends
    outside ``|h| <= 1`` or diverges.
    """
    x, r, starts, _ = _search(model, start, tol, max_iter, restarts, seed, settle)
    if not np.isfinite(r):
        raise FixedPointError(
            f"no state with |h| <= 1 reached from any of {starts} starts of the "
            f"{type(model).__name__}'s autonomous update"
        )
    return x, r


def _search(model, start, tol, max_iter, restarts, seed, settle):
    """The search of :func:`fixed_point`: ``(state, residual, starts tried, ends outside |h| <= 1)``
    with the first fixed point found, else the state of least residual with ``|h| <= 1``
    (residual ``inf`` when there is none)."""
    tol = real(tol, "tol", 0.0, strict_min=True)
    max_iter = integer(max_iter, "max_iter", 1)
    restarts, seed = integer(restarts, "restarts", 0), integer(seed, "seed", 0)
    if not isinstance(settle, (tuple, list)):
        raise TypeError(f"settle must be a tuple of step counts, got {type(settle).__name__}")
    settle = [integer(k, "settle", 1) for k in settle]
    exact, update = _autonomous(model)
    first = torch.zeros(exact.state_size, dtype=torch.float64)
    if start is not None:
        first = _state(exact, start, "start")
    rng = np.random.default_rng(seed)

    def starts():
        """The starts in order, each made only when the one before has failed."""
        yield first
        x, taken = first, 0
        with torch.no_grad():
            for steps in sorted(settle):
                for _ in range(steps - taken):
                    x = update(x)
                taken = steps
                if bool(torch.isfinite(x).all()):
                    yield x
        for _ in range(restarts):
            yield torch.from_numpy(rng.uniform(-1.0, 1.0, exact.state_size))

    best, best_r, outside, tried = None, np.inf, 0, 0
    for x0 in starts():
        tried += 1
        for solve in (_newton, _levenberg_marquardt):
            x, r = solve(update, x0, tol, max_iter)
            inside = float(x[: exact.hidden].abs().max()) <= 1.0
            if inside and r <= tol:
                return x.numpy(), r, tried, outside
            outside += r <= tol and not inside
            if inside and r < best_r:
                best, best_r = x, r
    return (None if best is None else best.numpy()), best_r, tried, outside


def _residual(update: Callable, v: torch.Tensor) -> float:
    with torch.no_grad():
        return float((update(v) - v).abs().max())


def _jacobian(update: Callable, x: torch.Tensor) -> torch.Tensor:
    return torch.autograd.functional.jacobian(update, x, vectorize=True)


def _newton(update: Callable, x: torch.Tensor, tol: float, max_iter: int):
    """Damped Newton iteration for ``update(x) = x`` from ``x``: the last iterate and its
    residual ``max |F(x) - x|`` (at most ``tol`` when it converged)."""
    eye = torch.eye(len(x), dtype=torch.float64)
    r = _residual(update, x)
    for _ in range(max_iter):
        if r <= tol:
            break
        J = _jacobian(update, x)
        with torch.no_grad():
            dx = torch.linalg.lstsq(J - eye, x - update(x)).solution
        t = 1.0
        for _ in range(30):
            if _residual(update, x + t * dx) < r:
                break
            t /= 2
        x = x + t * dx
        r = _residual(update, x)
    return x, r


def _levenberg_marquardt(update: Callable, x: torch.Tensor, tol: float, max_iter: int):
    """A Levenberg–Marquardt search for ``update(x) = x`` from ``x`` (scipy's MINPACK): its end
    point and residual ``max |F(x) - x|``."""
    eye = torch.eye(len(x), dtype=torch.float64)

    def gap(v: np.ndarray) -> np.ndarray:
        v = torch.from_numpy(v)
        with torch.no_grad():
            return (update(v) - v).numpy()

    def slope(v: np.ndarray) -> np.ndarray:
        return (_jacobian(update, torch.from_numpy(v)) - eye).numpy()

    with np.errstate(all="ignore"):
        found = root(gap, x.numpy(), jac=slope, method="lm", options={"maxiter": 10 * max_iter})
    end = torch.from_numpy(np.asarray(found.x, dtype=np.float64))
    if not bool(torch.isfinite(end).all()):
        return x, np.inf
    return end, _residual(update, end)


def state_jacobian(model, state=None) -> np.ndarray:
    """The Jacobian ``∂F(x, 0)/∂x`` of the autonomous update of ``model`` at ``state``, by
    autograd in float64: ``(state_size, state_size)``, for the LSTM over the joint ``[h, c]``.

    ``state=None`` takes the fixed point :func:`fixed_point` finds from the zero state; for the
    bias-free :class:`~emtlib.rnn.ElmanRNN` that is the origin and the Jacobian is ``W_hh``
    (chapter "Beyond the Elman RNN").
    """
    exact, update = _autonomous(model)
    x = _state(exact, fixed_point(model) if state is None else state)
    return torch.autograd.functional.jacobian(update, x).numpy()


class LinearisedMaps(NamedTuple):
    """The update of a model linearised at a fixed point ``x*`` (:func:`linearised_maps`):
    ``x(t+1) - x* ≈ J (x(t) - x*) + B u(t+1)`` and ``y(t) = C x(t)``.

    ``J (N, N)``, ``B (N, d_in)``, ``C (d_out, N)`` and ``fixed_point (N,)``, float64 numpy, with
    ``N`` the model's ``state_size`` (chapter "Beyond the Elman RNN").
    """

    J: np.ndarray
    B: np.ndarray
    C: np.ndarray
    fixed_point: np.ndarray


def linearised_maps(model, state=None, restarts: int = 10, seed: int = 0) -> LinearisedMaps:
    """The recurrent, input and readout maps of ``model`` linearised at a fixed point.

    ``J = ∂F/∂x`` and ``B = ∂F/∂u``, the Jacobians of the update ``x' = F(x, u)`` at ``(x*, 0)`` by
    autograd in float64, and the readout ``C`` with ``y = C x``.  ``x*`` is ``state`` or, by
    default, the fixed point :func:`fixed_point` finds from the zero state (with ``restarts``
    random starts drawn from ``seed`` should Newton stall there, as it can on a trained gated
    network).  The readout reads
    ``h``, the first ``hidden`` numbers of the state, and is already linear: ``C = [W_r, 0]``, the
    zeros over an LSTM's cell ``c`` (it reaches ``y`` only through later steps, via ``J``).  For
    the LSTM both Jacobians are taken over the joint state ``[h, c]``: ``B`` stacks how one input
    moves ``h`` and ``c``.  For the bias-free :class:`~emtlib.rnn.ElmanRNN`, ``x* = 0`` and the maps
    are exactly ``W_hh``, ``W_uh`` and ``W_r`` (``tanh'(0) = 1``).  Returns a
    :class:`LinearisedMaps` (chapter "Beyond the Elman RNN").
    """
    exact, _ = _autonomous(model)
    if state is None:
        state = fixed_point(model, restarts=restarts, seed=seed)
    x = _state(exact, state)
    u = torch.zeros(exact.d_in, dtype=torch.float64)
    J, B = torch.autograd.functional.jacobian(lambda x, u: exact.step(x[None], u[None])[0], (x, u))
    C = np.zeros((exact.d_out, exact.state_size))
    C[:, : exact.hidden] = exact.W_r
    return LinearisedMaps(J.numpy(), B.numpy(), C, x.numpy())


# --------------------------------------------------------------------------------------------
# Spectra (chapter "Universality")
# --------------------------------------------------------------------------------------------
def eigenvalues(W) -> np.ndarray:
    """All eigenvalues of a matrix or of a model's ``W_hh``, sorted by angle then modulus."""
    return _sort(np.linalg.eigvals(_matrix(W)))


def ideal_eigenvalues(task: Task) -> np.ndarray:
    """The non-zero eigenvalues of the task's Φ, exactly: the roots of ``λ^m = sign`` for each
    cycle (length ``m``, sign product ``sign``) of :func:`emtlib.circuit.cycles`.

    All lie on the unit circle; the other eigenvalues of Φ are zero (nilpotent blocks, which a
    numerical eigen-solver spreads to small non-zero values).  Sorted by angle.
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be an emtlib.tasks.Task, got {type(task).__name__}")
    roots = []
    for cycle, sign in cycles(task):
        m = len(cycle)
        offset = 0.0 if sign > 0 else np.pi
        roots.append(np.exp(1j * (2 * np.pi * np.arange(m) + offset) / m))
    return _sort(np.concatenate(roots))


def eigen_angles(lam) -> np.ndarray:
    """The angles ``arg λ`` in ``(-π, π]`` of eigenvalues ``lam`` (numpy/torch, any shape)."""
    if isinstance(lam, (list, tuple)):
        lam = np.asarray(lam)
    return np.angle(_to_numpy(lam, "eigenvalues"))


def angle_distance(a, b) -> np.ndarray:
    """``|a - b|`` for angles, wrapped to ``[0, π]`` (so ``π - ε`` and ``-π + ε`` are ``2ε`` apart).

    Broadcasts like numpy.
    """
    diff = np.remainder(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), 2 * np.pi)
    return np.minimum(diff, 2 * np.pi - diff)


def _sort(lam: np.ndarray) -> np.ndarray:
    lam = np.asarray(lam, dtype=complex)
    order = np.lexsort((-np.abs(lam), np.round(np.angle(lam), 12)))
    return lam[order]


def long_lived(eigenvalues_or_matrix, threshold: float = 0.9) -> np.ndarray:
    """The long-lived eigenvalues, ``|λ| > threshold``, sorted by angle.

    Accepts a vector of eigenvalues, a square matrix, a model with ``W_hh``, or a
    :class:`~emtlib.tasks.Task` (then the exact eigenvalues of its Φ, see
    :func:`ideal_eigenvalues`).  The paper uses ``threshold = 0.9`` (chapter "Universality").
    """
    threshold = _threshold(threshold)
    source = eigenvalues_or_matrix
    if isinstance(source, Task):
        lam = ideal_eigenvalues(source)
    elif isinstance(source, (np.ndarray, torch.Tensor, list, tuple)) and np.ndim(source) == 1:
        lam = _to_numpy(
            np.asarray(source) if isinstance(source, (list, tuple)) else source, "eigenvalues"
        )
        if not np.all(np.isfinite(lam)):
            raise ValueError("eigenvalues must be finite")
        lam = _sort(lam)
    elif isinstance(source, (np.ndarray, torch.Tensor)) or hasattr(source, "W_hh"):
        lam = eigenvalues(source)
    else:
        raise TypeError(
            "expected a vector of eigenvalues, a square matrix, a model with W_hh or a Task, "
            f"got {type(source).__name__}"
        )
    return lam[np.abs(lam) > threshold]


def match_eigenvalues(model_eigenvalues, ideal_eigenvalues) -> np.ndarray:
    """Optimal matching by angle: index pairs ``(i, j)``, shape ``(k, 2)``, ``k = min(counts)``.

    Minimises the total wrapped angle distance over all one-to-one matchings
    (:func:`scipy.optimize.linear_sum_assignment`, the Hungarian method), so the result never
    depends on the order of the eigenvalues.  With unequal counts the surplus is left unmatched.
    """
    a = eigen_angles(model_eigenvalues).ravel()
    b = eigen_angles(ideal_eigenvalues).ravel()
    if a.size == 0 or b.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    rows, cols = linear_sum_assignment(angle_distance(a[:, None], b[None, :]))
    return np.stack([rows, cols], axis=1).astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class SpectralComparison:
    """The result of :func:`spectral_error` (chapter "Universality").

    ``error`` is the mean wrapped angle distance (radians) over matched pairs, or ``None`` when
    ``W`` and Φ have different numbers of long-lived eigenvalues or neither has any (nothing
    compared); ``n_model``, ``n_ideal`` are
    those numbers; ``model_eigenvalues``, ``ideal_eigenvalues`` the long-lived eigenvalues
    (sorted by angle); ``pairs`` the optimal matching, indices into those two arrays (a partial
    matching of ``min(n_model, n_ideal)`` pairs when the counts differ).

    ``str()`` prints like the paper's table (``0.0031``, ``— (W has 40 long-lived modes, Φ has
    36)`` or ``— (nothing compared: ...)``); ``float()`` gives the error or raises ValueError when it
    is not defined.
    """

    error: float | None
    n_model: int
    n_ideal: int
    model_eigenvalues: np.ndarray
    ideal_eigenvalues: np.ndarray
    pairs: np.ndarray
    threshold: float = 0.9

    def __post_init__(self):
        for name in ("model_eigenvalues", "ideal_eigenvalues", "pairs"):
            getattr(self, name).setflags(write=False)

    @property
    def matched(self) -> bool:
        """True when ``W`` and Φ have equally many long-lived eigenvalues, at least one (error
        defined)."""
        return self.n_model == self.n_ideal > 0

    @property
    def angle_errors(self) -> np.ndarray:
        """The wrapped angle distance of each matched pair, in the order of ``pairs``."""
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        return angle_distance(
            np.angle(self.model_eigenvalues[i]), np.angle(self.ideal_eigenvalues[j])
        )

    def _why_undefined(self) -> str:
        if self.n_model == self.n_ideal == 0:
            return "nothing compared: neither W nor Φ has a long-lived mode"
        return f"W has {self.n_model} long-lived modes, Φ has {self.n_ideal}"

    def __str__(self) -> str:
        if self.error is None:
            return f"— ({self._why_undefined()})"
        return f"{self.error:.4f}"

    def __format__(self, spec: str) -> str:
        if self.error is None or not spec:
            return str(self)
        return format(self.error, spec)

    def __float__(self) -> float:
        if self.error is None:
            raise ValueError(
                f"spectral error is not defined: {self._why_undefined()} "
                f"(|λ| > {self.threshold}); check .matched before converting to float"
            )
        return float(self.error)

    def __repr__(self) -> str:
        return (
            f"SpectralComparison(error={self.error!r}, n_model={self.n_model}, "
            f"n_ideal={self.n_ideal}, threshold={self.threshold})"
        )


def spectral_error(W, phi, threshold: float = 0.9) -> SpectralComparison:
    """The paper's spectral error between ``W`` and the ideal Φ (chapter "Universality").

    ``W`` is a matrix or a model with ``W_hh`` (linearize at the origin, ``J = W``); ``phi`` is a
    matrix or a :class:`~emtlib.tasks.Task` (then Φ's long-lived eigenvalues are taken exactly
    from the task's cycles).  Both are cut to ``|λ| > threshold``, matched optimally by angle
    (:func:`match_eigenvalues`), and the error is the mean wrapped angle distance in radians; it
    compares angles only, since trained models hold memories in limit cycles with ``|λ| > 1``.
    Returns a :class:`SpectralComparison`; its ``error`` is ``None`` when the counts differ or
    both are zero.

    >>> from emtlib.circuit import phi
    >>> from emtlib.tasks import PAPER_TASKS
    >>> task = PAPER_TASKS["T2"]
    >>> print(spectral_error(phi(task), task))
    0.0000
    """
    threshold = _threshold(threshold)
    if isinstance(W, Task):
        raise TypeError("W must be a matrix or a model with W_hh; pass the Task as phi")
    model = long_lived(_matrix(W), threshold)
    if isinstance(phi, Task):
        ideal = long_lived(phi, threshold)
    elif isinstance(phi, (np.ndarray, torch.Tensor)):
        ideal = long_lived(_matrix(phi, "phi"), threshold)
    else:
        raise TypeError(
            f"phi must be a numpy matrix, torch tensor or Task, got {type(phi).__name__}"
        )
    pairs = match_eigenvalues(model, ideal)
    result = SpectralComparison(None, len(model), len(ideal), model, ideal, pairs, threshold)
    if result.matched:
        object.__setattr__(result, "error", float(result.angle_errors.mean()))
    return result

"""The General Sequential Episodic Memory Model (GSEMM) and its reduction to an Elman RNN.

Three populations of neurons, each a leaky integrator with its own time constant:

* feature neurons ``V_f`` (``N_f`` of them, activation ``tanh``), time constant ``T_f``;
* hidden (memory) neurons ``V_h`` (``N_h``, one per stored memory), time constant ``T_h``;
* delay neurons ``V_d`` (``N_f``), a slow copy of the features, time constant ``T_d``.

``Xi`` (``N_f x N_h``) holds the stored memories as columns; ``Phi`` (``N_h x N_h``) links memory
``mu`` to memory ``nu`` when ``Phi[mu, nu] != 0``. Chapters: "The General Sequential Episodic Memory
Model" (``book/gsemm``) for the model, its energy and its sequence recall (:func:`visits`), "From
GSEMM to RNNs" (``book/gsemm_to_rnn``) for the reduction, the fast limit and its Euler map
(:meth:`GSEMM.fast_limit`, :func:`discrete_run`, :func:`compare_flow_and_map`) and conjugacy.
Bases and change of basis are in :mod:`emtlib.linalg`.
This module imports only :mod:`emtlib._checks`.

All arrays of states are time-major, ``(time, dim)``. Seeds are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import logsumexp, softmax

from ._checks import choice, integer, matrix, real

__all__ = [
    "GSEMM",
    "HIDDEN_ACTIVATIONS",
    "FlowAndMap",
    "Trajectory",
    "Visits",
    "compare_flow_and_map",
    "conjugacy_gap",
    "cyclic_shift",
    "discrete_run",
    "feature_map",
    "iterate",
    "overlaps",
    "random_patterns",
    "reduced_weights",
    "rnn_map",
    "simulate_reduced",
    "visits",
]

HIDDEN_ACTIVATIONS = ("identity", "softmax")


# --- input checks -------------------------------------------------------------------------------
def _vector(name, v, n):
    v = np.asarray(v, dtype=float)
    if v.shape != (n,):
        raise ValueError(f"{name} must be a vector of length {n}, got shape {v.shape}")
    return v


def _positive(name, x, allow_zero=False):
    return real(x, name, 0.0, strict_min=not allow_zero)


# --- building blocks ----------------------------------------------------------------------------
def random_patterns(n_features, n_memories, seed=None):
    """``n_memories`` random +-1 patterns of length ``n_features``, as the columns of ``Xi``.

    Chapter "The General Sequential Episodic Memory Model".
    """
    n_features, n_memories = (
        integer(n_features, "n_features", 1),
        integer(n_memories, "n_memories", 1),
    )
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(n_features, n_memories))


def cyclic_shift(n, step=1):
    """``Phi`` of the cycle ``0 -> step -> 2 step -> ...`` over ``n`` memories (``Phi[mu, mu+step] = 1``).

    Chapter "The General Sequential Episodic Memory Model".
    """
    return np.roll(np.eye(integer(n, "n", 1)), integer(step, "step", None), axis=1)


def overlaps(Xi, V_f):
    """Memory overlaps ``m_mu = xi_mu . tanh(V_f) / N_f`` (1 when the features show memory ``mu``).

    ``V_f`` is one state ``(N_f,)`` or a trajectory ``(T, N_f)``; returns ``(N_h,)`` or ``(T, N_h)``.
    Chapter "The General Sequential Episodic Memory Model".
    """
    Xi = matrix(Xi, "Xi")
    V_f = np.asarray(V_f, dtype=float)
    if V_f.shape[-1:] != (Xi.shape[0],):
        raise ValueError(f"V_f must end in dimension N_f = {Xi.shape[0]}, got shape {V_f.shape}")
    return np.tanh(V_f) @ Xi / Xi.shape[0]


@dataclass(frozen=True)
class Trajectory:
    """A simulated GSEMM run: times ``t`` (T,) and states ``V_f``, ``V_h``, ``V_d``, each (T, dim)."""

    t: np.ndarray
    V_f: np.ndarray
    V_h: np.ndarray
    V_d: np.ndarray


@dataclass(frozen=True)
class Visits:
    """The memories a run visits, in order: a visit lasts while one memory has the largest overlap.

    ``memories`` (K,) the visited memories; ``starts`` (K,) the time each visit begins (the first
    at the start of the run); ``peaks`` (K,) the largest overlap with the visited memory during the
    visit (close to 1 when the state comes close to that memory, well below it for a mixture).
    """

    memories: np.ndarray
    starts: np.ndarray
    peaks: np.ndarray

    @property
    def dwell(self) -> np.ndarray:
        """How long each complete visit lasts, for all visits but the first (which begins at the
        initial condition) and the last (cut off by the end of the run)."""
        return np.diff(self.starts[1:])

    def follows(self, Phi) -> bool:
        """Whether every visit is followed by a successor that ``Phi`` links it to
        (``Phi[mu, nu] != 0``); a run with fewer than two visits follows nothing."""
        Phi = matrix(Phi, "Phi")
        if len(self.memories) < 2:
            return False
        return bool(np.all(Phi[self.memories[:-1], self.memories[1:]] != 0))


def visits(Xi, V_f, t) -> Visits:
    """The sequence of memories a trajectory visits (chapters "The General Sequential Episodic
    Memory Model" and "From GSEMM to RNNs"): at each time the memory with the largest overlap
    (:func:`overlaps`) is the one visited. ``V_f`` is ``(T, N_f)``, ``t`` its ``T`` times.
    """
    m = overlaps(Xi, V_f)
    t = np.asarray(t, dtype=float)
    if m.ndim != 2 or t.shape != (m.shape[0],):
        raise ValueError(
            f"V_f must be a trajectory (T, N_f) and t its T times, got {np.shape(V_f)} and {t.shape}"
        )
    winner = np.argmax(m, axis=1)
    first = np.r_[0, np.nonzero(np.diff(winner))[0] + 1]
    memories = winner[first]
    peaks = np.array(
        [m[a:b, mu].max() for a, b, mu in zip(first, np.r_[first[1:], len(winner)], memories)]
    )
    return Visits(memories, t[first], peaks)


# --- the continuous-time model ------------------------------------------------------------------
class GSEMM:
    """Continuous-time GSEMM; chapter "The General Sequential Episodic Memory Model".

    ``hidden="softmax"`` (Lagrangian ``log sum exp(beta V_h) / beta``) gives clean sequence recall;
    ``hidden="identity"`` (Lagrangian ``|V_h|^2 / 2``) is the case that reduces to an RNN.
    The defaults are the book's recall setting (100 features, 5 memories, cyclic ``Phi``).
    """

    def __init__(
        self, Xi, Phi, T_f=1.0, T_h=0.1, T_d=100.0, a_s=4.0, a_c=6.0, hidden="softmax", beta=0.05
    ):
        self.Xi = matrix(Xi, "Xi")
        n_h = self.Xi.shape[1]
        self.Phi = matrix(Phi, "Phi", shape=(n_h, n_h))
        self.T_f, self.T_h, self.T_d = (
            _positive(k, v) for k, v in (("T_f", T_f), ("T_h", T_h), ("T_d", T_d))
        )
        self.a_s = _positive("a_s", a_s)
        self.a_c = _positive("a_c", a_c, allow_zero=True)
        self.hidden = choice(hidden, "hidden", HIDDEN_ACTIVATIONS)
        self.beta = _positive("beta", beta)

    def replace(self, **changes):
        """A copy of the model with some of its parameters changed, e.g. ``model.replace(T_d=1.0)``."""
        params = {
            "Xi": self.Xi,
            "Phi": self.Phi,
            "T_f": self.T_f,
            "T_h": self.T_h,
            "T_d": self.T_d,
            "a_s": self.a_s,
            "a_c": self.a_c,
            "hidden": self.hidden,
            "beta": self.beta,
        }
        unknown = sorted(set(changes) - set(params))
        if unknown:
            raise TypeError(f"GSEMM has no parameter {unknown[0]!r}; it has {sorted(params)}")
        return GSEMM(**{**params, **changes})

    @property
    def n_features(self):
        return self.Xi.shape[0]

    @property
    def n_memories(self):
        return self.Xi.shape[1]

    # activations are gradients of Lagrangians: sigma = grad L
    def sigma_h(self, V_h):
        return V_h if self.hidden == "identity" else softmax(self.beta * V_h, axis=-1)

    def lagrangian_h(self, V_h):
        if self.hidden == "identity":
            return 0.5 * np.sum(V_h**2, axis=-1)
        return logsumexp(self.beta * V_h, axis=-1) / self.beta

    @staticmethod
    def lagrangian_f(V_f):
        # sum of log cosh, written so that large |V_f| does not overflow
        a = np.abs(V_f)
        return np.sum(a + np.log1p(np.exp(-2 * a)) - np.log(2.0), axis=-1)

    def hidden_input(self, V_f, V_d):
        """What drives the hidden neurons: ``sqrt(a_s) Xi^T tanh(V_f) + a_c Phi^T Xi^T V_d``."""
        return np.sqrt(self.a_s) * np.tanh(V_f) @ self.Xi + self.a_c * (V_d @ self.Xi) @ self.Phi

    def derivatives(self, V_f, V_h, V_d):
        """Time derivatives ``(dV_f/dt, dV_h/dt, dV_d/dt)`` of the three populations."""
        dV_f = (np.sqrt(self.a_s) * self.sigma_h(V_h) @ self.Xi.T - V_f) / self.T_f
        dV_h = (self.hidden_input(V_f, V_d) - V_h) / self.T_h
        dV_d = (np.tanh(V_f) - V_d) / self.T_d
        return dV_f, dV_h, dV_d

    def euler_step(self, V_f, V_h, V_d, dt):
        """One explicit Euler step of size ``dt`` of all three populations:
        ``V <- V + dt * dV/dt`` with the derivatives of :meth:`derivatives`. Returns the new
        ``(V_f, V_h, V_d)``. Chapter "The General Sequential Episodic Memory Model".
        """
        dt = _positive("dt", dt)
        states = (
            _vector("V_f", V_f, self.n_features),
            _vector("V_h", V_h, self.n_memories),
            _vector("V_d", V_d, self.n_features),
        )
        return tuple(v + dt * dv for v, dv in zip(states, self.derivatives(*states)))

    def fast_limit(self, V_f):
        """Where the features are driven when the hidden and delay neurons follow instantly
        (``T_h, T_d -> 0``): ``F(V_f) = sqrt(a_s) Xi sigma_h(V_h)`` with ``V_d = tanh(V_f)`` and
        ``V_h`` = its input. The features then obey ``T_f dV_f/dt = F(V_f) - V_f``; for identity
        hidden neurons ``F(x) = W tanh(x)`` with ``W = reduced_weights(Xi, Phi, a_s, a_c)``.
        ``V_f`` is one state or a trajectory (time-major). Chapter "From GSEMM to RNNs".
        """
        V_f = np.asarray(V_f, dtype=float)
        if V_f.shape[-1:] != (self.n_features,):
            raise ValueError(f"V_f must end in dimension N_f = {self.n_features}, got {V_f.shape}")
        V_h = self.hidden_input(V_f, np.tanh(V_f))
        return np.sqrt(self.a_s) * self.sigma_h(V_h) @ self.Xi.T

    def energy(self, V_f, V_h, V_d):
        """The energy ``E``; states may be single vectors or trajectories (time-major).

        ``E = [V_f.tanh(V_f) - L_f] + [V_h.sigma_h(V_h) - L_h] - sqrt(a_s) tanh(V_f)^T Xi sigma_h(V_h)
        - a_c V_d^T Xi Phi sigma_h(V_h)``. With ``V_d`` held fixed it never increases along a run.
        """
        V_f, V_h, V_d = (np.asarray(v, dtype=float) for v in (V_f, V_h, V_d))
        s_f, s_h = np.tanh(V_f), self.sigma_h(V_h)
        e_f = np.sum(V_f * s_f, axis=-1) - self.lagrangian_f(V_f)
        e_h = np.sum(V_h * s_h, axis=-1) - self.lagrangian_h(V_h)
        xs_h = s_h @ self.Xi.T  # Xi sigma_h, shape (..., N_f)
        e_s = -np.sqrt(self.a_s) * np.sum(s_f * xs_h, axis=-1)
        e_c = -self.a_c * np.sum(V_d * (s_h @ self.Phi.T @ self.Xi.T), axis=-1)
        return e_f + e_h + e_s + e_c

    def simulate(
        self,
        V_f0,
        t_end,
        n_points=501,
        V_h0=None,
        V_d0=None,
        freeze_delay=False,
        method="RK45",
        rtol=1e-8,
        atol=1e-10,
        t_eval=None,
    ):
        """Integrate the model with ``scipy.integrate.solve_ivp`` from ``t = 0`` to ``t_end``.

        Defaults: ``V_h0`` = its input (the value the hidden neurons relax to), ``V_d0 = 0``.
        ``freeze_delay=True`` holds ``V_d`` at ``V_d0``. The states are reported at ``n_points``
        equally spaced times, or at the increasing times ``t_eval`` (within ``[0, t_end]``) when
        given. Returns a :class:`Trajectory`.
        """
        n_f, n_h = self.n_features, self.n_memories
        V_f0 = _vector("V_f0", V_f0, n_f)
        V_d0 = np.zeros(n_f) if V_d0 is None else _vector("V_d0", V_d0, n_f)
        V_h0 = self.hidden_input(V_f0, V_d0) if V_h0 is None else _vector("V_h0", V_h0, n_h)
        t_end = _positive("t_end", t_end)

        def rhs(_, y):
            dV_f, dV_h, dV_d = self.derivatives(y[:n_f], y[n_f : n_f + n_h], y[n_f + n_h :])
            return np.concatenate([dV_f, dV_h, 0 * dV_d if freeze_delay else dV_d])

        if t_eval is None:
            t_eval = np.linspace(0.0, t_end, integer(n_points, "n_points", 2))
        else:
            t_eval = np.asarray(t_eval, dtype=float)
            if (
                t_eval.ndim != 1
                or np.any(np.diff(t_eval) <= 0)
                or t_eval[0] < 0
                or t_eval[-1] > t_end
            ):
                raise ValueError("t_eval must be increasing times within [0, t_end]")
        sol = solve_ivp(
            rhs,
            (0.0, t_end),
            np.concatenate([V_f0, V_h0, V_d0]),
            method=method,
            t_eval=t_eval,
            rtol=rtol,
            atol=atol,
        )
        if not sol.success:
            raise RuntimeError(f"solve_ivp failed: {sol.message}")
        y = sol.y.T
        return Trajectory(sol.t, y[:, :n_f], y[:, n_f : n_f + n_h], y[:, n_f + n_h :])

    def trajectory_energy(self, traj):
        """Energy at every time of a :class:`Trajectory`, shape ``(T,)``."""
        return self.energy(traj.V_f, traj.V_h, traj.V_d)


# --- the EMT reduction --------------------------------------------------------------------------
def reduced_weights(Xi, Phi, a_s=1.0, a_c=1.0):
    """``W = Xi (a_s I + sqrt(a_s) a_c Phi^T) Xi^T``: the GSEMM with identity hidden neurons and
    ``T_h, T_d -> 0`` (paper: ``a_s = a_c = 1``, ``W = Xi (I + Phi^T) Xi^T``).

    Chapter "From GSEMM to RNNs".
    """
    Xi = matrix(Xi, "Xi")
    Phi = matrix(Phi, "Phi", shape=(Xi.shape[1], Xi.shape[1]))
    a_s, a_c = _positive("a_s", a_s), _positive("a_c", a_c, allow_zero=True)
    inner = a_s * np.eye(Xi.shape[1]) + np.sqrt(a_s) * a_c * Phi.T
    return Xi @ inner @ Xi.T


def simulate_reduced(W, V_f0, t_end, n_points=501, T_f=1.0, rtol=1e-10, atol=1e-12):
    """The reduced flow ``T_f dV_f/dt = W tanh(V_f) - V_f`` (the limit ``T_h, T_d -> 0``).

    Returns ``(t, V_f)`` with ``V_f`` of shape ``(T, N_f)``. Chapter "From GSEMM to RNNs".
    """
    W = matrix(W, "W")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    V_f0 = _vector("V_f0", V_f0, W.shape[0])
    T_f, t_end = _positive("T_f", T_f), _positive("t_end", t_end)
    t_eval = np.linspace(0.0, t_end, integer(n_points, "n_points", 2))
    sol = solve_ivp(
        lambda _, x: (W @ np.tanh(x) - x) / T_f,
        (0.0, t_end),
        V_f0,
        t_eval=t_eval,
        method="DOP853",
        rtol=rtol,
        atol=atol,
    )
    return sol.t, sol.y.T


def feature_map(W, x):
    """One Euler step of size ``T_f`` of the reduced flow: ``f(x) = W tanh(x)``. Chapter "From GSEMM to RNNs"."""
    return np.tanh(np.asarray(x, dtype=float)) @ np.asarray(W, dtype=float).T


def rnn_map(W, h):
    """The bias-free Elman RNN step ``g(h) = tanh(W h)``. Chapter "From GSEMM to RNNs"."""
    return np.tanh(np.asarray(h, dtype=float) @ np.asarray(W, dtype=float).T)


def iterate(step, W, x0, steps):
    """``[x0, step(W, x0), ...]``, ``steps + 1`` states, time-major. Chapter "From GSEMM to RNNs"."""
    W = matrix(W, "W")
    x = _vector("x0", x0, W.shape[1])
    out = [x]
    for _ in range(integer(steps, "steps")):
        x = step(W, x)
        out.append(x)
    return np.array(out)


def conjugacy_gap(W, x0, steps):
    """Largest ``|tanh(x_t) - h_t|`` when ``x`` follows ``f`` from ``x0`` and ``h`` follows ``g`` from
    ``tanh(x0)``: zero when ``tanh o f = g o tanh``. Chapter "From GSEMM to RNNs"."""
    xs = iterate(feature_map, W, x0, steps)
    hs = iterate(rnn_map, W, np.tanh(xs[0]), steps)
    return float(np.max(np.abs(np.tanh(xs) - hs)))


# --- the timescale inversion: the fast-limit flow against its Euler map --------------------------
def discrete_run(model, V_f0, t_end, dt=None):
    """Euler steps of size ``dt`` (default ``T_f``) of the fast-limit flow
    ``T_f dV_f/dt = F(V_f) - V_f`` (:meth:`GSEMM.fast_limit`), from ``V_f0`` up to ``t_end``.

    With ``dt = T_f`` each step is the map ``V_f(t+1) = F(V_f(t))``, which for identity hidden
    neurons is the RNN map :func:`feature_map`; as ``dt -> 0`` the steps follow the flow.
    Returns ``(t, V_f)``: the times ``k dt`` and the states, ``(K, N_f)``.
    Chapter "From GSEMM to RNNs".
    """
    if not isinstance(model, GSEMM):
        raise TypeError(f"model must be a GSEMM, got {type(model).__name__}")
    dt = model.T_f if dt is None else _positive("dt", dt)
    t_end = _positive("t_end", t_end)
    x = _vector("V_f0", V_f0, model.n_features)
    steps = int(np.floor(t_end / dt + 1e-9))
    out = [x]
    for _ in range(steps):
        x = x + (dt / model.T_f) * (model.fast_limit(x) - x)
        out.append(x)
    return dt * np.arange(steps + 1), np.array(out)


@dataclass(frozen=True)
class FlowAndMap:
    """A GSEMM run in continuous time beside the Euler map of its fast limit, from one start.

    ``t``, ``V_f``: the full model's features on a fine grid; ``t_map``, ``V_f_map``: the map's
    states at its steps; ``distance``: ``max_i |V_f,i(t_k) - V_f_map,i(t_k)|`` at each step ``t_k``.
    """

    t: np.ndarray
    V_f: np.ndarray
    t_map: np.ndarray
    V_f_map: np.ndarray
    distance: np.ndarray


def compare_flow_and_map(
    model, V_f0, t_end, dt=None, n_points=401, method=None, rtol=1e-6, atol=1e-8
):
    """Run the full model (its own ``T_h``, ``T_d``) and the Euler map of its fast limit
    (:func:`discrete_run`, step ``dt``, default ``T_f``) from the same features ``V_f0``, and
    measure how far apart they are at the map's steps. The full model starts its hidden and delay
    neurons where the fast limit puts them (``V_d = tanh V_f0``), so the distance measures their
    finite speed and the step, not an initial jolt. ``method`` (a ``solve_ivp`` method) defaults to
    ``RK45``, or the implicit ``Radau`` when ``T_h`` or ``T_d`` is below ``T_f / 2000`` (stiff).
    Returns a :class:`FlowAndMap`.
    Chapter "From GSEMM to RNNs" (and its explorer).
    """
    t_map, x_map = discrete_run(model, V_f0, t_end, dt)
    t_end = float(t_map[-1]) if t_map[-1] > 0 else _positive("t_end", t_end)
    fine = np.linspace(0.0, t_end, integer(n_points, "n_points", 2))
    grid = np.union1d(fine, t_map[t_map <= t_end])
    if method is None:
        method = "Radau" if min(model.T_h, model.T_d) < model.T_f / 2000 else "RK45"
    traj = model.simulate(
        x_map[0],
        t_end,
        V_d0=np.tanh(x_map[0]),
        method=method,
        rtol=rtol,
        atol=atol,
        t_eval=grid,
    )
    at_steps = np.searchsorted(grid, t_map[t_map <= t_end])
    distance = np.max(np.abs(traj.V_f[at_steps] - x_map[: len(at_steps)]), axis=1)
    return FlowAndMap(traj.t, traj.V_f, t_map[: len(at_steps)], x_map[: len(at_steps)], distance)

"""The General Sequential Episodic Memory Model (GSEMM) and its reduction to an Elman RNN.

Three populations of neurons, each a leaky integrator with its own time constant:

* feature neurons ``V_f`` (``N_f`` of them, activation ``tanh``), time constant ``T_f``;
* hidden (memory) neurons ``V_h`` (``N_h``, one per stored memory), time constant ``T_h``;
* delay neurons ``V_d`` (``N_f``), a slow copy of the features, time constant ``T_d``.

``Xi`` (``N_f x N_h``) holds the stored memories as columns; ``Phi`` (``N_h x N_h``) links memory
``mu`` to memory ``nu`` when ``Phi[mu, nu] != 0``. Chapters: "The General Sequential Episodic Memory
Model" (``book/gsemm``) for the model and its energy, "From GSEMM to RNNs" (``book/gsemm_to_rnn``)
for the reduction and conjugacy.  Bases and change of basis are in :mod:`emtlib.linalg`.
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
    "Trajectory",
    "conjugacy_gap",
    "cyclic_shift",
    "feature_map",
    "iterate",
    "overlaps",
    "random_patterns",
    "reduced_weights",
    "rnn_map",
    "simulate_reduced",
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
    ):
        """Integrate the model with ``scipy.integrate.solve_ivp`` from ``t = 0`` to ``t_end``.

        Defaults: ``V_h0`` = its input (the value the hidden neurons relax to), ``V_d0 = 0``.
        ``freeze_delay=True`` holds ``V_d`` at ``V_d0``. Returns a :class:`Trajectory`.
        """
        n_f, n_h = self.n_features, self.n_memories
        V_f0 = _vector("V_f0", V_f0, n_f)
        V_d0 = np.zeros(n_f) if V_d0 is None else _vector("V_d0", V_d0, n_f)
        V_h0 = self.hidden_input(V_f0, V_d0) if V_h0 is None else _vector("V_h0", V_h0, n_h)
        t_end = _positive("t_end", t_end)

        def rhs(_, y):
            dV_f, dV_h, dV_d = self.derivatives(y[:n_f], y[n_f : n_f + n_h], y[n_f + n_h :])
            return np.concatenate([dV_f, dV_h, 0 * dV_d if freeze_delay else dV_d])

        t_eval = np.linspace(0.0, t_end, integer(n_points, "n_points", 2))
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

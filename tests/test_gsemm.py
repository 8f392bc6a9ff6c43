"""Tests for emtlib.gsemm: energy, reduction to an RNN, conjugacy and input checks."""

import numpy as np
import pytest

from emtlib import gsemm
from emtlib.linalg import to_basis


@pytest.fixture(scope="module")
def recall_model():
    Xi = gsemm.random_patterns(100, 5, seed=0)
    return gsemm.GSEMM(Xi, gsemm.cyclic_shift(5))


def _small_system(seed=3, n_f=10, n_h=3):
    rng = np.random.default_rng(seed)
    Xi = rng.standard_normal((n_f, n_h)) / np.sqrt(n_f)
    return Xi, gsemm.cyclic_shift(n_h), rng.standard_normal(n_f)


def test_random_patterns_seeded():
    a = gsemm.random_patterns(20, 4, seed=7)
    assert a.shape == (20, 4) and set(np.unique(a)) == {-1.0, 1.0}
    np.testing.assert_array_equal(a, gsemm.random_patterns(20, 4, seed=7))
    assert not np.array_equal(a, gsemm.random_patterns(20, 4, seed=8))


@pytest.mark.parametrize("hidden", ["softmax", "identity"])
def test_energy_never_increases_with_frozen_delays(hidden):
    Xi = gsemm.random_patterns(60, 4, seed=1)
    kwargs = {"a_s": 0.02, "a_c": 0.3} if hidden == "identity" else {}
    model = gsemm.GSEMM(Xi, gsemm.cyclic_shift(4), hidden=hidden, **kwargs)
    rng = np.random.default_rng(2)
    V_d0 = 0.8 * np.tanh(Xi[:, 1] + rng.standard_normal(60))
    traj = model.simulate(
        rng.standard_normal(60),
        60.0,
        n_points=3001,
        V_d0=V_d0,
        freeze_delay=True,
        rtol=1e-10,
        atol=1e-12,
    )
    E = model.trajectory_energy(traj)
    np.testing.assert_array_equal(traj.V_d, np.broadcast_to(V_d0, traj.V_d.shape))
    assert E[-1] < E[0] - 1.0, "the run should actually descend"
    assert np.max(np.diff(E)) <= 1e-9 * np.max(np.abs(E)), np.max(np.diff(E))


def test_free_delays_recall_the_sequence_and_raise_the_energy(recall_model):
    Xi = recall_model.Xi
    rng = np.random.default_rng(1)
    traj = recall_model.simulate(
        Xi[:, 0] + 0.5 * rng.standard_normal(100), 700.0, n_points=701, rtol=1e-6, atol=1e-8
    )
    winner = np.argmax(gsemm.overlaps(Xi, traj.V_f), axis=1)
    visited = winner[np.r_[0, np.nonzero(np.diff(winner))[0] + 1]]
    np.testing.assert_array_equal(visited[:7], [0, 1, 2, 3, 4, 0, 1])
    assert np.max(np.diff(recall_model.trajectory_energy(traj))) > 1.0


def test_reduction_error_shrinks_with_time_constants():
    Xi, Phi, x0 = _small_system()
    W = gsemm.reduced_weights(Xi, Phi)
    _, x_red = gsemm.simulate_reduced(W, x0, 10.0, n_points=101)
    errors = []
    for eps in (0.1, 0.01, 0.001):
        model = gsemm.GSEMM(Xi, Phi, T_h=eps, T_d=eps, a_s=1.0, a_c=1.0, hidden="identity")
        traj = model.simulate(
            x0, 10.0, n_points=101, V_d0=np.tanh(x0), method="Radau", rtol=1e-10, atol=1e-12
        )
        errors.append(np.max(np.abs(traj.V_f - x_red)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.03 * errors[0], errors


def test_euler_step_of_the_fast_limit_is_the_rnn_map():
    Xi, Phi, x = _small_system()
    model = gsemm.GSEMM(Xi, Phi, T_f=1.0, a_s=1.0, a_c=1.0, hidden="identity")
    V_d = np.tanh(x)  # delay neurons follow instantly
    V_h = model.hidden_input(x, V_d)  # hidden neurons follow instantly
    dV_f, dV_h, dV_d = model.derivatives(x, V_h, V_d)
    assert np.allclose(dV_h, 0) and np.allclose(dV_d, 0)
    W = gsemm.reduced_weights(Xi, Phi)
    np.testing.assert_allclose(x + model.T_f * dV_f, gsemm.feature_map(W, x), atol=1e-12)


def test_conjugacy_on_trajectories():
    rng = np.random.default_rng(5)
    W = 1.5 * rng.standard_normal((8, 8)) / np.sqrt(8)
    x0 = rng.standard_normal(8)
    assert gsemm.conjugacy_gap(W, x0, 50) < 1e-12
    xs = gsemm.iterate(gsemm.feature_map, W, x0, 5)
    hs = gsemm.iterate(gsemm.rnn_map, W, x0, 5)  # wrong start: not tanh(x0)
    assert np.max(np.abs(np.tanh(xs) - hs)) > 1e-3


def test_the_reduced_weights_read_in_the_memory_basis():
    # the paper's W = Xi (I + Phi^T) Xi^T is Phi~ = (I + Phi^T) Xi^T Xi in the memory basis
    rng = np.random.default_rng(4)
    Xi, Phi = rng.standard_normal((12, 4)), rng.standard_normal((4, 4))
    W_emt = gsemm.reduced_weights(Xi, Phi)
    np.testing.assert_allclose(to_basis(W_emt, Xi), (np.eye(4) + Phi.T) @ Xi.T @ Xi, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"Phi": np.eye(4)}, ValueError, r"Phi must have shape \(5, 5\)"),
        ({"T_d": 0.0}, ValueError, "T_d must be a finite real number > 0.0"),
        ({"T_h": -1.0}, ValueError, "T_h must be a finite real number > 0.0"),
        ({"T_f": float("inf")}, ValueError, "T_f must be a finite real number"),
        ({"T_f": "1"}, TypeError, "T_f must be a real number"),
        ({"a_c": -0.1}, ValueError, "a_c must be a finite real number >= 0.0"),
        ({"hidden": "relu"}, ValueError, "hidden must be one of"),
        ({"Xi": np.ones(10)}, ValueError, "Xi must be a 2-D matrix"),
        ({"Xi": "patterns"}, TypeError, "Xi must be a numeric array"),
    ],
)
def test_bad_model_arguments(kwargs, error, match):
    args = {"Xi": gsemm.random_patterns(10, 5, seed=0), "Phi": gsemm.cyclic_shift(5)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        gsemm.GSEMM(**args)


def test_bad_states_and_bases(recall_model):
    with pytest.raises(ValueError, match="V_f0 must be a vector of length 100"):
        recall_model.simulate(np.zeros(99), 10.0)
    with pytest.raises(ValueError, match="t_end must be a finite real number > 0.0"):
        recall_model.simulate(np.zeros(100), 0.0)
    with pytest.raises(ValueError, match="W must be square"):
        gsemm.simulate_reduced(np.ones((3, 4)), np.zeros(4), 1.0)
    with pytest.raises(ValueError, match="n_memories must be an integer >= 1, got 0"):
        gsemm.random_patterns(10, 0)
    with pytest.raises(TypeError, match="n_features must be an integer"):
        gsemm.random_patterns(10.0, 3)
    assert gsemm.random_patterns(np.int64(10), np.int32(3), seed=0).shape == (10, 3)
    with pytest.raises(TypeError, match="steps must be an integer"):
        gsemm.iterate(gsemm.rnn_map, np.eye(2), np.zeros(2), 3.5)

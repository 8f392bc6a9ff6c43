"""The GSEMM additions of the chapters "The General Sequential Episodic Memory Model" and "From
GSEMM to RNNs": the Euler step, the fast limit and its Euler map, the visits of a run, and the
comparison of the continuous model with the map."""

import numpy as np
import pytest

from emtlib import gsemm


@pytest.fixture
def small():
    """A 10-feature, 3-memory GSEMM with identity hidden neurons and unit couplings."""
    rng = np.random.default_rng(3)
    Xi = rng.standard_normal((10, 3)) / np.sqrt(10)
    model = gsemm.GSEMM(Xi, gsemm.cyclic_shift(3), a_s=1.0, a_c=1.0, hidden="identity")
    return model, rng.standard_normal(10)


def test_euler_step_adds_dt_times_the_derivatives(small):
    model, x = small
    V_h, V_d = np.arange(3.0), 0.1 * x
    new = model.euler_step(x, V_h, V_d, 0.25)
    for v, dv, out in zip((x, V_h, V_d), model.derivatives(x, V_h, V_d), new):
        np.testing.assert_allclose(out, v + 0.25 * dv)


def test_euler_step_rejects_bad_input(small):
    model, x = small
    with pytest.raises(ValueError):
        model.euler_step(x, np.zeros(3), np.zeros(10), 0.0)
    with pytest.raises(ValueError, match="V_h"):
        model.euler_step(x, np.zeros(4), np.zeros(10), 0.1)


def test_fast_limit_of_identity_model_is_W_tanh():
    rng = np.random.default_rng(0)
    Xi, x = rng.standard_normal((6, 2)), rng.standard_normal(6)
    Phi = gsemm.cyclic_shift(2)
    model = gsemm.GSEMM(Xi, Phi, a_s=0.3, a_c=2.0, hidden="identity")
    W = gsemm.reduced_weights(Xi, Phi, 0.3, 2.0)
    np.testing.assert_allclose(model.fast_limit(x), W @ np.tanh(x))
    with pytest.raises(ValueError, match="N_f"):
        model.fast_limit(np.zeros(5))


def test_discrete_run_with_step_T_f_is_the_feature_map(small):
    model, x = small
    W = gsemm.reduced_weights(model.Xi, model.Phi)
    t, xs = gsemm.discrete_run(model, x, 12.0)
    np.testing.assert_allclose(t, np.arange(13.0))
    np.testing.assert_allclose(xs, gsemm.iterate(gsemm.feature_map, W, x, 12))


def test_discrete_run_with_small_steps_follows_the_reduced_flow(small):
    model, x = small
    W = gsemm.reduced_weights(model.Xi, model.Phi)
    _, flow = gsemm.simulate_reduced(W, x, 5.0, n_points=6)
    gaps = [
        np.abs(gsemm.discrete_run(model, x, 5.0, dt)[1][-1] - flow[-1]).max() for dt in (0.1, 0.01)
    ]
    assert gaps[1] < 0.2 * gaps[0]
    with pytest.raises(TypeError):
        gsemm.discrete_run("model", x, 5.0)


def test_compare_flow_and_map_distance_shrinks_with_the_time_constants(small):
    model, x = small
    far, near = (
        gsemm.compare_flow_and_map(model.replace(T_h=T, T_d=T), x, 5.0, dt=0.01).distance.max()
        for T in (0.1, 0.01)
    )
    assert near < 0.3 * far
    comparison = gsemm.compare_flow_and_map(model, x, 5.0)
    np.testing.assert_allclose(comparison.t_map, np.arange(6.0))
    assert comparison.distance[0] == 0.0


def test_replace_changes_one_parameter_and_refuses_unknown_ones(small):
    model, _ = small
    faster = model.replace(T_d=0.5)
    assert faster.T_d == 0.5 and faster.T_h == model.T_h and faster.hidden == model.hidden
    with pytest.raises(TypeError, match="T_x"):
        model.replace(T_x=1.0)


def test_simulate_reports_at_the_requested_times(small):
    model, x = small
    traj = model.simulate(x, 2.0, t_eval=[0.0, 0.5, 2.0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(traj.t, [0.0, 0.5, 2.0])
    with pytest.raises(ValueError, match="t_eval"):
        model.simulate(x, 2.0, t_eval=[0.0, 3.0])


def test_visits_reads_the_winning_memory_its_start_and_peak():
    Xi = np.array([[1.0, 1.0], [1.0, -1.0]])
    # features showing memory 0, then 1, then 0 again, at times 0..5
    V_f = np.arctanh(0.9 * np.array([[1, 1], [1, 1], [1, -1], [1, -1], [1, -1], [1, 1]], float))
    v = gsemm.visits(Xi, V_f, np.arange(6.0))
    np.testing.assert_array_equal(v.memories, [0, 1, 0])
    np.testing.assert_allclose(v.starts, [0.0, 2.0, 5.0])
    np.testing.assert_allclose(v.peaks, [0.9, 0.9, 0.9])
    np.testing.assert_allclose(v.dwell, [3.0])
    assert v.follows(np.array([[0, 1], [1, 0]]))
    assert not v.follows(np.eye(2))
    with pytest.raises(ValueError, match="times"):
        gsemm.visits(Xi, V_f, np.arange(5.0))


def test_slow_delay_dwells_fast_delay_does_not():
    Xi, Phi = gsemm.random_patterns(60, 4, seed=1), gsemm.cyclic_shift(4)
    x0 = Xi[:, 0] + 0.3 * np.random.default_rng(0).standard_normal(60)
    model = gsemm.GSEMM(Xi, Phi)
    slow = model.replace(T_d=20.0).simulate(x0, 200.0, n_points=801, rtol=1e-6, atol=1e-8)
    v = gsemm.visits(Xi, slow.V_f, slow.t)
    assert v.follows(Phi) and v.dwell.mean() > 5.0 and np.median(v.peaks[1:]) > 0.9
    t, xs = gsemm.discrete_run(model, x0, 20.0)
    m = gsemm.visits(Xi, xs, t)
    assert m.follows(Phi) and np.all(m.dwell == 1.0)

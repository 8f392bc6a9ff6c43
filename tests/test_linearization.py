"""Tests of the general linearization in emtlib.spectra: fixed points of the autonomous update of
every architecture and the Jacobian there (W for the bias-free Elman RNN at the origin; autograd
against finite differences for each architecture); bad input is refused."""

import numpy as np
import pytest
import torch

from emtlib.architectures import MODELS, ElmanBiasRNN, build_model
from emtlib.rnn import ElmanRNN
from emtlib.spectra import (
    FixedPointError,
    _autonomous,
    _newton,
    eigenvalues,
    fixed_point,
    jacobian,
    slow_point,
    spectral_error,
    state_jacobian,
    state_update,
)
from emtlib.tasks import repeat_copy

NAMES = list(MODELS)


def strong(name, hidden=16, seed=0, gain=3.0):
    """A model whose weights and biases are scaled up: saturating gates, a fixed point far from
    the origin where there are biases (a harder test than the small initial weights)."""
    model = build_model(name, 3, hidden, seed=seed)
    with torch.no_grad():
        for p in model.rnn.parameters():
            p.mul_(gain)
    return model


def finite_differences(model, x, eps=1e-6):
    columns = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = eps
        columns.append((state_update(model, x + e) - state_update(model, x - e)) / (2 * eps))
    return np.stack(columns, axis=1)


def test_the_jacobian_of_the_bias_free_elman_rnn_at_the_origin_is_w():
    model = ElmanRNN(3, 16, seed=2)
    origin = fixed_point(model)
    assert np.array_equal(origin, np.zeros(16))
    np.testing.assert_allclose(state_jacobian(model), model.W_hh, rtol=0, atol=1e-15)
    np.testing.assert_allclose(state_jacobian(model, np.zeros(16)), model.W_hh, atol=1e-15)


def test_away_from_the_origin_it_is_the_closed_form():
    model = strong("elman", seed=1)
    h = np.random.default_rng(0).uniform(-0.5, 0.5, 16)
    np.testing.assert_allclose(state_jacobian(model, h), jacobian(model, h), atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_a_found_fixed_point_satisfies_the_update(name, seed):
    model = strong(name, seed=seed)
    x = fixed_point(model)
    assert x.shape == (model.state_size,) and x.dtype == np.float64
    assert np.max(np.abs(state_update(model, x) - x)) <= 1e-10
    if name != "elman":  # biases move the fixed point off the origin
        assert np.max(np.abs(x)) > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_autograd_agrees_with_finite_differences(name):
    model = strong(name, seed=3)
    for x in (fixed_point(model), np.random.default_rng(1).uniform(-0.8, 0.8, model.state_size)):
        J = state_jacobian(model, x)
        assert J.shape == (model.state_size, model.state_size)
        np.testing.assert_allclose(J, finite_differences(model, x), rtol=0, atol=1e-7)


def test_the_lstm_jacobian_is_over_the_joint_state():
    model = strong("lstm", hidden=8)
    J = state_jacobian(model)
    assert J.shape == (16, 16)
    assert np.abs(J[:, 8:]).max() > 1e-3  # the cell state feeds the next state


def test_a_start_is_a_state_vector_and_no_convergence_is_a_clear_error():
    model = strong("elman-bias", seed=0)
    x = fixed_point(model, start=np.full(16, 0.5))
    assert np.max(np.abs(state_update(model, x) - x)) <= 1e-10
    with pytest.raises(
        FixedPointError,
        match=r"residual max\|F\(x\) - x\| is .* after 1 Newton steps and a Levenberg-Marquardt",
    ):
        fixed_point(strong("gru", gain=6.0, seed=4), tol=1e-300, max_iter=1)
    with pytest.raises(ValueError, match=r"start must be a vector of shape \(16,\)"):
        fixed_point(model, start=np.zeros(3))
    with pytest.raises(ValueError, match="tol"):
        fixed_point(model, tol=0.0)
    with pytest.raises(TypeError, match="max_iter"):
        fixed_point(model, max_iter=2.5)
    with pytest.raises(TypeError, match="RecurrentModel"):
        state_jacobian(np.eye(3))
    with pytest.raises(ValueError, match=r"state must be a vector of shape \(32,\)"):
        state_jacobian(strong("lstm"), np.zeros(16))


def test_the_closed_form_functions_refuse_other_architectures():
    model = ElmanBiasRNN(2, 4)
    for func in (jacobian, eigenvalues, lambda m: spectral_error(m, repeat_copy(2, 2))):
        with pytest.raises(TypeError, match="state_jacobian"):
            func(model)
    J = state_jacobian(model)  # what they take instead
    assert spectral_error(J, repeat_copy(2, 2)).n_model >= 0


def test_the_search_goes_on_where_newton_from_zero_stalls():
    model = strong("gru", gain=3.0, seed=2)
    _, update = _autonomous(model)
    zero = torch.zeros(model.state_size, dtype=torch.float64)
    assert _newton(update, zero, 1e-10, 30)[1] > 1e-6  # Newton alone stalls here
    x = fixed_point(model, max_iter=30)
    assert np.max(np.abs(state_update(model, x) - x)) <= 1e-10
    np.testing.assert_allclose(x, fixed_point(model, max_iter=30), atol=1e-12)
    again = fixed_point(model, max_iter=30, restarts=5, seed=0)
    assert np.max(np.abs(state_update(model, again) - again)) <= 1e-10
    with pytest.raises(TypeError, match="restarts"):
        fixed_point(model, restarts=1.5)
    with pytest.raises(TypeError, match="settle"):
        fixed_point(model, settle=100)


def test_an_lstm_with_a_forget_gate_near_one_settles_far_out():
    """c* = i g / (1 - f): with f near 1 the cell's fixed point lies far outside (-1, 1), and it
    is found (only h is bounded by 1)."""
    model = build_model("lstm", 2, 4, seed=0)
    with torch.no_grad():
        model.rnn.bias_ih_l0[4:8] = 9.0  # the forget gate's bias: f = σ(9 + ...) ≈ 0.9999
    x = fixed_point(model)
    assert np.max(np.abs(state_update(model, x) - x)) <= 1e-10
    assert np.abs(x[4:]).max() > 100 and np.abs(x[:4]).max() <= 1.0


def test_a_slow_point_stands_in_where_no_fixed_point_is_found():
    model = strong("gru", gain=6.0, seed=4)
    with pytest.raises(FixedPointError):
        fixed_point(model, tol=1e-300, max_iter=1, settle=())
    x, r = slow_point(model, tol=1e-300, max_iter=1, settle=())
    assert r > 0 and np.abs(x[: model.hidden]).max() <= 1.0
    assert r == pytest.approx(np.abs(state_update(model, x) - x).max(), rel=1e-12)
    found, residual = slow_point(strong("elman-bias", seed=0))  # a fixed point is found
    assert residual <= 1e-10
    np.testing.assert_allclose(found, fixed_point(strong("elman-bias", seed=0)), atol=1e-12)

"""Tests of emtlib.spectra: linearization, long-lived eigenvalues and the spectral error."""

import itertools

import numpy as np
import pytest
import torch
from scipy.linalg import block_diag

from emtlib.circuit import build_circuit, long_lived_modes, phi
from emtlib.rnn import ElmanRNN
from emtlib.spectra import (
    SpectralComparison,
    angle_distance,
    autograd_jacobian,
    eigen_angles,
    eigenvalues,
    ideal_eigenvalues,
    jacobian,
    long_lived,
    match_eigenvalues,
    spectral_error,
)
from emtlib.tasks import PAPER_TASKS, Task


def rotation(theta, radius=1.0):
    c, s = np.cos(theta), np.sin(theta)
    return radius * np.array([[c, -s], [s, c]])


def rotations(angles, radius=1.0):
    return block_diag(*[rotation(a, radius) for a in angles])


# -- hand-made spectra with a known answer ---------------------------------------------------------
def test_rotation_blocks_with_known_perturbations():
    angles = np.array([0.3, 0.9, 1.6, 2.4])
    delta = np.array([0.01, -0.02, 0.004, 0.03])
    # |λ| = 1.3 for W: limit cycles of trained models; only angles count
    result = spectral_error(rotations(angles + delta, radius=1.3), rotations(angles))
    assert result.matched and result.n_model == result.n_ideal == 8
    assert result.error == pytest.approx(np.mean(np.abs(delta)), abs=1e-12)
    np.testing.assert_allclose(
        np.sort(result.angle_errors), np.sort(np.repeat(np.abs(delta), 2)), atol=1e-12
    )
    assert str(result) == "0.0160"
    assert float(result) == pytest.approx(0.016)


def test_moduli_below_threshold_are_left_out():
    W = block_diag(rotation(0.5, 1.1), rotation(1.0, 0.5))  # second block is short-lived
    phi = block_diag(rotation(0.6), [[0.0]])
    result = spectral_error(W, phi)
    assert (result.n_model, result.n_ideal) == (2, 2)
    assert result.error == pytest.approx(0.1)
    assert np.all(np.abs(result.model_eigenvalues) > 0.9)
    # a higher threshold drops the 1.0-modulus ideal modes but keeps the 1.1 ones of W
    assert spectral_error(W, phi, threshold=1.05).n_ideal == 0


def greedy_error(model, ideal):
    """Match each model eigenvalue in turn to the closest unused ideal one (not optimal)."""
    free = list(range(len(ideal)))
    total = 0.0
    for a in np.angle(model):
        dist = [angle_distance(a, np.angle(ideal[j])) for j in free]
        k = int(np.argmin(dist))
        total += dist[k]
        free.pop(k)
    return total / len(model)


def brute_force_error(model, ideal):
    a, b = np.angle(model), np.angle(ideal)
    return min(
        np.mean(angle_distance(a, b[list(p)])) for p in itertools.permutations(range(len(b)))
    )


def test_matching_is_optimal_where_greedy_is_not():
    W = rotations([1.0, 0.2])
    phi = rotations([0.9, 2.0])
    result = spectral_error(W, phi)
    model, ideal = np.linalg.eigvals(W), np.linalg.eigvals(phi)
    assert result.error == pytest.approx(0.85)  # 1.0 -> 2.0 and 0.2 -> 0.9, both conjugates alike
    assert result.error == pytest.approx(brute_force_error(model, ideal))
    assert greedy_error(model, ideal) == pytest.approx(0.95)  # greedy pairs 1.0 -> 0.9 first
    assert result.error < greedy_error(model, ideal) - 0.05


@pytest.mark.parametrize("seed", range(5))
def test_matching_equals_brute_force_on_random_spectra(seed):
    rng = np.random.default_rng(seed)
    model = np.exp(1j * rng.uniform(-np.pi, np.pi, 6))
    ideal = np.exp(1j * rng.uniform(-np.pi, np.pi, 6))
    pairs = match_eigenvalues(model, ideal)
    assert sorted(pairs[:, 0]) == list(range(6)) and sorted(pairs[:, 1]) == list(range(6))
    achieved = np.mean(angle_distance(np.angle(model[pairs[:, 0]]), np.angle(ideal[pairs[:, 1]])))
    assert achieved == pytest.approx(brute_force_error(model, ideal))


def test_angles_wrap_around_minus_pi():
    assert angle_distance(np.pi - 0.01, -np.pi + 0.02) == pytest.approx(0.03)
    assert angle_distance(0.0, np.pi) == pytest.approx(np.pi)
    assert angle_distance(3 * np.pi, -np.pi) == pytest.approx(0.0, abs=1e-12)
    # W's modes at angle ±(π - 0.05) against Φ = -I (angle π, possibly returned as -π)
    result = spectral_error(rotation(np.pi - 0.05), -np.eye(2))
    assert result.error == pytest.approx(0.05)
    pairs = match_eigenvalues(
        [np.exp(1j * (np.pi - 0.01)), 1.0], [np.exp(0.5j), np.exp(1j * (-np.pi + 0.02))]
    )
    assert {tuple(p) for p in pairs} == {(0, 1), (1, 0)}


def test_count_mismatch_has_no_error():
    result = spectral_error(1.5 * np.eye(3), rotation(0.4))
    assert (result.n_model, result.n_ideal) == (3, 2)
    assert result.error is None and not result.matched
    assert str(result) == "— (W has 3 long-lived modes, Φ has 2)"
    assert f"{result:.4f}" == str(result)
    with pytest.raises(ValueError, match="3 long-lived modes, Φ has 2"):
        float(result)
    assert len(result.pairs) == 2  # the partial matching is still there for plots


def test_nothing_compared_when_neither_side_has_a_long_lived_mode():
    result = spectral_error(0.5 * np.eye(3), np.zeros((2, 2)))
    assert (result.n_model, result.n_ideal) == (0, 0)
    assert result.error is None and not result.matched
    assert str(result).startswith("— (nothing compared")
    with pytest.raises(ValueError, match="nothing compared"):
        float(result)
    # one side without long-lived modes is a count mismatch, as before
    assert spectral_error(np.eye(2), np.zeros((2, 2))).error is None


def test_printing_like_the_paper_table():
    empty = np.zeros(0, dtype=complex)
    ok = SpectralComparison(0.0031, 0, 0, empty, empty, np.zeros((0, 2), dtype=np.int64))
    assert str(ok) == "0.0031" and f"{ok:.2f}" == "0.00" and float(ok) == 0.0031
    assert "error=0.0031" in repr(ok)


def test_random_rnn_has_too_few_long_lived_modes():
    model = ElmanRNN(8, 64, seed=0)  # default init: spectral radius well below 0.9
    result = spectral_error(model, PAPER_TASKS["T2"])
    assert result.n_model < 36 and result.n_ideal == 36 and result.error is None


# -- linearization ------------------------------------------------------------------------------------
def test_jacobian_at_origin_is_W():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 6))
    np.testing.assert_array_equal(jacobian(W), W)
    np.testing.assert_array_equal(jacobian(W, np.zeros(6)), W)
    model = ElmanRNN(3, 5, seed=1)
    np.testing.assert_array_equal(jacobian(model), model.W_hh)
    np.testing.assert_allclose(autograd_jacobian(model, np.zeros(5)), model.W_hh, atol=1e-7)


def test_closed_form_equals_autograd_away_from_the_origin():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(7, 7))
    h = rng.normal(size=7)
    J = jacobian(W, h)
    assert not np.allclose(J, W)  # the point is far enough from the origin to matter
    np.testing.assert_allclose(J, autograd_jacobian(W, h), atol=1e-12)
    np.testing.assert_allclose(
        J, autograd_jacobian(torch.from_numpy(W), torch.from_numpy(h)), atol=1e-12
    )
    # against central finite differences too, an independent check of both
    eps = 1e-6
    fd = np.stack(
        [(np.tanh(W @ (h + eps * e)) - np.tanh(W @ (h - eps * e))) / (2 * eps) for e in np.eye(7)],
        1,
    )
    np.testing.assert_allclose(J, fd, atol=1e-8)


def test_closed_form_equals_autograd_on_an_elman_rnn():
    model = ElmanRNN(4, 12, seed=3)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(4.0)  # strong weights, so tanh' differs from 1
    h = np.random.default_rng(2).uniform(-0.9, 0.9, 12)
    J = jacobian(model, h)
    assert not np.allclose(J, model.W_hh, atol=1e-2)
    np.testing.assert_allclose(J, autograd_jacobian(model, h), atol=1e-5)


def test_linear_circuit_is_its_own_jacobian_everywhere():
    c = build_circuit(Task(2, 2, (3, 0, 0)))
    h = np.array([0.5, -0.3, 0.2, 0.9])
    np.testing.assert_array_equal(jacobian(c, h), c.W_hh)
    np.testing.assert_allclose(autograd_jacobian(c, h), c.W_hh, atol=1e-12)
    sat = build_circuit(Task(2, 2, (3, 0, 0)), nonlinear=True)
    np.testing.assert_allclose(jacobian(sat, h), autograd_jacobian(sat, h), atol=1e-12)
    assert not np.allclose(jacobian(sat, h), sat.W_hh)


# -- the circuit and the paper's tasks ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PAPER_TASKS))
def test_ideal_and_saturating_circuits_have_zero_error(name):
    task = PAPER_TASKS[name]
    expected = long_lived_modes(task)
    for nonlinear in (False, True):
        result = spectral_error(build_circuit(task, nonlinear=nonlinear), task)
        assert result.matched and result.n_ideal == expected
        assert result.error == pytest.approx(0.0, abs=1e-9)
    # numerical eigenvalues of the matrix Φ against the exact ones from the cycles
    assert spectral_error(phi(task), task).error == pytest.approx(0.0, abs=1e-9)
    assert spectral_error(phi(task), phi(task)).error == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("name", sorted(PAPER_TASKS))
def test_similar_matrix_has_zero_error(name):
    task = PAPER_TASKS[name]
    P = np.random.default_rng(7).normal(size=(task.n, task.n))
    W = 1.7 * P @ phi(task) @ np.linalg.inv(P)  # W = Ψ (gΦ) Ψ⁻¹: another basis, larger modulus
    result = spectral_error(W, task)
    assert result.matched and result.n_model == long_lived_modes(task)
    assert result.error < 1e-6


def test_ideal_eigenvalues_are_exact_roots_of_unity():
    task = PAPER_TASKS["T1"]
    lam = ideal_eigenvalues(task)
    assert lam.shape == (64,)
    np.testing.assert_allclose(lam**8, np.ones(64), atol=1e-12)  # repeat copy: 8th roots of unity
    for name in ("T2", "T3", "T4"):
        exact = long_lived(PAPER_TASKS[name])
        numeric = long_lived(phi(PAPER_TASKS[name]))
        assert len(exact) == len(numeric) == 36
        np.testing.assert_allclose(np.abs(exact), 1.0, atol=1e-14)
        assert brute_force_cost(numeric, exact) < 1e-8


def brute_force_cost(a, b):
    pairs = match_eigenvalues(a, b)
    return float(np.max(np.abs(a[pairs[:, 0]] - b[pairs[:, 1]])))


def test_long_lived_accepts_vectors_matrices_models_and_tasks():
    lam = np.array([1.2, 0.95j, -0.5, 0.9, 0.1 + 0.1j])
    np.testing.assert_allclose(np.sort_complex(long_lived(lam)), np.sort_complex([1.2, 0.95j]))
    assert len(long_lived(list(lam), threshold=0.05)) == 5
    assert len(long_lived(np.diag([2.0, 0.5, -3.0]))) == 2
    assert len(long_lived(torch.diag(torch.tensor([2.0, 0.5])))) == 1
    assert len(long_lived(build_circuit(PAPER_TASKS["T3"]))) == 36
    assert len(eigenvalues(np.eye(3))) == 3
    np.testing.assert_allclose(eigen_angles([1j, -1.0, 1.0]), [np.pi / 2, np.pi, 0.0])


# -- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "W, phi, threshold, error",
    [
        (np.ones((2, 3)), np.eye(2), 0.9, ValueError),  # not square
        (np.ones(4), np.eye(2), 0.9, ValueError),  # not a matrix
        (np.zeros((0, 0)), np.eye(2), 0.9, ValueError),  # empty
        (np.array([[np.nan]]), np.eye(2), 0.9, ValueError),  # not finite
        (np.eye(2), np.array([[np.inf, 0], [0, 1]]), 0.9, ValueError),
        (np.eye(2), np.eye(2), 0.0, ValueError),  # threshold outside (0, inf)
        (np.eye(2), np.eye(2), -1.0, ValueError),
        (np.eye(2), np.eye(2), np.inf, ValueError),
        (np.eye(2), np.eye(2), float("nan"), ValueError),
        (np.eye(2), np.eye(2), "0.9", TypeError),
        (np.eye(2), np.eye(2), True, TypeError),
        ([[1.0, 0.0], [0.0, 1.0]], np.eye(2), 0.9, TypeError),  # a list is not a matrix here
        (np.eye(2), [[1.0]], 0.9, TypeError),
        (np.eye(2), "phi", 0.9, TypeError),
        (PAPER_TASKS["T1"], np.eye(2), 0.9, TypeError),  # arguments swapped
        (np.eye(2, dtype=complex), np.eye(2), 0.9, TypeError),
        (np.array([["a", "b"], ["c", "d"]]), np.eye(2), 0.9, TypeError),
    ],
)
def test_spectral_error_rejects_bad_input(W, phi, threshold, error):
    with pytest.raises(error):
        spectral_error(W, phi, threshold)


def test_jacobian_rejects_bad_input():
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        jacobian(np.eye(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        jacobian(np.eye(2), np.array([np.nan, 0.0]))
    with pytest.raises(TypeError):
        jacobian("W")
    with pytest.raises(ValueError):
        autograd_jacobian(ElmanRNN(2, 3), np.zeros(2))
    with pytest.raises(TypeError):
        ideal_eigenvalues(np.eye(3))
    with pytest.raises(TypeError):
        long_lived({"not": "eigenvalues"})

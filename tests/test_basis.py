"""Tests of emtlib.basis on the ideal circuit hidden in another basis (known answer: Φ itself)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.basis import (
    cycle_coordinates,
    decode,
    decoding_accuracy,
    privileged_basis,
    probe_basis,
)
from emtlib.circuit import Circuit, build_circuit, long_lived_modes, phi, saturation_level
from emtlib.tasks import PAPER_TASKS, Task, random_task

GROUNDINGS = ["input", "output", "observer"]


def hidden(circuit, P, Q=None):
    """The circuit seen through h = Q P x: W_hh = QPΦP⁻¹Qᵀ, W_uh = QP W_uh, W_r = W_r P⁻¹Qᵀ."""
    M, Minv = P, np.linalg.inv(P)
    if Q is not None:
        M, Minv = Q @ P, Minv @ Q.T
    return Circuit(
        circuit.task,
        M @ circuit.W_hh @ Minv,
        M @ circuit.W_uh,
        circuit.W_r @ Minv,
        circuit.phi,
        circuit.nonlinear,
        circuit.gain,
        circuit.input_gain,
    )


def signed_permutation(n, rng):
    return np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], n)


def orthonormal(N, n, rng):
    return np.linalg.qr(rng.normal(size=(N, n)))[0]


def neuron_embedding(N, n, rng):
    """N x n: the circuit's neurons among N, the rest silent (commutes with tanh)."""
    return np.eye(N)[:, rng.permutation(N)[:n]]


def principal_sines(A, B):
    """Largest sine of the principal angles between span(A) and span(B)."""
    qa, qb = np.linalg.qr(A)[0], np.linalg.qr(B)[0]
    return float(np.linalg.norm(qb - qa @ (qa.T @ qb), 2))


# -- which coordinates the compression keeps ---------------------------------------------------
def test_compression_keeps_cycle_positions():
    assert len(cycle_coordinates(PAPER_TASKS["T1"])) == 64
    for name in ("T2", "T3", "T4"):
        assert len(cycle_coordinates(PAPER_TASKS[name])) == 36
    kept = {tuple(c) for c in cycle_coordinates(PAPER_TASKS["T2"])}
    assert kept == {(k, j) for j in range(8) for k in range(j, 8)}  # z(t)[j] = z(t-8+j)[j]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_compressed_phi_is_closed_and_carries_the_long_lived_spectrum(s, d, seed):
    task = random_task(s, d, seed=seed)
    pos = cycle_coordinates(task) @ np.array([d, 1])
    E = np.eye(task.n)[:, pos]
    phi_cc = phi(task)[np.ix_(pos, pos)]
    np.testing.assert_array_equal(
        E.T @ phi(task), phi_cc @ E.T
    )  # reading cycle coordinates is closed
    lam = np.linalg.eigvals(phi_cc)
    np.testing.assert_allclose(np.abs(lam), 1.0, atol=1e-9)
    assert len(pos) == long_lived_modes(task)
    rest = np.setdiff1d(np.arange(task.n), pos)
    assert np.all(np.linalg.matrix_power(phi(task)[np.ix_(rest, rest)], task.n) == 0)  # nilpotent


# -- the weight-based algorithm ---------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAPER_TASKS))
@pytest.mark.parametrize("grounding", GROUNDINGS)
@pytest.mark.parametrize("view", ["identity", "orthogonal", "signed-permutation", "embedded"])
def test_linear_circuit_recovered_in_orthogonal_views(name, grounding, view):
    task = PAPER_TASKS[name]
    rng = np.random.default_rng(len(name) + len(view))
    n = task.n
    P = {
        "identity": np.eye(n),
        "orthogonal": orthonormal(n, n, rng),
        "signed-permutation": signed_permutation(n, rng),
        "embedded": orthonormal(n, n, rng),
    }[view]
    Q = orthonormal(n + 24, n, rng) if view == "embedded" else None
    b = privileged_basis(hidden(build_circuit(task), P, Q), task, grounding=grounding)
    assert b.phi_error < 1e-10 and abs(b.gain - 1) < 1e-10
    assert b.Psi.shape == (n + (24 if Q is not None else 0), long_lived_modes(task))
    np.testing.assert_allclose(b.dual @ b.Psi, np.eye(b.Psi.shape[1]), atol=1e-10)
    # the columns are the circuit's own coordinates, seen through QP
    M = P if Q is None else Q @ P
    pos = b.coords @ np.array([task.d, 1])
    cos = np.abs(np.sum(b.Psi * (M[:, pos] / np.linalg.norm(M[:, pos], axis=0)), axis=0))
    np.testing.assert_allclose(cos, 1.0, atol=1e-10)


@pytest.mark.parametrize("name", list(PAPER_TASKS))
def test_general_invertible_basis_only_observer_is_exact(name):
    task = PAPER_TASKS[name]
    rng = np.random.default_rng(3)
    model = hidden(build_circuit(task), rng.normal(size=(task.n, task.n)))
    assert privileged_basis(model, task, grounding="observer").phi_error < 1e-9
    # the paper's groundings assume orthogonality (column normalisation, pseudoinverse)
    assert privileged_basis(model, task, grounding="input").phi_error > 0.05
    assert privileged_basis(model, task, grounding="output").phi_error > 0.5


def test_repeat_copy_uncompressed_is_the_same_basis():
    task = PAPER_TASKS["T1"]
    model = hidden(build_circuit(task), orthonormal(64, 64, np.random.default_rng(0)))
    a = privileged_basis(model, task, compress=True)
    b = privileged_basis(model, task, compress=False)
    np.testing.assert_allclose(a.Psi, b.Psi)
    assert b.phi_error < 1e-10


def test_compose_uncompressed_is_not_phi():
    task = PAPER_TASKS["T2"]
    b = privileged_basis(build_circuit(task), task, grounding="input", compress=False)
    assert b.phi_error > 0.1  # the Krylov basis shows Φ in another canonical form
    with pytest.raises(ValueError, match="compress=True"):
        privileged_basis(build_circuit(task), task, grounding="observer", compress=False)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_small_random_tasks_in_orthogonal_view(s, d, seed):
    task = random_task(s, d, seed=seed)
    rng = np.random.default_rng(seed)
    model = hidden(
        build_circuit(task), orthonormal(task.n, task.n, rng), orthonormal(task.n + 3, task.n, rng)
    )
    assert privileged_basis(model, task, grounding="observer").phi_error < 1e-8
    # The paper's Krylov columns W^m B are the circuit's coordinates only when no composition
    # row feeds back into the chains they follow (true for repeat copy and the paper's tasks).
    own = privileged_basis(build_circuit(task), task, grounding="input")
    clean = np.allclose(own.Psi, np.eye(task.n)[:, own.coords @ np.array([d, 1])])
    for grounding in ("input", "output"):
        b = privileged_basis(model, task, grounding=grounding)
        assert (b.phi_error < 1e-8) == clean or (b.phi_error < 1e-8 and not clean), grounding
        if clean:
            assert b.phi_error < 1e-8


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_small_random_tasks_observer_in_any_basis(s, d, seed):
    task = random_task(s, d, seed=seed)
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(task.n, task.n)) + 3 * np.eye(task.n)
    # Exact up to round-off, and round-off grows with cond(P)^2 (the model is P W P^-1 and the
    # basis undoes it): measured phi_error / cond(P)^2 <= 4e-16 over 900 draws; one draw in a few
    # thousand has cond(P) ~ 5e4 and an error of 2.4e-8, so the bound scales beyond cond 316.
    tol = max(1e-8, 1e-13 * np.linalg.cond(P) ** 2)
    assert (
        privileged_basis(hidden(build_circuit(task), P), task, grounding="observer").phi_error < tol
    )


@pytest.mark.parametrize("grounding", GROUNDINGS)
def test_saturating_circuit_gain_is_reported_separately(grounding):
    task = PAPER_TASKS["T3"]
    rng = np.random.default_rng(5)
    model = hidden(
        build_circuit(task, nonlinear=True),
        signed_permutation(64, rng),
        neuron_embedding(80, 64, rng),
    )
    b = privileged_basis(model, task, grounding=grounding)
    assert abs(b.gain - 2.0) < 1e-10 and b.phi_error_scaled < 1e-10
    assert abs(b.phi_error - 1.0) < 1e-10  # W = 2Φ: the raw error is |g - 1|


def test_pca_completion():
    task = PAPER_TASKS["T2"]
    rng = np.random.default_rng(0)
    model = hidden(build_circuit(task, nonlinear=True), np.eye(64), neuron_embedding(70, 64, rng))
    inputs, _ = task.sample(16, 30, seed=1)
    data = model.hidden_states(inputs.numpy())
    b = privileged_basis(model, task, complete=5, data=data)
    assert b.Psi.shape == (70, 41) and b.n_variables == 36
    assert np.all(b.coords[36:, 0] == -1)
    np.testing.assert_allclose(b.dual @ b.Psi, np.eye(41), atol=1e-10)
    np.testing.assert_allclose(b.Psi[:, :36].T @ b.Psi[:, 36:], 0, atol=1e-10)  # outside span(Ψ)
    assert b.phi_error_scaled < 1e-10
    with pytest.raises(ValueError, match="data"):
        privileged_basis(model, task, complete=2)


# -- decoding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("grounding", GROUNDINGS)
def test_decoding_linear_repeat_copy_any_view(grounding):
    task = PAPER_TASKS["T1"]
    rng = np.random.default_rng(1)
    model = hidden(build_circuit(task), orthonormal(64, 64, rng), orthonormal(90, 64, rng))
    b = privileged_basis(model, task, grounding=grounding)
    assert decoding_accuracy(model, task, b, horizon=100, batches=2, batch=16) == 1.0


@pytest.mark.parametrize("name", list(PAPER_TASKS))
@pytest.mark.parametrize("grounding", GROUNDINGS)
def test_decoding_saturating_circuit(name, grounding):
    task = PAPER_TASKS[name]
    rng = np.random.default_rng(2)
    model = hidden(
        build_circuit(task, nonlinear=True),
        signed_permutation(64, rng),
        neuron_embedding(72, 64, rng),
    )
    b = privileged_basis(model, task, grounding=grounding)
    assert decoding_accuracy(model, task, b, horizon=200, batches=1, batch=16) == 1.0


def test_decode_shape_and_values():
    task = Task(3, 2, (0b100001, 0, 0))  # rows 0, 5: a 3-cycle and a self-loop
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    inputs, _ = task.sample(4, 10, seed=0)
    out = decode(model, b, inputs)
    assert out.shape == (13, 4, 3, 2)
    kept = np.zeros((3, 2), dtype=bool)
    kept[tuple(cycle_coordinates(task).T)] = True
    assert np.all(np.isnan(out[:, :, ~kept])) and np.all(np.isfinite(out[:, :, kept]))
    windows = np.stack(
        [
            task.generate(inputs[:3].numpy().transpose(1, 0, 2), 10)[:, t - 2 : t + 1]
            for t in range(3, 13)
        ]
    )  # (T, batch, s, d)
    assert np.all(np.sign(out[3:, :, kept]) == windows[:, :, kept])
    assert decode(model, b, inputs[:, 0]).shape == (13, 3, 2)


def test_decoding_fails_with_a_wrong_basis():
    task = PAPER_TASKS["T3"]
    model = build_circuit(task, nonlinear=True)
    other = hidden(
        model, signed_permutation(64, np.random.default_rng(0))
    )  # same task, other neurons
    wrong = privileged_basis(other, task)
    assert decoding_accuracy(other, task, wrong, horizon=50, batches=1, batch=8) == 1.0
    assert decoding_accuracy(model, task, wrong, horizon=50, batches=1, batch=8) < 0.9


def test_decoding_against_the_models_own_outputs():
    """A repeat-copy circuit that stores input component 2 negated is wrong against the task on
    that component, but the basis reads exactly what it stores: only vectors still held from the
    input phase (where the reference is the true input) disagree."""
    task = PAPER_TASKS["T1"]
    c = build_circuit(task)
    W_uh = c.W_uh.copy()
    W_uh[:, 2] *= -1
    flipped = Circuit(task, c.W_hh, W_uh, c.W_r, c.phi, c.nonlinear, c.gain, c.input_gain)
    b = privileged_basis(flipped, task, grounding="observer")
    H, s = 50, task.s
    ideal = decoding_accuracy(flipped, task, b, horizon=H, batches=1, batch=4)
    own = decoding_accuracy(flipped, task, b, horizon=H, batches=1, batch=4, reference="model")
    assert ideal == 7 / 8
    # slot k at step t >= s holds z(t-s+1+k), an input vector for s(s-1)/2 of the (t, k) pairs
    assert own == 1 - (s * (s - 1) // 2) / (H * s * task.d)
    assert (
        decoding_accuracy(
            flipped, task, b, horizon=H, batches=1, batch=4, reference="model", slots=[s - 1]
        )
        == 1.0
    )
    assert (
        decoding_accuracy(flipped, task, b, horizon=H, batches=1, batch=4, slots=[s - 1]) == 7 / 8
    )
    model = build_circuit(PAPER_TASKS["T2"], nonlinear=True)
    good = privileged_basis(model, PAPER_TASKS["T2"])
    assert (
        decoding_accuracy(
            model, PAPER_TASKS["T2"], good, horizon=30, batches=1, batch=4, reference="model"
        )
        == 1.0
    )
    with pytest.raises(ValueError, match="reference"):
        decoding_accuracy(flipped, task, b, reference="truth")
    with pytest.raises(ValueError, match="slot"):
        decoding_accuracy(flipped, task, b, slots=[8])


# -- the probe basis -----------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ["dual", "basis"])
def test_probe_matches_weights_on_linear_repeat_copy_any_basis(estimator):
    task = PAPER_TASKS["T1"]
    rng = np.random.default_rng(4)
    model = hidden(build_circuit(task), rng.normal(size=(64, 64)), orthonormal(80, 64, rng))
    p = probe_basis(model, task, batch=16, horizon=20, seed=0, estimator=estimator)
    w = privileged_basis(model, task, grounding="observer")
    assert p.phi_error < 1e-8
    assert principal_sines(p.Psi, w.Psi) < 1e-8
    assert principal_sines(p.dual.T, w.dual.T) < 1e-8
    assert decoding_accuracy(model, task, p, horizon=50, batches=1, batch=8) == 1.0


@pytest.mark.parametrize("name", ["T2", "T4"])
def test_probe_matches_weights_on_saturating_circuit(name):
    task = PAPER_TASKS[name]
    rng = np.random.default_rng(6)
    model = hidden(
        build_circuit(task, nonlinear=True),
        signed_permutation(64, rng),
        neuron_embedding(70, 64, rng),
    )
    w = privileged_basis(model, task)
    dual = probe_basis(model, task, batch=32, horizon=40, estimator="dual")
    basis = probe_basis(model, task, batch=32, horizon=40, estimator="basis")
    inputs, _ = task.sample(8, 30, seed=3)
    states = model.hidden_states(inputs.numpy())[task.s :]
    for p in (dual, basis):
        # Same coordinates: the probe's columns differ from the weight basis only by the dead
        # (nilpotent) directions, which the weight dual does not read ...
        a = saturation_level(2.0)  # the weight basis reads a·x, the probe x
        np.testing.assert_allclose(w.dual @ p.Psi, a * np.eye(36), atol=1e-2)
        assert p.phi_error_scaled < 0.05 and abs(p.gain - 2) < 0.1
    # ... and the dual fit reads the same variables as the weight dual from the states the model visits
    assert np.array_equal(np.sign(states @ dual.dual.T), np.sign(states @ w.dual.T))
    np.testing.assert_allclose(a * states[16:] @ dual.dual.T, states[16:] @ w.dual.T, atol=0.05)
    assert dual.phi_error_scaled < basis.phi_error_scaled  # the dual fit is the better estimator
    assert decoding_accuracy(model, task, dual, horizon=200, batches=1, batch=16) == 1.0


# -- bad input ---------------------------------------------------------------------------------
def test_bad_input():
    task = PAPER_TASKS["T1"]
    model = build_circuit(task)
    b = privileged_basis(model, task)
    with pytest.raises(ValueError, match="grounding"):
        privileged_basis(model, task, grounding="sideways")
    with pytest.raises(TypeError, match="Task"):
        privileged_basis(model, (255, 0, 0))
    with pytest.raises(TypeError, match="W_hh"):
        privileged_basis(object(), task)
    with pytest.raises(ValueError, match="d = 4"):
        privileged_basis(model, Task(16, 4, (15, 0, 0)))
    with pytest.raises(ValueError, match="long-lived"):
        privileged_basis(build_circuit(Task(2, 8, (255, 0, 0))), task)
    with pytest.raises(TypeError, match="compress"):
        privileged_basis(model, task, compress="yes")
    with pytest.raises(ValueError, match="slot"):
        b.slot(8)
    with pytest.raises(TypeError, match="slot"):
        b.slot(1.0)
    with pytest.raises(ValueError, match="hidden size"):
        decode(build_circuit(Task(4, 2, (3, 0, 0))), b, np.zeros((5, 1, 8)))
    with pytest.raises(ValueError, match="built for"):
        decoding_accuracy(model, PAPER_TASKS["T2"], b)
    with pytest.raises(TypeError, match="Basis"):
        decode(model, "basis", np.zeros((5, 1, 8)))
    with pytest.raises(ValueError, match="inputs"):
        decode(model, b, np.zeros((5, 1, 7)))
    with pytest.raises(ValueError, match="estimator"):
        probe_basis(model, task, estimator="magic")

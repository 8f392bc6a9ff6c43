"""Tests of the basis controls of emtlib.basis (chapter "The privileged basis"): on the ideal
circuit hidden behind an orthogonal map, the weight-only bases and the probe read every variable,
and the three controls read none of them."""

import numpy as np
import pytest

from emtlib.basis import (
    CONTROL_KINDS,
    basis_controls,
    controls_markdown,
    decoding_accuracy,
    privileged_basis,
    probe_basis,
    random_basis,
    shuffled_probe_basis,
    transfer_basis,
)
from emtlib.circuit import Circuit, build_circuit, long_lived_modes
from emtlib.tasks import PAPER_TASKS


def disguised(task, seed, n=80):
    """The saturating circuit of ``task`` with its neurons permuted, sign-flipped and placed among
    ``n`` neurons (a view that commutes with tanh, so every reading is exact)."""
    c = build_circuit(task, nonlinear=True)
    rng = np.random.default_rng(seed)
    P = np.eye(task.n)[rng.permutation(task.n)] * rng.choice([-1.0, 1.0], task.n)
    E = np.eye(n)[:, rng.permutation(n)[: task.n]]  # (n, s*d)
    M, Minv = E @ P, P.T @ E.T
    return Circuit(
        task, M @ c.W_hh @ Minv, M @ c.W_uh, c.W_r @ Minv, c.phi, c.nonlinear, c.gain, c.input_gain
    )


@pytest.fixture(scope="module")
def pair():
    task = PAPER_TASKS["T3"]
    return task, disguised(task, 0), disguised(task, 1)


def accuracy(model, task, basis):
    return decoding_accuracy(model, task, basis, horizon=40, batches=1, batch=16, seed=3)


def test_random_basis_is_seeded_and_dual(pair):
    task, model, _ = pair
    a, b, c = (random_basis(model, task, seed=k) for k in (0, 0, 1))
    assert a.Psi.shape == (80, long_lived_modes(task))
    assert np.allclose(a.dual @ a.Psi, np.eye(a.Psi.shape[1]))
    assert np.array_equal(a.Psi, b.Psi) and not np.allclose(a.Psi, c.Psi)
    assert a.method == "random"


def test_shuffled_probe_is_seeded_and_differs_from_probe(pair):
    task, model, _ = pair
    a = shuffled_probe_basis(model, task, batch=16, horizon=30, shuffle_seed=0)
    b = shuffled_probe_basis(model, task, batch=16, horizon=30, shuffle_seed=0)
    c = shuffled_probe_basis(model, task, batch=16, horizon=30, shuffle_seed=1)
    p = probe_basis(model, task, batch=16, horizon=30)
    assert np.array_equal(a.dual, b.dual) and not np.allclose(a.dual, c.dual)
    assert not np.allclose(a.dual, p.dual) and a.method == "shuffled-dual"


def test_transfer_to_itself_changes_nothing(pair):
    task, model, _ = pair
    b = privileged_basis(model, task, grounding="observer")
    t = transfer_basis(b, model)
    assert np.allclose(t.phi_empirical, b.phi_empirical) and t.phi_error == b.phi_error
    assert t.method == "observer (transferred)"


def test_controls_fail_where_the_weights_succeed(pair):
    task, model, other = pair
    bases = basis_controls(model, task, other, seed=0, batch=16, horizon=30)
    assert tuple(bases) == CONTROL_KINDS
    acc = {k: accuracy(model, task, b) for k, b in bases.items()}
    for kind in ("observer", "probe"):
        assert acc[kind] == 1.0, (kind, acc[kind])
        assert bases[kind].phi_error_scaled < 0.01, (kind, bases[kind].phi_error_scaled)
    for kind in ("shuffled", "other seed", "random"):
        assert 0.35 < acc[kind] < 0.65, (kind, acc[kind])
        assert bases[kind].phi_error_scaled > 1, (kind, bases[kind].phi_error_scaled)


def test_controls_reject_bad_input(pair):
    task, model, _ = pair
    with pytest.raises(ValueError, match="different network"):
        basis_controls(model, task, model)
    with pytest.raises(TypeError, match="seed"):
        random_basis(model, task, seed=0.5)
    with pytest.raises(TypeError, match="Basis"):
        transfer_basis("observer", model)
    small = disguised(task, 2, n=72)
    with pytest.raises(ValueError, match="hidden size"):
        transfer_basis(privileged_basis(model, task, grounding="observer"), small)
    with pytest.raises(TypeError, match="shuffle"):
        probe_basis(model, task, shuffle="yes")


def test_controls_markdown():
    acc = {"net": {"observer": 0.99, "random": 0.5}}
    err = {"net": {"observer": 0.25, "random": 1.5}}
    text = controls_markdown(acc, err, kinds=("observer", "random"))
    assert text.splitlines()[2] == "| net | 0.990 / 0.25 | 0.500 / 1.50 |"
    with pytest.raises(ValueError, match="'probe'"):
        controls_markdown(acc, err, kinds=("probe",))
    with pytest.raises(ValueError, match="same networks"):
        controls_markdown(acc, {}, kinds=("observer",))

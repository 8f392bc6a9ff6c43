"""The random-basis control of chapter "Interventions" (emtlib.interventions.random_basis)."""

import numpy as np
import pytest

from emtlib.basis import cycle_coordinates
from emtlib.circuit import build_circuit
from emtlib.interventions import intervention_trials, random_basis
from emtlib.tasks import PAPER_TASKS


def test_random_basis_has_the_privileged_coordinates_and_a_dual():
    task = PAPER_TASKS["T2"]
    c = build_circuit(task)
    b = random_basis(c, task, seed=3)
    np.testing.assert_array_equal(b.coords, cycle_coordinates(task))
    np.testing.assert_allclose(b.dual @ b.Psi, np.eye(len(b.coords)), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(b.Psi, axis=0), 1.0)
    assert b.method == "random" and b.phi_error > 0.5  # it does not show Phi
    same = random_basis(c, task, seed=3)
    np.testing.assert_array_equal(b.Psi, same.Psi)
    assert not np.allclose(random_basis(c, task, seed=4).Psi, b.Psi)


def test_edits_through_a_random_basis_fail_on_the_circuit():
    task = PAPER_TASKS["T1"]
    c = build_circuit(task)
    r = intervention_trials(c, task, random_basis(c, task), edits=32, window=20, seed=0)
    assert r.baseline_rate == 1.0 and r.rate < 0.2


def test_random_basis_bad_input():
    task = PAPER_TASKS["T1"]
    with pytest.raises(TypeError, match="Task"):
        random_basis(build_circuit(task), "T1")
    with pytest.raises(TypeError, match="W_hh"):
        random_basis(object(), task)
    small = type("M", (), {"W_hh": np.zeros((10, 10))})()
    with pytest.raises(ValueError, match="below"):
        random_basis(small, task)

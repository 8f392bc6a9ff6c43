"""Tests of emtlib.interventions (and of the neuron basis, its control): single edits, and many
random edits judged against the task (known answers from the saturating circuit)."""

import numpy as np
import pytest
import torch

from emtlib.basis import decoding_accuracy, neuron_basis, privileged_basis, probe_basis
from emtlib.circuit import Circuit, build_circuit
from emtlib.interventions import (
    InterventionTrials,
    _predict_many,
    intervene,
    intervention_trials,
    predicted_outputs,
    run_with_intervention,
)
from emtlib.tasks import PAPER_TASKS, Task


def embedded(circuit, N, rng):
    """The circuit's s*d neurons hidden among N neurons, permuted with signs (commutes with tanh)."""
    n = circuit.W_hh.shape[0]
    M = np.eye(N)[:, rng.permutation(N)[:n]] * rng.choice([-1.0, 1.0], n)
    return Circuit(
        circuit.task,
        M @ circuit.W_hh @ M.T,
        M @ circuit.W_uh,
        circuit.W_r @ M.T,
        circuit.phi,
        circuit.nonlinear,
        circuit.gain,
        circuit.input_gain,
    ), M


# -- single edits ------------------------------------------------------------------------------
def test_intervene_sets_one_slot_and_leaves_the_rest():
    task = PAPER_TASKS["T3"]
    rng = np.random.default_rng(7)
    model, _ = embedded(build_circuit(task, nonlinear=True), 64, rng)
    b = privileged_basis(model, task)
    h = rng.normal(size=(5, 64))
    comps = b.components(6)
    values = np.full(8, np.nan)
    values[comps] = 0.5
    h2 = intervene(model, b, h, 6, values)
    np.testing.assert_allclose(h2 @ b.slot_dual(6).T, 0.5)
    others = b.coords[:, 0] != 6
    np.testing.assert_allclose((h2 @ b.dual.T)[:, others], (h @ b.dual.T)[:, others], atol=1e-12)
    ht = intervene(model, b, torch.from_numpy(h), 6, values)
    assert isinstance(ht, torch.Tensor)
    missing = np.setdiff1d(np.arange(8), b.components(0))
    bad = np.full(8, np.nan)
    bad[missing[0]] = 1.0
    with pytest.raises(ValueError, match="not in the basis"):
        intervene(model, b, h, 0, bad)


@pytest.mark.parametrize("name", list(PAPER_TASKS))
def test_interventions_on_saturating_circuit_follow_the_prediction(name):
    task = PAPER_TASKS[name]
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    rng = np.random.default_rng(8)
    inputs, _ = task.sample(8, 60, seed=9)
    successes = 0
    trials = 0
    for slot in range(task.s):
        t = int(rng.integers(task.s - 1, task.s + 20))
        value = np.full((8, task.d), np.nan)
        comps = b.components(slot)
        value[:, comps] = rng.choice([-1.0, 1.0], size=(8, len(comps)))
        out = run_with_intervention(model, task, b, inputs, t, slot, value)
        pred = predicted_outputs(task, inputs, t, slot, value)
        successes += np.all(np.sign(out[t + 1 :]) == np.sign(pred[t + 1 :]), axis=(0, 2)).sum()
        trials += 8
    assert successes == trials
    # and the edit changed something: the prediction differs from the unedited task
    _, targets = task.sample(8, 60, seed=9)
    assert not np.array_equal(np.sign(pred[t + 1 :]), np.sign(targets.numpy()[t + 1 :]))


def test_intervention_on_elman_rnn_uses_its_step(circuit_elman):
    task, c, rnn = circuit_elman
    b = privileged_basis(rnn, task)
    inputs, _ = task.sample(4, 30, seed=0)
    assert decoding_accuracy(rnn, task, b, horizon=50, batches=1, batch=8) == 1.0
    value = np.array([-1.0, 1.0])
    out = run_with_intervention(rnn, task, b, inputs, 3, 0, value)
    pred = predicted_outputs(task, inputs, 3, 0, value)
    assert np.all(np.sign(out[4:]) == np.sign(pred[4:]))
    np.testing.assert_allclose(
        run_with_intervention(c, task, b, inputs, 3, 0, value), out, atol=1e-5
    )


def test_predicted_outputs_by_hand():
    task = Task(2, 1, (0b1, 0, 0))  # z(t) = z(t-2), d = 1
    inputs = torch.tensor([[[1.0]], [[-1.0]], [[0.0]], [[0.0]], [[0.0]], [[0.0]]])
    # at t = 2 the window holds (z(1), z(2)) = (-1, 1); set slot 0 (z(1)) to +1
    pred = predicted_outputs(task, inputs, 2, 0, [1.0])
    np.testing.assert_array_equal(pred[:, 0, 0], [1, 1, 1, 1, 1, 1])
    pred = predicted_outputs(task, inputs, 2, 1, [-1.0])  # z(2) := -1
    np.testing.assert_array_equal(pred[:, 0, 0], [1, -1, -1, -1, -1, -1])


def test_bad_edits():
    task = PAPER_TASKS["T1"]
    model = build_circuit(task)
    b = privileged_basis(model, task)
    with pytest.raises(ValueError, match="h must"):
        intervene(model, b, np.zeros(63), 0, np.ones(8))
    with pytest.raises(ValueError, match="component values"):
        intervene(model, b, np.zeros(64), 0, np.ones(7))
    with pytest.raises(TypeError, match="Basis"):
        intervene(model, "basis", np.zeros(64), 0, np.ones(8))
    inputs, _ = task.sample(2, 10, seed=0)
    with pytest.raises(ValueError, match="t must"):
        run_with_intervention(model, task, b, inputs, 3, 0, np.ones(8))  # before all inputs are in
    with pytest.raises(ValueError, match="slot"):
        predicted_outputs(task, inputs, 9, 8, np.ones(8))
    with pytest.raises(TypeError, match="slot must be an integer"):
        predicted_outputs(task, inputs, 9, 1.0, np.ones(8))


# -- the vectorised prediction -----------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAPER_TASKS))
def test_predict_many_agrees_with_predicted_outputs_row_by_row(name):
    task = PAPER_TASKS[name]
    rng = np.random.default_rng(1)
    inputs, _ = task.sample(6, 30, seed=2)
    x = inputs.double().numpy()
    z = task.generate(x[: task.s].transpose(1, 0, 2), 30)
    t = rng.integers(task.s - 1, task.s + 15, size=6)
    slot = rng.integers(0, task.s, size=6)
    new = rng.choice([-1.0, 1.0, np.nan], size=(6, task.d))
    many = _predict_many(task, z, t, slot, new)
    for e in range(6):
        one = predicted_outputs(task, x[:, e : e + 1], int(t[e]), int(slot[e]), new[e])
        np.testing.assert_array_equal(many[:, e], one[:, 0])


# -- the neuron basis --------------------------------------------------------------------------
def test_neuron_basis_finds_the_circuit_neurons_when_they_are_single_neurons():
    # repeat copy: no dead coordinates (in a compose task a dead neuron holds a stale copy of a
    # live value, as well correlated with it as the live neuron)
    task = PAPER_TASKS["T1"]
    rng = np.random.default_rng(0)
    model, M = embedded(build_circuit(task, nonlinear=True), 80, rng)
    b = neuron_basis(model, task, batch=32, horizon=40, seed=1)
    assert b.method == "neurons" and b.Psi.shape == (80, 64)
    np.testing.assert_allclose(b.dual @ b.Psi, np.eye(64), atol=1e-12)
    assert np.all(np.count_nonzero(b.Psi, axis=0) == 1)  # one neuron per coordinate
    pos = b.coords @ np.array([task.d, 1])
    expected = np.argmax(np.abs(M[:, pos]), axis=0)  # where the circuit put each coordinate
    np.testing.assert_array_equal(np.argmax(np.abs(b.Psi), axis=0), expected)
    # the slope has the sign of the embedding
    np.testing.assert_array_equal(np.sign(b.Psi[expected, np.arange(64)]), M[expected, pos])
    # in this model single neurons are the privileged basis: editing them always works
    assert intervention_trials(model, task, b, edits=64, window=30, latest=20, seed=0).rate == 1.0


def test_neuron_basis_in_a_rotated_model_is_a_poor_control():
    # the linear repeat-copy circuit seen through a rotation (linear, so the rotation is exact)
    task = PAPER_TASKS["T1"]
    rng = np.random.default_rng(5)
    c = build_circuit(task, nonlinear=False)
    Q = np.linalg.qr(rng.normal(size=(64, 64)))[0]
    model = Circuit(
        task, Q @ c.W_hh @ Q.T, Q @ c.W_uh, c.W_r @ Q.T, c.phi, False, c.gain, c.input_gain
    )
    good = privileged_basis(model, task, grounding="observer")
    bad = neuron_basis(model, task, batch=32, horizon=40)
    r_good = intervention_trials(model, task, good, edits=64, window=30, latest=20)
    r_bad = intervention_trials(model, task, bad, edits=64, window=30, latest=20)
    assert r_good.rate == 1.0 and r_bad.rate < 0.5, r_bad.rate


def test_neuron_basis_bad_input():
    task = PAPER_TASKS["T2"]
    c = build_circuit(task, nonlinear=True)
    with pytest.raises(TypeError, match="Task"):
        neuron_basis(c, "T2")
    with pytest.raises(TypeError, match="compress"):
        neuron_basis(c, task, compress=1)
    with pytest.raises(ValueError, match="batch"):
        neuron_basis(c, task, batch=1)
    with pytest.raises(TypeError, match="horizon"):
        neuron_basis(c, task, horizon=2.5)


# -- many random edits -------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAPER_TASKS))
def test_trials_on_the_saturating_circuit_all_succeed(name):
    task = PAPER_TASKS[name]
    model, _ = embedded(build_circuit(task, nonlinear=True), 72, np.random.default_rng(2))
    b = privileged_basis(model, task, grounding="observer")
    r = intervention_trials(model, task, b, edits=96, window=40, latest=30, seed=3)
    assert isinstance(r, InterventionTrials) and r.edits == 96
    assert r.rate == 1.0 and r.baseline_rate == 1.0
    assert r.unchanged_rate == 0.0  # every edit reverses at least one stored sign that is read out
    assert np.all(r.first_error == 40) and np.all(r.baseline_first_error == 40)
    assert r.missed.sum() == r.spilled.sum() == r.baseline_errors.sum() == 0
    assert np.all((r.t >= task.s) & (r.t < task.s + 30)) and np.all(
        (r.slot >= 0) & (r.slot < task.s)
    )
    # only components the basis holds are flipped, and at least one per edit
    present = np.zeros((task.s, task.d), dtype=bool)
    present[b.coords[:, 0], b.coords[:, 1]] = True
    assert np.all(r.flipped.any(axis=1)) and not np.any(r.flipped & ~present[r.slot])
    np.testing.assert_array_equal(r.survival(), np.ones(40))
    assert "rate=1.0000" in repr(r)


def test_random_direction_control_fails_and_magnitude_option_works():
    task = PAPER_TASKS["T4"]
    model, _ = embedded(build_circuit(task, nonlinear=True), 72, np.random.default_rng(4))
    b = privileged_basis(model, task, grounding="observer")
    r = intervention_trials(model, task, b, edits=64, window=30, latest=20, seed=1)
    rand = intervention_trials(
        model, task, b, edits=64, window=30, latest=20, seed=1, direction="random"
    )
    # paired: same steps, slots and flips, and the random kick has the basis edit's norm
    np.testing.assert_array_equal(r.t, rand.t)
    np.testing.assert_array_equal(r.flipped, rand.flipped)
    np.testing.assert_allclose(r.norm, rand.norm)
    assert np.all(r.norm > 0)
    assert rand.rate < 0.2 and r.rate == 1.0
    assert rand.missed.sum() > 0 and r.missed.sum() == r.spilled.sum() == 0
    fixed = intervention_trials(
        model, task, b, edits=64, window=30, latest=20, seed=1, magnitude=0.9
    )
    assert fixed.rate == 1.0 and fixed.magnitude == 0.9


def test_same_seed_same_trials_and_results_are_read_only():
    task = PAPER_TASKS["T2"]
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    a = intervention_trials(model, task, b, edits=32, window=20, latest=10, seed=7)
    c = intervention_trials(model, task, b, edits=32, window=20, latest=10, seed=7)
    d = intervention_trials(model, task, b, edits=32, window=20, latest=10, seed=8)
    np.testing.assert_array_equal(a.t, c.t)
    np.testing.assert_array_equal(a.flipped, c.flipped)
    assert not (np.array_equal(a.t, d.t) and np.array_equal(a.flipped, d.flipped))
    with pytest.raises(ValueError):
        a.success[0] = False


def test_a_wrong_basis_fails_and_survival_reports_when():
    """Columns shuffled among the coordinates: edits hit the wrong variables and mostly fail."""
    task = PAPER_TASKS["T2"]
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    p = np.random.default_rng(0).permutation(b.Psi.shape[1])
    wrong = b.__class__(
        task,
        b.method,
        b.Psi[:, p],
        b.dual[p],
        b.coords,
        b.phi_empirical,
        b.phi_ideal,
        b.phi_error,
        b.gain,
        b.phi_error_scaled,
    )
    r = intervention_trials(model, task, wrong, edits=64, window=30, latest=20)
    assert r.rate < 0.9
    surv = r.survival()
    assert np.all(np.diff(surv) <= 0) and surv[-1] == pytest.approx(r.rate)
    assert np.array_equal(r.success, r.first_error == 30)
    # the model itself is exact, so an edit fails exactly when it misses or spills some sign
    assert r.baseline_errors.sum() == 0
    assert np.array_equal(r.success, (r.missed + r.spilled) == 0)
    assert r.missed.sum() > 0 and r.spilled.sum() > 0


def test_trials_on_an_elman_rnn_use_its_step(circuit_elman):
    task, _, rnn = circuit_elman
    for b in (
        privileged_basis(rnn, task),
        probe_basis(rnn, task, estimator="basis", batch=16, horizon=20),
    ):
        r = intervention_trials(rnn, task, b, edits=32, window=20, latest=10)
        assert r.rate == 1.0 and r.baseline_rate == 1.0


def test_trials_bad_input():
    task = PAPER_TASKS["T2"]
    model = build_circuit(task, nonlinear=True)
    b = privileged_basis(model, task)
    with pytest.raises(ValueError, match="edits"):
        intervention_trials(model, task, b, edits=0)
    with pytest.raises(TypeError, match="window"):
        intervention_trials(model, task, b, window=1.5)
    with pytest.raises(ValueError, match="latest"):
        intervention_trials(model, task, b, latest=0)
    with pytest.raises(ValueError, match="direction"):
        intervention_trials(model, task, b, direction="neurons")
    with pytest.raises(ValueError, match="magnitude"):
        intervention_trials(model, task, b, magnitude="big")
    with pytest.raises(ValueError, match="magnitude"):
        intervention_trials(model, task, b, magnitude=-1.0)
    with pytest.raises(TypeError, match="magnitude"):
        intervention_trials(model, task, b, magnitude=True)
    with pytest.raises(ValueError, match="seed"):
        intervention_trials(model, task, b, seed=-1)
    with pytest.raises(ValueError, match="built for"):
        intervention_trials(model, PAPER_TASKS["T3"], b)
    with pytest.raises(TypeError, match="Basis"):
        intervention_trials(model, task, "basis")
    with pytest.raises(ValueError, match="hidden size"):
        intervention_trials(
            build_circuit(Task(8, 8, PAPER_TASKS["T2"].task_id)),
            task,
            privileged_basis(embedded(model, 70, np.random.default_rng(0))[0], task),
        )

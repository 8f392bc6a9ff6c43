"""Tests of the privileged basis of every architecture (chapter "Beyond the Elman RNN"): built from
the update linearised at the model's fixed point, it is the basis of the weights themselves for
the bias-free Elman RNN, a basis with a left-inverse dual for the others, its controls run on
every architecture, and decoding reads the model's whole state (the LSTM's joint [h, c])."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from emtlib import spectra
from emtlib.architectures import MODELS, build_model
from emtlib.basis import (
    CONTROL_KINDS,
    GROUNDINGS,
    basis_controls,
    decode,
    decoding_accuracy,
    neuron_basis,
    privileged_basis,
    probe_basis,
    random_basis,
    shuffled_probe_basis,
    transfer_basis,
)
from emtlib.circuit import long_lived_modes
from emtlib.interventions import intervene, intervention_trials, run_with_intervention
from emtlib.rnn import ElmanRNN
from emtlib.spectra import FixedPointError, linearised_maps, state_update
from emtlib.tasks import random_task, repeat_copy
from emtlib.train import Schedule, train_rnn

NAMES = list(MODELS)
TASK = repeat_copy(2, 3)  # 6 long-lived modes
HIDDEN = 8


def weights_view(model):
    """The bias-free Elman RNN as bare weights, which the basis reads at the origin as they are."""
    return SimpleNamespace(
        W_hh=model.W_hh, W_uh=model.W_uh, W_r=model.W_r, hidden_states=model.hidden_states
    )


def joint_states(model, inputs):
    """The states ``(T, batch, state_size)`` along the step path, written out for the test."""
    x = torch.as_tensor(inputs, dtype=torch.float32)
    state, out = torch.zeros(x.shape[1], model.state_size), []
    with torch.no_grad():
        for u in x:
            state = model.step(state, u)
            out.append(state)
    return torch.stack(out).double().numpy()


# -- the bias-free Elman RNN: exactly the basis built from its weights ------------------------
@pytest.mark.parametrize("task", [repeat_copy(3, 2), random_task(3, 3, seed=2)], ids=str)
def test_elman_basis_is_the_basis_of_its_weights(task):
    model = ElmanRNN(task.d, 12, seed=3)
    maps = linearised_maps(model)
    assert np.array_equal(maps.J, model.W_hh) and np.array_equal(maps.B, model.W_uh)
    assert np.array_equal(maps.C, model.W_r) and not maps.fixed_point.any()
    x, _ = task.sample(4, 10, seed=0)
    for grounding in GROUNDINGS:
        new = privileged_basis(model, task, grounding=grounding)
        old = privileged_basis(weights_view(model), task, grounding=grounding)
        for name in ("Psi", "dual", "coords", "phi_empirical", "phi_ideal", "fixed_point"):
            np.testing.assert_array_equal(getattr(new, name), getattr(old, name), err_msg=name)
        np.testing.assert_array_equal(decode(model, new, x), decode(model, old, x))
    for build in (probe_basis, random_basis, neuron_basis):
        np.testing.assert_array_equal(
            build(model, task).dual, build(weights_view(model), task).dual
        )


def test_elman_input_grounding_written_out():
    task = repeat_copy(3, 2)  # every coordinate is long-lived: columns W^(s-1-k) W_uh, normalised
    model = ElmanRNN(task.d, 12, seed=4)
    W, B = model.W_hh, model.W_uh
    K = np.concatenate([np.linalg.matrix_power(W, task.s - 1 - k) @ B for k in range(task.s)], 1)
    basis = privileged_basis(model, task, grounding="input")
    np.testing.assert_allclose(basis.Psi, K / np.linalg.norm(K, axis=0), rtol=0, atol=1e-12)


# -- untrained models of every architecture ----------------------------------------------------
@pytest.fixture(scope="module", params=NAMES)
def untrained(request):
    name = request.param
    return (
        name,
        build_model(name, TASK.d, HIDDEN, seed=0),
        build_model(name, TASK.d, HIDDEN, seed=1),
    )


def test_every_basis_has_the_state_shape_and_a_left_inverse_dual(untrained):
    name, model, other = untrained
    N, k = model.state_size, long_lived_modes(TASK)
    maps = linearised_maps(model)
    np.testing.assert_allclose(state_update(model, maps.fixed_point), maps.fixed_point, atol=1e-9)
    bases = {g: privileged_basis(model, TASK, grounding=g) for g in GROUNDINGS}
    bases["probe"] = probe_basis(model, TASK, batch=8, horizon=10)
    bases["shuffled"] = shuffled_probe_basis(model, TASK, batch=8, horizon=10)
    bases["random"] = random_basis(model, TASK, seed=0)
    bases["neurons"] = neuron_basis(model, TASK, batch=8, horizon=10)
    bases["transfer"] = transfer_basis(privileged_basis(other, TASK, grounding="observer"), model)
    for kind, b in bases.items():
        assert b.Psi.shape == (N, k) and b.dual.shape == (k, N), kind
        np.testing.assert_allclose(b.dual @ b.Psi @ b.dual, b.dual, atol=1e-8, err_msg=kind)
        if kind not in ("probe", "shuffled"):  # a probe of a network whose state fades is singular
            np.testing.assert_allclose(b.dual @ b.Psi, np.eye(k), atol=1e-8, err_msg=kind)
        np.testing.assert_allclose(b.phi_empirical, b.dual @ maps.J @ b.Psi, atol=1e-10)
        np.testing.assert_allclose(b.fixed_point, maps.fixed_point, rtol=0, atol=1e-12)
    assert (np.abs(maps.fixed_point).max() > 0) == (name != "elman")  # biases move it


def test_controls_run_on_every_architecture(untrained):
    _, model, other = untrained
    bases = basis_controls(model, TASK, other, seed=0, batch=8, horizon=10)
    assert tuple(bases) == CONTROL_KINDS
    for kind, b in bases.items():
        acc = decoding_accuracy(model, TASK, b, horizon=10, batches=1, batch=8)
        assert 0.0 <= acc <= 1.0, kind
        acc = decoding_accuracy(model, TASK, b, horizon=10, batches=1, batch=8, reference="model")
        assert 0.0 <= acc <= 1.0, kind


def test_decoding_reads_the_whole_state_from_the_fixed_point(untrained):
    _, model, _ = untrained
    basis = privileged_basis(model, TASK, grounding="observer")
    x, _ = TASK.sample(3, 6, seed=1)
    states = joint_states(model, x.numpy())
    expected = (states - basis.fixed_point) @ basis.dual.T  # every coordinate is long-lived
    got = decode(model, basis, x)
    assert got.shape == (8, 3, TASK.s, TASK.d)
    np.testing.assert_allclose(got.reshape(8, 3, -1), expected, rtol=0, atol=1e-5)


def test_the_lstm_readout_reads_h_and_its_maps_span_the_joint_state():
    model = build_model("lstm", TASK.d, HIDDEN, seed=0)
    J, B, C, _ = linearised_maps(model)
    assert J.shape == (16, 16) and B.shape == (16, 3) and C.shape == (3, 16)
    np.testing.assert_array_equal(C, np.concatenate([model.W_r, np.zeros((3, 8))], axis=1))
    assert np.abs(B[8:]).max() > 0  # an input moves the cell state too
    output = privileged_basis(model, TASK, grounding="output")
    np.testing.assert_allclose(output.slot(TASK.s - 1)[8:], 0.0, atol=1e-12)  # pinv(C) lies in h
    observer = privileged_basis(model, TASK, grounding="observer")
    assert np.abs(observer.dual[:, 8:]).max() > 0  # C J^m reads the cell as well


def test_an_edit_writes_the_values_read_from_the_fixed_point(untrained):
    _, model, _ = untrained
    basis = privileged_basis(model, TASK, grounding="observer")
    h = np.random.default_rng(0).normal(size=(5, model.state_size))
    new = np.array([1.0, -2.0, np.nan])
    edited = intervene(model, basis, h, 0, new)
    read = (edited - basis.fixed_point) @ basis.slot_dual(0).T
    before = (h - basis.fixed_point) @ basis.slot_dual(0).T
    np.testing.assert_allclose(read[:, :2], np.broadcast_to(new[:2], (5, 2)), atol=1e-10)
    np.testing.assert_allclose(read[:, 2], before[:, 2], atol=1e-10)


def test_a_run_with_an_edit_steps_the_whole_state_from_the_fixed_point(untrained):
    """Writing back the signs a slot already holds leaves the run as it was (values are read from
    the fixed point, so the edit is the identity); reversing them changes the later outputs."""
    _, model, _ = untrained
    basis = privileged_basis(model, TASK, grounding="observer")
    inputs, _ = TASK.sample(4, 6, seed=1)
    x = inputs.double().numpy()
    states = joint_states(model, x)
    unedited = states[..., : model.hidden] @ model.W_r.T
    t, slot = TASK.s, 0
    held = np.sign((states[t] - basis.fixed_point) @ basis.slot_dual(slot).T)
    same = run_with_intervention(model, TASK, basis, x, t, slot, held)
    np.testing.assert_allclose(same, unedited, atol=1e-5)
    flipped = run_with_intervention(model, TASK, basis, x, t, slot, -held)
    np.testing.assert_allclose(flipped[:t], unedited[:t], atol=1e-5)
    assert np.abs(flipped[t:] - unedited[t:]).max() > 1e-3


def test_intervention_trials_run_on_every_architecture(untrained):
    _, model, _ = untrained
    basis = privileged_basis(model, TASK, grounding="observer")
    trials = intervention_trials(model, TASK, basis, edits=8, window=5, latest=4, seed=0)
    assert trials.edits == 8 and trials.norm.max() > 0
    assert np.all(trials.unchanged[trials.norm == 0])  # an edit of size 0 changes no output
    assert 0.0 <= trials.rate <= 1.0 and 0.0 <= trials.baseline_rate <= 1.0


def test_maps_given_once_build_the_same_bases(untrained):
    _, model, _ = untrained
    maps = linearised_maps(model)
    for build in (privileged_basis, probe_basis, random_basis):
        np.testing.assert_allclose(
            build(model, TASK, maps=maps).dual, build(model, TASK).dual, rtol=0, atol=1e-9
        )
    with pytest.raises(TypeError, match="maps"):
        privileged_basis(model, TASK, maps=(maps.J, maps.B, maps.C))
    with pytest.raises(ValueError, match="linearised_maps"):
        privileged_basis(model, TASK, maps=linearised_maps(build_model("lstm", 3, 12)))


def test_no_fixed_point_is_a_clear_error_that_says_what_to_pass(monkeypatch):
    def none_found(model, **kwargs):
        raise FixedPointError("no fixed point of the GRU's autonomous update found")

    monkeypatch.setattr(spectra, "fixed_point", none_found)  # the search, as if it failed
    model = build_model("gru", TASK.d, 16, seed=0)
    with pytest.raises(FixedPointError, match=r"maps=linearised_maps\(model, state=\.\.\.\)"):
        privileged_basis(model, TASK)


# -- a tiny trained network: its basis decodes, a random basis does not ------------------------
@pytest.mark.parametrize("name", ["elman", "elman-bias"])
def test_a_trained_network_decodes_through_its_basis_not_a_random_one(name):
    task = repeat_copy(2, 2)
    schedule = Schedule(
        lr=1e-2, batch=32, horizons=(10,), max_steps=150, chunk=5, stop_when_solved=False
    )
    model = train_rnn(task, 16, seed=0, schedule=schedule, architecture=name)

    def accuracy(basis):
        return decoding_accuracy(model, task, basis, horizon=20, batches=2, batch=32, seed=1)

    observer = accuracy(privileged_basis(model, task, grounding="observer"))
    chance = np.mean([accuracy(random_basis(model, task, seed=k)) for k in range(5)])
    assert observer > 0.95 and chance < 0.7, (observer, chance)


# -- bad input -----------------------------------------------------------------------------------
def test_bad_input_is_refused_clearly():
    gru = build_model("gru", TASK.d, HIDDEN, seed=0)
    with pytest.raises(TypeError, match="RecurrentModel"):
        privileged_basis(torch.nn.Linear(3, 3), TASK)
    with pytest.raises(TypeError, match="RecurrentModel"):
        random_basis(object(), TASK)
    with pytest.raises(ValueError, match="d = 2"):
        privileged_basis(gru, repeat_copy(2, 2))
    with pytest.raises(ValueError, match="d = 3"):
        probe_basis(build_model("lstm", 3, HIDDEN, 2), TASK)  # two outputs, not three
    with pytest.raises(ValueError, match="long-lived"):
        privileged_basis(build_model("gru", 3, 4), TASK)
    with pytest.raises(TypeError, match="Task"):
        privileged_basis(gru, (7, 0, 0))
    basis = privileged_basis(gru, TASK)
    lstm = build_model("lstm", TASK.d, HIDDEN, seed=0)
    with pytest.raises(ValueError, match="state size"):
        decode(lstm, basis, np.zeros((4, 1, 3)))  # 16 numbers of state, not 8
    with pytest.raises(ValueError, match="state size"):
        transfer_basis(basis, lstm)
    with pytest.raises(ValueError, match="built for"):
        decoding_accuracy(gru, repeat_copy(3, 3), basis)

"""Tests of emtlib.rnn: the Elman RNN, its two paths and its checkpoints."""

import math
import os
import stat

import numpy as np
import pytest
import torch

from emtlib.rnn import ElmanRNN, atomic_write_bytes, load_weights, save_weights


def strong_model(d_in=4, hidden=16, d_out=3, seed=0):
    """A model driven hard enough that tanh saturates (a harder test), yet not chaotic, so float32
    rounding is not amplified over time."""
    model = ElmanRNN(d_in, hidden, d_out, seed=seed)
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(1.5)
        model.rnn.weight_ih_l0.mul_(4.0)
    return model


def numpy_reference(model, x):
    """The RNN written out in numpy from W_hh, W_uh, W_r: x (T, B, d) -> (states, outputs)."""
    W_hh, W_uh, W_r = model.W_hh, model.W_uh, model.W_r
    h = np.zeros((x.shape[1], W_hh.shape[0]))
    states = []
    for u in x:
        h = np.tanh(h @ W_hh.T + u @ W_uh.T)
        states.append(h)
    states = np.stack(states)
    return states, states @ W_r.T


# -- initialisation -----------------------------------------------------------------------------------
def test_same_seed_same_weights_and_different_seeds_differ():
    a, b, c = ElmanRNN(8, 32, seed=5), ElmanRNN(8, 32, seed=5), ElmanRNN(8, 32, seed=6)
    for name in ("W_hh", "W_uh", "W_r"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.allclose(getattr(a, name), getattr(c, name))


def test_initialisation_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    ElmanRNN(8, 64, seed=9)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(torch.rand(5), expected)


def test_initialisation_does_not_depend_on_the_global_generator():
    torch.manual_seed(1)
    a = ElmanRNN(3, 10, seed=2).W_hh
    torch.manual_seed(99)
    torch.rand(17)
    np.testing.assert_array_equal(ElmanRNN(3, 10, seed=2).W_hh, a)


def test_default_torch_initialisation_scale_and_shapes():
    model = ElmanRNN(8, 64, d_out=5, seed=0)
    assert (
        model.W_hh.shape == (64, 64) and model.W_uh.shape == (64, 8) and model.W_r.shape == (5, 64)
    )
    assert np.abs(model.W_hh).max() <= 1 / math.sqrt(64) and np.abs(
        model.W_hh
    ).max() > 0.9 / math.sqrt(64)
    assert np.abs(model.W_r).max() <= 1 / math.sqrt(64)
    assert all(p.bias is None for p in [model.readout]) and model.rnn.bias is False
    assert ElmanRNN(8, 64).d_out == 8


def test_weight_properties_are_copies():
    model = ElmanRNN(2, 3)
    W = model.W_hh
    W[0, 0] = 100.0
    assert model.W_hh[0, 0] != 100.0


# -- the two paths agree ----------------------------------------------------------------------------
def test_fused_stepwise_and_numpy_paths_agree():
    model = strong_model()
    x = np.random.default_rng(0).normal(size=(30, 5, 4))
    ref_states, ref_out = numpy_reference(model, x)
    assert np.abs(ref_states).max() > 0.99  # the test runs in the saturated regime
    xt = torch.from_numpy(x).float()
    fused = model.hidden_states(xt)
    stepwise = model.hidden_states(xt, stepwise=True)
    assert isinstance(fused, torch.Tensor) and fused.shape == (30, 5, 16)
    torch.testing.assert_close(fused, stepwise, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(fused.numpy(), ref_states, atol=1e-5)
    np.testing.assert_allclose(model(xt).detach().numpy(), ref_out, atol=1e-5)
    np.testing.assert_allclose(model.hidden_states(x, stepwise=True), ref_states, atol=1e-5)


def test_step_is_one_step_of_the_recurrence():
    model = strong_model()
    rng = np.random.default_rng(1)
    h, u = rng.uniform(-1, 1, (2, 16)), rng.normal(size=(2, 4))
    got = model.step(torch.from_numpy(h).float(), torch.from_numpy(u).float())
    np.testing.assert_allclose(
        got.detach().numpy(), np.tanh(h @ model.W_hh.T + u @ model.W_uh.T), atol=1e-5
    )


def test_run_keeps_type_and_shape():
    model = strong_model()
    x = np.random.default_rng(2).normal(size=(12, 3, 4))
    batched_np = model.run(x)
    assert (
        isinstance(batched_np, np.ndarray)
        and batched_np.shape == (12, 3, 3)
        and batched_np.dtype == float
    )
    np.testing.assert_allclose(batched_np, numpy_reference(model, x)[1], atol=1e-5)

    batched_t = model.run(torch.from_numpy(x).float())
    assert isinstance(batched_t, torch.Tensor) and batched_t.shape == (12, 3, 3)
    assert not batched_t.requires_grad
    np.testing.assert_allclose(batched_t.numpy(), batched_np, atol=1e-6)

    single_np = model.run(x[:, 1])
    assert isinstance(single_np, np.ndarray) and single_np.shape == (12, 3)
    np.testing.assert_allclose(single_np, batched_np[:, 1], atol=1e-6)
    single_t = model.run(torch.from_numpy(x[:, 1]).float())
    assert isinstance(single_t, torch.Tensor) and single_t.shape == (12, 3)

    states = model.hidden_states(x[:, 1])
    assert isinstance(states, np.ndarray) and states.shape == (12, 16)
    np.testing.assert_allclose(model.run(x[::-1, 0]), model.run(np.ascontiguousarray(x[::-1, 0])))


def test_run_on_task_batches():
    from emtlib.tasks import PAPER_TASKS

    inputs, _ = PAPER_TASKS["T1"].sample(4, 10, seed=0)
    out = ElmanRNN(8, 32).run(inputs)
    assert out.shape == inputs.shape and out.dtype == torch.float32


# -- saving and loading -------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    model = strong_model(seed=4)
    path = save_weights(model, tmp_path / "model.pt")
    assert path == tmp_path / "model.pt"
    assert os.listdir(tmp_path) == ["model.pt"]  # no temporary files left
    loaded = load_weights(path)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    assert (loaded.d_in, loaded.hidden, loaded.d_out) == (4, 16, 3)
    x = torch.randn(7, 2, 4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded(x), model(x))
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # readable by others, like any file


def test_failing_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    old = ElmanRNN(2, 3, seed=0)
    path = save_weights(old, tmp_path / "m.pt")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        save_weights(ElmanRNN(2, 3, seed=1), path)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(path, b"garbage")
    monkeypatch.undo()

    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.pt"]
    np.testing.assert_array_equal(load_weights(path).W_hh, old.W_hh)


def test_atomic_write_replaces_content(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and os.listdir(target.parent) == ["file.bin"]
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "text, not bytes")
    assert target.read_bytes() == b"two"


def test_missing_damaged_and_foreign_files_are_reported_with_their_name(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pt is missing"):
        load_weights(tmp_path / "nowhere.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"junk\.pt is not a weights file"):
        load_weights(tmp_path / "junk.pt")
    torch.save({"weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"other\.pt does not hold the weights of an ElmanRNN"):
        load_weights(tmp_path / "other.pt")
    state = ElmanRNN(2, 3).state_dict()
    state["readout.weight"] = torch.zeros(2, 4)
    torch.save(state, tmp_path / "mixed.pt")
    with pytest.raises(ValueError, match=r"mixed\.pt holds weights of inconsistent shapes"):
        load_weights(tmp_path / "mixed.pt")


def test_bad_save_arguments(tmp_path):
    with pytest.raises(TypeError, match="ElmanRNN"):
        save_weights("not a model", tmp_path / "m.pt")
    with pytest.raises(TypeError, match="path"):
        save_weights(ElmanRNN(2, 3), 42)
    with pytest.raises(TypeError, match="path"):
        load_weights(None)
    assert os.listdir(tmp_path) == []  # nothing written by any failed call


# -- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((0, 4), {}, ValueError, "d_in must be an integer >= 1, got 0"),
        ((4, -1), {}, ValueError, "hidden must be an integer >= 1, got -1"),
        ((4, 4), {"d_out": 0}, ValueError, "d_out must be an integer >= 1"),
        ((4, 4), {"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ((4, 4), {"seed": 2**63}, ValueError, "seed must be an integer >= 0 and <= "),
        ((4.0, 4), {}, TypeError, r"d_in must be an integer, got 4.0 \(float\)"),
        ((True, 4), {}, TypeError, r"d_in must be an integer, got True \(bool\)"),
        (("4", 4), {}, TypeError, "d_in must be an integer"),
        ((4, 4), {"seed": 1.5}, TypeError, "seed must be an integer"),
        ((4, 4), {"seed": "0"}, TypeError, "seed must be an integer"),
        ((4, 4), {"seed": None}, TypeError, "seed must be an integer"),
    ],
)
def test_bad_sizes_and_seeds(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ElmanRNN(*args, **kwargs)


def test_numpy_integers_are_fine_sizes():
    model = ElmanRNN(np.int64(3), np.int64(5), seed=np.int64(2))
    assert type(model.hidden) is int and model.W_hh.shape == (5, 5)
    np.testing.assert_array_equal(model.W_hh, ElmanRNN(3, 5, seed=2).W_hh)


def test_bad_inputs():
    model = ElmanRNN(4, 8)
    with pytest.raises(ValueError, match=r"\(T, batch, 4\)"):
        model(torch.zeros(5, 4))  # the training path wants a batch
    with pytest.raises(TypeError):
        model(np.zeros((5, 1, 4)))
    with pytest.raises(TypeError):
        model.run([[0.0] * 4])
    with pytest.raises(ValueError):
        model.run(np.zeros((5, 3)))  # wrong input size
    with pytest.raises(ValueError):
        model.run(np.zeros(4))  # no time axis
    with pytest.raises(ValueError):
        model.hidden_states(torch.zeros(2, 3, 1, 4))
    with pytest.raises(TypeError):
        model.run(np.array([["a"] * 4]))

"""Tests of emtlib.architectures: every architecture has the ElmanRNN's interface (same seed, same
weights; the step path equals the fused path; save/load round trip; a short training run lowers
the loss), and names are checked."""

import pytest
import torch

from emtlib.architectures import GRU, LSTM, MODELS, ElmanBiasRNN, build_model, model_name
from emtlib.rnn import ElmanRNN, RecurrentModel, load_weights, save_weights
from emtlib.tasks import repeat_copy
from emtlib.train import Schedule, evaluate, train_rnn

NAMES = list(MODELS)


def test_the_names_and_classes():
    assert MODELS == {"elman": ElmanRNN, "elman-bias": ElmanBiasRNN, "gru": GRU, "lstm": LSTM}
    for name, cls in MODELS.items():
        model = build_model(name, 3, 5, seed=0)
        assert type(model) is cls and isinstance(model, RecurrentModel)
        assert model_name(model) == name
    with pytest.raises(ValueError, match=r"model must be one of \['elman', 'elman-bias'"):
        build_model("transformer", 3, 5)
    with pytest.raises(TypeError, match="model must be one of"):
        build_model(3, 3, 5)
    with pytest.raises(TypeError, match="architectures"):
        model_name(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_weights_different_seed_different_weights(name):
    a, b, c = (build_model(name, 3, 16, 2, seed=s) for s in (7, 7, 8))
    for (key, x), y, z in zip(
        a.state_dict().items(), b.state_dict().values(), c.state_dict().values()
    ):
        assert torch.equal(x, y), key
        assert not torch.equal(x, z), key


@pytest.mark.parametrize("name", NAMES)
def test_sizes(name):
    model = build_model(name, 3, 16, 2)
    assert (model.d_in, model.hidden, model.d_out) == (3, 16, 2)
    assert model.state_size == (32 if name == "lstm" else 16)
    assert model.W_r.shape == (2, 16)
    assert build_model(name, 3, 16).d_out == 3
    with pytest.raises(ValueError, match="hidden"):
        build_model(name, 3, 0)


@pytest.mark.parametrize("name", NAMES)
def test_step_path_equals_fused_path(name):
    model = build_model(name, 3, 16, 2, seed=1)
    x = torch.randn(30, 5, 3, generator=torch.Generator().manual_seed(0))
    fused = model.hidden_states(x)
    stepwise = model.hidden_states(x, stepwise=True)
    assert fused.shape == stepwise.shape == (30, 5, 16)
    torch.testing.assert_close(stepwise, fused, rtol=0, atol=1e-5)
    outputs = model.run(x)
    torch.testing.assert_close(
        outputs, stepwise @ model.readout.weight.detach().T, atol=1e-5, rtol=0
    )
    one = model.hidden_states(x[:, 0].numpy(), stepwise=True)  # numpy (T, d) in, numpy out
    assert one.shape == (30, 16)


def test_the_lstm_step_carries_the_cell_state():
    model = LSTM(2, 4, seed=0)
    state = torch.zeros(3, 8)
    u = torch.ones(3, 2)
    after = model.step(state, u)
    _, (h, c) = model.rnn(u[None], None)
    torch.testing.assert_close(after, torch.cat([h[0], c[0]], dim=-1))


def test_the_bias_is_the_sum_of_torchs_two():
    model = ElmanBiasRNN(2, 4, seed=0)
    expected = (model.rnn.bias_ih_l0 + model.rnn.bias_hh_l0).detach().double().numpy()
    assert model.b.shape == (4,) and (model.b == expected).all()
    assert model.W_hh.shape == (4, 4) and model.W_uh.shape == (4, 2)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, tmp_path):
    model = build_model(name, 3, 16, 2, seed=4)
    path = save_weights(model, tmp_path / "m.pt")
    loaded = load_weights(path, MODELS[name])
    assert type(loaded) is MODELS[name]
    assert (loaded.d_in, loaded.hidden, loaded.d_out) == (3, 16, 2)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_loading_as_the_wrong_architecture_names_it(tmp_path):
    path = save_weights(GRU(3, 4), tmp_path / "gru.pt")
    with pytest.raises(ValueError, match=r"gru\.pt does not hold the weights of an LSTM"):
        load_weights(path, LSTM)
    with pytest.raises(ValueError, match=r"does not hold the weights of an ElmanRNN"):
        load_weights(path)
    with pytest.raises(ValueError, match=r"does not hold the weights of a GRU"):
        load_weights(save_weights(ElmanBiasRNN(3, 4), tmp_path / "b.pt"), GRU)
    with pytest.raises(TypeError, match="model_class"):
        load_weights(path, "gru")


@pytest.mark.parametrize("name", NAMES)
def test_a_short_training_run_lowers_the_loss(name):
    task = repeat_copy(2, 2)
    # chunks of 3 output steps: the fused state (the LSTM's pair) is carried across chunks
    schedule = Schedule(
        lr=1e-2, batch=32, horizons=(6,), max_steps=60, chunk=3, stop_when_solved=False
    )
    inputs, targets = task.sample(64, 6, seed=123)

    def loss(model):
        with torch.no_grad():
            return float(((model(inputs) - targets)[task.s :] ** 2).mean())

    before = loss(build_model(name, task.d, 16, seed=5))  # train_rnn starts from these weights
    model = train_rnn(task, 16, seed=5, schedule=schedule, architecture=name)
    assert type(model) is MODELS[name] and model.log.steps == 60 and model.log.batches == 30
    assert loss(model) < 0.7 * before
    assert 0.0 <= evaluate(model, task, horizon=20, batches=1) <= 1.0


def test_train_rnn_refuses_an_unknown_architecture():
    with pytest.raises(ValueError, match="architecture must be one of"):
        train_rnn(repeat_copy(2, 2), 4, architecture="transformer")

"""The lab with every architecture: RunSpec accepts the names of emtlib.architectures.MODELS
(the default "elman" keeps every run id), run() trains and linearizes the right class, and a Store
saves, verifies and loads it back as that class."""

import numpy as np
import pytest
import torch

from emtlib.architectures import MODELS, build_model
from emtlib.lab import Metrics, Record, RunSpec, Store, run
from emtlib.lab.spec import MODELS as SPEC_MODELS
from emtlib.spectra import state_jacobian

TASK = [2, 2, 3, 0, 0]
NAMES = list(MODELS)


def test_the_spec_accepts_every_architecture_and_the_default_keeps_run_ids():
    assert SPEC_MODELS == ("elman", "elman-bias", "gru", "lstm")
    default = RunSpec("T1", 128, 0)
    assert RunSpec("T1", 128, 0, model="elman").run_id == default.run_id == "2d0318c59abef55a"
    ids = {RunSpec("T1", 128, 0, model=name).run_id for name in NAMES}
    assert len(ids) == len(NAMES)
    spec = RunSpec("T1", 128, 0, model="lstm")
    assert RunSpec.from_json(spec.to_json()) == spec
    with pytest.raises(
        ValueError, match=r"model must be one of \['elman', 'elman-bias', 'gru', 'lstm'\]"
    ):
        RunSpec("T1", 128, 0, model="rnn")


def record_of(name: str, hidden: int = 4) -> Record:
    spec = RunSpec(TASK, hidden, 3, recipe="paper", max_steps=5, model=name)
    metrics = Metrics({200: 0.5}, None, 0, 2, 5, None, 0.25)
    count = hidden * MODELS[name].state_factor
    return Record(spec, metrics, tuple(complex(0.1 * i, 0.0) for i in range(count)), {"x": "t"})


@pytest.mark.parametrize("name", NAMES)
def test_a_store_saves_verifies_and_loads_each_architecture(name, tmp_path):
    store = Store(tmp_path / "s")
    record = record_of(name)
    model = build_model(name, 2, 4, seed=3)
    store.put(record, model, name="run")
    assert store.verify() == []
    loaded = store.load_model("run")
    assert type(loaded) is MODELS[name] and loaded.record == record
    for (key, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), key


def test_a_store_refuses_a_model_of_another_architecture(tmp_path):
    with pytest.raises(
        ValueError, match=r"model is a GRU, but the record's spec trains model='lstm'"
    ):
        Store(tmp_path / "s").put(record_of("lstm"), build_model("gru", 2, 4))
    assert not (tmp_path / "s" / "weights").exists()


def test_a_record_lists_the_eigenvalues_of_the_whole_state():
    with pytest.raises(ValueError, match="must list the 8 eigenvalues of the linearized update"):
        Record(
            RunSpec(TASK, 4, 0, model="lstm"),
            Metrics({200: 0.5}, None, 0, 2, 5, None, 0.2),
            tuple(0j for _ in range(4)),
        )


@pytest.mark.parametrize("name", ["elman-bias", "gru", "lstm"])
def test_run_trains_and_linearizes_the_spec_architecture(name, tmp_path):
    spec = RunSpec(TASK, 8, 0, recipe="paper", max_steps=5, model=name)
    model, record = run(spec)
    assert type(model) is MODELS[name] and model.log.steps == 5
    eig = record.eigenvalue_array
    assert eig.shape == (model.state_size,)
    expected = np.sort_complex(np.linalg.eigvals(state_jacobian(model)))
    np.testing.assert_allclose(np.sort_complex(eig), expected, atol=1e-5)
    store = Store(tmp_path / "s")
    store.put(record, model)
    again = store.load_model(record.run_id)
    assert type(again) is MODELS[name]
    x = torch.ones(5, 1, 2)
    assert torch.equal(again(x), model(x))

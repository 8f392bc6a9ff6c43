"""The lab's command line, the zoo and the pipeline with real (tiny) training: every verb has
--help and reports an error in one clean line; a missing or unreadable zoo manifest is an integrity
error naming it; `rebuild` builds a zoo into a folder, resumes and re-points stale names; the same
spec gives the same weights, and a record's numbers are the model's."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from emtlib.lab import RunSpec, Store, beyond, run, zoo
from emtlib.lab.__main__ import main
from emtlib.lab.recipes import RECIPES, recommended
from emtlib.lab.spec import EVALUATION
from emtlib.lab.store import ChecksumError, IntegrityError, UnknownNameError
from emtlib.lab.sweep import load_grid
from emtlib.tasks import PAPER_TASKS
from emtlib.train import evaluate

TINY = [2, 2, 3, 0, 0]  # repeat copy of two slots of two values


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("verb", ["run", "status", "table", "verify", "rebuild"])
def test_every_verb_has_help(verb, capsys):
    with pytest.raises(SystemExit) as info:
        main([verb, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m emtlib.lab {verb}")


def test_every_verb_reports_errors_in_one_clean_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "g.yaml").write_text("tasks: [T1]\nhidden: 8\nhidden: 9\nseeds: 1\nrecipe: paper\n")
    cases = [
        (["run", str(tmp_path / "missing.yaml")], "does not exist"),
        (["run", str(tmp_path / "g.yaml")], "duplicate key 'hidden'"),
        (["status", str(tmp_path / "nowhere")], "neither a grid file nor a store folder"),
        (["table", str(tmp_path / "empty")], "holds no records"),
        (["verify", str(tmp_path / "nowhere")], "does not exist"),
        (["rebuild", "T9-h1-s0"], "is not a zoo model"),
        (["rebuild", "--all", "T1-h128-s0"], "not both"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in one_error_line(capsys), argv


def test_a_bad_device_fails_the_command_before_any_run(tmp_path, capsys):
    grid = tmp_path / "g.yaml"
    grid.write_text(f"tasks: [{TINY}]\nhidden: 4\nseeds: 2\nrecipe: default\nmax_steps: 5\n")
    assert main(["run", str(grid), "--device", "cuda:7", "--workers", "0", "--no-progress"]) == 2
    assert "device 'cuda:7' cannot be used here" in one_error_line(capsys)
    assert Store(tmp_path / "g-results").records() == [], "nothing recorded as failed"


def test_shipped_stores_verify_and_tabulate(capsys):
    study = len(load_grid(beyond.FOLDER / "grid.yaml").specs)
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert f"{zoo.FOLDER}: " in out and "table1: 144 runs, verified" in out
    assert f"beyond: {study} runs, verified" in out
    assert main(["table"]) == 0
    assert capsys.readouterr().out.startswith("| task | H=64 L2=0 | H=64 L2=0.001 |")
    assert main(["table", "--format", "latex"]) == 0
    assert "\\begin{tabular}{lcccccc}" in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert (
        f"of {len(zoo.ZOO)} planned models built" in out
        and "total    144    144       0        0" in out
        and f"Beyond the Elman RNN ({beyond.FOLDER})" in out
        and re.search(rf"^total +{study} +{study} +0 +0$", out, re.MULTILINE)
    )


# --------------------------------------------------------------------------------------------
# The zoo
# --------------------------------------------------------------------------------------------
def test_the_zoo_plan():
    assert len(zoo.ZOO) == 28
    for t in ("T1", "T2", "T3", "T4"):
        for seed in (0, 1, 2):
            assert zoo.ZOO[f"{t}-h128-s{seed}"] == RunSpec(t, 128, seed, recipe="default")
            assert zoo.ZOO[f"{t}-h128-s{seed}-paper"] == RunSpec(t, 128, seed, recipe="paper")
        assert zoo.ZOO[f"{t}-h64-s0"] == RunSpec(t, 64, 0, recipe=recommended(PAPER_TASKS[t], 64))
    assert {s.recipe for s in zoo.ZOO.values()} <= set(RECIPES)


def test_what_the_shipped_zoo_holds_verifies_and_is_planned():
    assert zoo.store().verify() == []
    for name, record in zoo.available().items():
        assert record.spec == zoo.ZOO[name] and record.ok, name


def test_the_shipped_zoo_holds_every_planned_model():
    assert set(zoo.available()) == set(zoo.ZOO)


@pytest.mark.parametrize(
    "content", [None, b"{broken", b'{"schema": 9, "files": {}, "names": {}, "runs": {}}']
)
def test_a_missing_or_unreadable_zoo_manifest_is_an_integrity_error_naming_it(
    tmp_path, monkeypatch, content
):
    monkeypatch.setattr(zoo, "FOLDER", tmp_path)
    if content is not None:
        (tmp_path / "manifest.json").write_bytes(content)
    for call in (lambda: zoo.load("T1-h128-s0"), zoo.available, lambda: zoo.record("T2-h64-s0")):
        with pytest.raises(IntegrityError) as info:
            call()
        message = str(info.value)
        assert str(tmp_path / "manifest.json") in message
        assert "planned" not in message and "--all" not in message and "rebuild" not in message


def test_an_unknown_zoo_name_lists_what_the_zoo_holds(tmp_path, monkeypatch):
    Store.create(tmp_path)
    monkeypatch.setattr(zoo, "FOLDER", tmp_path)
    with pytest.raises(UnknownNameError, match="no zoo model named 'T9'; the zoo holds: nothing"):
        zoo.load("T9")
    with pytest.raises(UnknownNameError, match="`python -m emtlib.lab rebuild T1-h128-s0`"):
        zoo.load("T1-h128-s0")
    with pytest.raises(TypeError, match="named by a string"):
        zoo.load(3)


# --------------------------------------------------------------------------------------------
# Real training, tiny
# --------------------------------------------------------------------------------------------
def test_run_trains_evaluates_and_measures_and_the_same_spec_gives_the_same_weights():
    spec = RunSpec(TINY, 6, 3, max_steps=40)
    model, record = run(spec)
    assert model.record is record and record.ok and record.spec == spec
    m = record.metrics
    assert m.steps == 40 and set(m.accuracy) == set(EVALUATION)
    e = EVALUATION[200]
    assert m.accuracy[200] == evaluate(
        model, spec.task_object, 200, e.batches, seed=e.seed, batch_size=e.batch_size
    )
    np.testing.assert_allclose(
        np.sort_complex(record.eigenvalue_array),
        np.sort_complex(np.linalg.eigvals(model.W_hh)),
        rtol=1e-5,
        atol=1e-6,
    )
    again, second = run(spec)
    assert all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values())
    )
    assert second.metrics.accuracy == m.accuracy and second.eigenvalues == record.eigenvalues


def test_rebuild_builds_a_zoo_resumes_and_repoints_stale_names(tmp_path, monkeypatch, capsys):
    plan = {
        "tiny-a": RunSpec(TINY, 6, 0, max_steps=30),
        "tiny-b": RunSpec(TINY, 6, 1, recipe="paper", max_steps=20),
    }
    monkeypatch.setattr(zoo, "ZOO", plan)
    monkeypatch.setattr(zoo, "FOLDER", tmp_path / "not-here")
    folder = tmp_path / "zoo"
    args = ["--store", str(folder), "--workers", "0", "--no-progress"]
    assert main(["rebuild", "--all", *args]) == 0
    assert "2 runs: 2 trained, 0 failed, 0 already done" in capsys.readouterr().out
    assert not (tmp_path / "not-here").exists(), "--store writes there and nowhere else"
    monkeypatch.setattr(zoo, "FOLDER", folder)
    a = zoo.load("tiny-a")
    assert a.record.spec == plan["tiny-a"] and set(zoo.available()) == set(plan)
    e = EVALUATION[200]
    assert a.record.metrics.accuracy[200] == evaluate(
        a, plan["tiny-a"].task_object, 200, e.batches, seed=e.seed
    )
    created = {name: zoo.record(name).created for name in plan}

    assert main(["rebuild", "--all", *args]) == 0  # resumes: nothing to do
    assert "2 runs: 0 trained, 0 failed, 2 already done" in capsys.readouterr().out
    assert {name: zoo.record(name).created for name in plan} == created

    assert (
        main(["rebuild", "tiny-a", "--force", *args]) == 0
    )  # trained again: same seed, same weights
    again = zoo.load("tiny-a")
    assert again.record.created != created["tiny-a"]
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), again.state_dict().values())
    )

    old_id = plan["tiny-b"].run_id
    plan["tiny-b"] = RunSpec(TINY, 6, 1, recipe="paper", max_steps=25)  # the plan changed
    assert main(["rebuild", "--all", *args]) == 0
    assert zoo.record("tiny-b").spec == plan["tiny-b"]
    store = zoo.store()
    assert old_id not in store and len(store.run_ids()) == 2 and store.verify() == []

    store.weights_path(plan["tiny-b"].run_id).write_bytes(b"junk")
    with pytest.raises(
        ChecksumError, match=f"{store.weights_path(plan['tiny-b'].run_id)} does not match"
    ):
        zoo.load("tiny-b")
    assert main(["verify", str(folder)]) == 1
    assert "does not match the sha256" in capsys.readouterr().out

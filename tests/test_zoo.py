"""Tests of emtlib.zoo: build, manifest, checksummed load, atomic manifest writes, command line.

Every model here is tiny (s = d = 2, hidden 8, 60 training steps), built into a temporary folder;
the package's own zoo folder is never written.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from emtlib import zoo
from emtlib.rnn import ElmanRNN
from emtlib.spectra import spectral_error
from emtlib.tasks import PAPER_TASKS, random_task
from emtlib.train import SCHEDULES, evaluate, train_rnn

TASK = random_task(2, 2, seed=0)
OVERRIDES = {"max_steps": 60, "check_every": 1000}


def tiny_spec(name="tiny-s2d2-h8", seed=0, **changes):
    kwargs = {
        "task": (TASK.s, TASK.d, *TASK.task_id),
        "hidden": 8,
        "seed": seed,
        "overrides": dict(OVERRIDES),
    }
    kwargs.update(changes)
    return zoo.ZooSpec(name, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One tiny entry built into a fresh zoo folder (shared; tests that alter files copy it)."""
    root = tmp_path_factory.mktemp("zoo")
    spec = tiny_spec()
    entry = zoo.build(spec, root)
    return root, spec, entry


def copy_zoo(src: Path, dst: Path) -> Path:
    dst.mkdir(exist_ok=True)
    for file in src.iterdir():
        (dst / file.name).write_bytes(file.read_bytes())
    return dst


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------
def test_planned_entries_are_paper_tasks_times_hidden_times_seeds():
    expected = {f"{t}-h{h}-s{s}" for t in PAPER_TASKS for h in (128, 64) for s in (0, 1)}
    assert set(zoo.ZOO_SPECS) == expected | {
        "T1-h128-s0-plain",
        "T1-h128-s0-unpolished",
        "T1-h128-s0-chunked",
    }
    # repeat copy gets its own recipe; the contrast entry is the fast schedule alone
    assert zoo.ZOO_SPECS["T1-h64-s1"].overrides["readout_l2"] > 0
    assert "readout_l2" not in zoo.ZOO_SPECS["T2-h128-s0"].overrides
    plain, tuned = zoo.ZOO_SPECS["T1-h128-s0-plain"], zoo.ZOO_SPECS["T1-h128-s0"]
    assert plain.overrides == zoo.ZOO_OVERRIDES and (plain.task, plain.hidden, plain.seed) == (
        "T1",
        128,
        0,
    )
    assert tuned.schedule_object().max_steps > plain.schedule_object().max_steps
    # the second contrast entry is T1-h128-s0 without its polishing phase; T4 is polished, T2 not
    unpolished = zoo.ZOO_SPECS["T1-h128-s0-unpolished"]
    assert unpolished.overrides == {
        k: v for k, v in tuned.overrides.items() if not k.startswith("polish")
    }
    assert tuned.schedule_object().polish_steps > 0 == unpolished.schedule_object().polish_steps
    assert zoo.ZOO_SPECS["T4-h64-s1"].schedule_object().polish_steps > 0
    assert zoo.ZOO_SPECS["T2-h128-s0"].schedule_object().polish_steps == 0
    # the third contrast entry is train_rnn's defaults, nothing else
    chunked = zoo.ZOO_SPECS["T1-h128-s0-chunked"]
    assert (chunked.schedule, chunked.overrides, chunked.l2) == ("chunked", {}, 0.0)
    assert (
        chunked.schedule_object() == SCHEDULES["chunked"]
        and chunked.schedule_object().stop_when_solved
    )
    small, large = (
        zoo.ZOO_SPECS["T2-h64-s0"].schedule_object(),
        zoo.ZOO_SPECS["T2-h128-s0"].schedule_object(),
    )
    assert small.max_steps > large.max_steps and small.readout_l2 is None
    spec = zoo.ZOO_SPECS["T2-h64-s1"]
    assert (spec.name, spec.task, spec.hidden, spec.seed, spec.schedule) == (
        "T2-h64-s1",
        "T2",
        64,
        1,
        "fast",
    )
    assert spec.task_object == PAPER_TASKS["T2"]
    assert zoo.ZooSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"name": "../evil"}, ValueError, "name"),
        ({"name": "manifest"}, ValueError, "clash"),
        ({"task": "T9"}, ValueError, "task must be one of"),
        ({"task": (2, 2, 7, 0, 0)}, ValueError, "t1 must have exactly d"),
        ({"hidden": 0}, ValueError, "hidden"),
        ({"seed": -1}, ValueError, "seed"),
        ({"l2": float("nan")}, ValueError, "l2"),
        ({"schedule": "slow"}, ValueError, "schedule"),
        ({"overrides": {"max_stepz": 3}}, ValueError, "max_stepz"),
        ({"overrides": {"max_steps": 0}}, ValueError, "max_steps"),
        ({"overrides": []}, TypeError, "dict"),
    ],
)
def test_bad_specs_are_refused(changes, error, match):
    kwargs = {"name": "x", "task": "T1", "hidden": 8, "seed": 0}
    kwargs.update(changes)
    with pytest.raises(error, match=match):
        zoo.ZooSpec(**kwargs)


# --------------------------------------------------------------------------------------------
# build, manifest, load
# --------------------------------------------------------------------------------------------
def test_build_writes_files_and_manifest_with_checksums(built):
    root, spec, entry = built
    pt, js = root / f"{spec.name}.pt", root / f"{spec.name}.json"
    assert pt.is_file() and js.is_file()
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["entries"][spec.name] == entry
    required = {
        "command",
        "spec",
        "seed",
        "sha256",
        "accuracy_200",
        "accuracy_10000",
        "spectral_error",
        "spectral_n_model",
        "spectral_n_ideal",
        "steps",
        "wall_time_s",
        "torch",
        "date",
        "evaluation",
    }
    assert required <= set(entry), required - set(entry)
    assert entry["command"] == f"python -m emtlib.zoo build {spec.name}"
    assert entry["spec"] == spec.to_json() and entry["seed"] == 0
    assert entry["sha256"] == {"pt": sha(pt), "json": sha(js)}
    assert entry["steps"] == OVERRIDES["max_steps"]
    assert entry["torch"] == torch.__version__
    assert entry["evaluation"]["10000"]["batches"] == 2
    assert 0 <= entry["accuracy_200"] <= 1 and 0 <= entry["accuracy_10000"] <= 1


def test_build_is_reproducible_and_its_numbers_are_the_libraries(built, tmp_path):
    root, spec, entry = built
    model = train_rnn(TASK, 8, seed=0, **OVERRIDES)
    loaded = zoo.load(spec.name, root)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    batches, batch_size, seed = zoo.EVALUATION[200]
    assert entry["accuracy_200"] == evaluate(
        model, TASK, 200, batches, seed=seed, batch_size=batch_size
    )
    comparison = spectral_error(model, TASK)
    assert (entry["spectral_error"], entry["spectral_n_model"], entry["spectral_n_ideal"]) == (
        comparison.error,
        comparison.n_model,
        comparison.n_ideal,
    )
    again = zoo.build(spec, tmp_path)  # same spec, same seed: same weights, byte for byte
    assert again["sha256"]["pt"] == entry["sha256"]["pt"]


def test_load_returns_the_model_with_metadata(built):
    root, spec, entry = built
    model = zoo.load(spec.name, root=root)
    assert isinstance(model, ElmanRNN) and model.hidden == 8 and model.d_in == TASK.d
    assert model.metadata["task_id"] == list(TASK.task_id)
    assert model.metadata["accuracy_200"] == entry["accuracy_200"]
    assert model.metadata["zoo_spec"] == spec.to_json()
    assert model.zoo_entry == entry
    assert zoo.available(root) == {
        spec.name: {
            "task": list(spec.task),
            "hidden": 8,
            "seed": 0,
            "accuracy_200": entry["accuracy_200"],
            "accuracy_10000": entry["accuracy_10000"],
            "spectral_error": entry["spectral_error"],
            "spectral_n_model": entry["spectral_n_model"],
            "spectral_n_ideal": entry["spectral_n_ideal"],
            "steps": entry["steps"],
            "wall_time_s": entry["wall_time_s"],
            "date": entry["date"],
        }
    }
    assert zoo.verify_all(root) == {spec.name: None}
    assert zoo.stale(root) == {}


def test_a_second_entry_keeps_the_first(built, tmp_path):
    root = copy_zoo(built[0], tmp_path / "zoo")
    zoo.build(tiny_spec("tiny-seed1", seed=1), root=root)
    entries = zoo.read_manifest(root)["entries"]
    assert set(entries) == {built[1].name, "tiny-seed1"}
    assert entries[built[1].name] == built[2]
    assert zoo.verify_all(root) == {built[1].name: None, "tiny-seed1": None}


# --------------------------------------------------------------------------------------------
# Failures say what happened and how to rebuild
# --------------------------------------------------------------------------------------------
def test_corrupt_weights_raise_checksum_error_with_rebuild_command(built, tmp_path):
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    pt = root / f"{name}.pt"
    data = bytearray(pt.read_bytes())
    data[len(data) // 2] ^= 0x01
    pt.write_bytes(bytes(data))
    with pytest.raises(zoo.ChecksumError) as info:
        zoo.load(name, root)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(pt) in message
    assert built[2]["sha256"]["pt"] in message and sha(pt) in message
    assert f"python -m emtlib.zoo build {name} --root {root}" in message
    report = zoo.verify_all(root)
    assert report[name] is not None and report[name].startswith("ChecksumError")


def test_changed_metadata_raises_checksum_error(built, tmp_path):
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    js = root / f"{name}.json"
    meta = json.loads(js.read_text())
    meta["accuracy_200"] = 1.0
    js.write_text(json.dumps(meta))
    with pytest.raises(zoo.ChecksumError, match=r"\.json"):
        zoo.load(name, root)


def test_missing_file_raises_file_not_found_with_rebuild_command(built, tmp_path):
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    (root / f"{name}.json").unlink()
    with pytest.raises(FileNotFoundError, match=f"build {name}") as info:
        zoo.load(name, root)
    assert f"{name}.json" in str(info.value)


def test_unknown_name_lists_the_available_ones(built):
    root, spec, _ = built
    with pytest.raises(zoo.UnknownModelError) as info:
        zoo.load("no-such-model", root)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert "no-such-model" in str(info.value) and spec.name in str(info.value)
    with pytest.raises(TypeError, match="name must be a str"):
        zoo.load(3, root)
    with pytest.raises(zoo.UnknownModelError, match="planned entries"):
        zoo.build("no-such-model", root)


def test_planned_but_unbuilt_entry_in_the_package_zoo_says_how_to_build_it(tmp_path, monkeypatch):
    """The package's zoo is complete, so an empty folder stands in for it as the default root."""
    monkeypatch.setattr(zoo, "default_root", lambda: tmp_path.resolve())
    name = "T2-h64-s1"
    assert name in zoo.ZOO_SPECS
    with pytest.raises(FileNotFoundError, match=f"`python -m emtlib.zoo build {name}`"):
        zoo.load(name)
    with pytest.raises(zoo.UnknownModelError, match="planned but not built"):
        zoo.load("no-such-model")


def test_missing_manifest_is_an_empty_zoo_and_a_broken_one_is_an_error(tmp_path):
    assert zoo.available(tmp_path) == {} and zoo.verify_all(tmp_path) == {}
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        zoo.available(tmp_path)
    with pytest.raises(TypeError, match="root"):
        zoo.available(3)


def test_manifest_write_is_atomic(built, tmp_path, monkeypatch):
    root = copy_zoo(built[0], tmp_path / "zoo")
    before = (root / "manifest.json").read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst).name == "manifest.json":
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        zoo.build(tiny_spec("tiny-other", seed=2), root=root)
    assert (root / "manifest.json").read_bytes() == before
    assert not [f for f in root.iterdir() if f.name.endswith(".tmp")]
    monkeypatch.undo()
    assert zoo.verify_all(root) == {built[1].name: None}


def test_stale_reports_an_entry_built_with_another_recipe(built, tmp_path):
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    manifest = zoo.read_manifest(root)
    manifest["entries"][name]["hyperparameters"]["lr"] = 0.5
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert "lr" in zoo.stale(root)[name]
    changed = {name: tiny_spec(hidden=9)}
    assert "differs from the planned" in zoo.stale(root, specs=changed)[name]


def test_a_schedule_field_added_later_is_not_stale_at_its_default(built, tmp_path):
    """An entry recorded before a Schedule field existed was built with that field's default."""
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    manifest = zoo.read_manifest(root)
    del manifest["entries"][name]["hyperparameters"]["readout_l2"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert zoo.stale(root, specs={name: built[1]}) == {}
    overridden = tiny_spec(overrides={**OVERRIDES, "readout_l2": 0.01})
    assert "differs from the planned" in zoo.stale(root, specs={name: overridden})[name]
    manifest["entries"][name]["spec"] = overridden.to_json()
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert "fields ['readout_l2']" in zoo.stale(root, specs={name: overridden})[name]
    del manifest["entries"][name]["hyperparameters"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert "not recorded" in zoo.stale(root, specs={name: overridden})[name]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def test_cli_list_and_verify(built, capsys, tmp_path):
    root, spec, _ = built
    assert zoo.main(["list", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert spec.name in out and "1 built" in out
    assert zoo.main(["verify", "--root", str(root)]) == 0
    assert "1 of 1 entries verified" in capsys.readouterr().out
    broken = copy_zoo(root, tmp_path / "zoo")
    (broken / f"{spec.name}.pt").write_bytes(b"junk")
    assert zoo.main(["--root", str(broken), "verify"]) == 1
    assert "ChecksumError" in capsys.readouterr().out


def test_cli_list_of_the_package_zoo_shows_the_plan(capsys):
    assert zoo.main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in zoo.ZOO_SPECS)


def test_cli_rebuilds_an_entry_from_its_manifest_spec(built, tmp_path, capsys):
    root = copy_zoo(built[0], tmp_path / "zoo")
    name = built[1].name
    pt = root / f"{name}.pt"
    pt.write_bytes(b"junk")
    assert zoo.main(["build", "--missing", name, "--root", str(root)]) == 0  # broken: rebuilt
    assert zoo.verify_all(root) == {name: None}
    assert sha(pt) == built[2]["sha256"]["pt"]
    assert zoo.main(["build", "--missing", name, "--root", str(root)]) == 0  # intact: skipped
    assert "nothing to build" in capsys.readouterr().out
    with pytest.raises(zoo.UnknownModelError):
        zoo.main(["build", "typo-name", "--root", str(root)])
    assert zoo.main(["build", "--root", str(root)]) == 2
    with pytest.raises(SystemExit):
        zoo.main(["build", "--all", name, "--root", str(root)])


def test_shipped_models_match_their_manifest_and_claims():
    """The models shipped in emtlib/zoo_data: checksums verify, and loading one gives a model that
    still scores what the manifest says at horizon 200 (same evaluation seed)."""
    report = zoo.verify_all()
    assert report, "the package ships no zoo models"
    assert all(problem is None for problem in report.values()), report
    entry = zoo.available()["T3-h128-s0"]
    model = zoo.load("T3-h128-s0")
    batches, batch_size, seed = zoo.EVALUATION[200]
    measured = evaluate(model, PAPER_TASKS["T3"], 200, batches, seed=seed, batch_size=batch_size)
    assert measured == entry["accuracy_200"] == 1.0


def test_shipped_zoo_is_the_plan_built_from_todays_recipes():
    """Every planned entry is built, none is stale (built from another recipe than today's), and
    the shipped T1 entries are the tuned ones, not the plain contrast."""
    assert set(zoo.available()) == set(zoo.ZOO_SPECS)
    assert zoo.stale() == {}
    t1 = zoo.ZOO_TASK_OVERRIDES["T1"]
    assert zoo.available()["T1-h128-s0"]["steps"] == t1["max_steps"] + t1["polish_steps"]
    assert zoo.available()["T1-h128-s0-unpolished"]["steps"] == t1["max_steps"]

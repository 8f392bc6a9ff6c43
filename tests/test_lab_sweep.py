"""Properties of the lab's sweeps: a grid file is validated with errors naming the file; the
environment is checked before any run (a typo is not a failed run); a failed run is recorded and
the others go on; finished runs are never run twice, also when a sweep is killed and resumed or
when two sweeps share a store.  Training is replaced by a fake (the properties are about the store
and the scheduling); the subprocess tests install it with a sitecustomize module."""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from emtlib.architectures import MODELS
from emtlib.lab import RunSpec, Store
from emtlib.lab import run as lab_run
from emtlib.lab import spec as lab_spec
from emtlib.lab import sweep as lab_sweep
from emtlib.lab.spec import Evaluation
from emtlib.lab.sweep import EnvironmentProblem, load_grid, parse_grid, run_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = {"tasks": [[2, 2, 3, 0, 0]], "hidden": [4], "seeds": 3, "recipe": "default", "max_steps": 5}


def write_grid(folder: Path, name: str = "tiny.yaml", **changes) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({**TINY, **changes}, sort_keys=False))
    return path


def fake_train(task, hidden=128, seed=0, l2=0.0, recipe="default", threshold=None, max_steps=None, progress=False, device="cpu", stop_when_solved=None, architecture="elman"):  # fmt: skip
    """An untrained model with a training log, in place of emtlib.lab.recipes.train."""
    if seed == 13:
        raise FloatingPointError("the loss stopped being finite")
    model = MODELS[architecture](task.d, hidden, seed=seed)
    model.log = SimpleNamespace(
        steps=max_steps or 1,
        solved_step=None,
        restarted_at=[],
        final_horizon_reached=False,
        wall_time_s=0.01,
    )
    return model


@pytest.fixture
def trained(monkeypatch):
    """Replace training by :func:`fake_train` (and the evaluation by a short one); yields the list
    of specs trained, in order."""
    calls = []
    monkeypatch.setattr(
        lab_spec, "EVALUATION", {200: Evaluation(2, 8, 1), 1000: Evaluation(1, 4, 2)}
    )

    def counting(task, hidden=128, seed=0, **kwargs):
        calls.append((tuple(task.to_json()), hidden, seed))
        return fake_train(task, hidden, seed, **kwargs)

    monkeypatch.setattr(importlib.import_module("emtlib.lab.run"), "train", counting)
    return calls


# --------------------------------------------------------------------------------------------
# Grid files
# --------------------------------------------------------------------------------------------
def test_a_grid_expands_in_its_documented_order(tmp_path):
    grid = load_grid(write_grid(tmp_path, l2=[0, 1e-3], thresholds=[0.9, 0.98], seeds=[4, 7]))
    assert [(s.l2, s.seed, s.threshold) for s in grid.specs] == [
        (l2, seed, th) for l2 in (0.0, 0.001) for seed in (4, 7) for th in (0.9, 0.98)
    ]
    assert all(
        s == RunSpec(TINY["tasks"][0], 4, s.seed, s.l2, s.threshold, "default", 5)
        for s in grid.specs
    )
    assert grid.default_store == tmp_path.resolve() / "tiny-results"
    text = "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: [paper, default]\nl2: [0, 1.0e-1, 1e-3]\n"
    (tmp_path / "exp.yaml").write_text(text)
    assert [(s.recipe, s.l2) for s in load_grid(tmp_path / "exp.yaml").specs] == [
        (r, l2) for r in ("paper", "default") for l2 in (0.0, 0.1, 0.001)
    ]


@pytest.mark.parametrize(
    "text, match",
    [
        ("tasks: [T1\n", r"g\.yaml: not a valid grid: .*line 2"),
        (
            "tasks: [T1]\nhidden: 8\nhidden: 16\nseeds: 1\nrecipe: paper\n",
            r"g\.yaml: .*duplicate key 'hidden'.*line 3",
        ),
        ("- 1\n", r"g\.yaml: a grid is a mapping"),
        ("tasks: [T1]\nhidden: 8\nseeds: 1\n", r"g\.yaml: missing key\(s\) \['recipe'\]"),
        (
            "tasks: [T1]\nhiden: 8\nseeds: 1\nrecipe: paper\n",
            r"g\.yaml: unknown key\(s\) \['hiden'\]",
        ),
        (
            "tasks: [T9]\nhidden: 8\nseeds: 1\nrecipe: paper\n",
            r"g\.yaml: 'tasks'\[0\] is not a task",
        ),
        (
            "tasks: [[2, 2, 1, 0, 0]]\nhidden: 8\nseeds: 1\nrecipe: paper\n",
            r"'tasks'\[0\] is not a task",
        ),
        ("tasks: [T1]\nhidden: [8, 8]\nseeds: 1\nrecipe: paper\n", "twice"),
        ("tasks: [T1]\nhidden: 0\nseeds: 1\nrecipe: paper\n", r"g\.yaml: hidden must be"),
        ("tasks: [T1]\nhidden: 8\nseeds: 0\nrecipe: paper\n", "'seeds' must be a positive count"),
        ("tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: fast\n", "recipe must be one of"),
        (
            "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\nthresholds: [1.5]\n",
            "threshold must be",
        ),
        (
            "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\nsave_weights: yes please\n",
            "save_weights",
        ),
        ("tasks: []\nhidden: 8\nseeds: 1\nrecipe: paper\n", "'tasks' must not be an empty list"),
        (
            "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\nmodels: [rnn]\n",
            "model must be one of",
        ),
        ("tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\nanalysis: 1\n", "analysis must be"),
        (
            (
                "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\n---\n"
                "tasks: [T2]\nhidden: 8\nseeds: 1\nrecipe: paper\nsave_weights: true\n"
            ),
            r"g\.yaml \(grid 2\): \['save_weights'\] belong in the first grid",
        ),
        (
            (
                "tasks: [T1]\nhidden: 8\nseeds: 1\nrecipe: paper\n---\n"
                "tasks: [T1]\nhidden: [4, 8]\nseeds: 1\nrecipe: paper\n"
            ),
            r"g\.yaml: two of its grids hold the run \(T1, hidden 8",
        ),
        ("", r"g\.yaml: the file holds no grid"),
    ],
)
def test_a_bad_grid_file_is_a_value_error_naming_it(tmp_path, text, match):
    (tmp_path / "g.yaml").write_text(text)
    with pytest.raises(ValueError, match=match):
        load_grid(tmp_path / "g.yaml")


def test_a_grid_file_may_hold_several_grids_over_models(tmp_path):
    text = (
        "description: two blocks\nsave_weights: true\ntasks: [T1, T2]\nhidden: 8\nseeds: 2\n"
        "recipe: default\nmodels: [gru, lstm]\nanalysis: true\n---\n"
        "tasks: [T2]\nhidden: 4\nseeds: [5]\nrecipe: narrow\nmax_steps: 30\n"
    )
    (tmp_path / "g.yaml").write_text(text)
    grid = load_grid(tmp_path / "g.yaml")
    assert grid.save_weights and grid.description == "two blocks"
    assert [(s.label, s.model, s.seed, s.analysis) for s in grid.specs[:8]] == [
        (task, model, seed, True)
        for task in ("T1", "T2")
        for model in ("gru", "lstm")
        for seed in (0, 1)
    ]
    assert grid.specs[8] == RunSpec("T2", 4, 5, recipe="narrow", max_steps=30)
    assert len(grid.specs) == 9


def test_parse_grid_names_its_source():
    with pytest.raises(ValueError, match="^mine: missing key"):
        parse_grid({"tasks": ["T1"]}, source="mine")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_grid("no/such/grid.yaml")


# --------------------------------------------------------------------------------------------
# Running (in this process: workers=0)
# --------------------------------------------------------------------------------------------
def test_failures_are_recorded_and_finished_runs_never_run_twice(tmp_path, trained):
    grid = load_grid(write_grid(tmp_path, seeds=[0, 13, 2]))
    store = Store(tmp_path / "out")
    report = run_sweep(grid, store, workers=0, progress=False)
    assert (report.ok, report.failed, report.done) == (2, 1, 0) and len(trained) == 3
    failed = store.get(grid.specs[1].run_id)
    assert not failed.ok and failed.error == "FloatingPointError: the loss stopped being finite"
    ok = store.get(grid.specs[0].run_id)
    assert ok.metrics.steps == 5 and set(ok.metrics.accuracy) == {200, 1000}
    assert ok.metrics.n_long_lived_ideal == 4 and len(ok.eigenvalues) == 4
    assert report.status.pending == () and len(report.status.failed) == 1

    before = {p.name: p.read_bytes() for p in (store.folder / "records").iterdir()}
    again = run_sweep(grid, store, workers=0, progress=False)
    assert (again.done, again.skipped_failed, len(trained)) == (2, 1, 3)
    assert {p.name: p.read_bytes() for p in (store.folder / "records").iterdir()} == before

    retried = run_sweep(grid, store, workers=0, progress=False, retry_failed=True)
    assert (retried.failed, len(trained)) == (1, 4) and trained[-1][2] == 13
    forced = run_sweep(grid.specs[:1], store, workers=0, progress=False, force=True)
    assert (forced.ok, len(trained)) == (1, 5)
    assert store.verify() == []


def test_run_passes_the_spec_to_the_recipe(monkeypatch):
    seen = []

    def capture(task, **kwargs):
        seen.append(kwargs)
        return fake_train(task, **kwargs)

    monkeypatch.setattr(importlib.import_module("emtlib.lab.run"), "train", capture)
    monkeypatch.setattr(lab_spec, "EVALUATION", {200: Evaluation(1, 4, 1)})
    lab_run(RunSpec(TINY["tasks"][0], 4, 2, 0.01, 0.9, "paper", 7, stop_when_solved=True))
    lab_run(RunSpec(TINY["tasks"][0], 4, 2))
    assert seen[0] == {
        "hidden": 4, "seed": 2, "l2": 0.01, "recipe": "paper", "threshold": 0.9, "max_steps": 7,
        "progress": False, "device": "cpu", "stop_when_solved": True, "architecture": "elman",
    }  # fmt: skip
    assert "stop_when_solved" not in seen[1] and seen[1]["recipe"] == "default"
    lab_run(RunSpec(TINY["tasks"][0], 4, 2, model="gru"))
    assert seen[2]["architecture"] == "gru"


def test_the_device_is_checked_before_any_run(tmp_path, trained):
    grid = load_grid(write_grid(tmp_path))
    store = Store(tmp_path / "out")
    for device in ("cuda:7", "gpu", ""):
        with pytest.raises(EnvironmentProblem, match="device"):
            run_sweep(grid, store, workers=0, device=device, progress=False)
    assert trained == [] and store.records() == []
    report = run_sweep(
        grid, store, workers=0, progress=False
    )  # the corrected command runs everything
    assert report.ok == 3 and report.failed == 0


def test_an_unreachable_scheduler_stops_the_sweep_before_any_run(tmp_path, trained, monkeypatch):
    monkeypatch.setattr(lab_sweep, "CONNECT_TIMEOUT", 0.5)
    grid = load_grid(write_grid(tmp_path))
    store = Store(tmp_path / "out")
    with pytest.raises(
        EnvironmentProblem, match="cannot reach the Dask scheduler 'tcp://127.0.0.1:9'"
    ):
        run_sweep(grid, store, scheduler="tcp://127.0.0.1:9", progress=False)
    assert trained == [] and store.records() == []


def test_an_unreadable_record_is_quarantined_and_run_again(tmp_path, trained):
    grid = load_grid(write_grid(tmp_path))
    store = Store(tmp_path / "out")
    run_sweep(grid, store, workers=0, progress=False)
    bad = grid.specs[1].run_id
    store.record_path(bad).write_text("{")
    status = lab_sweep.status(grid.specs, store)
    assert len(status.ok) == 2 and status.pending == (bad,) and len(status.problems) == 1
    report = run_sweep(grid, store, workers=0, progress=False)
    assert [p.path.name for p in report.quarantined] == [f"{bad}.json"]
    assert report.ok == 1 and report.done == 2 and trained[-1][2] == 1 and len(trained) == 4
    assert store.verify() == [] and len(store.records()) == 3


def test_a_sweep_on_a_dask_client_checks_its_workers_first(tmp_path, trained):
    distributed = pytest.importorskip("distributed")
    grid = load_grid(write_grid(tmp_path, seeds=[0, 13]))
    store = Store(tmp_path / "out")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with pytest.raises(EnvironmentProblem, match="worker .*device 'cuda:7' cannot be used"):
            run_sweep(grid, store, client=client, device="cuda:7", progress=False)
        assert trained == [] and store.records() == []
        report = run_sweep(grid, store, client=client, progress=False)
    assert (report.ok, report.failed, report.lost) == (1, 1, [])
    assert sorted(seed for _, _, seed in trained) == [0, 13]
    assert store.verify() == [] and len(store.records()) == 2


# --------------------------------------------------------------------------------------------
# Real processes: a killed sweep, two sweeps on one store
# --------------------------------------------------------------------------------------------
SITECUSTOMIZE = """
import importlib, os, time
from types import SimpleNamespace
from emtlib.rnn import ElmanRNN

def _train(task, hidden=128, seed=0, max_steps=None, **kwargs):
    with open(os.environ["EMT_FAKE_LOG"], "a") as log:
        log.write(f"{os.getpid()} {seed}\\n")
    time.sleep(float(os.environ.get("EMT_FAKE_SLEEP", "0")))
    model = ElmanRNN(task.d, hidden, seed=seed)
    model.log = SimpleNamespace(steps=max_steps or 1, solved_step=None, restarted_at=[],
                                final_horizon_reached=False, wall_time_s=0.01)
    return model

importlib.import_module("emtlib.lab.run").train = _train
_spec = importlib.import_module("emtlib.lab.spec")
_spec.EVALUATION = {200: _spec.Evaluation(2, 8, 1)}
"""


def lab(tmp_path: Path, *args, sleep: float = 0.0, log: str = "log.txt", **popen):
    """``python -m emtlib.lab ARGS`` with training faked through a sitecustomize module."""
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "EMT_FAKE_LOG": str(tmp_path / log),
        "EMT_FAKE_SLEEP": str(sleep),
    }
    command = [sys.executable, "-m", "emtlib.lab", *args, "--no-progress"]
    return subprocess.Popen(command, cwd=tmp_path, env=env, text=True, **popen)


def trained_seeds(tmp_path: Path, log: str = "log.txt") -> list[int]:
    path = tmp_path / log
    return [int(line.split()[1]) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_killed_sweep_resumes_with_nothing_lost_or_duplicated(tmp_path):
    path = write_grid(tmp_path, seeds=6)
    grid = load_grid(path)
    store = Store(grid.default_store)
    first = lab(tmp_path, "run", str(path), "--workers", "0", sleep=0.5, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (store.manifest_path.exists() and len(store.run_ids()) >= 2):
            assert first.poll() is None, f"the sweep ended early with {first.returncode}"
            assert time.monotonic() < deadline, "no record within 60 s"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    done = {run_id: store.record_path(run_id).read_bytes() for run_id in store.run_ids()}
    assert 2 <= len(done) < 6, f"the kill should land mid-sweep, found {len(done)} records"
    killed_in = trained_seeds(tmp_path)

    second = lab(tmp_path, "run", str(path), "--workers", "1", log="log2.txt", stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE)  # fmt: skip
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err[-2000:]
    assert store.run_ids() == sorted(s.run_id for s in grid.specs), "lost runs"
    assert sorted(p.name for p in (store.folder / "records").iterdir()) == [
        f"{r}.json" for r in store.run_ids()
    ]
    assert all(store.record_path(r).read_bytes() == data for r, data in done.items()), (
        "finished runs changed"
    )
    finished_seeds = {s.seed for s in grid.specs if s.run_id in done}
    again = trained_seeds(tmp_path, "log2.txt")
    assert not finished_seeds & set(again), "a finished run was trained again"
    assert (
        sorted(again) == sorted(set(range(6)) - finished_seeds) and len(killed_in) <= len(done) + 1
    )
    assert store.verify() == [] and all(r.ok for r in store.records())
    assert f"6 runs: {6 - len(done)} trained, 0 failed, {len(done)} already done" in out
    assert re.search(r"total\s+6\s+6\s+0\s+0", out)


def test_two_sweeps_on_one_store_run_each_run_once(tmp_path):
    path = write_grid(tmp_path, seeds=8)
    grid = load_grid(path)
    procs = [
        lab(
            tmp_path,
            "run",
            str(path),
            "--workers",
            "0",
            sleep=0.15,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-1500:] for _, err in outs]
    counts = Counter(trained_seeds(tmp_path))
    assert sorted(counts) == list(range(8)) and set(counts.values()) == {1}, counts
    assert (
        len({line.split()[0] for line in (tmp_path / "log.txt").read_text().splitlines()}) == 2
    ), "both sweeps took part"
    store = Store(grid.default_store)
    assert store.run_ids() == sorted(s.run_id for s in grid.specs) and store.verify() == []
    assert json.loads(store.manifest_path.read_text())["files"].keys() == {"grid.yaml"}

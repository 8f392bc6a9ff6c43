"""Tests of emtlib.sweep: config validation, run ids, records written by Dask workers, failure
records, resuming a killed sweep, status, and the aggregation of Table 1.

Every run is tiny (s = d = 2, hidden 8, at most 200 training steps); the sweeps run on a real
LocalCluster with worker processes, one torch thread each.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from emtlib import sweep
from emtlib.rnn import load_model
from emtlib.sweep import parse_config, table1, to_latex, to_markdown
from emtlib.tasks import PAPER_TASKS, Task
from emtlib.train import evaluate

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "tasks": [[2, 2, 3, 0, 0]],
    "hidden": [8],
    "l2": [0, 0.01],
    "seeds": 2,
    "thresholds": [0.9],
    "schedule": "fast",
    "overrides": {"max_steps": 100, "check_every": 1000},
    "test": {"horizon": 200, "batches": 4},
}


def write_config(folder: Path, name: str = "tiny.yaml", **changes) -> Path:
    data = {**TINY, **changes}
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def snapshot(folder: Path) -> dict:
    """{file name: (mtime_ns, bytes)} of the record files in ``folder``."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("*.json")}


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------
def test_config_expands_to_the_grid_in_a_documented_order(tmp_path):
    config = sweep.load_config(write_config(tmp_path, thresholds=[0.9, 0.96]))
    runs = config.runs()
    assert len(runs) == 1 * 1 * 2 * 2 * 2
    assert [(r.l2, r.seed, r.threshold) for r in runs] == [
        (l2, seed, th) for l2 in (0.0, 0.01) for seed in (0, 1) for th in (0.9, 0.96)
    ]
    assert len({r.run_id for r in runs}) == len(runs), "run ids collide"
    assert config.default_results_dir == (tmp_path / "tiny-results").resolve()
    assert config.test == {
        "horizon": 200,
        "batches": 4,
        "batch_size": 64,
        "seed": sweep.DEFAULT_TEST["seed"],
    }
    assert all(r.task_object == Task(2, 2, (3, 0, 0)) for r in runs)


def test_yaml_exponent_floats_are_numbers(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "tasks: [T1, [2, 2, 3, 0, 0]]\nhidden: [8]\nl2: [0, 1e-3, 1.0e-1]\nseeds: [3, 5]\n"
        "thresholds: [0.9]\nschedule: paper\n"
    )
    config = sweep.load_config(path)
    assert config.l2 == (0.0, 0.001, 0.1)
    assert config.seeds == (3, 5)
    assert [label for label, _ in config.tasks] == ["T1", "s2d2(3,0,0)"]


def test_run_id_is_stable_and_ignores_label_and_execution_options():
    base = {
        "tasks": ["T1"],
        "hidden": [8],
        "l2": [0],
        "seeds": 1,
        "thresholds": [0.9],
        "schedule": "paper",
    }
    run = parse_config(base).runs()[0]
    # The id names the record files of finished sweeps: changing how it is computed orphans them.
    assert run.run_id == "732cbb3b09130558"
    same = parse_config(
        {**base, "tasks": [[8, 8, 255, 0, 0]], "save_weights": True, "fail_runs": [0]}
    ).runs()[0]
    assert same.inject_failure and same.save_weights
    assert same.run_id == run.run_id
    assert parse_config({**base, "l2": [0.001]}).runs()[0].run_id != run.run_id
    assert parse_config({**base, "test": {"seed": 1}}).runs()[0].run_id != run.run_id
    assert parse_config({**base, "overrides": {"max_steps": 5}}).runs()[0].run_id != run.run_id
    by_id = parse_config({**base, "seeds": 2, "fail_runs": [run.run_id]}).runs()
    assert [r.inject_failure for r in by_id] == [True, False]


BAD_CONFIGS = [
    ({"hidden": None}, "missing required key(s) ['hidden']"),
    ({"hiden": [8]}, "unknown key(s) ['hiden']"),
    ({"tasks": []}, "'tasks' must be a non-empty list"),
    ({"tasks": "T1"}, "'tasks' must be a non-empty list"),
    ({"tasks": ["T9"]}, "'tasks'[0] must be one of"),
    ({"tasks": [[2, 2, 1, 0, 0]]}, "'tasks'[0] is not a valid task"),
    ({"tasks": [[2, 2, 3, 0]]}, "'tasks'[0] must be one of"),
    ({"tasks": ["T1", [8, 8, 255, 0, 0]]}, "'tasks' lists"),
    ({"hidden": []}, "'hidden' must be a non-empty list"),
    ({"hidden": [8.5]}, "'hidden' must be a non-empty list of positive integers"),
    ({"hidden": [8, 8]}, "'hidden' lists 8 twice"),
    ({"hidden": 8}, "'hidden' must be a non-empty list"),
    ({"l2": ["a"]}, "'l2' must be a non-empty list of non-negative numbers"),
    ({"l2": [-1]}, "'l2' must be"),
    ({"l2": [True]}, "'l2' must be"),
    ({"seeds": 0}, "'seeds' must be a positive count"),
    ({"seeds": []}, "'seeds' must be a non-empty list"),
    ({"seeds": [1.5]}, "'seeds' must hold non-negative integers"),
    ({"thresholds": [1.5]}, "'thresholds' must hold numbers in (0, 1]"),
    ({"thresholds": []}, "'thresholds' must be a non-empty list"),
    ({"schedule": "nope"}, "'schedule' must be one of"),
    ({"overrides": {"bogus": 1}}, "'overrides' names unknown Schedule field(s) ['bogus']"),
    (
        {"overrides": {"max_steps": -1}},
        "'overrides' is not valid: max_steps must be a positive integer",
    ),
    ({"overrides": {"threshold": 0.9}}, "'overrides' may not set 'threshold'"),
    ({"overrides": [1]}, "'overrides' must be a mapping"),
    ({"test": {"horizon": 0}}, "'test': 'horizon' must be a positive integer"),
    ({"test": {"seed": -1}}, "'test': 'seed' must be a non-negative integer"),
    ({"test": {"foo": 1}}, "'test' has unknown key(s) ['foo']"),
    ({"save_weights": "yes"}, "'save_weights' must be true or false"),
    ({"fail_runs": [99]}, "'fail_runs' indices [99] are outside the grid of 4 runs"),
    ({"fail_runs": ["abc"]}, "'fail_runs' (for testing the failure path) must be a list"),
]


@pytest.mark.parametrize("change, message", BAD_CONFIGS, ids=[m for _, m in BAD_CONFIGS])
def test_malformed_configs_name_the_bad_key(change, message):
    data = {**TINY, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValueError) as info:
        parse_config(data, source="c.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("c.yaml:")


def test_malformed_files_are_value_errors(tmp_path):
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        sweep.load_config(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("tasks: [T1\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        sweep.load_config(tmp_path / "broken.yaml")
    with pytest.raises(FileNotFoundError):
        sweep.load_config(tmp_path / "absent.yaml")
    assert (
        sweep.main(["status", str(tmp_path / "list.yaml")]) == 2
    )  # the CLI prints the error, exit 2


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------
def test_status_counts_and_flags_records_of_another_schedule(tmp_path):
    config = sweep.load_config(write_config(tmp_path))
    runs, results = config.runs(), config.default_results_dir
    assert sweep.sweep_status(config)["total"] == {
        "runs": 4,
        "ok": 0,
        "failed": 0,
        "pending": 4,
        "stale": 0,
    }
    today = runs[0].schedule_fields()
    for run, status, hyper in (
        (runs[0], "ok", today),
        (runs[1], "ok", {**today, "lr": 1.0}),
        (runs[2], "failed", None),
    ):
        record = {
            "run_id": run.run_id,
            "status": status,
            "config": run.config(),
            "hyperparameters": hyper,
        }
        sweep._write_json(sweep.record_path(results, run.run_id), record)
    (results / ("0" * 16 + ".json")).write_text(json.dumps({"run_id": "0" * 16, "status": "ok"}))
    status = sweep.sweep_status(config)
    assert status["total"] == {"runs": 4, "ok": 2, "failed": 1, "pending": 1, "stale": 1}
    assert status["ids"]["pending"] == [runs[3].run_id] and status["extra"] == 1


def test_run_one_records_a_real_error_and_returns(tmp_path):
    spec = parse_config(TINY).runs()[0]
    bad = sweep.RunSpec(
        **{**spec.__dict__, "overrides": {"horizons": [0]}}
    )  # Schedule refuses it in train_rnn
    summary = sweep.run_one(bad, tmp_path)
    assert summary["status"] == "failed"
    record = json.loads((tmp_path / f"{bad.run_id}.json").read_text())
    assert record["status"] == "failed" and record["metrics"] is None
    assert record["error"]["type"] == "ValueError" and "horizons" in record["error"]["message"]
    assert "Traceback" in record["error"]["traceback"]
    assert [p.name for p in tmp_path.iterdir()] == [f"{bad.run_id}.json"], "no temporary files left"


def test_sweep_on_a_local_cluster_records_every_run_and_retries_failures(tmp_path, client, capsys):
    path = write_config(tmp_path, fail_runs=[1], save_weights=True)
    config = sweep.load_config(path)
    results = config.default_results_dir
    status = sweep.run_sweep(config, client=client, progress=False)
    assert status["total"] == {"runs": 4, "ok": 3, "failed": 1, "pending": 0, "stale": 0}
    records = sweep.read_records(results)
    runs = config.runs()
    assert set(records) == {r.run_id for r in runs}
    failed = records[runs[1].run_id]
    assert failed["status"] == "failed" and failed["error"]["type"] == "InjectedFailure"
    assert "fail_runs" in failed["error"]["message"] and "Traceback" in failed["error"]["traceback"]

    task = Task(2, 2, (3, 0, 0))
    for run in (runs[0], runs[2], runs[3]):
        record = records[run.run_id]
        assert record["status"] == "ok" and record["error"] is None
        assert record["config"] == run.config()
        m = record["metrics"]
        assert 0.0 <= m["accuracy"] <= 1.0 and m["test_horizon"] == 200
        assert m["steps"] == 100 and m["solved_step"] is None
        assert m["n_ideal"] == task.long_lived_modes()
        assert (m["spectral_error"] is None) == (m["n_model"] != m["n_ideal"])
        assert (
            record["hyperparameters"]["threshold"] == 0.9
            and record["hyperparameters"]["max_steps"] == 100
        )
        assert record["environment"]["torch_threads"] == 1 and record["environment"]["hostname"]
        assert record["environment"]["worker"].startswith("tcp://")
        assert record["environment"]["device"] == "cpu" and record["environment"]["machine"]
        assert record["timings"]["total_s"] >= record["timings"]["train_s"] > 0
        # the saved weights are the model the metrics were measured on
        model, meta = load_model(results / record["weights"])
        assert meta["run_id"] == run.run_id
        assert evaluate(model, task, 200, 4, seed=config.test["seed"]) == m["accuracy"]
        # the recorded spectrum is the model's, to the 6 digits it keeps
        eig = np.asarray(record["eigenvalues"]["real"]) + 1j * np.asarray(
            record["eigenvalues"]["imag"]
        )
        np.testing.assert_allclose(
            np.sort_complex(eig), np.sort_complex(np.linalg.eigvals(model.W_hh)), atol=1e-5
        )

    # again: nothing to do, the failed run is left alone, no file is rewritten
    before = snapshot(results)
    sweep.run_sweep(config, client=client, progress=False)
    assert snapshot(results) == before
    assert "--retry-failed" in capsys.readouterr().err

    # without the injected failure and with retry_failed, the failed run runs; the others stay untouched
    fixed = sweep.load_config(write_config(tmp_path, save_weights=True))
    status = sweep.run_sweep(fixed, client=client, retry_failed=True, progress=False)
    assert status["total"]["ok"] == 4
    after = snapshot(results)
    assert len(after) == 4
    retried = f"{runs[1].run_id}.json"
    assert {k: v for k, v in after.items() if k != retried} == {
        k: v for k, v in before.items() if k != retried
    }
    assert json.loads(after[retried][1])["status"] == "ok"

    # status and table on the command line
    assert sweep.main(["status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "s2d2(3,0,0)      4      4       0        0" in out
    assert sweep.main(["table", str(results)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| task | H=8 L2=0 | H=8 L2=0.01 |") and "| s2d2(3,0,0) |" in out


def test_a_killed_sweep_resumes_without_losing_or_duplicating_runs(tmp_path):
    # runs of about a second each on one worker, so the kill lands between records
    path = write_config(
        tmp_path, overrides={"max_steps": 200, "horizons": [100], "check_every": 1000}
    )
    config = sweep.load_config(path)
    results = config.default_results_dir
    command = [sys.executable, "-m", "emtlib.sweep", "run", str(path), "--no-progress"]
    proc = subprocess.Popen(
        command + ["--workers", "1"],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 40
        while not list(results.glob("*.json")):
            assert proc.poll() is None, f"the sweep exited early with {proc.returncode}"
            assert time.monotonic() < deadline, "no record within 40 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the client, its LocalCluster and every worker
        proc.wait()
    first = snapshot(results)
    assert 1 <= len(first) < 4, f"the kill should land mid-sweep, found {len(first)} records"

    done = subprocess.run(
        command + ["--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    records = sweep.read_records(results)
    assert sorted(records) == sorted(r.run_id for r in config.runs())
    assert sorted(p.name for p in results.glob("*.json")) == sorted(f"{r}.json" for r in records), (
        "duplicates"
    )
    assert all(r["status"] == "ok" for r in records.values())
    after = snapshot(results)
    assert {name: after[name] for name in first} == first, (
        "records written before the kill were changed"
    )
    assert "4      4       0        0" in done.stdout


# --------------------------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------------------------
def make_record(task, hidden, l2, seed, threshold, error, accuracy, status="ok", schedule="paper"):
    numbers_ = (
        task
        if isinstance(task, tuple)
        else (PAPER_TASKS[task].s, PAPER_TASKS[task].d, *PAPER_TASKS[task].task_id)
    )
    config = {
        "task": task if isinstance(task, str) else "custom",
        "s": numbers_[0],
        "d": numbers_[1],
        "task_id": list(numbers_[2:]),
        "hidden": hidden,
        "l2": l2,
        "seed": seed,
        "threshold": threshold,
        "schedule": schedule,
        "overrides": {},
        "test": dict(sweep.DEFAULT_TEST),
    }
    metrics = None if status != "ok" else {"accuracy": accuracy, "spectral_error": error}
    return {"run_id": sweep.run_id(config), "status": status, "config": config, "metrics": metrics}


HAND = [
    # T2, H=8, L2=0: every seed defined (min over thresholds), max accuracy over thresholds
    ("T2", 8, 0.0, 0, 0.9, 0.03, 0.90),
    ("T2", 8, 0.0, 0, 0.96, 0.01, 0.95),
    ("T2", 8, 0.0, 1, 0.9, None, 0.99),
    ("T2", 8, 0.0, 1, 0.96, 0.02, 0.80),
    ("T2", 8, 0.0, 2, 0.9, 0.05, 0.70),
    ("T2", 8, 0.0, 2, 0.96, 0.04, 0.75),
    # T2, H=8, L2=0.01: undefined everywhere
    ("T2", 8, 0.01, 0, 0.9, None, 0.50),
    ("T2", 8, 0.01, 0, 0.96, None, 0.52),
    ("T2", 8, 0.01, 1, 0.9, None, 0.49),
    ("T2", 8, 0.01, 1, 0.96, None, 0.51),
    # T1, H=16, L2=0: defined for one seed of two
    ("T1", 16, 0.0, 0, 0.9, None, 0.97),
    ("T1", 16, 0.0, 0, 0.96, None, 0.93),
    ("T1", 16, 0.0, 1, 0.9, 0.002, 1.00),
    ("T1", 16, 0.0, 1, 0.96, 0.004, 0.99),
]


def hand_records():
    records = [make_record(*row) for row in HAND]
    records.append(make_record("T1", 16, 0.0, 2, 0.9, None, None, status="failed"))
    return records


def test_table1_matches_a_hand_computation():
    table = table1(hand_records())
    assert table.tasks == ("T1", "T2")  # paper order, whatever the order of the records
    assert table.columns == ((8, 0.0), (8, 0.01), (16, 0.0))
    assert table.n_failed == 1

    full = table.cell("T2", 8, 0)
    best_errors, best_accs = [0.01, 0.02, 0.04], [0.95, 0.99, 0.75]
    assert [s for s, _, _ in full.per_seed] == [0, 1, 2]
    assert [e for _, e, _ in full.per_seed] == best_errors
    assert [a for _, _, a in full.per_seed] == best_accs
    assert full.error_mean == pytest.approx(0.07 / 3)
    assert full.error_std == pytest.approx(statistics.stdev(best_errors))
    assert (full.error_min, full.error_max) == (0.01, 0.04)
    assert full.accuracy_mean == pytest.approx(2.69 / 3)
    assert full.accuracy_std == pytest.approx(statistics.stdev(best_accs))
    assert (full.n_seeds, full.n_error, full.n_runs, full.defined) == (3, 3, 6, "all")

    none = table.cell("T2", 8, 0.01)
    assert none.error_mean is None and none.n_error == 0 and none.defined == "none"
    assert none.accuracy_mean == pytest.approx((0.52 + 0.51) / 2)

    some = table.cell("T1", 16, 0.0)
    assert some.defined == "some" and (some.n_error, some.n_seeds) == (1, 2)
    assert some.error_mean == pytest.approx(0.002) and some.error_std is None
    assert some.accuracy_mean == pytest.approx((0.97 + 1.00) / 2)
    assert some.n_failed == 1
    assert table.cell("T1", 8, 0.0) is None

    md = to_markdown(table)
    lines = md.splitlines()
    assert lines[0] == "| task | H=8 L2=0 | H=8 L2=0.01 | H=16 L2=0 |"
    t1_acc, t1_sd = (0.97 + 1.00) / 2, statistics.stdev([0.97, 1.00])
    assert (
        lines[2]
        == f"| T1 | no runs | no runs | 0.0020* [1/2] ({t1_acc:.2f} ± {t1_sd:.2f}) n=2 (1 failed) |"
    )
    err, sd = 0.07 / 3, statistics.stdev(best_errors)
    acc, asd = 2.69 / 3, statistics.stdev(best_accs)
    assert (
        lines[3]
        == f"| T2 | {err:.4f} ± {sd:.4f} ({acc:.2f} ± {asd:.2f}) n=3 | — (0.52 ± 0.01) n=2 | no runs |"
    )
    assert "sample standard deviation" in md and "1 failed run(s) left out" in md
    tex = to_latex(table)
    assert "\\toprule" in tex and "--- (0.52$\\pm$0.01)" in tex and "$^{*}$ [1/2]" in tex


def test_table1_same_seed_count_is_stated_once():
    rows = [r for r in HAND if r[0] == "T2" and r[3] < 2]
    md = to_markdown(table1([make_record(*row) for row in rows]))
    assert "n = 2 seeds per cell." in md and " n=2 |" not in md


def test_table1_refuses_mixed_protocols_and_duplicates():
    records = hand_records()
    with pytest.raises(ValueError, match="different protocols"):
        table1(records + [make_record("T3", 8, 0.0, 0, 0.9, 0.1, 0.9, schedule="fast")])
    with pytest.raises(ValueError, match="appears in two records"):
        table1(records + [make_record(*HAND[0])])
    with pytest.raises(ValueError, match="incomplete config"):
        table1([{"run_id": "x", "config": {"s": 2}}])


# --------------------------------------------------------------------------------------------
# Place in the library
# --------------------------------------------------------------------------------------------
def test_no_lower_module_imports_sweep():
    for path in (ROOT / "emtlib").glob("*.py"):
        if path.name in (
            "sweep.py",
            "plots.py",
            "widgets.py",
        ):  # the top layer (chapters' figures) may use it
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n == "sweep" or n.endswith(".sweep") for n in names), (
                f"{path.name} imports sweep"
            )
    source = (ROOT / "emtlib" / "sweep.py").read_text(encoding="utf-8")
    assert (
        "Universality" in source
        and "Running the experiments at scale" in source
        and "SLURMCluster" in source
    )


# --------------------------------------------------------------------------------------------
# Packing records as package data
# --------------------------------------------------------------------------------------------
def test_pack_and_shipped_round_trip_and_refuse_changed_files(tmp_path):
    config = sweep.load_config(write_config(tmp_path))
    results = tmp_path / "results"
    results.mkdir()
    runs = config.runs()
    for i, run in enumerate(runs[:3]):  # three of the four runs have records, one failed
        record = {
            "run_id": run.run_id,
            "status": "ok" if i else "failed",
            "config": run.config(),
            "metrics": None,
            "environment": {"machine": "test", "torch": "x"},
            "timings": {"total_s": 1.5},
        }
        (results / f"{run.run_id}.json").write_text(json.dumps(record))
    (results / "0123456789abcdef.json").write_text(
        json.dumps({"run_id": "0123456789abcdef", "status": "ok"})
    )
    out = tmp_path / "data"
    entry = sweep.pack(config, results, out)
    assert (entry["runs"], entry["ok"], entry["failed"], entry["pending"]) == (4, 2, 1, 1)
    assert entry["train_time_s"] == 4.5 and entry["machines"] == ["test, torch x"]
    lines = (out / "tiny-records.jsonl").read_text().splitlines()
    assert len(lines) == 3  # the record outside the grid is not packed
    assert (out / "tiny.yaml").read_bytes() == config.path.read_bytes()  # the config travels too
    loaded_config, records, loaded_entry = sweep.shipped("tiny", root=out)
    assert set(records) == {r.run_id for r in runs[:3]} and loaded_entry == entry
    assert loaded_config.runs() == config.runs()
    with pytest.raises(ValueError, match="no shipped sweep named"):
        sweep.shipped("other", root=out)
    (out / "tiny-records.jsonl").write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(sweep.ChecksumError, match="sha256"):
        sweep.shipped("tiny", root=out)
    (out / "tiny-records.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match="is missing"):
        sweep.shipped("tiny", root=out)


def test_the_shipped_grid_verifies_and_belongs_to_its_config():
    config, records, entry = sweep.shipped("table1")
    grid = {run.run_id: run for run in config.runs()}
    assert set(records) <= set(grid) and len(records) == entry["ok"] + entry["failed"]
    assert entry["runs"] == len(grid) == 144 and config.schedule == "paper"
    for rid, record in records.items():
        assert record["config"] == grid[rid].config()
        if record["status"] == "ok":
            assert len(record["eigenvalues"]["real"]) == record["config"]["hidden"]
            assert 0.0 <= record["metrics"]["accuracy"] <= 1.0

"""Grid sweeps on Dask and the paper's Table 1 (chapter "Universality"; appendix page "Running the
experiments at scale").

A sweep is a grid of training runs described by a small YAML file::

    # table1.yaml
    tasks: [T1, T2, T3, T4]           # keys of emtlib.tasks.PAPER_TASKS, or [s, d, t1, t2, t3]
    hidden: [64, 128]
    l2: [0, 1e-3, 0.1]
    seeds: 3                          # a count (seeds 0, 1, 2) or a list of seeds
    thresholds: [0.9, 0.96, 0.98]     # curriculum thresholds (Schedule.threshold), one run each
    schedule: paper                   # a name in emtlib.train.SCHEDULES
    overrides: {}                     # optional: single Schedule fields, e.g. {max_steps: 500}
    test: {horizon: 200, batches: 10, batch_size: 64, seed: 20231003}   # optional; the defaults
    save_weights: false               # optional: also save every model (emtlib.rnn.save_model)
    description: Table 1 of the paper # optional free text

Every grid point (task x hidden x l2 x seed x threshold) is one *run*: :func:`run_one` trains the
model with :func:`emtlib.train.train_rnn`, measures the sign accuracy at the test horizon with
:func:`emtlib.train.evaluate` and the spectral error with :func:`emtlib.spectra.spectral_error`,
and writes ONE JSON record ``<run id>.json`` into the results folder, atomically (a temporary file
and a rename, :func:`emtlib.rnn.atomic_write_bytes`).  The run id is a hash of what determines the
result (task, hidden, l2, seed, threshold, schedule name, overrides, test settings), so names never
collide and a re-run finds its record.  A run that raises is recorded with ``status: "failed"``,
the error and its traceback; the other runs go on.  The worker writes the record itself, so a
client that is killed loses nothing that finished; running the same command again skips every run
with an ``ok`` record (and failed ones too, unless ``--retry-failed``), so a killed sweep resumes
with nothing lost and nothing duplicated.

The command line::

    python -m emtlib.sweep run CONFIG [--results DIR] [--workers N] [--scheduler ADDRESS]
                                      [--retry-failed] [--threads T] [--device D] [--no-progress]
    python -m emtlib.sweep status CONFIG [--results DIR] [--verbose]
    python -m emtlib.sweep table [RESULTS | --shipped NAME] [--format markdown|latex]
    python -m emtlib.sweep pack CONFIG [--results DIR] [--out DIR]

The results folder defaults to ``<config stem>-results/`` next to the config; ``table`` takes that
folder (or the config file).  ``run`` starts a ``LocalCluster(n_workers=N, threads_per_worker=1,
processes=True)`` on this machine (``N`` defaults to the number of cores); with ``--scheduler`` it
connects to any running Dask cluster instead.  Each worker trains with ``torch.set_num_threads(T)``
(default 1: one run per core is the fastest use of a machine for these small models).

On a SLURM cluster use `dask-jobqueue <https://jobqueue.dask.org>`_ (``pip install dask-jobqueue``)
and hand this module the scheduler's address; the results folder must be on a file system that the
workers share with the client (the workers write the records)::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="04:00:00")
    cluster.scale(jobs=64)
    # then, in the same Python session:  run_sweep(load_config("table1.yaml"), client=Client(cluster))
    # or from a shell:  python -m emtlib.sweep run table1.yaml --scheduler <cluster.scheduler_address>

or, inside one batch job, start ``dask scheduler --scheduler-file sched.json`` and ``srun dask
worker --scheduler-file sched.json --nthreads 1`` and pass ``--scheduler`` the address recorded in
``sched.json`` (or the path of ``sched.json`` itself).  Every worker needs emtlib installed (the
same version as the client).  If the client dies, runs already started on a remote cluster may
still finish and write their records; the next ``run`` skips them.

``python -m emtlib.sweep table`` prints Table 1 of the paper from the records: rows are tasks,
columns hidden size x L2, cells "spectral error (accuracy)", aggregated as the paper does (see
:func:`table1`).

``python -m emtlib.sweep pack CONFIG --results DIR`` writes the grid's records into one
``<config stem>-records.jsonl`` next to the config and enters both files' sha256 in the
``manifest.json`` there; that is how the book's own grid ships as package data
(``emtlib/sweep_data/table1.yaml``).  :func:`shipped` loads it after checking the checksums, and
``python -m emtlib.sweep table --shipped table1`` prints its table.

For testing the failure path only, a config may list ``fail_runs``: grid indices (positions in
:meth:`SweepConfig.runs`) or run ids; those runs raise :class:`InjectedFailure` in the worker
instead of training.  ``fail_runs`` is not part of the run id, so removing it and running with
``--retry-failed`` retries them.

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.rnn`, :mod:`emtlib.train` and
:mod:`emtlib.spectra` (and :mod:`dask.distributed` when it runs a sweep); none of them imports it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import numbers
import os
import platform
import re
import socket
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from . import __version__
from .tasks import PAPER_TASKS, Task

__all__ = [
    "DEFAULT_TEST",
    "RECORD_FORMAT",
    "Cell",
    "ChecksumError",
    "InjectedFailure",
    "RunSpec",
    "SweepConfig",
    "Table1",
    "load_config",
    "main",
    "pack",
    "parse_config",
    "read_records",
    "record_path",
    "run_id",
    "run_one",
    "run_sweep",
    "shipped",
    "sweep_status",
    "table1",
    "to_latex",
    "to_markdown",
]

RECORD_FORMAT = 1
#: The test measurement of every run unless the config says otherwise: horizon 200, 10 batches of
#: 64 (the paper's test), with the seed that :mod:`emtlib.zoo` uses for horizon 200.
DEFAULT_TEST = {"horizon": 200, "batches": 10, "batch_size": 64, "seed": 20_231_003}
_REQUIRED = ("tasks", "hidden", "l2", "seeds", "thresholds", "schedule")
_OPTIONAL = ("overrides", "test", "save_weights", "fail_runs", "description")
_RECORD_NAME = re.compile(r"^[0-9a-f]{16}\.json$")


class InjectedFailure(RuntimeError):
    """Raised by :func:`run_one` for a run listed in the config's ``fail_runs`` (testing only)."""


# --------------------------------------------------------------------------------------------
# YAML: read floats as YAML 1.2 does
# --------------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, which reads ``1e-3`` as a *string* (it wants ``1.0e-3``).  A sweep
    file naturally says ``l2: [0, 1e-3]``, so this loader also reads exponent floats as numbers."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------
def _where(source: str, key: str) -> str:
    return f"{source}: {key!r}"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _non_empty_list(data: dict, key: str, source: str, what: str) -> list:
    value = data[key]
    if not isinstance(value, list):
        raise ValueError(f"{_where(source, key)} must be a non-empty list of {what}, got {value!r}")  # noqa: TRY004
    if not value:
        raise ValueError(
            f"{_where(source, key)} must be a non-empty list of {what}, got an empty list"
        )
    return value


def _unique(values: list, key: str, source: str, norm=lambda v: v) -> None:
    seen = set()
    for v in values:
        if norm(v) in seen:
            raise ValueError(
                f"{_where(source, key)} lists {v!r} twice (each grid point must be run once)"
            )
        seen.add(norm(v))


def _task(value, source: str, index: int) -> tuple[str, tuple[int, int, int, int, int]]:
    """A task entry as (label, (s, d, t1, t2, t3))."""
    where = f"{source}: 'tasks'[{index}]"
    if isinstance(value, str):
        if value not in PAPER_TASKS:
            raise ValueError(
                f"{where} must be one of {sorted(PAPER_TASKS)} or [s, d, t1, t2, t3], got {value!r}"
            )
        task = PAPER_TASKS[value]
        return value, (task.s, task.d, *task.task_id)
    if (
        not isinstance(value, list)
        or len(value) != 5
        or not all(_is_int(v) and v >= 0 for v in value)
    ):
        raise ValueError(
            f"{where} must be one of {sorted(PAPER_TASKS)} or a list of five non-negative integers "
            f"[s, d, t1, t2, t3], got {value!r}"
        )
    numbers_ = tuple(int(v) for v in value)
    try:
        task = Task(numbers_[0], numbers_[1], numbers_[2:])
    except ValueError as err:
        raise ValueError(f"{where} is not a valid task: {err}") from None
    return _task_label(task), numbers_


def _task_label(task: Task) -> str:
    for name, paper in PAPER_TASKS.items():
        if paper == task:
            return name
    t1, t2, t3 = task.task_id
    return f"s{task.s}d{task.d}({t1},{t2},{t3})"


@dataclass(frozen=True)
class RunSpec:
    """One grid point of a sweep: everything :func:`run_one` needs (chapter "Universality").

    ``config()`` is the part that determines the result; :attr:`run_id` hashes it.  ``save_weights``,
    ``inject_failure``, ``threads`` and ``device`` change how the run is carried out, not what it
    measures, so they are not part of the id (the record names the device it ran on).
    """

    task: str
    task_numbers: tuple  # (s, d, t1, t2, t3)
    hidden: int
    l2: float
    seed: int
    threshold: float
    schedule: str
    overrides: dict = field(default_factory=dict)
    test: dict = field(default_factory=lambda: dict(DEFAULT_TEST))
    save_weights: bool = False
    inject_failure: bool = False
    threads: int = 1
    device: str = "cpu"

    @property
    def task_object(self) -> Task:
        s, d, *task_id = self.task_numbers
        return Task(s, d, tuple(task_id))

    def config(self) -> dict:
        """The JSON config of this run (what the run id hashes, plus the task's label)."""
        s, d, t1, t2, t3 = self.task_numbers
        return {
            "task": self.task,
            "s": s,
            "d": d,
            "task_id": [t1, t2, t3],
            "hidden": self.hidden,
            "l2": self.l2,
            "seed": self.seed,
            "threshold": self.threshold,
            "schedule": self.schedule,
            "overrides": dict(self.overrides),
            "test": dict(self.test),
        }

    @property
    def run_id(self) -> str:
        return run_id(self.config())

    def schedule_fields(self) -> dict:
        """Today's hyper-parameters of this run (schedule, overrides, threshold) as JSON values."""
        from .train import SCHEDULES

        sched = replace(
            SCHEDULES[self.schedule], **_frozen(self.overrides), threshold=self.threshold
        )
        return json.loads(json.dumps(asdict(sched)))


def run_id(config: dict) -> str:
    """The stable id of a run: 16 hex digits of the sha256 of its config (the task's label left
    out, so ``T1`` and ``[8, 8, 255, 0, 0]`` are the same run)."""
    keyed = {k: v for k, v in config.items() if k != "task"}
    keyed["l2"] = float(keyed["l2"])
    keyed["threshold"] = float(keyed["threshold"])
    text = json.dumps(keyed, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _frozen(overrides: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep definition (see the module docstring for the YAML keys)."""

    tasks: tuple  # ((label, (s, d, t1, t2, t3)), ...)
    hidden: tuple
    l2: tuple
    seeds: tuple
    thresholds: tuple
    schedule: str
    overrides: dict = field(default_factory=dict)
    test: dict = field(default_factory=lambda: dict(DEFAULT_TEST))
    save_weights: bool = False
    fail_runs: tuple = ()
    description: str = ""
    path: Path | None = None

    def runs(self, threads: int = 1, device: str = "cpu") -> list[RunSpec]:
        """Every grid point, in the order tasks x hidden x l2 x seeds x thresholds (the order that
        ``fail_runs`` indices refer to)."""
        runs = []
        for label, numbers_ in self.tasks:
            for hidden in self.hidden:
                for l2 in self.l2:
                    for seed in self.seeds:
                        for threshold in self.thresholds:
                            runs.append(
                                RunSpec(
                                    label,
                                    numbers_,
                                    hidden,
                                    l2,
                                    seed,
                                    threshold,
                                    self.schedule,
                                    dict(self.overrides),
                                    dict(self.test),
                                    self.save_weights,
                                    threads=threads,
                                    device=device,
                                )
                            )
        fail = set(self.fail_runs)
        return [
            replace(r, inject_failure=True) if (i in fail or r.run_id in fail) else r
            for i, r in enumerate(runs)
        ]

    @property
    def default_results_dir(self) -> Path:
        if self.path is None:
            raise ValueError(
                "this config was not read from a file; give the results folder explicitly"
            )
        return self.path.with_name(f"{self.path.stem}-results")


def load_config(path) -> SweepConfig:
    """Read and validate a sweep YAML file; ValueError naming the bad key on any problem."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep config {path} does not exist")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    return replace(parse_config(data, source=str(path)), path=path.resolve())


def parse_config(data, source: str = "sweep config") -> SweepConfig:
    """Validate a sweep definition given as a dict (what the YAML file holds)."""
    from .train import SCHEDULES, Schedule

    if not isinstance(data, dict):
        raise ValueError(  # noqa: TRY004
            f"{source}: must be a mapping of keys {list(_REQUIRED)}, got {type(data).__name__}"
        )
    unknown = [k for k in data if k not in _REQUIRED + _OPTIONAL]
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {unknown}; allowed: {list(_REQUIRED + _OPTIONAL)}"
        )
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ValueError(f"{source}: missing required key(s) {missing}")

    tasks = [
        _task(v, source, i) for i, v in enumerate(_non_empty_list(data, "tasks", source, "tasks"))
    ]
    _unique(tasks, "tasks", source, norm=lambda t: t[1])

    hidden = _non_empty_list(data, "hidden", source, "positive integers")
    for v in hidden:
        if not _is_int(v) or v <= 0:
            raise ValueError(
                f"{_where(source, 'hidden')} must be a non-empty list of positive integers, got {v!r} in it"
            )
    _unique(hidden, "hidden", source)

    l2 = _non_empty_list(data, "l2", source, "non-negative numbers")
    for v in l2:
        if not _is_real(v) or v < 0:
            raise ValueError(
                f"{_where(source, 'l2')} must be a non-empty list of non-negative numbers, got {v!r} in it"
            )
    l2 = [float(v) for v in l2]
    _unique(l2, "l2", source)

    seeds = data["seeds"]
    if _is_int(seeds):
        if seeds <= 0:
            raise ValueError(
                f"{_where(source, 'seeds')} must be a positive count or a non-empty list of seeds, got {seeds}"
            )
        seeds = list(range(int(seeds)))
    else:
        seeds = _non_empty_list(
            data, "seeds", source, "non-negative integers (or a positive count)"
        )
        for v in seeds:
            if not _is_int(v) or v < 0:
                raise ValueError(
                    f"{_where(source, 'seeds')} must hold non-negative integers, got {v!r} in it"
                )
        _unique(seeds, "seeds", source)

    thresholds = _non_empty_list(data, "thresholds", source, "numbers in (0, 1]")
    for v in thresholds:
        if not _is_real(v) or not 0 < v <= 1:
            raise ValueError(
                f"{_where(source, 'thresholds')} must hold numbers in (0, 1], got {v!r} in it"
            )
    thresholds = [float(v) for v in thresholds]
    _unique(thresholds, "thresholds", source)

    schedule = data["schedule"]
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        raise ValueError(
            f"{_where(source, 'schedule')} must be one of {sorted(SCHEDULES)}, got {schedule!r}"
        )

    overrides = data.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ValueError(  # noqa: TRY004
            f"{_where(source, 'overrides')} must be a mapping of Schedule fields, got {overrides!r}"
        )
    bad = [k for k in overrides if k not in Schedule.__dataclass_fields__]
    if bad:
        raise ValueError(
            f"{_where(source, 'overrides')} names unknown Schedule field(s) {bad}; "
            f"known: {sorted(Schedule.__dataclass_fields__)}"
        )
    if "threshold" in overrides:
        raise ValueError(
            f"{_where(source, 'overrides')} may not set 'threshold': list it under 'thresholds'"
        )
    try:
        json.dumps(overrides, allow_nan=False)
        for threshold in thresholds:
            replace(SCHEDULES[schedule], **_frozen(overrides), threshold=threshold)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{_where(source, 'overrides')} is not valid: {err}") from None

    test = data.get("test") or {}
    if not isinstance(test, dict):
        raise ValueError(  # noqa: TRY004
            f"{_where(source, 'test')} must be a mapping with keys {sorted(DEFAULT_TEST)}, got {test!r}"
        )
    bad = [k for k in test if k not in DEFAULT_TEST]
    if bad:
        raise ValueError(
            f"{_where(source, 'test')} has unknown key(s) {bad}; allowed: {sorted(DEFAULT_TEST)}"
        )
    test = {**DEFAULT_TEST, **test}
    for key, value in test.items():
        minimum = 0 if key == "seed" else 1
        if not _is_int(value) or value < minimum:
            kind = "a non-negative" if minimum == 0 else "a positive"
            raise ValueError(
                f"{_where(source, 'test')}: {key!r} must be {kind} integer, got {value!r}"
            )
    test = {k: int(v) for k, v in test.items()}

    save_weights = data.get("save_weights", False)
    if not isinstance(save_weights, bool):
        raise ValueError(  # noqa: TRY004
            f"{_where(source, 'save_weights')} must be true or false, got {save_weights!r}"
        )

    fail_runs = data.get("fail_runs") or []
    if not isinstance(fail_runs, list) or not all(
        (_is_int(v) and v >= 0) or (isinstance(v, str) and re.fullmatch(r"[0-9a-f]{16}", v))
        for v in fail_runs
    ):
        raise ValueError(
            f"{_where(source, 'fail_runs')} (for testing the failure path) must be a list of grid "
            f"indices or 16-digit run ids, got {fail_runs!r}"
        )

    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{_where(source, 'description')} must be a string, got {description!r}")  # noqa: TRY004

    config = SweepConfig(
        tuple(tasks),
        tuple(int(h) for h in hidden),
        tuple(l2),
        tuple(int(s) for s in seeds),
        tuple(thresholds),
        schedule,
        dict(overrides),
        test,
        save_weights,
        tuple(fail_runs),
        description,
    )
    n = len(config.runs())
    out_of_range = [i for i in fail_runs if _is_int(i) and i >= n]
    if out_of_range:
        raise ValueError(
            f"{_where(source, 'fail_runs')} indices {out_of_range} are outside the grid of {n} runs"
        )
    return config


# --------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _environment() -> dict:
    import torch

    env = {
        "emtlib": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "pid": os.getpid(),
        "torch_threads": torch.get_num_threads(),
    }
    try:
        import dask
        from distributed import get_worker

        env["dask"] = dask.__version__
        env["worker"] = get_worker().address
    except (ImportError, ValueError):
        pass
    return env


def _write_json(path: Path, data: dict) -> None:
    from .rnn import atomic_write_bytes

    atomic_write_bytes(
        path, (json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    )


def record_path(results_dir, rid: str) -> Path:
    return Path(results_dir) / f"{rid}.json"


def run_one(spec: RunSpec, results_dir) -> dict:
    """Train, test and measure one grid point; write its record; return a short summary.

    Runs in a Dask worker (or anywhere).  The record ``<results_dir>/<run id>.json`` is written
    atomically, whether the run succeeds (``status: "ok"``) or raises (``status: "failed"`` with the
    error and traceback); exceptions never leave this function.  With ``spec.save_weights`` the
    model is saved as ``weights/<run id>.pt`` + ``.json`` next to the records.  Chapter
    "Universality"; appendix "Running the experiments at scale".
    """
    import torch

    from .rnn import save_model
    from .spectra import spectral_error
    from .train import evaluate, train_rnn

    if torch.get_num_threads() != spec.threads:
        torch.set_num_threads(spec.threads)
    results_dir = Path(results_dir)
    rid = spec.run_id
    record = {
        "format": RECORD_FORMAT,
        "run_id": rid,
        "status": "running",
        "config": spec.config(),
        "metrics": None,
        "hyperparameters": None,
        "timings": {"started": _now()},
        "environment": {**_environment(), "device": spec.device},
        "error": None,
        "weights": None,
    }
    start = time.perf_counter()
    try:
        if spec.inject_failure:
            raise InjectedFailure(
                f"run {rid} is listed in the config's fail_runs (testing the failure path)"
            )
        task = spec.task_object
        model = train_rnn(
            task,
            hidden=spec.hidden,
            seed=spec.seed,
            l2=spec.l2,
            schedule=spec.schedule,
            progress=False,
            device=spec.device,
            **_frozen(spec.overrides),
            threshold=spec.threshold,
        )
        trained = time.perf_counter()
        test = spec.test
        accuracy = evaluate(
            model,
            task,
            test["horizon"],
            test["batches"],
            seed=test["seed"],
            batch_size=test["batch_size"],
        )
        evaluated = time.perf_counter()
        comparison = spectral_error(model, task)
        measured = time.perf_counter()
        meta = model.metadata
        record["metrics"] = {
            "accuracy": accuracy,
            "test_horizon": test["horizon"],
            "spectral_error": comparison.error,
            "n_model": comparison.n_model,
            "n_ideal": comparison.n_ideal,
            "steps": meta["steps"],
            "solved_step": meta["solved_step"],
            "final_horizon_reached": meta["final_horizon_reached"],
        }
        # the whole spectrum of W (6 significant digits), so spectra can be drawn without weights
        eig = np.linalg.eigvals(model.W_hh)
        record["eigenvalues"] = {
            "real": [float(f"{x:.6g}") for x in eig.real],
            "imag": [float(f"{x:.6g}") for x in eig.imag],
        }
        record["hyperparameters"] = meta["hyperparameters"]
        record["timings"].update(
            train_s=round(trained - start, 3),
            evaluate_s=round(evaluated - trained, 3),
            spectra_s=round(measured - evaluated, 3),
        )
        if spec.save_weights:
            base = results_dir / "weights" / rid
            save_model(model, base, {**meta, "run_id": rid, "metrics": record["metrics"]})
            record["weights"] = f"weights/{rid}.pt"
        record["status"] = "ok"
    except Exception as err:  # noqa: BLE001 -- every failure becomes a record, the sweep goes on
        record["status"] = "failed"
        record["metrics"] = None
        record["error"] = {
            "type": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exc(),
        }
    record["timings"].update(total_s=round(time.perf_counter() - start, 3), finished=_now())
    _write_json(record_path(results_dir, rid), record)
    return {
        "run_id": rid,
        "status": record["status"],
        "error": (record["error"] or {}).get("message"),
    }


# --------------------------------------------------------------------------------------------
# The results folder
# --------------------------------------------------------------------------------------------
def read_records(results_dir) -> dict[str, dict]:
    """Every record in ``results_dir`` as ``{run id: record}`` (temporary files of interrupted
    writes and the ``weights/`` folder are ignored; a missing folder holds no records)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        return {}
    records = {}
    for path in sorted(results_dir.iterdir()):
        if not _RECORD_NAME.match(path.name) or not path.is_file():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(
                f"{path} is not a valid result record ({err}); delete it to re-run that run"
            ) from None
        if not isinstance(record, dict) or record.get("run_id") != path.stem:
            raise ValueError(
                f"{path} is not a result record of this folder (its run_id does not match its name)"
            )
        records[path.stem] = record
    return records


def _stale(recorded, today: dict) -> bool:
    """True when a record's hyper-parameters differ from today's on a field both know (a field added
    to :class:`~emtlib.train.Schedule` later, with its default, does not make old records stale)."""
    if not isinstance(recorded, dict):
        return True
    return any(recorded[k] != today[k] for k in recorded.keys() & today.keys())


def sweep_status(config: SweepConfig, results_dir=None) -> dict:
    """Counts of ok / failed / pending runs per task, plus the run ids of each group.

    ``stale`` counts ok runs whose recorded hyper-parameters differ from what the schedule gives
    today (the schedule was changed after they ran); ``extra`` counts records of this folder that
    are not in the grid.
    """
    results_dir = Path(results_dir) if results_dir is not None else config.default_results_dir
    records = read_records(results_dir)
    per_task = {
        label: {"runs": 0, "ok": 0, "failed": 0, "pending": 0, "stale": 0}
        for label, _ in config.tasks
    }
    ids = {"ok": [], "failed": [], "pending": []}
    grid = set()
    for spec in config.runs():
        rid = spec.run_id
        grid.add(rid)
        row = per_task[spec.task]
        row["runs"] += 1
        record = records.get(rid)
        state = (
            "pending" if record is None else ("ok" if record.get("status") == "ok" else "failed")
        )
        row[state] += 1
        ids[state].append(rid)
        if state == "ok" and _stale(record.get("hyperparameters"), spec.schedule_fields()):
            row["stale"] += 1
    total = {
        key: sum(row[key] for row in per_task.values())
        for key in ("runs", "ok", "failed", "pending", "stale")
    }
    return {
        "results": str(results_dir),
        "per_task": per_task,
        "total": total,
        "ids": ids,
        "extra": len(set(records) - grid),
    }


# --------------------------------------------------------------------------------------------
# Shipped results: the records of a sweep as package data, with a manifest
# --------------------------------------------------------------------------------------------
SHIPPED_DIR = Path(__file__).with_name("sweep_data")


class ChecksumError(ValueError):
    """A shipped results file does not match the sha256 its manifest records."""


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pack(config: SweepConfig, results_dir=None, out_dir=None) -> dict:
    """Write the records of ``config``'s grid found in ``results_dir`` into one JSON-lines file
    ``<config stem>-records.jsonl`` in ``out_dir`` (default: next to the config) and enter it, with
    the config's and the file's sha256, the counts and the machines, in ``manifest.json`` there.
    Both files are written atomically.  Returns the manifest entry.  Chapter "Universality".
    """
    from .rnn import atomic_write_bytes

    if not isinstance(config, SweepConfig) or config.path is None:
        raise TypeError("config must be a SweepConfig read from a file (see load_config)")
    results_dir = Path(results_dir) if results_dir is not None else config.default_results_dir
    out_dir = Path(out_dir) if out_dir is not None else config.path.parent
    status = sweep_status(config, results_dir)
    records = read_records(results_dir)
    keep = sorted(status["ids"]["ok"] + status["ids"]["failed"])
    if not keep:
        raise ValueError(f"{results_dir} holds no record of this grid: nothing to pack")
    name = config.path.stem
    try:
        shown = config.path.relative_to(Path.cwd())
    except ValueError:
        shown = config.path
    out_dir.mkdir(parents=True, exist_ok=True)
    records_path = out_dir / f"{name}-records.jsonl"
    lines = [
        json.dumps(records[rid], sort_keys=True, separators=(",", ":"), allow_nan=False)
        for rid in keep
    ]
    atomic_write_bytes(records_path, ("\n".join(lines) + "\n").encode())
    chosen = [records[rid] for rid in keep]
    entry = {
        "config": config.path.name,
        "config_sha256": _sha256_file(config.path),
        "records": records_path.name,
        "records_sha256": _sha256_file(records_path),
        "command": f"python -m emtlib.sweep run {shown} --results <folder>",
        "pack_command": f"python -m emtlib.sweep pack {shown} --results <folder>",
        "seeds": list(config.seeds),
        **{key: status["total"][key] for key in ("runs", "ok", "failed", "pending")},
        "train_time_s": round(sum((r.get("timings") or {}).get("total_s", 0.0) for r in chosen), 1),
        "machines": sorted(
            {
                f"{r['environment'].get('machine', '?')}, torch {r['environment'].get('torch', '?')}"
                for r in chosen
            }
        ),
        "packed": _now(),
    }
    if out_dir.resolve() != config.path.parent:  # the config travels with its records
        atomic_write_bytes(out_dir / config.path.name, config.path.read_bytes())
    manifest_path = out_dir / "manifest.json"
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    )
    manifest[name] = entry
    _write_json(manifest_path, manifest)
    return entry


def shipped(name: str = "table1", root=None) -> tuple[SweepConfig, dict[str, dict], dict]:
    """The shipped sweep ``name``: ``(config, {run id: record}, manifest entry)``, after checking
    both files against the sha256 in the manifest (:class:`ChecksumError` if either differs).
    Chapter "Universality"."""
    root = Path(root) if root is not None else SHIPPED_DIR
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no shipped sweeps: {manifest_path} is missing")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if name not in manifest:
        raise ValueError(f"no shipped sweep named {name!r}; shipped: {sorted(manifest)}")
    entry = manifest[name]
    for key in ("config", "records"):
        path = root / entry[key]
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} (listed in {manifest_path}) is missing; rebuild it with: "
                f"{entry['command']} && {entry['pack_command']}"
            )
        if _sha256_file(path) != entry[f"{key}_sha256"]:
            raise ChecksumError(
                f"{path} does not match the sha256 in {manifest_path}; the file was changed "
                f"or damaged. Rebuild it with: {entry['command']} && {entry['pack_command']}"
            )
    config = load_config(root / entry["config"])
    records = {}
    for line in (root / entry["records"]).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        records[record["run_id"]] = record
    return config, records, entry


# --------------------------------------------------------------------------------------------
# Running a sweep on Dask
# --------------------------------------------------------------------------------------------
def _failed_record(spec: RunSpec, message: str) -> dict:
    return {
        "format": RECORD_FORMAT,
        "run_id": spec.run_id,
        "status": "failed",
        "config": spec.config(),
        "metrics": None,
        "hyperparameters": None,
        "timings": {"finished": _now()},
        "environment": {
            "emtlib": __version__,
            "hostname": socket.gethostname(),
            "written_by": "client",
        },
        "error": {"type": "WorkerError", "message": message, "traceback": ""},
        "weights": None,
    }


def run_sweep(
    config: SweepConfig,
    results_dir=None,
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    retry_failed: bool = False,
    threads: int = 1,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Run every grid point of ``config`` that has no record yet on Dask; returns the final
    :func:`sweep_status`.

    The cluster is ``client`` (a :class:`distributed.Client`), else ``Client(scheduler)`` (an
    address, or the path of a scheduler file written by ``dask scheduler --scheduler-file``), else a
    fresh ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)``.  Runs with an
    ``ok`` record are skipped; failed ones too unless ``retry_failed``.  ``device`` is where each run
    trains (``"cpu"``, or ``"cuda"`` when the workers share a GPU).  Chapter "Universality";
    appendix "Running the experiments at scale".
    """
    from distributed import Client, LocalCluster, as_completed

    if not isinstance(config, SweepConfig):
        raise TypeError(
            f"config must be a SweepConfig (see load_config), got {type(config).__name__}"
        )
    if isinstance(threads, bool) or not isinstance(threads, int) or threads <= 0:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    if not isinstance(device, str) or not device:
        raise TypeError(
            f"device must be a non-empty string such as 'cpu' or 'cuda', got {device!r}"
        )
    results_dir = (
        Path(results_dir) if results_dir is not None else config.default_results_dir
    ).resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    records = read_records(results_dir)
    todo, skipped_failed = [], 0
    for spec in config.runs(threads=threads, device=device):
        status = records.get(spec.run_id, {}).get("status")
        if status == "ok":
            continue
        if status is not None and not retry_failed:
            skipped_failed += 1
            continue
        todo.append(spec)
    if skipped_failed:
        print(
            f"{skipped_failed} failed run(s) left as they are; run again with --retry-failed to retry them",
            file=sys.stderr,
        )

    cluster = None
    own_client = client is None
    if todo:
        if client is None:
            if scheduler is not None:
                is_file = Path(scheduler).is_file()
                client = Client(scheduler_file=scheduler) if is_file else Client(scheduler)
            else:
                n = workers if workers is not None else (os.cpu_count() or 1)
                if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                    raise ValueError(f"workers must be a positive integer, got {workers!r}")
                cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
                )
                client = Client(cluster)
        try:
            futures = {
                client.submit(
                    run_one,
                    spec,
                    str(results_dir),
                    key=f"emt-run-{spec.run_id}",
                    pure=False,
                    retries=0,
                ): spec
                for spec in todo
            }
            counts = {"ok": 0, "failed": 0}
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(futures), unit="run", desc="sweep")
            try:
                for future in as_completed(futures):
                    spec = futures[future]
                    try:
                        summary = future.result()
                    except Exception as err:  # noqa: BLE001 - the worker died (killed, out of memory)
                        path = record_path(results_dir, spec.run_id)
                        if not path.exists():
                            _write_json(path, _failed_record(spec, f"{type(err).__name__}: {err}"))
                        summary = {"status": "failed"}
                    counts[summary["status"]] = counts.get(summary["status"], 0) + 1
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(ok=counts["ok"], failed=counts["failed"])
            finally:
                if bar is not None:
                    bar.close()
        finally:
            if own_client:
                client.close()
            if cluster is not None:
                cluster.close()
    return sweep_status(config, results_dir)


# --------------------------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of Table 1: a task at one hidden size and L2, aggregated over seeds.

    Per seed the paper takes the *minimum* spectral error and the *maximum* accuracy over the
    curriculum thresholds (``per_seed``: ``(seed, best error or None, best accuracy)``); the cell is
    the mean over seeds.  The spread is the sample standard deviation over seeds (``ddof=1``;
    ``None`` for one seed) and the range ``min``/``max``.  The error is averaged over the seeds where
    it is defined (``n_error`` of ``n_seeds``); ``error_mean`` is ``None`` when it is defined for none.
    """

    task: str
    hidden: int
    l2: float
    per_seed: tuple
    n_runs: int
    n_failed: int
    accuracy_mean: float
    accuracy_std: float | None
    accuracy_min: float
    accuracy_max: float
    error_mean: float | None
    error_std: float | None
    error_min: float | None
    error_max: float | None
    n_error: int

    @property
    def n_seeds(self) -> int:
        return len(self.per_seed)

    @property
    def defined(self) -> str:
        """``"all"``, ``"some"`` or ``"none"``: for how many seeds the spectral error is defined."""
        return "all" if self.n_error == self.n_seeds else ("none" if self.n_error == 0 else "some")


@dataclass(frozen=True)
class Table1:
    """The paper's Table 1 computed by :func:`table1`: ``tasks`` (row labels, in order),
    ``task_numbers`` (label -> (s, d, t1, t2, t3)), ``columns`` ((hidden, l2) pairs, in order) and
    ``cells`` ((task, hidden, l2) -> :class:`Cell`; absent where no run succeeded)."""

    tasks: tuple
    task_numbers: dict
    columns: tuple
    cells: dict
    n_failed: int
    spread: str = "sample standard deviation over seeds (ddof=1)"

    def cell(self, task: str, hidden: int, l2: float) -> Cell | None:
        return self.cells.get((task, hidden, float(l2)))


def _std(values: list) -> float | None:
    return float(np.std(values, ddof=1)) if len(values) > 1 else None


def table1(records) -> Table1:
    """Aggregate result records into the paper's Table 1 (chapter "Universality").

    ``records`` is an iterable of records (dicts as written by :func:`run_one`) or a
    ``{run id: record}`` dict.  For each (task, hidden, l2, seed): the minimum spectral error over
    the thresholds whose error is defined (``None`` if none is) and the maximum accuracy; then the
    mean, spread and count over seeds (see :class:`Cell`).  Failed records are counted, not used.
    All records must come from one protocol (same schedule, overrides and test), and a grid point
    may appear only once; otherwise ValueError.
    """
    if isinstance(records, dict):
        records = list(records.values())
    records = list(records)
    protocol, seen, n_failed = None, set(), {}
    per_seed: dict = {}  # (task numbers, hidden, l2) -> {seed: [errors], [accuracies]}
    labels: dict = {}
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            raise ValueError(f"not a result record (no 'config' mapping): {record!r:.200}")  # noqa: TRY004
        c = record["config"]
        try:
            numbers_ = (int(c["s"]), int(c["d"]), *(int(t) for t in c["task_id"]))
            key = (numbers_, int(c["hidden"]), float(c["l2"]))
            point = (*key, int(c["seed"]), float(c["threshold"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"record {record.get('run_id')!r} has an incomplete config ({err!r})"
            ) from None
        labels.setdefault(
            numbers_, c.get("task") or _task_label(Task(numbers_[0], numbers_[1], numbers_[2:]))
        )
        this_protocol = {k: c.get(k) for k in ("schedule", "overrides", "test")}
        if protocol is None:
            protocol = this_protocol
        elif this_protocol != protocol:
            raise ValueError(
                f"records come from different protocols: {protocol} and {this_protocol} "
                f"(record {record.get('run_id')!r}); make one table per sweep"
            )
        if point in seen:
            raise ValueError(
                f"grid point {point} appears in two records (e.g. {record.get('run_id')!r})"
            )
        seen.add(point)
        if record.get("status") != "ok":
            n_failed[key] = n_failed.get(key, 0) + 1
            continue
        m = record.get("metrics") or {}
        if "accuracy" not in m or "spectral_error" not in m:
            raise ValueError(
                f"ok record {record.get('run_id')!r} lacks metrics 'accuracy' / 'spectral_error'"
            )
        seeds = per_seed.setdefault(key, {})
        errors, accs = seeds.setdefault(int(c["seed"]), ([], []))
        if m["spectral_error"] is not None:
            errors.append(float(m["spectral_error"]))
        accs.append(float(m["accuracy"]))

    def task_order(numbers_):
        label = labels[numbers_]
        paper = list(PAPER_TASKS)
        return (paper.index(label) if label in paper else len(paper), numbers_)

    task_keys = sorted({k[0] for k in list(per_seed) + list(n_failed)}, key=task_order)
    columns = tuple(sorted({(k[1], k[2]) for k in list(per_seed) + list(n_failed)}))
    cells = {}
    for key, seeds in per_seed.items():
        rows = tuple(
            (seed, min(e) if e else None, max(a)) for seed, (e, a) in sorted(seeds.items())
        )
        accs = [r[2] for r in rows]
        errs = [r[1] for r in rows if r[1] is not None]
        label = labels[key[0]]
        cells[(label, key[1], key[2])] = Cell(
            task=label,
            hidden=key[1],
            l2=key[2],
            per_seed=rows,
            n_runs=sum(len(a) for _, a in seeds.values()),
            n_failed=n_failed.get(key, 0),
            accuracy_mean=float(np.mean(accs)),
            accuracy_std=_std(accs),
            accuracy_min=min(accs),
            accuracy_max=max(accs),
            error_mean=float(np.mean(errs)) if errs else None,
            error_std=_std(errs),
            error_min=min(errs) if errs else None,
            error_max=max(errs) if errs else None,
            n_error=len(errs),
        )
    return Table1(
        tuple(labels[k] for k in task_keys),
        {labels[k]: k for k in task_keys},
        columns,
        cells,
        sum(n_failed.values()),
    )


def _l2_text(l2: float) -> str:
    return "0" if l2 == 0 else f"{l2:g}"


def _cell_text(cell: Cell | None, pm: str, dash: str, mark: str, show_n: bool) -> str:
    if cell is None:
        return "no runs"

    def with_spread(mean, std, digits):
        return f"{mean:.{digits}f}" + ("" if std is None else f"{pm}{std:.{digits}f}")

    acc = with_spread(cell.accuracy_mean, cell.accuracy_std, 2)
    if cell.defined == "none":
        err = dash
    else:
        err = with_spread(cell.error_mean, cell.error_std, 4)
        if cell.defined == "some":
            err += f"{mark} [{cell.n_error}/{cell.n_seeds}]"
    text = f"{err} ({acc})"
    if show_n:
        text += f" n={cell.n_seeds}"
    if cell.n_failed:
        text += f" ({cell.n_failed} failed)"
    return text


def _notes(table: Table1, star: str) -> tuple[list[str], bool]:
    ns = {c.n_seeds for c in table.cells.values()}
    show_n = len(ns) > 1
    notes = [
        "Cells: spectral error in radians (test accuracy at the test horizon); per seed the minimum "  # noqa: ISC004
        "error and the maximum accuracy over the curriculum thresholds, then the mean over seeds "
        f"± the {table.spread}. — : the error is not defined for any seed (the model and Φ have "
        f"different numbers of long-lived modes); {star} [k/n]: defined for k of n seeds, mean over those."
    ]
    notes.append(f"n = {ns.pop()} seeds per cell." if len(ns) == 1 else "n = seeds per cell.")
    if table.n_failed:
        notes.append(f"{table.n_failed} failed run(s) left out.")
    return notes, show_n


def to_markdown(table: Table1) -> str:
    """Table 1 as a Markdown table, with a note saying how the cells were aggregated."""
    notes, show_n = _notes(table, "*")
    head = ["task"] + [f"H={h} L2={_l2_text(l2)}" for h, l2 in table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task in table.tasks:
        cells = [
            _cell_text(table.cell(task, h, l2), " ± ", "—", "*", show_n) for h, l2 in table.columns
        ]
        lines.append("| " + " | ".join([task] + cells) + " |")
    return "\n".join(lines) + "\n\n" + " ".join(notes) + "\n"


def _latex_escape(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def to_latex(table: Table1) -> str:
    """Table 1 as a LaTeX ``tabular`` (booktabs), with the aggregation note as a comment line."""
    notes, show_n = _notes(table, "*")
    head = ["task"] + [f"$H={h}$, $L_2={_l2_text(l2)}$" for h, l2 in table.columns]
    lines = [
        f"% {' '.join(notes)}".replace("—", "---").replace("±", "+-").replace("Φ", "Phi"),
        "\\begin{tabular}{l" + "c" * len(table.columns) + "}",
        "\\toprule",
        " & ".join(head) + " \\\\",
        "\\midrule",
    ]
    for task in table.tasks:
        cells = [
            _cell_text(table.cell(task, h, l2), "$\\pm$", "---", "$^{*}$", show_n)
            for h, l2 in table.columns
        ]
        lines.append(" & ".join([_latex_escape(task)] + cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def _print_status(config: SweepConfig, status: dict, verbose: bool = False) -> None:
    print(f"{len(config.runs())} runs; results in {status['results']}")
    width = max([len(label) for label, _ in config.tasks] + [5])
    print(f"{'task':<{width}}  {'runs':>5}  {'ok':>5}  {'failed':>6}  {'pending':>7}")
    for label, row in list(status["per_task"].items()) + [("total", status["total"])]:
        print(
            f"{label:<{width}}  {row['runs']:>5}  {row['ok']:>5}  {row['failed']:>6}  {row['pending']:>7}"
        )
    if status["total"]["stale"]:
        print(
            f"note: {status['total']['stale']} ok run(s) were trained with other hyper-parameters than "
            f"schedule {config.schedule!r} gives today"
        )
    if status["extra"]:
        print(f"note: {status['extra']} record(s) in the folder are not part of this grid")
    if verbose:
        for state in ("failed", "pending"):
            for rid in status["ids"][state]:
                print(f"{state}: {rid}")


def _cmd_run(args) -> int:
    config = load_config(args.config)
    status = run_sweep(
        config,
        args.results,
        scheduler=args.scheduler,
        workers=args.workers,
        retry_failed=args.retry_failed,
        threads=args.threads,
        device=args.device,
        progress=not args.no_progress,
    )
    _print_status(config, status)
    return 0 if status["total"]["ok"] == status["total"]["runs"] else 1


def _cmd_status(args) -> int:
    config = load_config(args.config)
    _print_status(config, sweep_status(config, args.results), verbose=args.verbose)
    return 0


def _cmd_table(args) -> int:
    if args.shipped is not None:
        _, records, _ = shipped(args.shipped)
        table = table1(records)
        print(to_latex(table) if args.format == "latex" else to_markdown(table), end="")
        return 0
    if args.results is None:
        raise ValueError("give a results folder (or a config file), or --shipped NAME")
    path = Path(args.results)
    if path.is_file():  # a config file: its default results folder
        path = load_config(path).default_results_dir
    if not path.is_dir():
        raise FileNotFoundError(f"results folder {path} does not exist")
    records = read_records(path)
    if not records:
        raise ValueError(f"no result records in {path}")
    table = table1(records)
    print(to_latex(table) if args.format == "latex" else to_markdown(table), end="")
    return 0


def _cmd_pack(args) -> int:
    entry = pack(load_config(args.config), args.results, args.out)
    print(
        f"packed {entry['ok']} ok and {entry['failed']} failed of {entry['runs']} runs "
        f"({entry['pending']} pending) into {entry['records']}"
    )
    return 0


def main(argv=None) -> int:
    """``python -m emtlib.sweep {run,status,table}`` (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m emtlib.sweep", description="Grid sweeps on Dask and the paper's Table 1."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run every grid point that has no record yet")
    p.add_argument("config", help="the sweep's YAML file")
    p.add_argument(
        "--results",
        default=None,
        help="results folder (default: <config stem>-results/ next to it)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="address or scheduler file of a running Dask cluster (default: a LocalCluster)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="LocalCluster worker processes (default: cores)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument(
        "--device", default="cpu", help="torch device each run trains on (default cpu; e.g. cuda)"
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="also re-run runs recorded as failed"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("status", help="count done / failed / pending runs per task")
    p.add_argument("config")
    p.add_argument("--results", default=None)
    p.add_argument(
        "--verbose", action="store_true", help="also list the failed and pending run ids"
    )
    p.set_defaults(func=_cmd_status)
    p = sub.add_parser(
        "pack", help="write a grid's records into one .jsonl file with a manifest (package data)"
    )
    p.add_argument("config")
    p.add_argument(
        "--results",
        default=None,
        help="results folder (default: <config stem>-results/ next to it)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="where the .jsonl and manifest.json go (default: next to the config)",
    )
    p.set_defaults(func=_cmd_pack)
    p = sub.add_parser(
        "table", help="print Table 1 from a results folder (or a config's default folder)"
    )
    p.add_argument("results", nargs="?", default=None)
    p.add_argument(
        "--shipped",
        default=None,
        metavar="NAME",
        help="the records shipped with emtlib (e.g. table1)",
    )
    p.add_argument("--format", choices=("markdown", "latex"), default="markdown")
    p.set_defaults(func=_cmd_table)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run the importable module's main, so that the functions and classes sent to Dask workers are
    # emtlib.sweep's (pickled by reference), not copies of __main__'s.
    from emtlib.sweep import main as _main

    sys.exit(_main())

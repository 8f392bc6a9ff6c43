"""Grids of runs on Dask, into a :class:`~emtlib.lab.store.Store` (appendix "Running the experiments at
scale"; chapter "Universality" reads the book's own grid).

A grid is a small YAML file; every combination of its axes is one :class:`~emtlib.lab.spec.RunSpec`::

    description: Table 1 of the paper       # optional free text
    tasks: [T1, T2, [3, 3, 73, 0, 0]]       # keys of emtlib.tasks.PAPER_TASKS, or [s, d, t1, t2, t3]
    hidden: [64, 128]
    seeds: 3                                # a count (seeds 0, 1, 2) or a list of seeds
    recipe: paper                           # a name in emtlib.lab.recipes.RECIPES, or a list
    l2: [0, 1e-3]                           # optional (default 0): Adam's weight decay
    thresholds: [0.9, 0.98]                 # optional (default: the recipe's own)
    max_steps: 20000                        # optional (default: the recipe's own)
    models: [elman, gru]                    # optional (default elman): emtlib.architectures.MODELS
    analysis: true                          # optional (default false): RunSpec.analysis
    save_weights: false                     # optional: keep every trained model in the store

A file may hold several grids as YAML documents separated by ``---`` (the first may carry the
``description`` and ``save_weights`` of all): its runs are those of every document, in order.

:func:`run_sweep` runs every spec that the store does not hold yet on a Dask ``LocalCluster`` (or on
any running Dask cluster, by its scheduler's address), each worker writing its run's record into the
store.  The environment (the device, the scheduler, emtlib on the workers, the store's folder) is
checked before any run starts: a mistake there stops the sweep with nothing recorded.  A run that
raises is recorded as failed and the others go on; a worker that dies leaves its run pending.  Run
the same command again to resume: finished runs are never run twice, also when two sweeps share a
store, since a worker claims a run before it trains it.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import os
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

import emtlib
from emtlib._checks import integer
from emtlib.tasks import Task

from .record import Record
from .run import run
from .spec import RunSpec, task_numbers
from .store import Store

__all__ = [
    "EnvironmentProblem",
    "Grid",
    "Status",
    "SweepReport",
    "check_device",
    "execute",
    "load_grid",
    "parse_grid",
    "run_sweep",
    "status",
]


#: How long a sweep waits for the scheduler it is pointed at, and for its first worker (seconds).
CONNECT_TIMEOUT = 20
WAIT_FOR_WORKERS = 120


class EnvironmentProblem(RuntimeError):
    """The sweep cannot run here (a device, scheduler, worker or folder problem); no run started."""


# --------------------------------------------------------------------------------------------
# Grid files
# --------------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """YAML with exponent floats (``1e-3``) read as numbers and duplicate keys refused."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

_REQUIRED = ("tasks", "hidden", "seeds", "recipe")
_OPTIONAL = ("l2", "thresholds", "max_steps", "models", "analysis", "save_weights", "description")


@dataclass(frozen=True)
class Grid:
    """A validated grid: its :class:`~emtlib.lab.spec.RunSpec` s in the order tasks x models x
    recipes x hidden x l2 x seeds x thresholds, whether to keep the weights, and the file it came
    from."""

    specs: tuple
    save_weights: bool = False
    description: str = ""
    path: Path | None = None
    text: bytes = field(default=b"", repr=False)

    @property
    def default_store(self) -> Path:
        """``<grid stem>-results/`` next to the grid file."""
        if self.path is None:
            raise ValueError("this grid was not read from a file; name its store")
        return self.path.with_name(f"{self.path.stem}-results")


def _axis(data: dict, key: str, source: str, default=None) -> list:
    value = data.get(key, default)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError(f"{source}: {key!r} must not be an empty list")
    return values


def _task(value, source: str, index: int) -> Task:
    try:
        return Task.from_json(list(task_numbers(value)))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: 'tasks'[{index}] is not a task: {err}") from None


def parse_grid(data, source: str = "grid") -> Grid:
    """Validate a grid given as a dict (what its YAML file holds); ValueError naming ``source``
    and the key on any problem."""
    if not isinstance(data, dict):
        raise ValueError(  # noqa: TRY004 -- a bad file, reported like every other
            f"{source}: a grid is a mapping with keys {list(_REQUIRED)}, got {type(data).__name__}"
        )
    unknown = [k for k in data if k not in _REQUIRED + _OPTIONAL]
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {unknown}; allowed: {list(_REQUIRED + _OPTIONAL)}"
        )
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ValueError(f"{source}: missing key(s) {missing}")
    tasks = [_task(v, source, i) for i, v in enumerate(_axis(data, "tasks", source))]
    seeds = data["seeds"]
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds <= 0:
            raise ValueError(
                f"{source}: 'seeds' must be a positive count or a list of seeds, got {seeds}"
            )
        seeds = list(range(seeds))
    axes = {
        "model": _axis(data, "models", source, "elman"),
        "recipe": _axis(data, "recipe", source),
        "hidden": _axis(data, "hidden", source),
        "l2": _axis(data, "l2", source, 0.0),
        "seed": _axis({"seeds": seeds}, "seeds", source),
        "threshold": _axis(data, "thresholds", source, None),
    }
    max_steps, analysis = data.get("max_steps"), data.get("analysis", False)
    specs = []
    for task, model, recipe, hidden, l2, seed, threshold in itertools.product(
        tasks, *axes.values()
    ):
        try:
            specs.append(
                RunSpec(
                    task, hidden, seed, l2, threshold, recipe, max_steps, model, analysis=analysis
                )
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"{source}: {err}") from None
    seen = {}
    for spec in specs:
        if spec.run_id in seen:
            raise ValueError(
                f"{source}: the grid holds the run ({spec}) twice: a value is listed twice on one axis"
            )
        seen[spec.run_id] = spec
    save_weights = data.get("save_weights", False)
    if not isinstance(save_weights, bool):
        raise ValueError(f"{source}: 'save_weights' must be true or false, got {save_weights!r}")  # noqa: TRY004
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"{source}: 'description' must be text, got {description!r}")  # noqa: TRY004
    return Grid(tuple(specs), save_weights, description)


def load_grid(path: str | os.PathLike) -> Grid:
    """Read and validate a grid file; every problem is a ValueError naming the file (and the line
    for a YAML error or a duplicate key)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"grid file {path} does not exist")
    text = path.read_bytes()
    return _read_grid(text, path)


def _read_grid(text: bytes, path: Path) -> Grid:
    try:
        documents = list(yaml.load_all(text.decode("utf-8"), Loader=_Loader))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not a valid grid: {' '.join(str(err).split())}") from None
    if not documents:
        raise ValueError(f"{path}: the file holds no grid")
    grids = []
    for i, data in enumerate(documents):
        source = str(path) if len(documents) == 1 else f"{path} (grid {i + 1})"
        if i and isinstance(data, dict):
            shared = [k for k in ("save_weights", "description") if k in data]
            if shared:
                raise ValueError(f"{source}: {shared} belong in the first grid of the file")
        grids.append(parse_grid(data, source=source))
    specs = tuple(spec for grid in grids for spec in grid.specs)
    seen = set()
    for spec in specs:
        if spec.run_id in seen:
            raise ValueError(f"{path}: two of its grids hold the run ({spec})")
        seen.add(spec.run_id)
    first = grids[0]
    return Grid(specs, first.save_weights, first.description, path.resolve(), text)


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    """Where a list of specs stands in a store: the run ids ``ok``, ``failed`` and ``pending`` (in
    the specs' order), per task label, plus unreadable records and records outside the list."""

    ok: tuple
    failed: tuple
    pending: tuple
    per_task: dict
    problems: tuple = ()
    extra: int = 0

    @property
    def total(self) -> int:
        return len(self.ok) + len(self.failed) + len(self.pending)

    def lines(self, verbose: bool = False) -> list[str]:
        width = max([len(label) for label in self.per_task] + [5])
        out = [f"{'task':<{width}}  {'runs':>5}  {'ok':>5}  {'failed':>6}  {'pending':>7}"]
        rows = list(self.per_task.items())
        rows.append(("total", (self.total, len(self.ok), len(self.failed), len(self.pending))))
        for label, (n, ok, failed, pending) in rows:
            out.append(f"{label:<{width}}  {n:>5}  {ok:>5}  {failed:>6}  {pending:>7}")
        for problem in self.problems:
            out.append(f"unreadable record (its run counts as pending): {problem}")
        if self.extra:
            out.append(f"note: {self.extra} record(s) in the store are not part of this grid")
        if verbose:
            out += [f"failed: {rid}" for rid in self.failed] + [
                f"pending: {rid}" for rid in self.pending
            ]
        return out


def status(specs: Sequence[RunSpec], store: Store) -> Status:
    """Count the ``specs`` that ``store`` holds as finished, failed or not yet run."""
    records, problems = store.scan()
    groups = {"ok": [], "failed": [], "pending": []}
    per_task: dict = {}
    for spec in specs:
        record = records.get(spec.run_id)
        state = "pending" if record is None else ("ok" if record.ok else "failed")
        groups[state].append(spec.run_id)
        row = per_task.setdefault(spec.label, [0, 0, 0, 0])
        row[0] += 1
        row[1 + ("ok", "failed", "pending").index(state)] += 1
    extra = len(set(records) - {s.run_id for s in specs})
    return Status(
        tuple(groups["ok"]),
        tuple(groups["failed"]),
        tuple(groups["pending"]),
        {k: tuple(v) for k, v in per_task.items()},
        tuple(problems),
        extra,
    )


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------
def check_device(device: str) -> str:
    """``device`` when torch can allocate on it here; :class:`EnvironmentProblem` otherwise."""
    if not isinstance(device, str) or not device:
        raise EnvironmentProblem(
            f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}"
        )
    try:
        torch.zeros(1, device=torch.device(device))
    except (RuntimeError, AssertionError, ValueError, TypeError) as err:
        raise EnvironmentProblem(
            f"device {device!r} cannot be used here: {' '.join(str(err).split())}"
        ) from None
    return device


def _writable(folder: str) -> str | None:
    """None when this process can write into ``folder``, else why not."""
    probe = Path(folder) / f".probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        return (
            f"cannot write into the store {folder} ({err}); the workers must share its file system"
        )
    return None


def _probe(device: str, folder: str, version: str) -> str | None:
    """Run on each worker before any run: None when it can run, else why not."""
    if emtlib.__version__ != version:
        return f"emtlib {emtlib.__version__} on the worker, {version} where the sweep was started"
    try:
        check_device(device)
    except EnvironmentProblem as err:
        return str(err)
    return _writable(folder)


def _client(scheduler: str | None, workers: int):
    """A Dask client: to the scheduler at ``scheduler`` (an address or a scheduler file), else to a
    new LocalCluster of ``workers`` processes with one thread each."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            if Path(scheduler).is_file():
                client = Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT)
            else:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise EnvironmentProblem(
                f"cannot reach the Dask scheduler {scheduler!r}: {err}"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            client.close()
            raise EnvironmentProblem(
                f"the Dask scheduler {scheduler!r} has had no worker for {WAIT_FOR_WORKERS} s"
            ) from None
        return client, None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster), cluster


# --------------------------------------------------------------------------------------------
# One run, in a worker
# --------------------------------------------------------------------------------------------
def _rerun(old: Record | None, retry_failed: bool, force: bool, since: str) -> bool:
    """Whether a run whose record in the store is ``old`` runs (again): always when there is none;
    never when it was made since this sweep began at ``since`` (by this sweep or one beside it);
    otherwise with ``force``, or when it failed and ``retry_failed``."""
    if old is None:
        return True
    if datetime.datetime.fromisoformat(old.created) >= datetime.datetime.fromisoformat(since):
        return False
    return force or (retry_failed and not old.ok)


# --------------------------------------------------------------------------------------------
# Running one spec
# --------------------------------------------------------------------------------------------
def execute(
    spec: RunSpec,
    folder: str,
    *,
    device: str = "cpu",
    threads: int = 1,
    save_weights: bool = False,
    retry_failed: bool = False,
    force: bool = False,
    since: str = "",
    name: str | None = None,
    shipped: bool = False,
) -> str:
    """Run ``spec`` into the store in ``folder`` unless it is done or claimed; returns ``"ok"``,
    ``"failed"``, ``"done"`` (already there) or ``"busy"`` (another process is running it).

    A run the store holds is run again only when it failed and ``retry_failed``, or with ``force``,
    and never when its record was made after ``since`` (the start of this sweep: by this sweep or
    one beside it).  Every exception of the run becomes a failed record; this function raises
    only for a problem of the environment or of the store itself.
    """
    problem = _probe(device, folder, emtlib.__version__)
    if problem:  # a worker that joined after the sweep checked the others
        raise EnvironmentProblem(problem)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    store = Store(folder, shipped=shipped)
    with store.claim(spec.run_id) as mine:
        if not mine:
            return "busy"
        if spec.run_id in store:
            try:
                old = store.get(spec.run_id)
            except ValueError:  # unreadable: run it again
                old = None
            if not _rerun(old, retry_failed, force, since):
                if name is not None:
                    store.set_name(name, spec.run_id)
                return "done"
        try:
            model, record = run(spec, device=device)
        except Exception as err:  # noqa: BLE001 -- every failure of a run is recorded, the sweep goes on
            model, record = None, Record.failure(spec, err, device)
        store.put(record, model if save_weights and record.ok else None, name=name)
        return "ok" if record.ok else "failed"


# --------------------------------------------------------------------------------------------
# A sweep
# --------------------------------------------------------------------------------------------
@dataclass
class SweepReport:
    """What :func:`run_sweep` did: how many runs ended ``ok`` or ``failed``, were already
    ``done``, ran elsewhere (``busy``), were ``skipped_failed`` (failed before, not retried), and
    the runs whose worker was ``lost`` (left pending), with the final :class:`Status`."""

    ok: int = 0
    failed: int = 0
    done: int = 0
    busy: int = 0
    skipped_failed: int = 0
    lost: list = field(default_factory=list)
    quarantined: list = field(default_factory=list)
    status: Status | None = None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def run_sweep(
    specs: Sequence[RunSpec] | Grid,
    store: Store | str | os.PathLike,
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    device: str = "cpu",
    threads: int = 1,
    retry_failed: bool = False,
    force: bool = False,
    save_weights: bool | None = None,
    names: dict | None = None,
    progress: bool = True,
) -> SweepReport:
    """Run every spec that ``store`` does not hold yet; returns a :class:`SweepReport`.

    ``specs`` is a :class:`Grid` or a sequence of :class:`~emtlib.lab.spec.RunSpec`.  The runs go to
    ``client`` (a ``distributed.Client``), else to the Dask scheduler at ``scheduler`` (an address
    or a scheduler file), else to a new ``LocalCluster`` of ``workers`` processes (default: one per
    core, at most one per run); ``workers=0`` runs them here, one after another.  ``device`` is
    where each run trains, ``threads`` its torch threads.  ``names`` maps a run id to the name the
    store gives it (the zoo's names).  A run the store holds is not run again, except a failed one
    with ``retry_failed`` and any with ``force``.  The device, the cluster, emtlib on its workers
    and the store are checked before any run starts (:class:`EnvironmentProblem`).  Appendix "Running the
    experiments at scale".
    """
    if isinstance(specs, Grid):
        grid = specs
        specs = grid.specs
        save_weights = grid.save_weights if save_weights is None else save_weights
    specs = list(specs)
    if not all(isinstance(s, RunSpec) for s in specs):
        raise TypeError("specs must be RunSpecs or a Grid")
    store = store if isinstance(store, Store) else Store(store)
    threads = integer(threads, "threads", 1)
    if workers is not None:
        workers = integer(workers, "workers", 0)
    names = dict(names or {})
    if client is None and scheduler is None:  # the runs train here: the device must work here
        check_device(device)
    elif not isinstance(device, str) or not device:  # the workers check it
        raise EnvironmentProblem(f"device must name a torch device, got {device!r}")
    since = _now()
    report = SweepReport()
    report.quarantined = store.quarantine()  # also: the store is writable and its manifest sound
    problem = _writable(str(store.folder))
    if problem:
        raise EnvironmentProblem(problem)
    records, _ = store.scan()
    todo = []
    for spec in {s.run_id: s for s in specs}.values():
        old = records.get(spec.run_id)
        if not _rerun(old, retry_failed, force, since):
            report.done += old.ok
            report.skipped_failed += not old.ok
            name = names.get(spec.run_id)
            if name is not None and store.names.get(name) != spec.run_id:
                store.set_name(name, spec.run_id)
            continue
        todo.append(spec)
    options = {
        "device": device,
        "threads": threads,
        "save_weights": bool(save_weights),
        "retry_failed": retry_failed,
        "force": force,
        "since": since,
        "shipped": store.shipped,
    }
    folder = str(store.folder.resolve())
    if todo and workers == 0 and client is None and scheduler is None:
        for spec in _bar(todo, progress):
            _count(report, execute(spec, folder, name=names.get(spec.run_id), **options))
    elif todo:
        _on_dask(todo, folder, names, options, report, client, scheduler, workers, progress)
    report.status = status(specs, store)
    return report


def _count(report: SweepReport, outcome: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)


def _bar(items, progress: bool, total: int | None = None):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, total=total, unit="run", desc="sweep", file=sys.stderr)


def _on_dask(todo, folder, names, options, report, client, scheduler, workers, progress) -> None:
    from distributed import as_completed

    cluster = None
    own = client is None
    if own:
        n = workers if workers else min(len(todo), os.cpu_count() or 1)
        client, cluster = _client(scheduler, n)
    try:
        try:
            problems = client.run(_probe, options["device"], folder, emtlib.__version__)
        except Exception as err:  # noqa: BLE001 -- e.g. emtlib is not installed on a worker
            raise EnvironmentProblem(
                f"the Dask workers cannot run emtlib: {type(err).__name__}: {err}"
            ) from None
        bad = {worker: why for worker, why in problems.items() if why}
        if not problems:
            raise EnvironmentProblem("the Dask cluster has no workers")
        if bad:
            raise EnvironmentProblem(
                "; ".join(f"worker {worker}: {why}" for worker, why in sorted(bad.items()))
            )
        futures = {
            client.submit(
                execute,
                spec,
                folder,
                name=names.get(spec.run_id),
                **options,
                key=f"emtlib-run-{spec.run_id}-{uuid.uuid4().hex[:8]}",
                pure=False,
                retries=0,
            ): spec
            for spec in todo
        }
        for future in _bar(as_completed(futures), progress, total=len(futures)):
            try:
                _count(report, future.result())
            except Exception as err:  # noqa: BLE001 -- a worker died: the run stays pending
                report.lost.append((futures[future], f"{type(err).__name__}: {err}"))
    finally:
        if own:
            client.close()
        if cluster is not None:
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)  # not the warning that a slow worker is killed on close
            try:
                cluster.close()
            finally:
                nanny.setLevel(level)

"""The model zoo: trained RNNs shipped with emtlib, each verified by checksum on load.

Chapter "Training RNNs on variable binding" trains the models; the later chapters ("Universality",
"The privileged basis", "Interventions") load them instead of retraining::

    from emtlib import zoo
    model = zoo.load("T2-h128-s0")        # an ElmanRNN with .metadata; checked against the manifest
    zoo.available()                       # {name: summary} of the models that are built

Every shipped model is produced by the project's own command and listed in
``emtlib/zoo_data/manifest.json`` with that command, its spec (task, hidden size, seed, L2, schedule
and overrides), the sha256 of both files, its accuracy and its spectral error::

    python -m emtlib.zoo list                 # planned and built entries
    python -m emtlib.zoo build T2-h128-s0     # (re)build entries by name
    python -m emtlib.zoo build --all          # every entry of ZOO_SPECS
    python -m emtlib.zoo build --missing      # only the entries not built (or failing verification)
    python -m emtlib.zoo verify               # check every file against the manifest

The planned entries are :data:`ZOO_SPECS` (the paper's four tasks x hidden 128 and 64 x seeds 0 and
1, plus the contrast entries ``T1-h128-s0-plain``, ``T1-h128-s0-unpolished`` and ``T1-h128-s0-chunked``);
change :data:`ZOO_TASKS`, :data:`ZOO_HIDDEN`, :data:`ZOO_SEEDS`, ... to change the plan.  Every planned
entry uses the ``"fast"`` schedule (the book's default until 2026-11-26) without early stop;
hidden size 64 trains longer (:data:`ZOO_HIDDEN_OVERRIDES`), repeat copy adds weight decay on the
readout (:data:`ZOO_TASK_OVERRIDES`) and, at hidden size 128, batches of 128, at 64 a stricter
curriculum, an orthogonal start and a floor under the singular values of W_hh; T3 at hidden size 64
starts from an orthogonal recurrent matrix too (:data:`ZOO_TASK_HIDDEN_OVERRIDES`); repeat copy and T4
end with a polishing phase on hard sequences (:data:`ZOO_POLISH`).

Accuracy is measured by :func:`emtlib.train.evaluate` with fixed seeds (:data:`EVALUATION`): at
horizon 200 on 10 batches of 64 sequences and at horizon 10,000 on 2 batches of 64 (fewer, since
each sequence is 50 times longer).  Every function takes ``root``, the folder of the zoo data
(default: the package's ``zoo_data`` folder), so tests and experiments can use a folder of their own.

This module imports :mod:`emtlib.tasks`, :mod:`emtlib.rnn`, :mod:`emtlib.train` and
:mod:`emtlib.spectra`; none of them imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import math
import numbers
import os
import platform
import re
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from . import __version__
from .rnn import ElmanRNN, atomic_write_bytes, load_model, save_model
from .spectra import spectral_error
from .tasks import PAPER_TASKS, Task
from .train import SCHEDULES, Schedule, evaluate, train_rnn

__all__ = [
    "EVALUATION",
    "ZOO_HIDDEN",
    "ZOO_HIDDEN_OVERRIDES",
    "ZOO_POLISH",
    "ZOO_SEEDS",
    "ZOO_SPECS",
    "ZOO_TASKS",
    "ZOO_TASK_HIDDEN_OVERRIDES",
    "ZOO_TASK_OVERRIDES",
    "ChecksumError",
    "UnknownModelError",
    "ZooSpec",
    "available",
    "build",
    "default_root",
    "load",
    "main",
    "read_manifest",
    "rebuild_command",
    "stale",
    "verify",
    "verify_all",
]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: How every zoo model is evaluated: horizon -> (batches, batch_size, seed).  The seeds are fixed
#: and differ from the training stream and from train_rnn's solved-check (seed + 10_000).
EVALUATION: dict[int, tuple[int, int, int]] = {
    200: (10, 64, 20_231_003),
    10_000: (2, 64, 20_231_004),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
class ChecksumError(ValueError):
    """A zoo file does not match the sha256 recorded in the manifest."""


class UnknownModelError(KeyError, ValueError):
    """The name is neither in the manifest nor planned in :data:`ZOO_SPECS`.

    A ``KeyError`` (lookup by name) and a ``ValueError`` (bad argument); prints its message plainly.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------
def _int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be a {kind} integer, got {value!r}")
    return int(value)


def _freeze(value):
    """JSON lists as tuples (Schedule fields such as ``horizons`` are tuples)."""
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class ZooSpec:
    """One zoo entry: what :func:`emtlib.train.train_rnn` is called with (chapter "Training RNNs
    on variable binding").

    ``task`` is a key of :data:`emtlib.tasks.PAPER_TASKS` (``"T1"`` ... ``"T4"``) or the five
    numbers ``(s, d, t1, t2, t3)``; ``schedule`` a name in :data:`emtlib.train.SCHEDULES`;
    ``overrides`` single schedule fields (``{"max_steps": 300}``), JSON values only.
    """

    name: str
    task: str | tuple
    hidden: int
    seed: int
    l2: float = 0.0
    schedule: str = "fast"
    overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f"name must start with a letter or digit and hold only letters, digits, '_', '.', '-', "
                f"got {self.name!r}"
            )
        if self.name == Path(MANIFEST).stem or self.name.endswith((".pt", ".json")):
            raise ValueError(f"name {self.name!r} would clash with the zoo's file names")
        if isinstance(self.task, str):
            if self.task not in PAPER_TASKS:
                raise ValueError(
                    f"task must be one of {sorted(PAPER_TASKS)} or (s, d, t1, t2, t3), got {self.task!r}"
                )
        else:
            if (
                isinstance(self.task, (bytes, dict))
                or not hasattr(self.task, "__len__")
                or len(self.task) != 5
            ):
                raise ValueError(
                    f"task must be one of {sorted(PAPER_TASKS)} or (s, d, t1, t2, t3), got {self.task!r}"
                )
            numbers_ = tuple(_int(v, f"task[{i}]", 0) for i, v in enumerate(self.task))
            Task(numbers_[0], numbers_[1], numbers_[2:])  # ValueError naming the broken rule
            object.__setattr__(self, "task", numbers_)
        object.__setattr__(self, "hidden", _int(self.hidden, "hidden", 1))
        object.__setattr__(self, "seed", _int(self.seed, "seed", 0))
        if (
            isinstance(self.l2, bool)
            or not isinstance(self.l2, numbers.Real)
            or not (self.l2 >= 0 and math.isfinite(self.l2))
        ):
            raise ValueError(f"l2 must be a non-negative number, got {self.l2!r}")
        object.__setattr__(self, "l2", float(self.l2))
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {self.schedule!r}")
        if not isinstance(self.overrides, dict):
            raise TypeError(f"overrides must be a dict, got {type(self.overrides).__name__}")
        unknown = set(self.overrides) - set(Schedule.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown schedule fields in overrides: {sorted(unknown)}")
        try:
            json.dumps(self.overrides, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise TypeError(f"overrides must hold JSON values: {err}") from None
        self.schedule_object()  # the Schedule validates the values

    @property
    def task_object(self) -> Task:
        """The :class:`~emtlib.tasks.Task` of this entry."""
        if isinstance(self.task, str):
            return PAPER_TASKS[self.task]
        return Task(self.task[0], self.task[1], self.task[2:])

    def schedule_object(self) -> Schedule:
        """The schedule this entry trains with, overrides applied (today's :data:`SCHEDULES`)."""
        return replace(
            SCHEDULES[self.schedule], **{k: _freeze(v) for k, v in self.overrides.items()}
        )

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "task": self.task if isinstance(self.task, str) else list(self.task),
            "hidden": self.hidden,
            "seed": self.seed,
            "l2": self.l2,
            "schedule": self.schedule,
            "overrides": dict(self.overrides),
        }

    @classmethod
    def from_json(cls, data: dict) -> ZooSpec:
        if not isinstance(data, dict):
            raise ValueError(f"a zoo spec must be a JSON object, got {data!r}")  # noqa: TRY004
        missing = {"name", "task", "hidden", "seed"} - set(data)
        if missing:
            raise ValueError(f"zoo spec {data!r} lacks {sorted(missing)}")
        task = data["task"]
        return cls(
            name=data["name"],
            task=task if isinstance(task, str) else tuple(task),
            hidden=data["hidden"],
            seed=data["seed"],
            l2=data.get("l2", 0.0),
            schedule=data.get("schedule", "fast"),
            overrides=dict(data.get("overrides", {})),
        )


def spec_name(task: str, hidden: int, seed: int) -> str:
    """The zoo's naming scheme: ``T2-h64-s1``."""
    return f"{task}-h{hidden}-s{seed}"


#: The plan.  Edit these (or ZOO_SPECS itself) to change which models the zoo ships.
ZOO_TASKS: tuple[str, ...] = ("T1", "T2", "T3", "T4")
ZOO_HIDDEN: tuple[int, ...] = (128, 64)
ZOO_SEEDS: tuple[int, ...] = (0, 1)
ZOO_L2: float = 0.0
ZOO_SCHEDULE: str = "fast"
#: Zoo models train the full ``max_steps`` of the schedule (no early stop): the extra steps at the
#: decayed learning rate make them more exact far beyond the test horizon.
ZOO_OVERRIDES: dict = {"stop_when_solved": False}
#: Per-task additions to ZOO_OVERRIDES.  Repeat copy (T1) needs weight decay on the readout alone and
#: longer training: without it the network holds the task in a nearly linear regime and drifts far
#: beyond the training horizon (chapter "Training RNNs on variable binding", section on repeat copy).
#: Repeat copy and T4 end with 2,000 polishing steps on fresh plus hard (smallest-margin) sequences at a
#: falling step size: without them the repeat-copy networks, and one T4 network, keep rare wrong signs
#: (a stored component that flips once and is replayed flipped).
ZOO_POLISH: dict = {"polish_steps": 2_000, "polish_lr": 2e-4, "polish_lr_end": 2e-5}
ZOO_TASK_OVERRIDES: dict = {
    "T1": {
        "readout_l2": 0.003,
        "max_steps": 15_000,
        "decay_steps": 6_000,
        **ZOO_POLISH,
        "polish_batch": 128,
    },
    "T4": dict(ZOO_POLISH),
}
#: Per-hidden-size additions (applied before the task's): 64 units need more steps than 6,000.
ZOO_HIDDEN_OVERRIDES: dict = {64: {"max_steps": 15_000, "decay_steps": 6_000}}
#: Per-(task, hidden) additions, applied last.  With 128 units, batches of 128 make the repeat-copy
#: recipe work on both seeds (with 64, seed 1 never learns one component); with 64 units they make it
#: worse, so the 64-unit entries keep batches of 64 (benchmarks/results.md, "Repeat copy (T1)"), and
#: polish at a larger step size, move up the curriculum only past batch accuracy 0.999 and start from
#: an orthogonal W_hh of gain 1 (with threshold 0.99 and the uniform init, 0.95-0.99 at horizon 200;
#: with 0.999, 0.9999; with both, 1.0 at 10,000, though with only 58 and 56 of the 64 long-lived modes).
#: Through the main run a floor keeps every singular value of W_hh near 1 or above (``sv_floor``, lifted
#: for the polish): without it gradient descent finds a denser code on fewer modes; with it all 64.
#: Without the floor the main run never got past horizon 40 (only the polish trained at horizon 100);
#: with it seed 1's reaches horizon 100 and seed 0's does not (``final_horizon_reached`` in the metadata).
#: T3 with 64 units starts from an orthogonal W_hh of gain 0.9: from PyTorch's uniform init seed 1
#: drifted late (0.9966 at horizon 10,000).
ZOO_TASK_HIDDEN_OVERRIDES: dict = {
    ("T1", 128): {"batch": 128},
    ("T1", 64): {
        "polish_lr": 5e-4,
        "polish_lr_end": 5e-5,
        "threshold": 0.999,
        "recurrent_gain": 1.0,
        "sv_floor": 1.0,
        "sv_floor_steps": 15_000,
    },
    ("T3", 64): {"recurrent_gain": 0.9},
}

#: The planned entries, name -> :class:`ZooSpec` (``python -m emtlib.zoo build --all`` builds them).
ZOO_SPECS: dict[str, ZooSpec] = {
    spec_name(task, hidden, seed): ZooSpec(
        spec_name(task, hidden, seed),
        task,
        hidden,
        seed,
        ZOO_L2,
        ZOO_SCHEDULE,
        {
            **ZOO_OVERRIDES,
            **ZOO_HIDDEN_OVERRIDES.get(hidden, {}),
            **ZOO_TASK_OVERRIDES.get(task, {}),
            **ZOO_TASK_HIDDEN_OVERRIDES.get((task, hidden), {}),
        },
    )
    for task in ZOO_TASKS
    for hidden in ZOO_HIDDEN
    for seed in ZOO_SEEDS
}
#: A contrast entry for the chapter: repeat copy trained with the ``"fast"`` schedule alone (no readout
#: decay, 6,000 steps).  It solves the task at horizon 200 and drifts far beyond it.
ZOO_SPECS["T1-h128-s0-plain"] = ZooSpec(
    "T1-h128-s0-plain", "T1", 128, 0, ZOO_L2, ZOO_SCHEDULE, dict(ZOO_OVERRIDES)
)
#: A second contrast entry: ``T1-h128-s0`` without its polishing phase (the same first 15,000 steps), to
#: show what polishing on hard sequences removes.
ZOO_SPECS["T1-h128-s0-unpolished"] = ZooSpec(
    "T1-h128-s0-unpolished",
    "T1",
    128,
    0,
    ZOO_L2,
    ZOO_SCHEDULE,
    {k: v for k, v in ZOO_SPECS["T1-h128-s0"].overrides.items() if not k.startswith("polish_")},
)
#: A third: repeat copy trained by ``train_rnn`` with nothing but its defaults (schedule ``"chunked"``,
#: truncated BPTT, stopped when solved), to show that training in chunks avoids the linear regime too.
ZOO_SPECS["T1-h128-s0-chunked"] = ZooSpec("T1-h128-s0-chunked", "T1", 128, 0, ZOO_L2, "chunked", {})


# --------------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------------
def default_root() -> Path:
    """The package's own zoo folder, ``emtlib/zoo_data``."""
    return Path(__file__).resolve().with_name("zoo_data")


def _root(root) -> Path:
    if root is None:
        return default_root()
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a str or os.PathLike, got {type(root).__name__}")
    return Path(root)


def _is_default(root: Path) -> bool:
    return root.resolve() == default_root()


def rebuild_command(name: str, root=None) -> str:
    """The shell command that rebuilds entry ``name`` (``--root`` added for a non-default root)."""
    root = _root(root)
    command = f"python -m emtlib.zoo build {name}"
    return command if _is_default(root) else f"{command} --root {root}"


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str such as 'T2-h128-s0', got {type(name).__name__}")
    return name


def read_manifest(root=None) -> dict:
    """The manifest of the zoo in ``root`` as a dict; a missing manifest is an empty zoo."""
    path = _root(root) / MANIFEST
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "entries": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path} is not valid JSON ({err}); restore it from git or rebuild the zoo"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), dict):
        raise ValueError(f"{path} must be a JSON object with an 'entries' object")  # noqa: TRY004
    return manifest


@contextlib.contextmanager
def _manifest_lock(root: Path):
    """Serialise read-modify-write of one manifest across processes (``build`` runs in parallel).

    An advisory lock on the zoo folder itself (POSIX), so no lock file is left behind; a no-op
    where directories cannot be locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # pragma: no cover - file systems without flock
            pass
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_manifest(root: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write_bytes(root / MANIFEST, text.encode())


def _update_manifest(root: Path, name: str, entry: dict) -> None:
    """Read-modify-write the manifest under a lock; the write is atomic (temp file + rename)."""
    with _manifest_lock(root):
        manifest = read_manifest(root)
        manifest["format"] = MANIFEST_FORMAT
        manifest.setdefault(
            "description",
            "Trained models of the EMT book. Each entry lists the command that rebuilds it; "
            "emtlib.zoo.load verifies the sha256 of both files.",
        )
        manifest["entries"][name] = entry
        manifest["entries"] = dict(sorted(manifest["entries"].items()))
        _write_manifest(root, manifest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------
def _resolve_spec(name, root: Path, specs: dict | None) -> ZooSpec:
    if isinstance(name, ZooSpec):
        return name
    name = _check_name(name)
    specs = ZOO_SPECS if specs is None else specs
    if name in specs:
        return specs[name]
    entry = read_manifest(root)["entries"].get(name)
    if entry is not None and "spec" in entry:
        return ZooSpec.from_json(entry["spec"])
    raise UnknownModelError(
        f"no zoo entry named {name!r}; planned entries (ZOO_SPECS): {sorted(specs)}; "
        f"built in {root}: {sorted(read_manifest(root)['entries'])}"
    )


def build(
    name, out_dir=None, progress: bool = False, *, root=None, specs: dict | None = None
) -> dict:
    """Train one zoo entry, evaluate it, save it and record it in the manifest.

    ``name`` is a name in ``specs`` (default :data:`ZOO_SPECS`), a name already in the manifest
    (rebuilt from its recorded spec) or a :class:`ZooSpec`.  ``out_dir`` (or its synonym ``root``)
    is the zoo folder, default the package's.  Accuracy is measured at horizons 200 and 10,000
    (:data:`EVALUATION`), the spectral error against the task's Φ (chapter "Universality").
    Writes ``NAME.pt`` and ``NAME.json`` with :func:`emtlib.rnn.save_model`, then updates the
    manifest atomically.  Returns the manifest entry.  Chapter "Training RNNs on variable binding".
    """
    if out_dir is not None and root is not None and Path(out_dir).resolve() != Path(root).resolve():
        raise ValueError(f"out_dir and root name the same folder; got {out_dir!r} and {root!r}")
    root = _root(out_dir if out_dir is not None else root)
    spec = _resolve_spec(name, root, specs)
    task = spec.task_object
    started = time.perf_counter()
    model = train_rnn(
        task,
        hidden=spec.hidden,
        seed=spec.seed,
        l2=spec.l2,
        schedule=spec.schedule,
        progress=progress,
        **{k: _freeze(v) for k, v in spec.overrides.items()},
    )
    train_wall = time.perf_counter() - started
    evaluation = {}
    for horizon, (batches, batch_size, seed) in EVALUATION.items():
        evaluation[horizon] = evaluate(
            model, task, horizon, batches, seed=seed, batch_size=batch_size
        )
    comparison = spectral_error(model, task)
    results = {
        **{f"accuracy_{h}": acc for h, acc in evaluation.items()},
        "spectral_error": comparison.error,
        "spectral_n_model": comparison.n_model,
        "spectral_n_ideal": comparison.n_ideal,
    }
    metadata = {**model.metadata, **results, "zoo_name": spec.name, "zoo_spec": spec.to_json()}
    root.mkdir(parents=True, exist_ok=True)
    pt, js = save_model(model, root / spec.name, metadata)
    entry = {
        "command": f"python -m emtlib.zoo build {spec.name}",
        "spec": spec.to_json(),
        "seed": spec.seed,
        "task_id": list(task.task_id),
        "s": task.s,
        "d": task.d,
        "files": {"pt": pt.name, "json": js.name},
        "sha256": {"pt": _sha256(pt), "json": _sha256(js)},
        **results,
        "spectral_matched": comparison.matched,
        "evaluation": {
            str(h): {"batches": b, "batch_size": bs, "seed": s}
            for h, (b, bs, s) in EVALUATION.items()
        },
        "steps": model.metadata["steps"],
        "solved_step": model.metadata.get("solved_step"),
        "hyperparameters": model.metadata.get("hyperparameters"),
        "training_wall_time_s": round(train_wall, 3),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "emtlib": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    _update_manifest(root, spec.name, entry)
    return entry


# --------------------------------------------------------------------------------------------
# Loading and verifying
# --------------------------------------------------------------------------------------------
def _entry(name: str, root: Path, manifest: dict | None = None) -> dict:
    name = _check_name(name)
    manifest = read_manifest(root) if manifest is None else manifest
    entries = manifest["entries"]
    if name in entries:
        return entries[name]
    if name in ZOO_SPECS and _is_default(root):
        raise FileNotFoundError(
            f"zoo model {name!r} is planned (ZOO_SPECS) but not built yet; build it with "
            f"`{rebuild_command(name, root)}`"
        )
    raise UnknownModelError(
        f"no zoo model named {name!r} in {root}; available: {sorted(entries) or 'none'}"
        + (
            f"; planned but not built: {sorted(set(ZOO_SPECS) - set(entries))}"
            if _is_default(root)
            else ""
        )
    )


def _check_files(name: str, entry: dict, root: Path) -> tuple[Path, Path]:
    command = rebuild_command(name, root)
    files = entry.get("files", {"pt": f"{name}.pt", "json": f"{name}.json"})
    paths = {kind: root / files[kind] for kind in ("pt", "json")}
    for kind, path in paths.items():
        if not path.is_file():
            raise FileNotFoundError(
                f"zoo file {path} of {name!r} is missing; rebuild it with `{command}`"
            )
    for kind, path in paths.items():
        expected = entry.get("sha256", {}).get(kind)
        actual = _sha256(path)
        if expected != actual:
            raise ChecksumError(
                f"zoo file {path} of {name!r} does not match the manifest: sha256 expected {expected}, "
                f"got {actual}; the file is corrupt or was changed outside the zoo; rebuild it with "
                f"`{command}`"
            )
    return paths["pt"], paths["json"]


def load(name: str, root=None) -> ElmanRNN:
    """Load zoo model ``name`` after checking its files against the manifest's sha256.

    Returns the :class:`~emtlib.rnn.ElmanRNN` with ``.metadata`` (its ``NAME.json``: training
    metadata, accuracy, spectral error) and ``.zoo_entry`` (its manifest entry).  Raises
    :class:`UnknownModelError` (a KeyError and ValueError, listing the available names),
    ``FileNotFoundError`` for a missing file and :class:`ChecksumError` for a changed one; both
    name the command that rebuilds the entry.  Used by chapter "Training RNNs on variable binding"
    and the later chapters ("Universality", "The privileged basis", "Interventions").
    """
    root = _root(root)
    entry = _entry(name, root)
    pt, _ = _check_files(name, entry, root)
    model, metadata = load_model(pt)
    model.metadata = metadata
    model.zoo_entry = entry
    model.eval()
    return model


def verify(name: str, root=None) -> None:
    """Check one entry's files against the manifest (and that they load); raises like :func:`load`."""
    load(name, root)


def verify_all(root=None) -> dict[str, str | None]:
    """Check every manifest entry: ``{name: None}`` when it verifies, else ``{name: message}``."""
    root = _root(root)
    report: dict[str, str | None] = {}
    for name in read_manifest(root)["entries"]:
        try:
            verify(name, root)
            report[name] = None
        except Exception as err:  # noqa: BLE001 - a report, not a crash: torch.load of junk raises many kinds
            report[name] = f"{type(err).__name__}: {err}"
    return report


def _schedule_json(schedule: Schedule) -> dict:
    """A schedule's fields as the manifest records them (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(schedule).items()}


def stale(root=None, specs: dict | None = None) -> dict[str, str]:
    """Entries built from another recipe than today's: ``{name: reason}``.

    An entry is stale when its recorded spec differs from ``specs`` (default :data:`ZOO_SPECS`) or
    its recorded hyper-parameters differ from today's schedule with its overrides (the schedule
    was retuned since it was built).  Stale entries still load; rebuild them to refresh.
    """
    specs = ZOO_SPECS if specs is None else specs
    # a field added to Schedule after an entry was built counts as built with its default
    defaults = _schedule_json(Schedule())
    reasons = {}
    for name, entry in read_manifest(root)["entries"].items():
        try:
            spec = ZooSpec.from_json(entry["spec"])
        except (KeyError, ValueError, TypeError) as err:
            reasons[name] = f"its spec is unreadable ({err})"
            continue
        if name in specs and specs[name].to_json() != spec.to_json():
            reasons[name] = (
                f"its spec {spec.to_json()} differs from the planned {specs[name].to_json()}"
            )
            continue
        now = _schedule_json(spec.schedule_object())
        then = entry.get("hyperparameters")
        if not isinstance(then, dict):
            reasons[name] = "its hyper-parameters are not recorded"
            continue
        changed = sorted(
            k
            for k in set(now) | set(then)
            if now.get(k, defaults.get(k)) != then.get(k, defaults.get(k))
        )
        if changed:
            reasons[name] = (
                f"schedule {spec.schedule!r} changed since it was built (fields {changed})"
            )
    return reasons


def available(root=None) -> dict[str, dict]:
    """The built models, ``{name: summary}`` (task, hidden, seed, accuracy, spectral error, steps),
    from the manifest (no checksums are computed; :func:`load` and :func:`verify_all` do that)."""
    summary_keys = (
        "seed",
        "accuracy_200",
        "accuracy_10000",
        "spectral_error",
        "spectral_n_model",
        "spectral_n_ideal",
        "steps",
        "wall_time_s",
        "date",
    )
    out = {}
    for name, entry in read_manifest(root)["entries"].items():
        spec = entry.get("spec", {})
        out[name] = {
            "task": spec.get("task"),
            "hidden": spec.get("hidden"),
            **{k: entry.get(k) for k in summary_keys},
        }
    return out


# --------------------------------------------------------------------------------------------
# Command line: python -m emtlib.zoo ...
# --------------------------------------------------------------------------------------------
def _fmt(value, spec: str = ".4f") -> str:
    return "—" if value is None else format(value, spec)


def _cmd_list(args) -> int:
    root = _root(args.root)
    built = available(root)
    show_planned = _is_default(root) or args.planned
    names = sorted(set(built) | (set(ZOO_SPECS) if show_planned else set()))
    print(
        f"zoo in {root}: {len(built)} built"
        + (f", {len(ZOO_SPECS)} planned" if show_planned else "")
    )
    print(
        f"{'name':<18} {'task':<16} {'hidden':>6} {'seed':>4} {'acc@200':>8} {'acc@10k':>8} {'spec.err':>8} {'steps':>6}"
    )
    for name in names:
        if name in built:
            e = built[name]
            task = e["task"] if isinstance(e["task"], str) else ",".join(map(str, e["task"] or []))
            error = (
                _fmt(e["spectral_error"])
                if e["spectral_error"] is not None
                else (f"— {e['spectral_n_model']}/{e['spectral_n_ideal']}")
            )
            print(
                f"{name:<18} {task:<16} {e['hidden']!s:>6} {e['seed']!s:>4} {_fmt(e['accuracy_200']):>8} "
                f"{_fmt(e['accuracy_10000']):>8} {error:>8} {e['steps']!s:>6}"
            )
        else:
            spec = ZOO_SPECS[name]
            print(f"{name:<18} {spec.task!s:<16} {spec.hidden:>6} {spec.seed:>4}  not built")
    return 0


def _missing(name: str, root: Path) -> bool:
    try:
        verify(name, root)
        return False
    except Exception:  # noqa: BLE001
        return True


def _cmd_build(args) -> int:
    root = _root(args.root)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.all or (args.missing and not args.names):
        names = list(ZOO_SPECS)
    elif args.names:
        names = list(args.names)
    else:
        print("build: name entries, or pass --all or --missing", file=sys.stderr)
        return 2
    if args.missing:
        names = [name for name in names if _missing(name, root)]
    for name in names:  # fail early on a typo, before hours of training
        _resolve_spec(name, root, None)
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] building {name} ...", flush=True)
        entry = build(name, root=root, progress=args.progress)
        print(
            f"    accuracy {_fmt(entry['accuracy_200'])} at horizon 200, {_fmt(entry['accuracy_10000'])} at "
            f"10,000; spectral error {_fmt(entry['spectral_error'])} ({entry['spectral_n_model']} vs "
            f"{entry['spectral_n_ideal']} long-lived modes); {entry['steps']} steps, {entry['wall_time_s']} s",
            flush=True,
        )
    if not names:
        print("nothing to build")
    return 0


def _cmd_verify(args) -> int:
    root = _root(args.root)
    report = verify_all(root)
    if args.names:
        unknown = set(args.names) - set(report)
        if unknown:
            print(f"not in the manifest of {root}: {sorted(unknown)}", file=sys.stderr)
            return 1
        report = {name: report[name] for name in args.names}
    bad = {name: msg for name, msg in report.items() if msg is not None}
    for name, msg in report.items():
        print(f"{name}: {'ok' if msg is None else msg}")
    old = {name: why for name, why in stale(root).items() if name in report}
    for name, why in old.items():
        print(f"warning: {name} is stale: {why}")
    print(
        f"{len(report) - len(bad)} of {len(report)} entries verified"
        + (f", {len(old)} stale" if old else "")
    )
    return 1 if bad or (args.strict and old) else 0


def main(argv=None) -> int:
    """The command line ``python -m emtlib.zoo {list, build, verify}``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m emtlib.zoo", description="The emtlib model zoo."
    )
    parser.add_argument(
        "--root", default=None, help="zoo folder (default: the package's emtlib/zoo_data)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    root_opt = {
        "default": argparse.SUPPRESS,
        "help": "zoo folder (default: the package's emtlib/zoo_data)",
    }

    p = sub.add_parser("list", help="list planned and built entries")
    p.add_argument("--root", **root_opt)
    p.add_argument(
        "--planned", action="store_true", help="also list ZOO_SPECS for a non-default root"
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("build", help="train entries and record them in the manifest")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every entry of ZOO_SPECS")
    p.add_argument(
        "--missing", action="store_true", help="only entries not built or failing verification"
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar while training")
    p.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads before training"
    )
    p.add_argument("--root", **root_opt)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("verify", help="check every file against the manifest's sha256")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--strict", action="store_true", help="also fail on stale entries")
    p.add_argument("--root", **root_opt)
    p.set_defaults(func=_cmd_verify)

    args = parser.parse_args(argv)
    if args.command == "build" and args.all and args.names:
        parser.error("build: give names or --all, not both")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""A folder of run records and optional weights, with one sha256 manifest (appendix "Running the
experiments at scale").

Layout of a store folder::

    manifest.json          the sha256 of every file below, the names, a command per run
    records/<run id>.json  one Record per run (emtlib.lab.record)
    weights/<run id>.pt    the trained weights, where they were kept (emtlib.rnn.save_weights)
    <other files>          files the store carries, such as the grid it was run from (grid.yaml)
    quarantine/            records that could not be read, moved aside by Store.quarantine
    .lock, .claim-*.lock   the lock on the manifest; the claims of runs in progress

Every file is written to a temporary file and renamed into place, and a run becomes part of the
store only when the manifest, rewritten the same way under the store's lock, lists it: a process
killed at any moment leaves the store as it was before or after, never half-written.  Reading
checks each file against the manifest (:class:`ChecksumError` naming the file) and validates each
record (:class:`~emtlib.lab.record.RecordError` naming the file); nothing half-checked is returned.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from emtlib.architectures import MODELS
from emtlib.rnn import RecurrentModel, atomic_write_bytes, load_weights, save_weights

from .record import Record, RecordError

__all__ = ["ChecksumError", "IntegrityError", "Problem", "Store", "UnknownNameError"]

MANIFEST = "manifest.json"
#: The version of the manifest format this emtlib writes and reads.
MANIFEST_SCHEMA = 1
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RESERVED = {MANIFEST, "records", "weights", "quarantine"}
#: How long a writer waits for another process's hold on the manifest (seconds).
LOCK_TIMEOUT = 600


class IntegrityError(ValueError):
    """A store's file is missing, unreadable or not what its manifest records; the message names
    the file."""


class ChecksumError(IntegrityError):
    """A file of a store does not match the sha256 its manifest records."""


class UnknownNameError(KeyError):
    """No run of that name or id in the store (the message lists what there is)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Problem:
    """One thing :meth:`Store.verify` or :meth:`Store.scan` found wrong: the file and why."""

    path: Path
    message: str
    run_id: str | None = None

    def __str__(self) -> str:
        return self.message if str(self.path) in self.message else f"{self.path}: {self.message}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(data) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()


class Store:
    """The records (and optional weights) of runs in ``folder`` (appendix "Running the experiments
    at scale").

    A folder that does not exist yet, or holds neither manifest nor records, is an empty store; a
    folder with records but no readable manifest is an :class:`IntegrityError`.  With
    ``shipped=True`` (the stores inside the package) the manifest must exist, and the commands the
    store suggests need no ``--store``.
    """

    def __init__(self, folder: str | os.PathLike, *, shipped: bool = False):
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"folder must be a str or os.PathLike, got {type(folder).__name__}")
        self.folder = Path(folder)
        self.shipped = bool(shipped)

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    @classmethod
    def create(
        cls, folder: str | os.PathLike, description: str = "", *, shipped: bool = False
    ) -> Store:
        """A store in ``folder`` with a manifest on disk (an empty one if it had none)."""
        store = cls(folder)
        with store.locked() as manifest:
            if description:
                manifest["description"] = description
            if not store.manifest_path.exists():
                store._write_manifest(manifest)
        return cls(folder, shipped=shipped)

    # -- paths and commands -----------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def record_path(self, run_id: str) -> Path:
        return self.folder / "records" / f"{run_id}.json"

    def weights_path(self, run_id: str) -> Path:
        return self.folder / "weights" / f"{run_id}.pt"

    def rebuild_command(self, key: str) -> str:
        """The command that regenerates run ``key`` (a name or run id) of this store."""
        command = f"python -m emtlib.lab rebuild {key}"
        return command if self.shipped else f"{command} --store {self.folder}"

    # -- the manifest -----------------------------------------------------------------------------
    def _empty(self) -> dict:
        return {"schema": MANIFEST_SCHEMA, "files": {}, "names": {}, "runs": {}}

    def manifest(self) -> dict:
        """The manifest as read from disk now (a copy)."""
        path = self.manifest_path
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            if self.shipped:
                raise IntegrityError(
                    f"{path} is missing: the store's files cannot be checked; restore it "
                    f"(for the package's own data: reinstall emtlib or `git checkout {path.name}` "
                    f"in {path.parent})"
                ) from None
            held = (
                [p for p in (self.folder / "records").glob("*.json")]
                if self.folder.is_dir()
                else []
            )
            if held:
                raise IntegrityError(
                    f"{path} is missing, but {path.parent / 'records'} holds {len(held)} record(s): "
                    "the store's files cannot be checked; restore the manifest"
                ) from None
            return self._empty()
        except OSError as err:
            raise IntegrityError(f"{path} cannot be read: {err}") from None
        try:
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise IntegrityError(f"{path} is not valid JSON ({err}); restore it") from None
        if not isinstance(data, dict) or not isinstance(data.get("schema"), int):
            raise IntegrityError(f"{path} is not a store manifest (a JSON object with a 'schema')")
        if data["schema"] > MANIFEST_SCHEMA:
            raise IntegrityError(
                f"{path}: manifest schema {data['schema']} is newer than this emtlib reads (up to "
                f"{MANIFEST_SCHEMA}); upgrade emtlib to read it"
            )
        if data["schema"] < 1:
            raise IntegrityError(f"{path}: unknown manifest schema {data['schema']}")
        for key in ("files", "names", "runs"):
            if not isinstance(data.get(key), dict):
                raise IntegrityError(f"{path} lacks its {key!r} object")
        for run_id, entry in data["runs"].items():
            if not _RUN_ID.match(run_id) or not isinstance(entry, dict) or "record" not in entry:
                raise IntegrityError(f"{path}: entry {run_id!r} of 'runs' is malformed")
        return data

    def _write_manifest(self, manifest: dict) -> None:
        manifest["names"] = dict(sorted(manifest["names"].items()))
        atomic_write_bytes(self.manifest_path, _json_bytes(manifest))

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict]:
        """Hold the store's lock; yields the manifest, written back on a normal exit if changed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.folder / ".lock", timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise TimeoutError(
                f"{self.folder} has been locked by another process for {LOCK_TIMEOUT} s"
            ) from None
        try:
            manifest = self.manifest()
            before = json.dumps(manifest, sort_keys=True)
            yield manifest
            if json.dumps(manifest, sort_keys=True) != before:
                self._write_manifest(manifest)
        finally:
            lock.release()

    # -- reading --------------------------------------------------------------------------------
    def run_ids(self) -> list[str]:
        """The ids of every run in the manifest, sorted."""
        return sorted(self.manifest()["runs"])

    def __contains__(self, run_id) -> bool:
        return run_id in self.manifest()["runs"]

    @property
    def names(self) -> dict[str, str]:
        """Name -> run id of every named run."""
        return dict(self.manifest()["names"])

    def resolve(self, key: str) -> str:
        """The run id of ``key``: a name, or a run id of this store."""
        if not isinstance(key, str):
            raise TypeError(f"a run is named by a string, got {type(key).__name__}")
        manifest = self.manifest()
        if key in manifest["names"]:
            return manifest["names"][key]
        if key in manifest["runs"]:
            return key
        names = sorted(manifest["names"])
        raise UnknownNameError(
            f"no run named {key!r} in {self.folder}"
            + (
                f"; names: {', '.join(names)}"
                if names
                else f"; it holds {len(manifest['runs'])} runs"
            )
        )

    def _read(self, relative: str, expected: str, what: str) -> bytes:
        path = self.folder / relative
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise IntegrityError(
                f"{path} is missing ({what} listed in {self.manifest_path})"
            ) from None
        if sha256(data) != expected:
            raise ChecksumError(
                f"{path} does not match the sha256 in {self.manifest_path}: the file was changed "
                "or damaged"
            )
        return data

    def _entry(self, run_id: str, manifest: dict) -> dict:
        entry = manifest["runs"].get(run_id)
        if entry is None:
            raise UnknownNameError(f"no run {run_id!r} in {self.folder}")
        return entry

    def get(self, key: str) -> Record:
        """The record of run ``key`` (a name or run id), checked against the manifest and
        validated; :class:`ChecksumError`, :class:`IntegrityError` or
        :class:`~emtlib.lab.record.RecordError` name the file otherwise."""
        run_id = self.resolve(key)
        for attempt in range(3):  # a record replaced by a writer between the manifest and the file
            entry = self._entry(run_id, self.manifest())
            try:
                data = self._read(f"records/{run_id}.json", entry["record"], f"the record of {key}")
                break
            except ChecksumError:
                if attempt == 2:
                    raise
                time.sleep(0.2)
        return self._parse(run_id, data)

    def _parse(self, run_id: str, data: bytes) -> Record:
        path = self.record_path(run_id)
        try:
            record = Record.from_json(json.loads(data), source=path)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RecordError(f"{path}: not valid JSON ({err})") from None
        if record.run_id != run_id:
            raise RecordError(f"{path}: holds the record of run {record.run_id}, not {run_id}")
        return record

    def load_model(self, key: str) -> RecurrentModel:
        """The trained model of run ``key`` (a name or run id) with its record on ``.record``,
        both checked against the manifest; its class is the spec's architecture
        (:data:`emtlib.architectures.MODELS`)."""
        record = self.get(key)
        run_id = record.run_id
        entry = self._entry(run_id, self.manifest())
        if not entry.get("weights"):
            raise IntegrityError(
                f"run {key!r} in {self.folder} has no weights kept"
                + ("" if record.ok else f" (it failed: {record.error})")
            )
        path = self.weights_path(run_id)
        self._read(f"weights/{run_id}.pt", entry["weights"], f"the weights of {key}")
        model = load_weights(path, MODELS[record.spec.model])
        task = record.spec.task_object
        if (model.d_in, model.hidden) != (task.d, record.spec.hidden):
            raise IntegrityError(
                f"{path} holds weights of another size than its spec {record.spec}"
            )
        model.record = record
        model.eval()
        return model

    def records(self) -> list[Record]:
        """Every record, sorted by run id; the first file that fails its check raises and
        nothing is returned."""
        out = []
        for run_id, entry in sorted(self.manifest()["runs"].items()):
            try:
                data = self._read(f"records/{run_id}.json", entry["record"], "a record")
            except ChecksumError:  # perhaps replaced by a writer since: read it as get() does
                out.append(self.get(run_id))
                continue
            out.append(self._parse(run_id, data))
        return out

    def scan(self) -> tuple[dict[str, Record], list[Problem]]:
        """Every readable record (by run id) and a :class:`Problem` for every record that is
        missing, changed or invalid; reading goes on past a bad record."""
        manifest = self.manifest()
        good, problems = {}, []
        for run_id, entry in sorted(manifest["runs"].items()):
            try:
                data = self._read(f"records/{run_id}.json", entry["record"], "a record")
                good[run_id] = self._parse(run_id, data)
            except (IntegrityError, RecordError) as err:
                problems.append(Problem(self.record_path(run_id), str(err), run_id))
        return good, problems

    def read_file(self, name: str) -> bytes:
        """A file the store carries (such as ``grid.yaml``), checked against the manifest."""
        manifest = self.manifest()
        if name not in manifest["files"]:
            raise UnknownNameError(f"{self.folder} carries no file {name!r}")
        return self._read(name, manifest["files"][name], "a file")

    # -- writing --------------------------------------------------------------------------------
    def _command(self, run_id: str, manifest: dict) -> str:
        named = [n for n, r in manifest["names"].items() if r == run_id]
        return self.rebuild_command(named[0] if named else run_id)

    def put(
        self, record: Record, model: RecurrentModel | None = None, name: str | None = None
    ) -> None:
        """Add or replace the record of one run, with its weights when ``model`` is given (of the
        spec's architecture), and point ``name`` at it; the manifest lists the new files only once
        they are complete."""
        if not isinstance(record, Record):
            raise TypeError(f"record must be a Record, got {type(record).__name__}")
        if model is not None and not isinstance(model, RecurrentModel):
            raise TypeError(
                f"model must be an ElmanRNN (or another RecurrentModel) or None, "
                f"got {type(model).__name__}"
            )
        if model is not None and type(model) is not MODELS[record.spec.model]:
            raise ValueError(
                f"model is a {type(model).__name__}, but the record's spec trains model="
                f"{record.spec.model!r} ({MODELS[record.spec.model].__name__})"
            )
        if name is not None:
            _check_name(name)
        run_id = record.run_id
        data = _json_bytes(record.to_json())
        with self.locked() as manifest:
            weights = None
            if model is not None:
                path = save_weights(model, self.weights_path(run_id))
                weights = sha256(path.read_bytes())
            else:
                self.weights_path(run_id).unlink(missing_ok=True)
            atomic_write_bytes(self.record_path(run_id), data)
            if name is not None:
                manifest["names"][name] = run_id
            manifest["runs"][run_id] = {
                "record": sha256(data),
                "weights": weights,
                "seed": record.spec.seed,
                "command": self._command(run_id, manifest),
            }

    def set_name(self, name: str, run_id: str) -> None:
        """Point ``name`` at run ``run_id`` (already in the store)."""
        _check_name(name)
        with self.locked() as manifest:
            if run_id not in manifest["runs"]:
                raise UnknownNameError(f"no run {run_id!r} in {self.folder}")
            manifest["names"][name] = run_id
            manifest["runs"][run_id]["command"] = self.rebuild_command(name)

    def remove(self, run_id: str) -> None:
        """Drop run ``run_id``, its files and the names that point at it."""
        with self.locked() as manifest:
            manifest["runs"].pop(run_id, None)
            for name in [n for n, r in manifest["names"].items() if r == run_id]:
                del manifest["names"][name]
            self._write_manifest(manifest)
            self.record_path(run_id).unlink(missing_ok=True)
            self.weights_path(run_id).unlink(missing_ok=True)

    def put_file(self, name: str, data: bytes) -> None:
        """Carry a file (such as the grid a sweep ran, ``grid.yaml``) in the store."""
        _check_name(name)
        if name in _RESERVED:
            raise ValueError(f"{name!r} is one of the store's own names")
        with self.locked() as manifest:
            atomic_write_bytes(self.folder / name, bytes(data))
            manifest["files"][name] = sha256(bytes(data))

    # -- integrity --------------------------------------------------------------------------------
    def verify(self) -> list[Problem]:
        """Check every file against the manifest, every record's values and every weights file;
        also report files the manifest does not list and names that point nowhere.  An empty list
        means the store is sound."""
        try:
            manifest = self.manifest()
        except IntegrityError as err:
            return [Problem(self.manifest_path, str(err))]
        good, problems = self.scan()
        for run_id, entry in sorted(manifest["runs"].items()):
            if entry.get("weights") and run_id in good:
                try:
                    self.load_model(run_id)
                except (IntegrityError, RecordError, ValueError) as err:
                    problems.append(Problem(self.weights_path(run_id), str(err), run_id))
        for name, sha in sorted(manifest["files"].items()):
            try:
                self._read(name, sha, "a file")
            except IntegrityError as err:
                problems.append(Problem(self.folder / name, str(err)))
        for name, run_id in sorted(manifest["names"].items()):
            if run_id not in manifest["runs"]:
                problems.append(
                    Problem(self.manifest_path, f"name {name!r} points at no run ({run_id})")
                )
        for path in self._unlisted(manifest):
            problems.append(
                Problem(
                    path,
                    "not listed in the manifest (left by an interrupted write, or added by hand)",
                )
            )
        return problems

    def _unlisted(self, manifest: dict) -> list[Path]:
        runs = manifest["runs"]
        out = []
        for sub, suffix in (("records", ".json"), ("weights", ".pt")):
            folder = self.folder / sub
            if folder.is_dir():
                for path in sorted(folder.iterdir()):
                    run_id = path.name[: -len(suffix)] if path.name.endswith(suffix) else None
                    listed = run_id in runs and (sub == "records" or runs[run_id].get("weights"))
                    if not listed:
                        out.append(path)
        return out

    def quarantine(self) -> list[Problem]:
        """Move every record that cannot be read, and every file the manifest does not list, into
        ``quarantine/``, and drop those runs from the manifest (their runs become pending).
        Returns what was moved and why."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
        moved = []
        with self.locked() as manifest:
            _, problems = self.scan()
            target = self.folder / "quarantine"
            for problem in problems:
                manifest["runs"].pop(problem.run_id, None)
                for name in [n for n, r in manifest["names"].items() if r == problem.run_id]:
                    del manifest["names"][name]
            if problems:
                self._write_manifest(manifest)
            paths = [p.path for p in problems] + self._unlisted(manifest)
            for problem in problems:
                paths.append(self.weights_path(problem.run_id))
            reasons = {p.path: p.message for p in problems}
            for path in paths:
                if path.exists():
                    target.mkdir(exist_ok=True)
                    destination = target / f"{stamp}-{path.parent.name}-{path.name}"
                    os.replace(path, destination)
                    moved.append(
                        Problem(
                            path,
                            f"moved to {destination}: {reasons.get(path, 'not listed in the manifest')}",
                        )
                    )
            for sub in ("records", "weights", "."):  # temporary files of interrupted writes
                folder = self.folder / sub
                if folder.is_dir():
                    for tmp in folder.glob(".*.tmp"):
                        tmp.unlink(missing_ok=True)
        return moved

    # -- claims -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def claim(self, run_id: str) -> Iterator[bool]:
        """Claim run ``run_id`` for this process while the block runs; yields False when another
        process holds the claim.  The claim is an operating-system lock, so it ends with the
        process that holds it, however that process ends."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f".claim-{run_id}.lock"
        lock = FileLock(path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            path.unlink(missing_ok=True)
            lock.release()


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"a name starts with a letter or digit and holds letters, digits, '_', '.', '-', got {name!r}"
        )
    return name

"""Properties of the lab's Store: records and weights round-trip through the folder; a tampered,
truncated, missing or newer-schema file is a clear error naming it and nothing is loaded; an
unreadable record is quarantined without stopping the folder; claims exclude each other.  The
models are untrained (no training here)."""

from __future__ import annotations

import json
import threading

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emtlib.lab import Metrics, Record, RunSpec, Store
from emtlib.lab.record import RecordError
from emtlib.lab.store import ChecksumError, IntegrityError, UnknownNameError, sha256
from emtlib.rnn import ElmanRNN

TASK = [2, 2, 3, 0, 0]


def record_of(seed: int, hidden: int = 4, ok: bool = True) -> Record:
    spec = RunSpec(TASK, hidden, seed, recipe="paper", max_steps=5)
    if not ok:
        return Record.failure(spec, RuntimeError(f"run {seed} failed"))
    metrics = Metrics({200: 0.5 + seed / 100}, None, 0, 2, 5, None, 0.25)
    return Record(
        spec, metrics, tuple(complex(0.1 * i, 0.0) for i in range(hidden)), {"emtlib": "t"}
    )


def model_of(record: Record) -> ElmanRNN:
    return ElmanRNN(2, record.spec.hidden, seed=record.spec.seed)


def filled(folder, n: int = 3) -> tuple[Store, list[Record]]:
    store = Store(folder)
    records = [record_of(seed) for seed in range(n)]
    for record in records:
        store.put(record, model_of(record), name=f"run-{record.spec.seed}")
    return store, records


def test_put_get_and_load_model_round_trip(tmp_path):
    store, records = filled(tmp_path / "s")
    assert store.run_ids() == sorted(r.run_id for r in records)
    for record in records:
        assert store.get(record.run_id) == record
        assert store.get(f"run-{record.spec.seed}") == record
        model = store.load_model(f"run-{record.spec.seed}")
        assert model.record == record
        expected = model_of(record)
        for a, b in zip(model.state_dict().values(), expected.state_dict().values()):
            assert torch.equal(a, b)
    assert store.records() == sorted(records, key=lambda r: r.run_id)
    assert store.verify() == []
    manifest = json.loads(store.manifest_path.read_text())
    entry = manifest["runs"][records[0].run_id]
    assert (
        entry["seed"] == 0
        and entry["command"] == f"python -m emtlib.lab rebuild run-0 --store {store.folder}"
    )
    assert entry["record"] == sha256(store.record_path(records[0].run_id).read_bytes())
    assert not list(store.folder.rglob("*.tmp")), "temporary files left"


@given(
    st.lists(st.integers(0, 50), unique=True, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_store_round_trip_property(tmp_path_factory, seeds, flags):
    store = Store(tmp_path_factory.mktemp("store"))
    records = [record_of(seed, ok=flag) for seed, flag in zip(seeds, flags)]
    for record in records:
        store.put(record, model_of(record) if record.ok else None)
    again = Store(store.folder)
    assert {r.run_id: r for r in again.records()} == {r.run_id: r for r in records}
    assert again.verify() == []


def test_a_new_folder_is_an_empty_store_and_an_unknown_key_lists_the_names(tmp_path):
    assert Store(tmp_path / "nothing").records() == []
    store, _ = filled(tmp_path / "s", 2)
    with pytest.raises(UnknownNameError, match="no run named 'run-9'.*run-0, run-1"):
        store.get("run-9")
    record = record_of(7, ok=False)
    store.put(record)
    with pytest.raises(IntegrityError, match="no weights kept.*failed: RuntimeError: run 7 failed"):
        store.load_model(record.run_id)


def tamper(path, change):
    data = path.read_bytes()
    path.write_bytes(change(data))


@pytest.mark.parametrize(
    "what, change, error, match",
    [
        (
            "record",
            lambda b: b.replace(b'"200": 0.5', b'"200": 0.6'),
            ChecksumError,
            "does not match the sha256",
        ),
        ("record", lambda b: b[: len(b) // 2], ChecksumError, "does not match the sha256"),
        ("record", None, IntegrityError, "is missing"),
        ("weights", lambda b: b[:-10], ChecksumError, "does not match the sha256"),
        ("weights", None, IntegrityError, "is missing"),
    ],
)
def test_tampered_truncated_or_missing_files_are_errors_naming_them(
    tmp_path, what, change, error, match
):
    store, records = filled(tmp_path / "s")
    run_id = records[0].run_id
    path = store.record_path(run_id) if what == "record" else store.weights_path(run_id)
    if change is None:
        path.unlink()
    else:
        tamper(path, change)
    loaded = []
    with pytest.raises(error, match=match) as info:
        loaded.append(store.load_model("run-0"))
    assert str(path) in str(info.value) and not loaded
    if what == "record":
        with pytest.raises(error, match=str(path)):
            loaded.append(store.records())
        assert not loaded, "nothing is returned from a store with a bad record"
    problems = store.verify()
    assert [p.path for p in problems] == [path]


def rewrite_listed(store: Store, run_id: str, data: dict) -> None:
    """Write a record file and its sha256 into the manifest, as a (newer or broken) writer would."""
    text = json.dumps(data).encode()
    store.record_path(run_id).write_bytes(text)
    manifest = store.manifest()
    manifest["runs"][run_id]["record"] = sha256(text)
    store._write_manifest(manifest)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: {**d, "schema": 2}, "newer than this emtlib reads"),
        (
            lambda d: {**d, "metrics": {**d["metrics"], "accuracy": {"200": 1.7}}},
            r"accuracy\[200\]",
        ),
        (lambda d: {**d, "spec": {**d["spec"], "seed": 99}}, "not the id of its spec"),
    ],
)
def test_newer_schema_or_impossible_values_are_record_errors_naming_the_file(
    tmp_path, change, match
):
    store, records = filled(tmp_path / "s")
    run_id = records[1].run_id
    rewrite_listed(store, run_id, change(records[1].to_json()))
    with pytest.raises(RecordError, match=match) as info:
        store.get(run_id)
    assert str(store.record_path(run_id)) in str(info.value)
    good, problems = store.scan()
    assert set(good) == {records[0].run_id, records[2].run_id}
    assert [p.run_id for p in problems] == [run_id]


def test_not_json_is_a_record_error_naming_the_file(tmp_path):
    store, records = filled(tmp_path / "s", 1)
    store.record_path(records[0].run_id).write_bytes(b"{not json")
    manifest = store.manifest()
    manifest["runs"][records[0].run_id]["record"] = sha256(b"{not json")
    store._write_manifest(manifest)
    with pytest.raises(
        RecordError, match=f"{store.record_path(records[0].run_id)}: not valid JSON"
    ):
        store.get(records[0].run_id)


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "is missing, but .* holds 2 record"),
        (b"{", "is not valid JSON"),
        (b'{"schema": 2, "files": {}, "names": {}, "runs": {}}', "newer than this emtlib"),
        (b'{"schema": 1, "runs": {}}', "lacks its 'files'"),
        (b"[]", "not a store manifest"),
    ],
)
def test_a_missing_or_unreadable_manifest_is_an_integrity_error_naming_it(tmp_path, content, match):
    store, _ = filled(tmp_path / "s", 2)
    if content is None:
        store.manifest_path.unlink()
    else:
        store.manifest_path.write_bytes(content)
    with pytest.raises(IntegrityError, match=match) as info:
        store.records()
    assert str(store.manifest_path) in str(info.value)
    assert [p.path for p in store.verify()] == [store.manifest_path]
    if content is None:  # a shipped store needs its manifest even when it holds nothing
        (tmp_path / "empty").mkdir()
        with pytest.raises(IntegrityError, match="manifest.json is missing"):
            _ = Store(tmp_path / "empty", shipped=True).names


def test_quarantine_moves_unreadable_records_aside_and_keeps_the_rest(tmp_path):
    store, records = filled(tmp_path / "s")
    bad = records[1].run_id
    tamper(store.record_path(bad), lambda b: b.replace(b"0.51", b"0.99"))
    (store.folder / "records" / ("f" * 16 + ".json")).write_text("{}")  # not in the manifest
    moved = store.quarantine()
    assert sorted(p.path.name for p in moved) == sorted(
        [f"{bad}.json", f"{bad}.pt", "f" * 16 + ".json"]
    )
    assert all("moved to" in p.message for p in moved)
    assert store.run_ids() == sorted(r.run_id for r in records if r.run_id != bad)
    assert "run-1" not in store.names and store.verify() == []
    assert len(list((store.folder / "quarantine").iterdir())) == 3


def test_a_kill_between_files_and_manifest_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    store, records = filled(tmp_path / "s", 2)
    before = store.manifest_path.read_bytes()

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        store.put(record_of(5), model_of(record_of(5)))
    monkeypatch.undo()
    assert store.manifest_path.read_bytes() == before and record_of(5).run_id not in store
    assert [p.path.name for p in store.verify()] == [
        f"{record_of(5).run_id}.json",
        f"{record_of(5).run_id}.pt",
    ]
    store.quarantine()
    assert store.verify() == [] and store.records() == sorted(records, key=lambda r: r.run_id)


def test_claims_exclude_each_other_and_end_with_their_holder(tmp_path):
    store = Store(tmp_path / "s")
    seen = []
    with store.claim("a" * 16) as mine:
        assert mine
        thread = threading.Thread(target=lambda: seen.append(store.claim("a" * 16).__enter__()))
        thread.start()
        thread.join()
        with Store(store.folder).claim("b" * 16) as other:
            assert other
    assert seen == [False]
    with store.claim("a" * 16) as again:
        assert again
    assert not list(store.folder.glob(".claim-*")), "claims are removed when they end"


def test_files_the_store_carries_are_checked(tmp_path):
    store = Store(tmp_path / "s")
    store.put_file("grid.yaml", b"tasks: [T1]\n")
    assert store.read_file("grid.yaml") == b"tasks: [T1]\n"
    (store.folder / "grid.yaml").write_bytes(b"tasks: [T2]\n")
    with pytest.raises(ChecksumError, match="grid.yaml does not match"):
        store.read_file("grid.yaml")
    with pytest.raises(ValueError, match="store's own names"):
        store.put_file("manifest.json", b"{}")

"""Properties of the lab's RunSpec, Metrics and Record: validation where values enter, stable run
ids, JSON round trips, and clear errors for records that no run can produce or that a newer emtlib
wrote.  No training here."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.lab import Metrics, Record, RunSpec
from emtlib.lab.recipes import RECIPES
from emtlib.lab.record import SCHEMA_VERSION, RecordError
from emtlib.lab.spec import EVALUATION
from emtlib.tasks import PAPER_TASKS, Task

TASKS = [*PAPER_TASKS, [2, 2, 3, 0, 0], [3, 2, 5, 1, 2]]

specs = st.builds(
    RunSpec,
    task=st.sampled_from(TASKS),
    hidden=st.integers(1, 4096),
    seed=st.integers(0, 2**63 - 1),
    l2=st.floats(0, 10, allow_nan=False),
    threshold=st.none() | st.floats(0, 1, exclude_min=True),
    recipe=st.sampled_from(sorted(RECIPES)),
    max_steps=st.none() | st.integers(1, 10**6),
    stop_when_solved=st.none() | st.booleans(),
)


# --------------------------------------------------------------------------------------------
# RunSpec
# --------------------------------------------------------------------------------------------
def test_run_id_of_a_fixed_spec_is_a_known_string():
    # The id names every stored record: a change of the hashing orphans them all, so it is pinned.
    assert RunSpec("T1", 128, 0).run_id == "2d0318c59abef55a"
    full = RunSpec([2, 2, 3, 0, 0], 8, 5, 0.001, 0.9, "paper", 300)
    assert full.run_id == "e86f5c694b4a537a"


def test_run_id_hashes_only_the_fields_away_from_their_default():
    text = json.dumps({"hidden": 128, "seed": 0, "task": [8, 8, 255, 0, 0]}, separators=(",", ":"))
    assert RunSpec("T1", 128, 0).run_id == hashlib.sha256(text.encode()).hexdigest()[:16]
    explicit = RunSpec(
        "T1",
        128,
        0,
        l2=0.0,
        threshold=None,
        recipe="default",
        max_steps=None,
        stop_when_solved=None,
    )
    assert explicit.run_id == RunSpec("T1", 128, 0).run_id
    assert RunSpec("T1", 128, 0, l2=1e-3).run_id != RunSpec("T1", 128, 0).run_id


def test_a_task_is_one_spec_however_it_is_given():
    by_label = RunSpec("T2", 64, 1)
    assert by_label == RunSpec(PAPER_TASKS["T2"], 64, 1) == RunSpec(list(by_label.task), 64, 1)
    assert by_label.task_object == PAPER_TASKS["T2"] and by_label.label == "T2"
    assert RunSpec([2, 2, 3, 0, 0], 8, 0).label == "s2d2(3,0,0)"


@given(specs)
def test_spec_json_round_trip_keeps_the_spec_and_its_id(spec):
    data = json.loads(json.dumps(spec.to_json(), allow_nan=False))
    again = RunSpec.from_json(data)
    assert again == spec and again.run_id == spec.run_id and hash(again) == hash(spec)
    assert len(spec.run_id) == 16 and int(spec.run_id, 16) >= 0
    assert isinstance(spec.task_object, Task)


@given(specs)
def test_seeds_come_from_the_spec(spec):
    seeds = spec.seeds()
    assert seeds.train == spec.seed
    assert seeds.evaluation == EVALUATION and seeds.evaluation[200].seed == 20_231_003


BAD_FIELDS = [
    ("hidden", 0, ValueError),
    ("hidden", 2.5, TypeError),
    ("hidden", True, TypeError),
    ("seed", -1, ValueError),
    ("seed", 2**63, ValueError),
    ("l2", -0.1, ValueError),
    ("l2", math.nan, ValueError),
    ("l2", "0", TypeError),
    ("threshold", 0.0, ValueError),
    ("threshold", 1.5, ValueError),
    ("recipe", "fast", ValueError),
    ("recipe", 3, TypeError),
    ("max_steps", 0, ValueError),
    ("model", "transformer", ValueError),
    ("model", 1, TypeError),
    ("stop_when_solved", "no", TypeError),
]


@pytest.mark.parametrize("name, value, error", BAD_FIELDS)
def test_a_bad_field_is_refused_naming_it(name, value, error):
    fields = {"task": "T1", "hidden": 8, "seed": 0, name: value}
    with pytest.raises(error, match=name):
        RunSpec(**fields)


@given(
    st.sampled_from(["hidden", "seed", "max_steps"]),
    st.integers(-(2**70), 0) | st.floats(allow_nan=True) | st.booleans() | st.text(max_size=3),
)
@settings(max_examples=60)
def test_no_bad_integer_field_gets_through(name, value):
    with pytest.raises((TypeError, ValueError), match=name):
        RunSpec(
            **{
                "task": "T1",
                "hidden": 8,
                "seed": 0,
                name: value if name != "seed" or value != 0 else -1,
            }
        )


@pytest.mark.parametrize(
    "task, match",
    [
        ("T9", "task must be"),
        ([8, 8, 255, 0], "five numbers"),
        ([2, 2, 1, 0, 0], "not valid"),
        (b"T1", "task must be"),
        ([2, 2, 3.0, 0, 0], "t1"),
    ],
)
def test_a_bad_task_is_refused(task, match):
    with pytest.raises((TypeError, ValueError), match=match):
        RunSpec(task, 8, 0)


def test_from_json_refuses_unknown_and_missing_fields():
    data = RunSpec("T1", 8, 0).to_json()
    with pytest.raises(ValueError, match="no field"):
        RunSpec.from_json({**data, "lr": 0.1})
    with pytest.raises(ValueError, match="needs"):
        RunSpec.from_json({k: v for k, v in data.items() if k != "hidden"})
    # a field added later with its default may be absent from older files
    assert RunSpec.from_json({k: v for k, v in data.items() if k != "model"}) == RunSpec("T1", 8, 0)


# --------------------------------------------------------------------------------------------
# Metrics and Record
# --------------------------------------------------------------------------------------------
@st.composite
def metrics(draw):
    ideal = draw(st.integers(0, 64))
    model = draw(st.sampled_from([ideal, ideal + 1, max(ideal - 1, 0)]))
    compared = model == ideal > 0
    steps = draw(st.integers(0, 10**6))
    return Metrics(
        accuracy=draw(
            st.dictionaries(st.sampled_from([10, 200, 1000, 10_000]), st.floats(0, 1), min_size=1)
        ),
        spectral_error=draw(st.floats(0, math.pi)) if compared else None,
        n_long_lived_model=model,
        n_long_lived_ideal=ideal,
        steps=steps,
        solved_step=draw(st.none() | st.integers(0, steps)),
        wall_time_s=draw(st.floats(0, 1e6)),
        restarts=draw(st.integers(0, 10)),
        final_horizon_reached=draw(st.booleans()),
    )


@st.composite
def records(draw):
    spec = draw(specs.filter(lambda s: s.hidden <= 64))
    if draw(st.booleans()):
        parts = st.floats(-3, 3, allow_nan=False)
        eig = draw(
            st.none()
            | st.lists(st.builds(complex, parts, parts), min_size=spec.hidden, max_size=spec.hidden)
        )
        return Record(spec, draw(metrics()), eig, {"emtlib": "1", "torch": "2"})
    return Record(spec, error=draw(st.text(min_size=1)), versions={"python": "3"})


@given(records())
def test_record_json_round_trip(record):
    text = json.dumps(record.to_json(), allow_nan=False)
    again = Record.from_json(json.loads(text))
    assert again == record and again.run_id == record.run_id
    assert again.metrics is None or again.metrics.accuracy == record.metrics.accuracy


def good_record(**metric_changes) -> Record:
    values = {
        "accuracy": {200: 0.99, 10_000: 0.9},
        "spectral_error": 0.01,
        "n_long_lived_model": 8,
        "n_long_lived_ideal": 8,
        "steps": 100,
        "solved_step": 90,
        "wall_time_s": 1.5,
    }
    return Record(
        RunSpec("T2", 8, 0), Metrics(**{**values, **metric_changes}), None, {"emtlib": "x"}
    )


def test_typed_access_to_metrics():
    m = good_record().metrics
    assert m.accuracy[200] == 0.99 and m.accuracy[10_000] == 0.9 and m.solved
    with pytest.raises(TypeError):
        m.accuracy[200] = 1.0  # read-only


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"accuracy": {200: 1.7}}, r"accuracy\[200\]"),
        ({"accuracy": {200: -0.1}}, r"accuracy\[200\]"),
        ({"accuracy": {}}, "accuracy"),
        ({"accuracy": {0: 0.5}}, "horizon"),
        ({"spectral_error": None}, "spectral_error is missing"),
        ({"n_long_lived_model": 7}, "nothing was compared"),
        ({"n_long_lived_model": 0, "n_long_lived_ideal": 0}, "nothing was compared"),
        ({"spectral_error": 4.0}, "spectral_error"),
        ({"steps": -1}, "steps"),
        ({"solved_step": 101}, "past the last step"),
        ({"wall_time_s": math.inf}, "wall_time_s"),
        ({"restarts": 1.0}, "restarts"),
    ],
)
def test_impossible_metrics_are_errors(changes, match):
    with pytest.raises((TypeError, ValueError), match=match):
        good_record(**changes)


def test_an_accuracy_of_1_7_in_a_record_file_is_an_error_naming_it():
    data = good_record().to_json()
    data["metrics"]["accuracy"]["200"] = 1.7
    with pytest.raises(RecordError, match=r"runs/x\.json: accuracy\[200\]"):
        Record.from_json(data, source="runs/x.json")


def test_a_record_holds_metrics_or_an_error():
    spec = RunSpec("T2", 8, 0)
    with pytest.raises(ValueError, match="either metrics"):
        Record(spec)
    with pytest.raises(ValueError, match="either metrics"):
        Record(spec, good_record().metrics, error="boom")
    with pytest.raises(ValueError, match="eigenvalues"):
        Record(spec, good_record().metrics, (1j,) * 7)
    failed = Record.failure(spec, ZeroDivisionError("x"))
    assert not failed.ok and failed.error == "ZeroDivisionError: x" and failed.versions["torch"]


@pytest.mark.parametrize(
    "change, match",
    [
        ({"schema": SCHEMA_VERSION + 1}, "newer than this emtlib reads"),
        ({"schema": 0}, "unknown record schema"),
        ({"schema": "1"}, "unknown record schema"),
        ({"extra": 1}, "unknown"),
        ({"run_id": "0" * 16}, "not the id of its spec"),
        ({"spec": {"task": "T1"}}, "needs"),
        ({"eigenvalues": {"real": [1.0]}}, "eigenvalues"),
        ({"created": "yesterday"}, "ISO 8601"),
    ],
)
def test_unreadable_record_json_is_a_record_error(change, match):
    data = {**good_record().to_json(), **change}
    with pytest.raises(RecordError, match=match):
        Record.from_json(data, source="f.json")
    with pytest.raises(RecordError, match="not a lab record"):
        Record.from_json([1, 2], source="f.json")

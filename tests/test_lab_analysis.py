"""The analysis a run may add to its record (chapter "Beyond the Elman RNN"): validated, written
only where there is one (so every older record reads as before), measured by run() on any
architecture, and explained where a state is too small to hold a basis."""

import json

import pytest

from emtlib.lab import Metrics, Record, RunSpec, beyond, run
from emtlib.lab.record import Analysis
from emtlib.lab.sweep import load_grid

TASK = [2, 2, 3, 0, 0]  # repeat copy, s = d = 2: 4 long-lived modes


def metrics(analysis=None) -> Metrics:
    return Metrics({200: 0.5}, None, 0, 4, 5, None, 0.25, analysis=analysis)


def test_a_record_without_analysis_is_written_as_before():
    data = metrics().to_json()
    assert "analysis" not in data
    assert Metrics.from_json(data) == metrics()
    full = metrics(Analysis(0.3, 0.9, 1.0, 0.8, 0.9, 0.95))
    assert Metrics.from_json(json.loads(json.dumps(full.to_json()))) == full


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"fixed_point_offset": -0.1}, ValueError, "fixed_point_offset"),
        ({"fixed_point_offset": 0.1, "observer_accuracy": 1.2}, ValueError, "observer_accuracy"),
        ({"fixed_point_offset": 0.1}, ValueError, "must say why in its note"),
        ({"fixed_point_offset": 0.1, "note": 3}, TypeError, "note must be"),
    ],
)
def test_impossible_analyses_are_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Analysis(**kwargs)


def test_metrics_refuse_unknown_fields_and_a_bad_analysis():
    data = metrics().to_json()
    with pytest.raises(ValueError, match=r"unknown \['extra'\]"):
        Metrics.from_json({**data, "extra": 1})
    with pytest.raises(ValueError, match=r"analysis must hold .* missing \['fixed_point_offset', "):
        Metrics.from_json({**data, "analysis": {"note": "x"}})
    with pytest.raises(TypeError, match="analysis must be an Analysis"):
        Metrics({200: 0.5}, None, 0, 4, 5, None, 0.25, analysis={"fixed_point_offset": 0})


def test_the_analysis_flag_keeps_every_run_id_and_is_checked():
    spec = RunSpec("T1", 128, 0)
    assert RunSpec("T1", 128, 0, analysis=False).run_id == spec.run_id
    assert RunSpec("T1", 128, 0, analysis=True).run_id != spec.run_id
    with pytest.raises(TypeError, match="analysis must be"):
        RunSpec("T1", 128, 0, analysis="yes")


@pytest.mark.parametrize("model", ["elman", "lstm"])
def test_run_measures_the_analysis_of_any_architecture(model):
    spec = RunSpec(TASK, 6, 0, recipe="paper", max_steps=5, model=model, analysis=True)
    _, record = run(spec)
    analysis = record.metrics.analysis
    assert isinstance(analysis, Analysis) and analysis.note is None
    for name in (
        "observer_accuracy",
        "probe_accuracy",
        "intervention_rate",
        "probe_intervention_rate",
    ):
        assert 0.0 <= getattr(analysis, name) <= 1.0
    assert (analysis.fixed_point_offset == 0.0) == (model == "elman")
    again = Record.from_json(json.loads(json.dumps(record.to_json())))
    assert again.metrics.analysis == analysis


def test_a_state_smaller_than_phis_modes_gets_a_note():
    spec = RunSpec(TASK, 3, 0, recipe="paper", max_steps=5, model="gru", analysis=True)
    analysis = run(spec)[1].metrics.analysis
    assert analysis.observer_accuracy is None and analysis.intervention_rate is None
    assert analysis.note == "a state of 3 numbers holds no basis of Φ's 4 long-lived modes"


def test_a_task_with_slots_outside_phis_cycles_is_decoded_but_not_edited():
    task = [4, 3, 448, 1, 7]  # six long-lived modes, none in slots 0 and 1
    analysis = run(RunSpec(task, 6, 0, recipe="paper", max_steps=5, analysis=True))[
        1
    ].metrics.analysis
    assert analysis.observer_accuracy is not None and analysis.intervention_rate is None
    assert analysis.note.startswith("slots [") and "no edits are judged" in analysis.note


# -- the study's rows (emtlib.lab.beyond) --------------------------------------------------------
MEASURED = Analysis(0.5, 0.9, 1.0, 0.8, 0.9, 0.95)


def study_record(model, seed, analysis=MEASURED, hidden=4):
    spec = RunSpec(TASK, hidden, seed, model=model, analysis=True)
    m = Metrics(
        {200: 1.0, 10_000: 0.9992 if model == "elman" else 0.998},
        None,
        0,
        4,
        5,
        None,
        0.1,
        analysis=analysis,
    )
    count = hidden * (2 if model == "lstm" else 1)
    return Record(spec, m, tuple(0j for _ in range(count)), {"x": "t"})


def test_rows_are_ordered_flat_and_complete():
    records = [study_record("lstm", 0), study_record("elman", 1), study_record("elman", 0)]
    rows = beyond.rows(records)
    assert [(r.model, r.seed) for r in rows] == [("elman", 0), ("elman", 1), ("lstm", 0)]
    assert rows[2].state_size == 8 and rows[2].probe_intervention_rate == 0.9
    assert rows[0].generalises and not rows[2].generalises
    with pytest.raises(ValueError, match="has no analysis"):
        beyond.rows([study_record("gru", 0, analysis=None)])
    failed = Record.failure(RunSpec(TASK, 4, 0, model="gru", analysis=True), "boom")
    with pytest.raises(ValueError, match="failed: boom"):
        beyond.rows([failed])
    with pytest.raises(TypeError, match="lab Records"):
        beyond.rows([{"spec": 1}])


def test_a_residual_is_recorded_only_for_a_slow_point():
    slow = Analysis(0.5, 0.9, 1.0, 0.8, 0.9, 0.95, fixed_point_residual=3e-4)
    assert Analysis.from_json(json.loads(json.dumps(slow.to_json()))) == slow
    assert "fixed_point_residual" not in MEASURED.to_json()
    with pytest.raises(ValueError, match="that of a fixed point: record None"):
        Analysis(0.5, 0.9, 1.0, 0.8, 0.9, 0.95, fixed_point_residual=1e-12)


def test_the_shipped_study_grid_is_read_through_its_manifest():
    study = beyond.grid()
    assert study.specs == load_grid(beyond.FOLDER / "grid.yaml").specs
    assert all(spec.analysis for spec in study.specs)
    assert {spec.model for spec in study.specs} == {"elman", "elman-bias", "gru", "lstm"}

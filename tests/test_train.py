"""Tests of emtlib.train: end-to-end training on a small task, determinism, evaluation, errors."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from emtlib.circuit import build_circuit
from emtlib.spectra import spectral_error
from emtlib.tasks import PAPER_TASKS, random_task, repeat_copy
from emtlib.train import (
    SCHEDULES,
    Schedule,
    TrainingDiverged,
    chunk_bounds,
    default_schedule,
    evaluate,
    hardest_sequences,
    restart_seed,
    sequence_margins,
    singular_value_floor,
    train_rnn,
)

SMALL = {
    "hidden": 16,
    "seed": 0,
    "l2": 0.01,
    "schedule": "fast",
    "input_scale": 8.0,
    "recurrent_gain": 1.2,
    "max_steps": 3000,
}


@pytest.mark.parametrize(
    "schedule",
    [{"schedule": "fast", "max_steps": 3000}, {"schedule": "chunked", "max_steps": 10_000}],
    ids=["fast", "chunked"],
)
@pytest.mark.parametrize(
    "task", [repeat_copy(3, 3), random_task(3, 3, seed=1)], ids=["repeat", "random"]
)
def test_small_task_is_learned_with_the_circuit_spectrum(task, schedule):
    model = train_rnn(task, **{**SMALL, **schedule})
    assert model.metadata["schedule"] == schedule["schedule"]
    assert model.metadata["solved_step"] is not None
    assert evaluate(model, task, horizon=200, batches=4, seed=5) == 1.0
    comparison = spectral_error(model, task)
    assert comparison.matched, str(comparison)
    assert comparison.error < 0.05


def test_same_seed_same_weights_and_history():
    task = random_task(2, 2, seed=3)
    a = train_rnn(task, hidden=8, seed=4, max_steps=60, stop_when_solved=False)
    b = train_rnn(task, hidden=8, seed=4, max_steps=60, stop_when_solved=False)
    c = train_rnn(task, hidden=8, seed=5, max_steps=60, stop_when_solved=False)
    np.testing.assert_array_equal(a.W_hh, b.W_hh)
    assert [h["loss"] for h in a.history] == [h["loss"] for h in b.history]
    assert not np.array_equal(a.W_hh, c.W_hh)
    assert a.metadata["steps"] == 60 and a.metadata["seed"] == 4


def test_evaluate_scores_the_circuits():
    task = PAPER_TASKS["T2"]
    assert evaluate(build_circuit(task, nonlinear=True), task, horizon=300, batches=2) == 1.0
    linear = evaluate(build_circuit(task), task, horizon=300, batches=2)
    assert 0.6 < linear < 0.8
    assert evaluate(build_circuit(task), task, 50, 2, seed=1) == evaluate(
        build_circuit(task), task, 50, 2, seed=1
    )


def test_diverging_run_stops_with_advice():
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        train_rnn(repeat_copy(2, 2), hidden=4, max_steps=5, input_noise=float("inf"))


def test_paper_schedule_is_the_papers_protocol():
    paper = SCHEDULES["paper"]
    assert (paper.lr, paper.batch, paper.clip, paper.max_steps) == (1e-3, 64, 1.0, 20_000)
    assert paper.horizons == (10, 20, 40, 60, 100)
    assert paper.loss == "mse" and not paper.stop_when_solved


def test_bad_input():
    task = repeat_copy(2, 2)
    with pytest.raises(TypeError, match="Task"):
        train_rnn((3, 0, 0))
    with pytest.raises(ValueError, match="schedule must be one of"):
        train_rnn(task, schedule="slow")
    with pytest.raises(TypeError, match="unknown schedule fields"):
        train_rnn(task, learning_rate=0.1)
    with pytest.raises(ValueError, match="l2"):
        train_rnn(task, l2=-1.0)
    with pytest.raises(ValueError, match="lr"):
        Schedule(lr=0.0)
    with pytest.raises(ValueError, match="horizons"):
        Schedule(horizons=())
    with pytest.raises(ValueError, match="horizon"):
        evaluate(build_circuit(task), task, horizon=0)
    with pytest.raises(TypeError, match="run"):
        evaluate("model", task)
    with pytest.raises(ValueError, match="device"):
        train_rnn(task, device="abacus")


def test_training_device_is_recorded_and_the_model_comes_back_on_the_cpu():
    model = train_rnn(repeat_copy(2, 2), hidden=8, max_steps=5, device=torch.device("cpu"))
    assert model.metadata["device"] == "cpu"
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_chunk_bounds_by_hand():
    # s = 8 input steps, horizon 100, chunks of 20: the first chunk also holds the input phase
    assert chunk_bounds(8, 100, 20) == [(0, 28), (28, 48), (48, 68), (68, 88), (88, 108)]
    assert chunk_bounds(3, 45, 20) == [(0, 23), (23, 43), (43, 48)]  # the last chunk is shorter
    assert (
        chunk_bounds(8, 10, 20) == chunk_bounds(8, 10, None) == [(0, 18)]
    )  # a chunk longer than the horizon
    assert chunk_bounds(8, 20, 20) == [(0, 28)] and chunk_bounds(8, 21, 20) == [(0, 28), (28, 29)]
    assert chunk_bounds(2, 3, 1) == [(0, 3), (3, 4), (4, 5)]
    for bad in ((0, 10, 5), (2, 0, 5), (2, 10, 0), (2, 10, 2.5), (2, True, 5)):
        with pytest.raises(ValueError, match="must be"):
            chunk_bounds(*bad)


def test_the_default_schedule_is_fast_in_chunks_of_20():
    default = SCHEDULES["chunked"]
    assert default == replace(SCHEDULES["fast"], chunk=20, max_steps=20_000, check_every=250)
    model = train_rnn(
        random_task(2, 2, seed=3), hidden=8, seed=0, max_steps=5
    )  # 2 long-lived modes
    assert (
        model.metadata["schedule"] == "chunked" and model.metadata["hyperparameters"]["chunk"] == 20
    )


def test_the_default_is_narrow_below_1_75_times_the_recalled_values():
    t1, t2 = PAPER_TASKS["T1"], PAPER_TASKS["T2"]  # 64 and 36 long-lived modes
    assert [default_schedule(t1, h) for h in (64, 96, 111, 112, 128, 512)] == ["narrow"] * 3 + [
        "chunked"
    ] * 3
    assert [default_schedule(t2, h) for h in (36, 62, 63, 64)] == [
        "narrow",
        "narrow",
        "chunked",
        "chunked",
    ]
    assert SCHEDULES["narrow"] == replace(
        SCHEDULES["chunked"],
        threshold=0.9999,
        sv_floor=1.0,
        readout_l2=0.003,
        max_steps=40_000,
        polish_steps=2_000,
        polish_lr=5e-4,
        polish_lr_end=5e-5,
        polish_batch=128,
        restart_after=3_000,
        restart_below=0.96,
        restart_limit=10_000,
        restart_stall=8_000,
        restarts=5,
        permutation_restart_gain=1.0,
    )
    branchy = random_task(
        5, 4, seed=2
    )  # 5 long-lived modes, but 13 recalled values: the switch counts the latter
    assert [default_schedule(branchy, h) for h in (9, 22, 23)] == ["narrow", "narrow", "chunked"]
    model = train_rnn(
        repeat_copy(2, 2), hidden=4, seed=0, max_steps=5, polish_steps=3
    )  # 4 modes, 4 units
    assert (
        model.metadata["schedule"] == "narrow"
        and model.metadata["hyperparameters"]["sv_floor"] == 1.0
    )
    assert (
        model.metadata["steps"] == 5 + 3 and model.metadata["solved_step"] is None
    )  # unsolved: polished
    with pytest.raises(TypeError, match="Task"):
        default_schedule((3, 0, 0), 8)
    for bad in (0, -3, 64.0, True, "64"):
        with pytest.raises(ValueError, match="hidden"):
            default_schedule(t1, bad)


def test_the_default_trains_a_network_with_exactly_as_many_units_as_modes():
    # s = 2, d = 3: 6 long-lived modes, 6 units: the narrow schedule.  Seed 6's first attempt is stuck at the
    # first horizon; the restart, from an orthogonal start since Φ is a permutation, solves it within about
    # 4,300 updates (benchmarks/results.md, "Stalls past the first horizon, and orthogonal restarts")
    task = repeat_copy(2, 3)
    model = train_rnn(task, hidden=6, seed=6)
    assert model.metadata["schedule"] == "narrow" and model.metadata["solved_step"] is not None
    assert model.metadata["restarted_at"] == [3_000]
    assert (
        evaluate(model, task, horizon=200, batches=10, seed=5) == 1.0
    )  # other sequences than the check's
    comparison = spectral_error(model, task)
    assert comparison.matched, str(comparison)


def test_the_default_solves_a_random_task_with_exactly_as_many_units_as_recalled_values():
    # s = 5, d = 4: 9 long-lived modes and 9 recalled values.  Without restarts seed 1 never left the first
    # horizon; with them it is solved after two restarts, in under half a minute (benchmarks/results.md, "Restarts")
    task = random_task(5, 4, seed=1)
    model = train_rnn(task, hidden=9, seed=1)
    assert model.metadata["schedule"] == "narrow" and model.metadata["solved_step"] is not None
    assert all(step >= 3_000 for step in model.metadata["restarted_at"])
    assert evaluate(model, task, horizon=200, batches=4, seed=5) > 0.999


def test_a_run_stuck_at_the_first_horizon_restarts_from_a_new_initialisation():
    task = random_task(2, 2, seed=3)
    kw = {
        "hidden": 8,
        "seed": 4,
        "max_steps": 100,
        "stop_when_solved": False,
        "horizons": (4, 8),
        "threshold": 1.0,
    }
    stuck = train_rnn(
        task, restart_after=20, restart_below=1.0, restarts=2, **kw
    )  # never passes 1.0
    assert stuck.metadata["restarted_at"] == [20, 40] and stuck.metadata["steps"] == 100
    again = train_rnn(task, restart_after=20, restart_below=1.0, restarts=2, **kw)
    np.testing.assert_array_equal(stuck.W_hh, again.W_hh)  # same seed, same restarts, same weights
    plain = train_rnn(task, **kw)
    assert plain.metadata["restarted_at"] == [] and not np.array_equal(plain.W_hh, stuck.W_hh)
    # the restart condition never met: the very same run as without restarts
    above = train_rnn(task, restart_after=20, restart_below=0.01, restarts=2, **kw)
    assert above.metadata["restarted_at"] == []
    np.testing.assert_array_equal(above.W_hh, plain.W_hh)
    # restart_limit: a restart whatever the accuracy
    limited = train_rnn(task, restart_limit=30, restarts=5, **kw)
    assert limited.metadata["restarted_at"] == [30, 60, 90]
    # restart_gains: restart 1 from an orthogonal W_hh of gain 2, restart 2 from PyTorch's uniform start
    # (a step size of 1e-30 leaves each start as it was)
    frozen = dict(
        kw, lr=1e-30, restart_after=20, restart_below=1.0, restarts=2, restart_gains=(2.0, None)
    )
    orthogonal = train_rnn(task, **dict(frozen, max_steps=30))
    assert orthogonal.metadata["restarted_at"] == [20]
    np.testing.assert_allclose(orthogonal.W_hh @ orthogonal.W_hh.T, 4 * np.eye(8), atol=1e-5)
    uniform = train_rnn(task, **dict(frozen, max_steps=50))
    assert uniform.metadata["restarted_at"] == [20, 40] and np.abs(uniform.W_hh).max() <= 8**-0.5
    # past the first horizon there are no restarts
    moving = train_rnn(
        task, restart_after=20, restart_below=1.0, restarts=2, **{**kw, "threshold": 0.01}
    )
    assert moving.metadata["restarted_at"] == [] and moving.metadata["final_horizon_reached"]
    assert restart_seed(4, 0) == 4 and len({restart_seed(4, a) for a in range(1, 6)} | {4}) == 6
    assert restart_seed(4, 1) == restart_seed(4, 1) != restart_seed(5, 1)
    for bad in ((-1, 0), (4, -1), (4, 1.0), (True, 1)):
        with pytest.raises(ValueError, match="non-negative integer"):
            restart_seed(*bad)
    for field, bad in (
        ("restart_after", 0),
        ("restart_after", 2.5),
        ("restarts", -1),
        ("restart_below", 0.0),
        ("restart_limit", 0),
        ("restart_limit", True),
        ("restart_gains", (1.0, -1.0)),
        ("restart_gains", [1.0]),
        ("restart_stall", 0),
        ("restart_stall", 2.5),
        ("restart_stall", True),
        ("restart_below", 1.5),
        ("restart_below", "0.9"),
    ):
        with pytest.raises(ValueError, match=field):
            Schedule(**{field: bad})


def test_a_task_whose_phi_is_a_permutation_restarts_from_an_orthogonal_start():
    # a step size of 1e-30 leaves each start as it was; every attempt is stuck (accuracy never reaches 1.0)
    kw = {
        "hidden": 8,
        "seed": 4,
        "max_steps": 30,
        "lr": 1e-30,
        "stop_when_solved": False,
        "horizons": (4, 8),
        "threshold": 1.0,
        "restart_after": 20,
        "restart_below": 1.0,
        "restarts": 1,
        "permutation_restart_gain": 2.0,
        "restart_gains": (None,),
    }
    cycle, branchy = (
        repeat_copy(2, 2),
        random_task(2, 2, seed=3),
    )  # Φ a permutation; Φ with 2 of 4 modes
    assert cycle.long_lived_modes() == cycle.n and branchy.long_lived_modes() < branchy.n
    orthogonal, uniform = train_rnn(cycle, **kw), train_rnn(branchy, **kw)
    assert orthogonal.metadata["restarted_at"] == uniform.metadata["restarted_at"] == [20]
    np.testing.assert_allclose(orthogonal.W_hh @ orthogonal.W_hh.T, 4 * np.eye(8), atol=1e-5)
    assert np.abs(uniform.W_hh).max() <= 8**-0.5  # restart_gains applies: PyTorch's uniform start
    first = train_rnn(cycle, **dict(kw, max_steps=10))  # the first attempt keeps the uniform start
    assert first.metadata["restarted_at"] == [] and np.abs(first.W_hh).max() <= 8**-0.5
    for bad in (0.0, -1.0, float("inf"), True, "1"):
        with pytest.raises(ValueError, match="permutation_restart_gain"):
            Schedule(permutation_restart_gain=bad)


def test_a_run_stalled_at_a_later_horizon_restarts_from_the_first():
    # horizon 1 is passed within a few dozen steps; horizon 20 takes more than 60 steps here
    task = random_task(2, 2, seed=3)
    kw = {
        "hidden": 8,
        "seed": 4,
        "max_steps": 200,
        "stop_when_solved": False,
        "horizons": (1, 20, 40),
        "threshold": 0.9999,
        "chunk": None,
    }
    stalled = train_rnn(task, restart_stall=10, restarts=1, **kw)
    (restart,) = stalled.metadata["restarted_at"]
    before = [h["horizon"] for h in stalled.history if h["step"] <= restart]
    after = [h["horizon"] for h in stalled.history if h["step"] > restart]
    # the rule needs 50 batches at the horizon, then 10 steps without the error halving
    assert restart >= 60 and 20 in before and after[0] == 1
    again = train_rnn(task, restart_stall=10, restarts=1, **kw)
    assert again.metadata["restarted_at"] == [restart]
    np.testing.assert_array_equal(stalled.W_hh, again.W_hh)
    # up to the restart it is the run without the rule; a rule that never fires changes nothing
    plain = train_rnn(task, **kw)

    def until_restart(history):
        return [
            {k: v for k, v in h.items() if k != "time"} for h in history if h["step"] <= restart
        ]

    assert until_restart(plain.history) == until_restart(stalled.history)
    patient = train_rnn(task, restart_stall=1_000, restarts=1, **kw)
    assert patient.metadata["restarted_at"] == []
    np.testing.assert_array_equal(patient.W_hh, plain.W_hh)
    # the last horizon has no stall rule (the solved check and polishing end a run there)
    last = train_rnn(task, restart_stall=10, restarts=1, **dict(kw, horizons=(1, 20)))
    assert last.metadata["restarted_at"] == []


def test_chunks_longer_than_the_sequence_change_nothing():
    task = random_task(2, 2, seed=3)
    whole = train_rnn(task, hidden=8, seed=1, max_steps=40, stop_when_solved=False, horizons=(20,))
    chunked = train_rnn(
        task, hidden=8, seed=1, max_steps=40, stop_when_solved=False, horizons=(20,), chunk=20
    )
    np.testing.assert_allclose(whole.W_hh, chunked.W_hh, rtol=0, atol=1e-6)


def test_truncated_bptt_takes_one_step_per_chunk_and_learns():
    task = random_task(3, 3, seed=1)
    model = train_rnn(
        task,
        hidden=16,
        seed=0,
        l2=0.01,
        input_scale=8.0,
        recurrent_gain=1.2,
        horizons=(10, 20, 40, 60, 100, 200),
        chunk=50,
        max_steps=3000,
    )
    assert model.metadata["solved_step"] is not None
    assert evaluate(model, task, horizon=1000, batches=2, seed=3) == 1.0
    fixed = train_rnn(
        task, hidden=8, seed=0, horizons=(97,), chunk=50, max_steps=10, stop_when_solved=False
    )
    # 3 input + 97 output steps -> chunks of 3 + 50 and 47 steps, one optimizer step each
    assert (fixed.metadata["steps"], fixed.metadata["batches"]) == (10, 5)
    whole = train_rnn(
        task, hidden=8, seed=0, horizons=(50,), chunk=50, max_steps=10, stop_when_solved=False
    )
    assert (whole.metadata["steps"], whole.metadata["batches"]) == (
        10,
        10,
    )  # 3 + 50 steps: one chunk


def test_readout_l2_decays_the_readout_alone():
    task = random_task(2, 2, seed=3)
    kw = {"hidden": 8, "seed": 2, "max_steps": 80, "stop_when_solved": False}
    plain = train_rnn(task, l2=0.01, **kw)
    same = train_rnn(task, l2=0.01, readout_l2=0.01, **kw)  # readout_l2 = l2: the default behaviour
    np.testing.assert_array_equal(plain.W_hh, same.W_hh)
    np.testing.assert_array_equal(plain.W_r, same.W_r)
    # decay on the readout only, none on the recurrent and input weights
    only = train_rnn(task, l2=0.0, readout_l2=0.5, **kw)
    free = train_rnn(task, l2=0.0, **kw)
    assert np.linalg.norm(only.W_r) < 0.9 * np.linalg.norm(free.W_r)
    assert only.metadata["hyperparameters"]["readout_l2"] == 0.5 and only.metadata["l2"] == 0.0
    for bad in (-0.1, float("nan"), True, "0.1"):
        with pytest.raises(ValueError, match="readout_l2"):
            Schedule(readout_l2=bad)


def test_readout_l2_from_switches_the_decay_on_at_a_horizon():
    task = random_task(2, 2, seed=3)
    kw = {
        "hidden": 8,
        "seed": 2,
        "max_steps": 120,
        "stop_when_solved": False,
        "horizons": (4, 8),
        "l2": 0.0,
    }
    free = train_rnn(task, threshold=1.0, **kw)  # threshold 1.0: never leaves the first horizon
    late = train_rnn(task, threshold=1.0, readout_l2=0.5, readout_l2_from=1, **kw)
    np.testing.assert_array_equal(
        free.W_r, late.W_r
    )  # horizon 1 never reached: no readout decay at all
    assert not late.metadata["final_horizon_reached"]
    # with the curriculum moving on, the decay starts at horizon 1 and shrinks the readout
    free = train_rnn(task, threshold=0.05, **kw)
    late = train_rnn(task, threshold=0.05, readout_l2=0.5, readout_l2_from=1, **kw)
    assert late.metadata["final_horizon_reached"]
    assert np.linalg.norm(late.W_r) < 0.9 * np.linalg.norm(free.W_r)
    for bad in (-1, 5, True, 1.0):
        with pytest.raises(ValueError, match="readout_l2_from"):
            Schedule(readout_l2_from=bad)


def test_hardest_are_the_sequences_with_the_smallest_margin():
    task = repeat_copy(3, 3)
    model = train_rnn(
        task, hidden=16, seed=0, schedule="chunked", max_steps=100, stop_when_solved=False
    )
    inputs, targets = hardest_sequences(model, task, count=8, pool=200, horizon=30, seed=11)
    pool_x, pool_z = task.sample(200, 30, seed=11)  # same seed: the same pool
    with torch.no_grad():
        margin = (model.run(pool_x)[task.s :] * pool_z[task.s :]).amin(dim=(0, 2))
    torch.testing.assert_close(sequence_margins(model, task, pool_x, pool_z), margin)
    worst = torch.argsort(margin, stable=True)[:8]
    torch.testing.assert_close(inputs, pool_x[:, worst])
    torch.testing.assert_close(targets, pool_z[:, worst])
    assert margin[worst].max() <= margin.median()
    with pytest.raises(ValueError, match="must not exceed pool"):
        hardest_sequences(model, task, count=9, pool=8, horizon=30, seed=0)
    with pytest.raises(ValueError, match="horizon"):
        hardest_sequences(model, task, count=1, pool=8, horizon=0, seed=0)
    with pytest.raises(ValueError, match="s \\+ horizon"):
        sequence_margins(model, task, pool_x, pool_z[:, :3])
    with pytest.raises(TypeError, match="ElmanRNN"):
        sequence_margins("model", task, pool_x, pool_z)


def test_polishing_follows_the_run_and_hard_sequences_help():
    task = repeat_copy(3, 3)
    kw = {
        "hidden": 16,
        "seed": 0,
        "l2": 0.01,
        "schedule": "chunked",
        "input_scale": 8.0,
        "recurrent_gain": 1.2,
        "max_steps": 800,
        "stop_when_solved": False,
    }
    plain = train_rnn(task, **kw)
    mined = train_rnn(task, **kw, polish_steps=150, polish_lr=2e-3, polish_pool=256)
    random_only = train_rnn(task, **kw, polish_steps=150, polish_lr=2e-3, polish_pool=0)
    again = train_rnn(task, **kw, polish_steps=150, polish_lr=2e-3, polish_pool=256)
    np.testing.assert_array_equal(mined.W_hh, again.W_hh)  # same seed, same weights
    assert mined.metadata["steps"] == 950 and plain.metadata["steps"] == 800
    # the main run is untouched: its logged history is the same with and without polishing
    assert [h["loss"] for h in mined.history if not h.get("polish")] == [
        h["loss"] for h in plain.history
    ]
    assert any(h.get("polish") for h in mined.history)
    acc = {
        name: evaluate(m, task, 200, 4, seed=5)
        for name, m in (("plain", plain), ("mined", mined), ("random", random_only))
    }
    assert acc["mined"] > acc["random"] > acc["plain"], acc


def test_polishing_is_skipped_after_a_solved_run_and_stops_once_it_solves():
    task = repeat_copy(3, 3)
    kw = {
        "hidden": 16,
        "seed": 0,
        "l2": 0.01,
        "schedule": "chunked",
        "input_scale": 8.0,
        "recurrent_gain": 1.2,
        "polish_steps": 600,
        "polish_lr": 2e-3,
        "polish_pool": 256,
    }
    solved = train_rnn(
        task, max_steps=10_000, **kw
    )  # the run solves the task: no polishing after it
    assert solved.metadata["solved_step"] == solved.metadata["steps"] < 10_000
    assert not any(h.get("polish") for h in solved.history)
    cut = train_rnn(
        task, max_steps=800, check_every=20, **kw
    )  # cut short: polishing until the task is solved
    assert 800 < cut.metadata["solved_step"] == cut.metadata["steps"] < 800 + 600
    assert cut.metadata["steps"] % 20 == 0 and any(h.get("polish") for h in cut.history)
    assert evaluate(cut, task, horizon=200, batches=10, seed=10_000) == 1.0  # the check's own test


def test_polish_fields_are_checked():
    for field, bad in (
        ("polish_steps", -1),
        ("polish_steps", 1.5),
        ("polish_pool", -2),
        ("polish_batch", 0),
        ("polish_horizon", 0),
        ("polish_lr", 0.0),
        ("polish_lr", float("inf")),
        ("polish_lr", None),
        ("polish_lr_end", 0.0),
        ("polish_lr_end", "1e-4"),
    ):
        with pytest.raises(ValueError, match=field):
            Schedule(**{field: bad})
    with pytest.raises(ValueError, match="polish_pool must be 0"):
        Schedule(batch=64, polish_pool=32)
    Schedule(batch=64, polish_pool=0)  # no mining: any batch
    # the polishing step size falls geometrically from polish_lr to polish_lr_end
    task = repeat_copy(2, 2)
    kw = {
        "hidden": 8,
        "seed": 1,
        "max_steps": 20,
        "stop_when_solved": False,
        "polish_steps": 30,
        "polish_pool": 0,
    }
    flat = train_rnn(task, **kw)
    falling = train_rnn(task, **kw, polish_lr_end=2e-5)
    same = train_rnn(task, **kw, polish_lr_end=2e-4)  # = polish_lr: the same as no end
    np.testing.assert_array_equal(flat.W_hh, same.W_hh)
    assert not np.array_equal(flat.W_hh, falling.W_hh)


def test_singular_value_floor_penalises_only_the_singular_values_below_it():
    W = torch.tensor(
        [[2.0, 0.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]]
    )  # singular values 2, 0.5, 0
    assert singular_value_floor(W, 1.0).item() == pytest.approx(0.5**2 + 1.0**2)
    assert singular_value_floor(W, 0.4).item() == pytest.approx(0.4**2)
    assert singular_value_floor(3 * torch.eye(4), 1.0).item() == 0.0


def test_sv_floor_lifts_the_smallest_singular_value_of_w_hh_while_it_applies():
    task = repeat_copy(3, 3)
    kw = {
        "hidden": 16,
        "seed": 2,
        "schedule": "chunked",
        "max_steps": 300,
        "stop_when_solved": False,
    }
    plain = train_rnn(task, **kw)
    floored = train_rnn(task, **kw, sv_floor=1.0)
    brief = train_rnn(
        task, **kw, sv_floor=1.0, sv_floor_steps=1
    )  # the floor for the first step only
    never = train_rnn(task, **kw, sv_floor=1e-6)  # every singular value is above it
    smallest = {
        n: np.linalg.svd(m.W_hh, compute_uv=False).min()
        for n, m in (("plain", plain), ("floored", floored), ("brief", brief))
    }
    assert smallest["plain"] < 0.3, smallest
    assert smallest["floored"] > 0.8, smallest
    assert not np.array_equal(brief.W_hh, plain.W_hh) and not np.array_equal(
        brief.W_hh, floored.W_hh
    )
    np.testing.assert_array_equal(never.W_hh, plain.W_hh)
    assert floored.metadata["hyperparameters"]["sv_floor"] == 1.0
    for field, bad in (
        ("sv_floor", 0.0),
        ("sv_floor", -1.0),
        ("sv_floor", float("nan")),
        ("sv_floor", True),
        ("sv_floor", "1"),
        ("sv_floor_steps", 0),
        ("sv_floor_steps", 2.5),
    ):
        with pytest.raises(ValueError, match=field):
            Schedule(**{field: bad})

"""Tests of emtlib.train: what the loop guarantees (same seed, same weights; one step per chunk;
the curriculum, the step-size decay and the solved check), its callback hooks, evaluation in
pieces, and its argument checks."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib import train as train_module
from emtlib.circuit import build_circuit
from emtlib.rnn import ElmanRNN
from emtlib.spectra import spectral_error
from emtlib.tasks import PAPER_TASKS, random_task, repeat_copy
from emtlib.train import (
    Callback,
    Schedule,
    TrainingDiverged,
    TrainingLog,
    chunk_bounds,
    evaluate,
    hardest_sequences,
    sequence_margins,
    train_rnn,
)

#: a schedule that learns nothing (the step size is negligible) and never leaves its first horizon
FROZEN = Schedule(lr=1e-30, horizons=(4, 8), threshold=1.0, chunk=None, stop_when_solved=False)


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))


class Recorder(Callback):
    """Logs every event with the step and level it saw."""

    def __init__(self):
        self.events = []

    def before_fit(self, state):
        self.events.append(("before_fit", state.step, state.level))

    def before_batch(self, state):
        self.events.append(("before_batch", state.step, state.level))

    def extra_loss(self, state):
        self.events.append(("extra_loss", state.step, state.level))

    def after_batch(self, state):
        self.events.append(("after_batch", state.step, state.level))

    def after_level(self, state):
        self.events.append(("after_level", state.step, state.level))

    def after_fit(self, state):
        self.events.append(("after_fit", state.step, state.level))

    def count(self, event):
        return sum(e[0] == event for e in self.events)


class CircuitWeights(Callback):
    """Starts the run from the saturating circuit's weights (the model then solves the task)."""

    def before_fit(self, state):
        c = build_circuit(state.task, nonlinear=True)
        with torch.no_grad():
            state.model.rnn.weight_hh_l0.copy_(torch.tensor(c.W_hh))
            state.model.rnn.weight_ih_l0.copy_(torch.tensor(c.W_uh))
            state.model.readout.weight.copy_(torch.tensor(c.W_r))


# -- learning ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "task, hidden, l2",
    [(repeat_copy(3, 2), 16, 0.0), (random_task(3, 3, seed=1), 16, 0.01)],
    ids=["repeat", "random"],
)
def test_a_small_task_is_learned_with_the_circuit_spectrum(task, hidden, l2):
    model = train_rnn(task, hidden=hidden, seed=0, l2=l2)
    assert isinstance(model.log, TrainingLog)
    assert model.log.solved_step == model.log.steps < Schedule().max_steps
    assert model.log.final_horizon_reached
    assert evaluate(model, task, horizon=200, batches=4, seed=5) == 1.0  # not the check's sequences
    comparison = spectral_error(model, task)
    assert comparison.matched, str(comparison)
    assert comparison.error < 0.05


# -- same seed, same weights ---------------------------------------------------------------------------
def test_same_seed_same_weights_and_log():
    task, sched = random_task(2, 2, seed=3), Schedule(max_steps=60, stop_when_solved=False)
    a = train_rnn(task, hidden=8, seed=4, schedule=sched)
    b = train_rnn(task, hidden=8, seed=4, schedule=sched)
    c = train_rnn(task, hidden=8, seed=5, schedule=sched)
    assert same_weights(a, b) and not same_weights(a, c)
    strip = lambda log: [{k: v for k, v in h.items() if k != "time"} for h in log.history]
    assert strip(a.log) == strip(b.log)
    assert (a.log.steps, a.log.batches, a.log.restarted_at) == (b.log.steps, b.log.batches, [])


@settings(max_examples=8, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.sampled_from([None, 1, 3]),
    st.integers(1, 25),
)
def test_any_run_is_reproducible_and_takes_its_step_budget(s, d, hidden, seed, chunk, steps):
    task = random_task(s, d, seed=seed)
    sched = Schedule(batch=4, horizons=(3, 5), max_steps=steps, chunk=chunk, stop_when_solved=False)
    a = train_rnn(task, hidden=hidden, seed=seed, schedule=sched)
    b = train_rnn(task, hidden=hidden, seed=seed, schedule=sched)
    assert same_weights(a, b)
    assert a.log.steps == steps and a.log.batches <= steps
    gaps = np.diff([h["step"] for h in a.log.history])
    assert np.all(gaps >= 50) and a.log.history[0]["step"] >= 1


# -- the loop's mechanics ----------------------------------------------------------------------------
def test_callback_hooks_fire_at_their_events():
    recorder = Recorder()
    sched = Schedule(
        horizons=(2, 4), threshold=0.01, max_steps=30, chunk=None, stop_when_solved=False
    )
    model = train_rnn(repeat_copy(2, 2), hidden=4, schedule=sched, callbacks=[recorder])
    log, events = model.log, recorder.events
    assert events[0] == ("before_fit", 0, 0) and events[-1] == ("after_fit", log.steps, 1)
    assert recorder.count("before_fit") == recorder.count("after_fit") == 1
    assert recorder.count("before_batch") == recorder.count("after_batch") == log.batches
    assert recorder.count("extra_loss") == log.steps  # one per optimizer step
    # threshold 0.01: the first batch moves the curriculum on, once; the level is 1 after it
    assert [e for e in events if e[0] == "after_level"] == [("after_level", 1, 1)]
    # every batch is framed by its two hooks, the steps in between
    batch_events = [e[0] for e in events if e[0] in ("before_batch", "extra_loss", "after_batch")]
    assert batch_events[:3] == ["before_batch", "extra_loss", "after_batch"]


def test_an_extra_loss_changes_training_and_none_changes_nothing():
    class Penalty(Callback):
        def __init__(self, weight):
            self.weight = weight

        def extra_loss(self, state):
            return self.weight * state.model.rnn.weight_hh_l0.pow(2).sum()

    task, sched = random_task(2, 2, seed=3), Schedule(max_steps=30, stop_when_solved=False)
    plain = train_rnn(task, hidden=8, schedule=sched)
    recorded = train_rnn(task, hidden=8, schedule=sched, callbacks=[Recorder()])
    zero = train_rnn(task, hidden=8, schedule=sched, callbacks=[Penalty(0.0)])
    shrunk = train_rnn(task, hidden=8, schedule=sched, callbacks=[Penalty(1.0)])
    assert same_weights(plain, recorded) and same_weights(plain, zero)
    assert np.linalg.norm(shrunk.W_hh) < np.linalg.norm(plain.W_hh)


def test_a_callback_can_stop_the_run():
    class StopAfter(Callback):
        def after_batch(self, state):
            state.stop = state.log.batches >= 7

    sched = Schedule(max_steps=1000, chunk=None, stop_when_solved=False)
    model = train_rnn(repeat_copy(2, 2), hidden=4, schedule=sched, callbacks=[StopAfter()])
    assert model.log.batches == model.log.steps == 7


def test_truncated_bptt_takes_one_step_per_chunk():
    task = random_task(3, 3, seed=1)
    # 3 input + 97 output steps in chunks of 50: chunks of 3 + 50 and 47 steps, one update each
    sched = Schedule(horizons=(97,), chunk=50, max_steps=10, stop_when_solved=False)
    fixed = train_rnn(task, hidden=8, schedule=sched)
    assert (fixed.log.steps, fixed.log.batches) == (10, 5)
    sched = Schedule(horizons=(50,), chunk=50, max_steps=10, stop_when_solved=False)
    whole = train_rnn(task, hidden=8, schedule=sched)  # 3 + 50 steps: one chunk
    assert (whole.log.steps, whole.log.batches) == (10, 10)


def test_chunks_longer_than_the_sequence_change_nothing():
    task = random_task(2, 2, seed=3)
    kw = {"horizons": (20,), "max_steps": 40, "stop_when_solved": False}
    whole = train_rnn(task, hidden=8, seed=1, schedule=Schedule(chunk=None, **kw))
    chunked = train_rnn(task, hidden=8, seed=1, schedule=Schedule(chunk=20, **kw))
    np.testing.assert_allclose(whole.W_hh, chunked.W_hh, rtol=0, atol=1e-6)


def test_the_step_size_falls_tenfold_over_decay_steps_from_the_last_horizon():
    class StepSizes(Callback):
        def __init__(self):
            self.seen = []

        def extra_loss(self, state):
            self.seen.append((state.step, state.level, state.opt.param_groups[0]["lr"]))

    sizes = StepSizes()
    sched = Schedule(
        horizons=(2, 4),
        threshold=0.01,
        decay_steps=10,
        max_steps=30,
        chunk=None,
        stop_when_solved=False,
    )
    train_rnn(repeat_copy(2, 2), hidden=4, schedule=sched, callbacks=[sizes])
    reached = min(step for step, level, _ in sizes.seen if level == 1)  # the decay starts here
    for step, level, lr in sizes.seen:
        if level == 0:
            assert lr == sched.lr
        else:
            frac = min(step - reached, 10) / 10
            assert lr == pytest.approx(sched.lr * 0.1**frac)
    assert sizes.seen[-1][2] == pytest.approx(sched.lr / 10)


def test_a_run_that_solves_the_task_stops_at_the_check():
    task = repeat_copy(2, 2)
    kw = {"lr": 1e-30, "horizons": (4,), "chunk": None}
    solved = train_rnn(task, hidden=4, schedule=Schedule(**kw), callbacks=[CircuitWeights()])
    assert solved.log.solved_step == solved.log.steps == 1  # the first batch is checked and passes
    # without stop_when_solved the run takes its whole budget and never checks
    sched = Schedule(max_steps=12, stop_when_solved=False, **kw)
    full = train_rnn(task, hidden=4, schedule=sched, callbacks=[CircuitWeights()])
    assert (full.log.steps, full.log.solved_step) == (12, None)


def test_diverging_run_stops_with_advice():
    class Poison(Callback):
        def before_batch(self, state):
            with torch.no_grad():
                state.model.readout.weight.fill_(math.nan)

    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        train_rnn(repeat_copy(2, 2), hidden=4, schedule=FROZEN, callbacks=[Poison()])


def test_the_model_comes_back_on_the_cpu_with_its_log():
    sched = Schedule(max_steps=5)
    model = train_rnn(repeat_copy(2, 2), hidden=8, schedule=sched, device=torch.device("cpu"))
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert model.log.steps == 5 and model.log.wall_time_s >= 0 and model.log.batches == 5


def test_chunk_bounds_by_hand():
    # s = 8 input steps, horizon 100, chunks of 20: the first chunk also holds the input phase
    assert chunk_bounds(8, 100, 20) == [(0, 28), (28, 48), (48, 68), (68, 88), (88, 108)]
    assert chunk_bounds(3, 45, 20) == [(0, 23), (23, 43), (43, 48)]  # the last chunk is shorter
    assert chunk_bounds(8, 10, 20) == chunk_bounds(8, 10, None) == [(0, 18)]
    assert chunk_bounds(8, 20, 20) == [(0, 28)] and chunk_bounds(8, 21, 20) == [(0, 28), (28, 29)]
    assert chunk_bounds(2, 3, 1) == [(0, 3), (3, 4), (4, 5)]
    assert chunk_bounds(np.int64(2), np.int64(3), np.int64(1)) == chunk_bounds(2, 3, 1)
    for bad in ((0, 10, 5), (2, 0, 5), (2, 10, 0)):
        with pytest.raises(ValueError, match="must be an integer >= 1"):
            chunk_bounds(*bad)
    for bad in ((2, 10, 2.5), (2, True, 5)):
        with pytest.raises(TypeError, match="must be an integer"):
            chunk_bounds(*bad)


# -- evaluation ------------------------------------------------------------------------------------------
def test_evaluate_scores_the_circuits():
    task = PAPER_TASKS["T2"]
    assert evaluate(build_circuit(task, nonlinear=True), task, horizon=300, batches=2) == 1.0
    linear = evaluate(build_circuit(task), task, horizon=300, batches=2)
    assert 0.6 < linear < 0.8
    assert evaluate(build_circuit(task), task, 50, 2, seed=1) == evaluate(
        build_circuit(task), task, 50, 2, seed=1
    )


def test_evaluate_runs_an_rnn_in_pieces_with_the_same_result(monkeypatch):
    task = random_task(3, 2, seed=0)
    model = ElmanRNN(task.d, 16, seed=3)
    lengths = []
    rnn_forward = model.rnn.forward

    def spy(x, h=None):
        lengths.append(x.shape[0])
        return rnn_forward(x, h)

    monkeypatch.setattr(model.rnn, "forward", spy)
    pieces = evaluate(model, task, horizon=2_500, batches=2, seed=4)
    assert max(lengths) <= train_module.EVALUATION_CHUNK and len(lengths) == 2 * 3
    # the same sequences run whole, as model.run does
    rng, correct, total = np.random.default_rng(4), 0, 0
    for _ in range(2):
        inputs, targets = task.sample(64, 2_500, seed=int(rng.integers(2**63)))
        out = model.run(inputs)
        correct += int((torch.sign(out[task.s :]) == targets[task.s :]).sum())
        total += targets[task.s :].numel()
    assert pieces == correct / total
    monkeypatch.setattr(train_module, "EVALUATION_CHUNK", 7)  # pieces that cut the input phase
    assert evaluate(model, task, horizon=2_500, batches=2, seed=4) == pieces


def test_margins_and_the_hardest_sequences():
    task = repeat_copy(3, 3)
    model = ElmanRNN(task.d, 16, seed=0)
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


# -- bad input: one message format everywhere ------------------------------------------------------------
@pytest.mark.parametrize(
    "fields, error, message",
    [
        ({"lr": 0.0}, ValueError, "lr must be a finite real number > 0.0"),
        ({"lr": "1e-3"}, TypeError, "lr must be a real number"),
        ({"batch": 0}, ValueError, "batch must be an integer >= 1, got 0"),
        ({"batch": 64.0}, TypeError, r"batch must be an integer, got 64.0 \(float\)"),
        ({"batch": True}, TypeError, r"batch must be an integer, got True \(bool\)"),
        ({"max_steps": -5}, ValueError, "max_steps must be an integer >= 1"),
        ({"decay_steps": -1}, ValueError, "decay_steps must be an integer >= 0"),
        ({"chunk": 0}, ValueError, "chunk must be an integer >= 1"),
        ({"chunk": 2.5}, TypeError, "chunk must be an integer"),
        ({"threshold": 0.0}, ValueError, "threshold must be a finite real number > 0.0"),
        ({"threshold": 1.5}, ValueError, "threshold must be a finite real number > 0.0 and <= 1"),
        ({"clip": float("inf")}, ValueError, "clip must be a finite real number"),
        ({"stop_when_solved": "yes"}, TypeError, "stop_when_solved must be True or False"),
        ({"check_every": 0}, ValueError, "check_every must be an integer >= 1"),
        ({"test_horizon": 2.0}, TypeError, "test_horizon must be an integer"),
        ({"test_batches": 0}, ValueError, "test_batches must be an integer >= 1"),
        ({"horizons": ()}, ValueError, "at least one training horizon"),
        ({"horizons": "10"}, TypeError, "horizons must be a sequence of integers"),
        ({"horizons": (10, 0)}, ValueError, "each horizon must be an integer >= 1"),
        ({"horizons": (10, 2.5)}, TypeError, "each horizon must be an integer"),
    ],
)
def test_bad_schedules(fields, error, message):
    with pytest.raises(error, match=message):
        Schedule(**fields)


def test_numpy_integers_are_integers_everywhere():
    sched = Schedule(batch=np.int64(4), horizons=np.array([3, 5]), max_steps=np.int32(3))
    assert sched.horizons == (3, 5) and type(sched.batch) is int and type(sched.horizons[0]) is int
    task = repeat_copy(np.int64(2), np.int64(2))
    model = train_rnn(task, hidden=np.int64(4), seed=np.int64(1), schedule=sched)
    assert model.log.steps == 3 and model.hidden == 4
    circuit = build_circuit(task, nonlinear=True)
    assert (
        evaluate(circuit, task, horizon=np.int64(20), batches=np.int16(1), seed=np.uint8(3)) == 1.0
    )


def test_bad_training_arguments():
    task = repeat_copy(2, 2)
    with pytest.raises(TypeError, match="Task"):
        train_rnn((3, 0, 0))
    with pytest.raises(TypeError, match="emtlib.lab.recipes.train"):
        train_rnn(task, schedule="paper")
    with pytest.raises(ValueError, match="l2 must be a finite real number >= 0.0"):
        train_rnn(task, l2=-1.0)
    with pytest.raises(TypeError, match="hidden must be an integer"):
        train_rnn(task, hidden=8.0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        train_rnn(task, seed=-1)
    with pytest.raises(TypeError, match="callbacks must be a sequence of Callback"):
        train_rnn(task, callbacks=Recorder())
    with pytest.raises(TypeError, match="callbacks must be Callback instances"):
        train_rnn(task, callbacks=[print])
    with pytest.raises(ValueError, match="device"):
        train_rnn(task, device="abacus")
    with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
        evaluate(build_circuit(task), task, horizon=0)
    with pytest.raises(TypeError, match="batches must be an integer"):
        evaluate(build_circuit(task), task, batches=1.0)
    with pytest.raises(TypeError, match="run"):
        evaluate("model", task)

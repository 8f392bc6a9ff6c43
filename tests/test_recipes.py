"""Tests of emtlib.lab.recipes: the named recipes, the recipe for a width, and each callback the
recipes use, on constructed cases (a run that cannot learn, a run held at a middle horizon, a run
that starts from the circuit's weights) rather than on one machine's trajectory."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from emtlib.circuit import build_circuit
from emtlib.lab import recipes
from emtlib.lab.recipes import (
    RECIPES,
    Polish,
    ReadoutWeightDecay,
    Restarts,
    SingularValueFloor,
    recommended,
    restart_seed,
    singular_value_floor,
    train,
)
from emtlib.tasks import PAPER_TASKS, random_task, repeat_copy
from emtlib.train import Callback, Schedule, train_rnn

#: a schedule that learns nothing (the step size is negligible) and never leaves its first horizon
FROZEN = Schedule(lr=1e-30, horizons=(4, 8), threshold=1.0, chunk=None, stop_when_solved=False)
NO_RULES = {"after": None, "limit": None, "stall": None}


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


class StartAtLevel(Callback):
    """Puts the run at horizon ``level`` before its first batch."""

    def __init__(self, level):
        self.level = level

    def before_fit(self, state):
        state.level = self.level


class CircuitWeights(Callback):
    """Starts the run from the saturating circuit's weights (the model then solves the task)."""

    def before_fit(self, state):
        c = build_circuit(state.task, nonlinear=True)
        with torch.no_grad():
            state.model.rnn.weight_hh_l0.copy_(torch.tensor(c.W_hh))
            state.model.rnn.weight_ih_l0.copy_(torch.tensor(c.W_uh))
            state.model.readout.weight.copy_(torch.tensor(c.W_r))


# -- the recipes -----------------------------------------------------------------------------------------
def test_the_recipes_and_what_they_are():
    assert sorted(RECIPES) == ["default", "narrow", "paper"]
    for name, recipe in RECIPES.items():
        assert recipe.name == name and len(recipe.summary) > 100
    paper = RECIPES["paper"].schedule
    assert (paper.lr, paper.batch, paper.clip, paper.max_steps) == (1e-3, 64, 1.0, 20_000)
    assert (paper.horizons, paper.threshold) == ((10, 20, 40, 60, 100), 0.96)
    assert paper.chunk is None and paper.decay_steps == 0 and not paper.stop_when_solved
    assert RECIPES["default"].schedule == Schedule()
    assert RECIPES["narrow"].schedule == replace(Schedule(), threshold=0.9999, max_steps=40_000)
    task = PAPER_TASKS["T1"]
    assert RECIPES["paper"].make_callbacks(task, 128) == RECIPES["default"].make_callbacks(
        task, 128
    )
    first, second = (RECIPES["narrow"].make_callbacks(task, 64) for _ in range(2))
    assert [type(c) for c in first] == [Restarts, ReadoutWeightDecay, SingularValueFloor, Polish]
    assert all(a is not b for a, b in zip(first, second))  # fresh callbacks for every run


def test_the_recipe_for_a_width_is_narrow_below_1_75_times_the_recalled_values():
    t1, t2 = PAPER_TASKS["T1"], PAPER_TASKS["T2"]  # 64 and 36 recalled values
    assert [recommended(t1, h) for h in (64, 96, 111, 112, 128, 512)] == ["narrow"] * 3 + [
        "default"
    ] * 3
    assert [recommended(t2, h) for h in (36, 62, 63, 64)] == ["narrow"] * 2 + ["default"] * 2
    branchy = random_task(5, 4, seed=2)  # 5 long-lived modes, 13 recalled values: it counts these
    assert [recommended(branchy, h) for h in (9, 22, 23)] == ["narrow", "narrow", "default"]
    assert recommended(t1, np.int64(128)) == "default"
    with pytest.raises(TypeError, match="Task"):
        recommended((3, 0, 0), 8)
    with pytest.raises(ValueError, match="hidden must be an integer >= 1"):
        recommended(t1, 0)
    for bad in (64.0, True, "64"):
        with pytest.raises(TypeError, match="hidden must be an integer"):
            recommended(t1, bad)


def test_train_uses_the_named_recipe_and_its_overrides(monkeypatch):
    task = repeat_copy(2, 2)
    model = train(task, hidden=8, seed=3, recipe="default", max_steps=5, threshold=0.5)
    sched = replace(Schedule(), max_steps=5, threshold=0.5)
    assert same_weights(model, train_rnn(task, 8, 3, schedule=sched))
    assert model.log.steps == 5
    # the paper's recipe never stops early, unless told to
    seen = []
    monkeypatch.setattr(recipes, "train_rnn", lambda *args: seen.append(args))
    train(task, 4, 1, 0.01, recipe="paper", stop_when_solved=True)
    _, hidden, seed, l2, schedule, callbacks, *_ = seen[0]
    assert (hidden, seed, l2, callbacks) == (4, 1, 0.01, [])
    assert schedule == replace(RECIPES["paper"].schedule, stop_when_solved=True)
    monkeypatch.undo()
    with pytest.raises(TypeError, match="stop_when_solved must be True or False"):
        train(task, recipe="paper", stop_when_solved="yes")
    with pytest.raises(
        ValueError, match="recipe must be one of \\['default', 'narrow', 'paper'\\]"
    ):
        train(task, recipe="fast")
    with pytest.raises(TypeError, match="recipe must be a recipe name"):
        train(task, recipe=RECIPES["paper"])
    with pytest.raises(ValueError, match="max_steps must be an integer >= 1"):
        train(task, recipe="paper", max_steps=0)


# -- restarts ---------------------------------------------------------------------------------------------
def test_an_attempt_stuck_at_the_first_horizon_restarts():
    task, kw = random_task(2, 2, seed=3), {"hidden": 8, "seed": 4}
    sched = replace(FROZEN, max_steps=100)
    stuck = Restarts(**{**NO_RULES, "after": 20, "below": 1.0}, times=2)
    a = train_rnn(task, schedule=sched, callbacks=[stuck], **kw)
    assert a.log.restarted_at == [20, 40] and a.log.steps == 100  # at most `times` restarts
    b = train_rnn(
        task, schedule=sched, callbacks=[Restarts(**{**NO_RULES, "after": 20}, times=2)], **kw
    )
    assert b.log.restarted_at == [20, 40]  # below 0.96 (the default) too: nothing is learnt
    again = train_rnn(task, schedule=sched, callbacks=[stuck], **kw)
    assert same_weights(a, again)  # same seed, same restarts, same weights
    plain = train_rnn(task, schedule=sched, **kw)
    assert plain.log.restarted_at == [] and not same_weights(plain, a)
    # a rule whose condition is never met changes nothing at all
    above = Restarts(**{**NO_RULES, "after": 20, "below": 0.01}, times=2)
    never = train_rnn(task, schedule=sched, callbacks=[above], **kw)
    assert never.log.restarted_at == [] and same_weights(never, plain)
    # the limit restarts whatever the accuracy
    limited = train_rnn(
        task, schedule=sched, callbacks=[Restarts(**{**NO_RULES, "limit": 30})], **kw
    )
    assert limited.log.restarted_at == [30, 60, 90]


def test_an_attempt_stalled_at_a_middle_horizon_restarts_from_the_first():
    task, kw = random_task(2, 2, seed=3), {"hidden": 8, "seed": 4}
    sched = replace(FROZEN, horizons=(1, 20, 40), max_steps=120)  # threshold 1.0: never moves on
    stall = Restarts(**{**NO_RULES, "stall": 10}, times=1)
    model = train_rnn(task, schedule=sched, callbacks=[StartAtLevel(1), stall], **kw)
    # the rule needs 50 batches at the horizon (one step each), then 10 steps without halving
    assert model.log.restarted_at == [60]
    assert [(h["step"], h["horizon"]) for h in model.log.history] == [(1, 20), (51, 20), (101, 1)]
    # at the last horizon there is no stall rule, nor at the first
    for level in (0, 2):
        held = train_rnn(task, schedule=sched, callbacks=[StartAtLevel(level), stall], **kw)
        assert held.log.restarted_at == []
    patient = train_rnn(
        task, schedule=sched, callbacks=[StartAtLevel(1), Restarts(**NO_RULES)], **kw
    )
    alone = train_rnn(task, schedule=sched, callbacks=[StartAtLevel(1)], **kw)
    assert same_weights(patient, alone)


def test_a_task_whose_phi_is_a_permutation_restarts_from_an_orthogonal_start():
    sched = replace(FROZEN, max_steps=30)
    rule = {**NO_RULES, "after": 20, "below": 1.0}
    cycle, branchy = (
        repeat_copy(2, 2),
        random_task(2, 2, seed=3),
    )  # Φ a permutation; Φ with branches
    orthogonal = train_rnn(
        cycle, 8, 4, schedule=sched, callbacks=[Restarts(**rule, permutation_gain=2.0)]
    )
    uniform = train_rnn(
        branchy, 8, 4, schedule=sched, callbacks=[Restarts(**rule, permutation_gain=2.0)]
    )
    assert orthogonal.log.restarted_at == uniform.log.restarted_at == [20]
    np.testing.assert_allclose(orthogonal.W_hh @ orthogonal.W_hh.T, 4 * np.eye(8), atol=1e-5)
    assert np.abs(uniform.W_hh).max() <= 8**-0.5  # PyTorch's uniform start
    off = train_rnn(
        cycle, 8, 4, schedule=sched, callbacks=[Restarts(**rule, permutation_gain=None)]
    )
    assert np.abs(off.W_hh).max() <= 8**-0.5
    first = train_rnn(
        cycle, 8, 4, schedule=replace(sched, max_steps=10), callbacks=[Restarts(**rule)]
    )
    assert (
        first.log.restarted_at == [] and np.abs(first.W_hh).max() <= 8**-0.5
    )  # attempt 0: uniform


def test_restart_seeds_and_bad_restart_rules():
    assert restart_seed(4, 0) == 4 and len({restart_seed(4, a) for a in range(1, 6)} | {4}) == 6
    assert restart_seed(4, 1) == restart_seed(np.int64(4), 1) != restart_seed(5, 1)
    with pytest.raises(ValueError, match="attempt must be an integer >= 0"):
        restart_seed(4, -1)
    with pytest.raises(TypeError, match="seed must be an integer"):
        restart_seed(True, 1)
    for field, bad, error in (
        ("after", 0, ValueError),
        ("after", 2.5, TypeError),
        ("times", -1, ValueError),
        ("below", 0.0, ValueError),
        ("below", 1.5, ValueError),
        ("below", "0.9", TypeError),
        ("limit", True, TypeError),
        ("stall", 0, ValueError),
        ("permutation_gain", 0.0, ValueError),
    ):
        with pytest.raises(error, match=field):
            Restarts(**{field: bad})


# -- the singular-value floor and the readout's weight decay ------------------------------------------------
def test_singular_value_floor_penalises_only_the_singular_values_below_it():
    W = torch.tensor(
        [[2.0, 0.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]]
    )  # singular values 2, 0.5, 0
    assert singular_value_floor(W, 1.0).item() == pytest.approx(0.5**2 + 1.0**2)
    assert singular_value_floor(W, 0.4).item() == pytest.approx(0.4**2)
    assert singular_value_floor(3 * torch.eye(4), 1.0).item() == 0.0
    task, sched = repeat_copy(3, 3), Schedule(max_steps=300, stop_when_solved=False)
    plain = train_rnn(task, 16, 2, schedule=sched)
    floored = train_rnn(task, 16, 2, schedule=sched, callbacks=[SingularValueFloor(1.0)])
    never = train_rnn(task, 16, 2, schedule=sched, callbacks=[SingularValueFloor(1e-6)])
    smallest = lambda m: np.linalg.svd(m.W_hh, compute_uv=False).min()
    assert smallest(floored) > 0.8 > smallest(plain)
    assert same_weights(never, plain)  # every singular value above the floor: no change
    with pytest.raises(ValueError, match="floor"):
        SingularValueFloor(0.0)


def test_readout_weight_decay_decays_the_readout_alone():
    task, sched = random_task(2, 2, seed=3), Schedule(max_steps=80, stop_when_solved=False)
    free = train_rnn(task, 8, 2, schedule=sched)
    only = train_rnn(task, 8, 2, schedule=sched, callbacks=[ReadoutWeightDecay(0.5)])
    assert np.linalg.norm(only.W_r) < 0.9 * np.linalg.norm(free.W_r)
    same = train_rnn(task, 8, 2, l2=0.01, schedule=sched, callbacks=[ReadoutWeightDecay(0.01)])
    assert same_weights(same, train_rnn(task, 8, 2, l2=0.01, schedule=sched))  # = l2: no change
    with pytest.raises(ValueError, match="decay"):
        ReadoutWeightDecay(-0.1)


# -- polishing --------------------------------------------------------------------------------------------
def test_polishing_follows_an_unsolved_run_and_leaves_the_run_as_it_was():
    task, sched = repeat_copy(2, 2), replace(FROZEN, lr=2e-3, max_steps=20)
    plain = train_rnn(task, 8, 1, schedule=sched)
    polished = train_rnn(task, 8, 1, schedule=sched, callbacks=[Polish(60, batch=16, pool=64)])
    again = train_rnn(task, 8, 1, schedule=sched, callbacks=[Polish(60, batch=16, pool=64)])
    assert polished.log.steps == 80 and same_weights(polished, again)
    main = [h for h in polished.log.history if not h.get("polish")]
    strip = lambda hs: [{k: v for k, v in h.items() if k != "time"} for h in hs]
    assert strip(main) == strip(plain.log.history)
    polishing = [h for h in polished.log.history if h.get("polish")]
    assert polishing and all(h["horizon"] == 8 for h in polishing)  # at the last horizon
    # the step size falls geometrically from lr to lr_end: lr_end = lr is a constant step size
    flat = train_rnn(task, 8, 1, schedule=sched, callbacks=[Polish(30, 2e-4, 2e-4, 16, 0)])
    falling = train_rnn(task, 8, 1, schedule=sched, callbacks=[Polish(30, 2e-4, 2e-5, 16, 0)])
    assert not same_weights(flat, falling)


def test_polishing_is_skipped_after_a_solved_run_and_stops_once_it_solves():
    task = repeat_copy(2, 2)
    solving = Schedule(lr=1e-30, horizons=(4,), chunk=None)
    solved = train_rnn(task, 4, schedule=solving, callbacks=[CircuitWeights(), Polish(50)])
    assert solved.log.solved_step == solved.log.steps == 1  # solved: no polishing after it
    # a run that never reaches its last horizon is never checked; its polishing is, every 10 steps
    never_checked = replace(FROZEN, stop_when_solved=True, check_every=10, max_steps=7)
    polish = Polish(50, lr=1e-30, lr_end=1e-30, batch=8, pool=0)
    cut = train_rnn(task, 4, schedule=never_checked, callbacks=[CircuitWeights(), polish])
    assert cut.log.solved_step == cut.log.steps == 7 + 10


def test_bad_polish_arguments():
    for field, bad, error in (
        ("steps", -1, ValueError),
        ("steps", 1.5, TypeError),
        ("batch", 0, ValueError),
        ("pool", -2, ValueError),
        ("lr", 0.0, ValueError),
        ("lr", float("inf"), ValueError),
        ("lr_end", "1e-4", TypeError),
    ):
        with pytest.raises(error, match=field):
            Polish(**{field: bad})
    with pytest.raises(ValueError, match="pool must be 0"):
        Polish(batch=64, pool=32)
    Polish(batch=64, pool=0)  # no mining: any batch

"""Tests of emtlib.tasks: the id encoding, the operator, the stored form, sequences and batches."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.tasks import (
    MAX_HORIZON,
    MAX_VALUES,
    PAPER_TASKS,
    Task,
    decode_task_id,
    encode_task_id,
    random_task,
    repeat_copy,
    task_label,
)

COMPOSE = 9241421688590303745  # bits 0, 9, 18, ..., 63


@st.composite
def task_parts(draw, max_s=8, max_d=8):
    """Random valid (s, d, choice, signs) with s, d up to 8."""
    s = draw(st.integers(1, max_s))
    d = draw(st.integers(1, max_d))
    choice = draw(st.permutations(range(s * d)))[:d]
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=d, max_size=d))
    return s, d, list(choice), signs


def reference_operator(s, d, task_id):
    """The paper's decoding written out independently: bits, then swaps, then signs."""
    t1, t2, t3 = task_id
    choice = [b for b in range(s * d) if t1 >> b & 1]
    for i in range(d):
        digit = (t2 // d**i) % d
        choice[i], choice[i + digit] = choice[i + digit], choice[i]
    L = np.zeros((s * d, d))
    for j in range(d):
        L[choice[j], j] = -1 if t3 >> j & 1 else 1
    return L


# --- the id encoding ------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(task_parts())
def test_encode_decode_round_trip(parts):
    s, d, choice, signs = parts
    task_id = encode_task_id(s, d, choice, signs)
    got_choice, got_signs = decode_task_id(s, d, task_id)
    assert got_choice.tolist() == choice
    assert got_signs.tolist() == signs
    np.testing.assert_array_equal(Task(s, d, task_id).operator, reference_operator(s, d, task_id))


@settings(max_examples=200, deadline=None)
@given(task_parts())
def test_operator_has_one_signed_entry_per_column(parts):
    s, d, choice, signs = parts
    L = Task.from_choice(s, d, choice, signs).operator
    assert L.shape == (s * d, d)
    np.testing.assert_array_equal(np.abs(L).sum(axis=0), np.ones(d))
    np.testing.assert_array_equal(L[choice, np.arange(d)], signs)


def test_every_permutation_of_small_task_has_distinct_id():
    import itertools

    ids = {encode_task_id(2, 3, perm) for perm in itertools.permutations([0, 2, 5])}
    assert len(ids) == 6
    assert all(t1 == 0b100101 for t1, _, _ in ids)


def test_paper_tasks_decode_as_in_the_paper():
    assert PAPER_TASKS["T1"].is_repeat_copy
    np.testing.assert_array_equal(
        PAPER_TASKS["T1"].operator, np.vstack([np.eye(8), np.zeros((56, 8))])
    )
    assert PAPER_TASKS["T2"].choice.tolist() == [9 * j for j in range(8)]
    assert PAPER_TASKS["T3"].task_id == (COMPOSE, 262676, 189)
    assert PAPER_TASKS["T4"].task_id == (COMPOSE, 38637, 145)
    assert PAPER_TASKS["T3"].rules()[0] == "z(t)[0] = -z(t-4)[4]"
    for task in PAPER_TASKS.values():
        assert (task.s, task.d) == (8, 8)


def test_repeat_copy_id_and_rules():
    task = repeat_copy(5, 4)
    assert task.task_id == (15, 0, 0)
    assert task.rules() == [f"z(t)[{j}] = z(t-5)[{j}]" for j in range(4)]
    assert "repeat copy" in task.describe()


def test_random_task_is_seeded():
    assert random_task(5, 4, seed=3) == random_task(5, 4, seed=3)
    assert len({random_task(5, 4, seed=k) for k in range(20)}) > 10


# --- the stored form --------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(task_parts())
def test_a_task_round_trips_through_its_stored_form(parts):
    task = Task.from_choice(*parts)
    stored = task.to_json()
    assert stored == [task.s, task.d, *task.task_id] and all(type(v) is int for v in stored)
    assert Task.from_json(stored) == task
    assert Task.from_json(json.loads(json.dumps(stored))) == task


@pytest.mark.parametrize(
    "stored, message",
    [
        ([8, 8, 255, 0], "stored as \\[s, d, t1, t2, t3\\]"),
        ("[8, 8, 255, 0, 0]", "stored as"),
        ([8, 8, 255.0, 0, 0], "five integers"),
        ([8, 8, True, 0, 0], "five integers"),
        ([8, 8, 254, 0, 0], "not valid: t1 must have exactly d = 8 set bits"),
        ([0, 8, 255, 0, 0], "not valid: s must be"),
    ],
)
def test_a_bad_stored_task_is_a_value_error_naming_the_problem(stored, message):
    with pytest.raises(ValueError, match=message):
        Task.from_json(stored)


def test_labels_name_the_paper_tasks_and_spell_out_the_others():
    assert [task_label(PAPER_TASKS[k]) for k in ("T1", "T2", "T3", "T4")] == [
        "T1",
        "T2",
        "T3",
        "T4",
    ]
    assert task_label(Task(8, 8, (255, 0, 0))) == "T1"
    assert task_label(repeat_copy(3, 2)) == "s3d2(3,0,0)"
    with pytest.raises(TypeError, match="Task"):
        task_label((8, 8, 255, 0, 0))


# --- sequences ---------------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(task_parts(), st.integers(0, 30), st.integers(0, 2**32 - 1))
def test_generate_follows_the_recurrence(parts, horizon, seed):
    task = Task.from_choice(*parts)
    s, d = task.s, task.d
    x0 = np.random.default_rng(seed).choice([-1.0, 1.0], size=(3, s, d))
    z = task.generate(x0, horizon)
    assert z.shape == (3, s + horizon, d)
    np.testing.assert_array_equal(z[:, :s], x0)
    L = task.operator
    for t in range(s, s + horizon):
        window = z[:, t - s : t].reshape(3, s * d)  # oldest first
        np.testing.assert_array_equal(z[:, t], window @ L)


def test_generate_accepts_any_batch_shape():
    task = PAPER_TASKS["T3"]
    x0 = np.ones((2, 3, 8, 8))
    assert task.generate(x0, 5).shape == (2, 3, 13, 8)
    assert task.generate(x0[0, 0], 5).shape == (13, 8)


def test_sample_shapes_masks_and_seed():
    task = PAPER_TASKS["T2"]
    inputs, targets = task.sample(batch=4, horizon=10, seed=7)
    assert inputs.dtype == targets.dtype == torch.float32
    assert inputs.shape == targets.shape == (18, 4, 8)
    assert torch.all(inputs[8:] == 0) and torch.all(inputs[:8].abs() == 1)
    assert torch.all(targets[:8] == 0) and torch.all(targets[8:].abs() == 1)
    z = task.generate(inputs[:8].numpy().transpose(1, 0, 2), 10)
    np.testing.assert_array_equal(targets[8:].numpy(), z[:, 8:].transpose(1, 0, 2))
    again, _ = task.sample(batch=4, horizon=10, seed=7)
    assert torch.equal(inputs, again)
    other, _ = task.sample(batch=4, horizon=10, seed=8)
    assert not torch.equal(inputs, other)


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "s, d, task_id, message",
    [
        (8, 8, (254, 0, 0), "exactly d = 8 set bits"),
        (8, 8, (2**9 - 1, 0, 0), "exactly d = 8 set bits"),
        (2, 2, (0b10001, 0, 0), "below s\\*d = 4"),
        (8, 8, (255, 7 * 8, 0), "digit 1 .* is 7"),
        (3, 3, (7, 3**3, 0), "digit 3"),
        (8, 8, (255, 0, 256), "t3 may only set the lowest d = 8 bits"),
        (8, 8, (255, -1, 0), "t2 must be an integer >= 0, got -1"),
        (8, 8, (255, 0), "three non-negative integers"),
        (0, 8, (255, 0, 0), "s must be an integer >= 1, got 0"),
        (8, -1, (255, 0, 0), "d must be an integer >= 1, got -1"),
    ],
)
def test_invalid_tasks_name_the_rule(s, d, task_id, message):
    with pytest.raises(ValueError, match=message):
        Task(s, d, task_id)


@pytest.mark.parametrize(
    "s, d, task_id, message",
    [
        (8, 8, "255", "task_id must be a sequence of three non-negative integers"),
        (8, 8, (255.0, 0, 0), r"t1 must be an integer, got 255.0 \(float\)"),
        (8.5, 8, (255, 0, 0), r"s must be an integer, got 8.5 \(float\)"),
        (True, 8, (255, 0, 0), r"s must be an integer, got True \(bool\)"),
        (8, np.float64(8), (255, 0, 0), "d must be an integer"),
    ],
)
def test_arguments_of_the_wrong_type_are_type_errors(s, d, task_id, message):
    with pytest.raises(TypeError, match=message):
        Task(s, d, task_id)


def test_numpy_integers_are_integers():
    task = Task(np.int64(8), np.int32(8), (np.uint64(255), np.int8(0), np.int64(0)))
    assert task == PAPER_TASKS["T1"] and type(task.s) is int and type(task.task_id[0]) is int
    inputs, _ = task.sample(np.int64(2), np.int16(3), seed=0)
    assert inputs.shape == (11, 2, 8)
    assert repeat_copy(np.int64(2), np.int64(3)) == repeat_copy(2, 3)


def test_bad_generate_and_sample_arguments():
    task = PAPER_TASKS["T1"]
    with pytest.raises(ValueError, match="shape"):
        task.generate(np.ones((8, 7)), 3)
    with pytest.raises(ValueError, match="horizon"):
        task.generate(np.ones((8, 8)), -1)
    with pytest.raises(TypeError, match="horizon must be an integer"):
        task.generate(np.ones((8, 8)), 3.0)
    with pytest.raises(ValueError, match="finite"):
        task.generate(np.full((8, 8), np.nan), 3)
    with pytest.raises(ValueError, match="batch"):
        task.sample(0, 3)


def test_an_unbounded_horizon_is_refused_before_any_memory_is_taken():
    task = PAPER_TASKS["T1"]
    with pytest.raises(ValueError, match=f"horizon must be an integer >= 0 and <= {MAX_HORIZON}"):
        task.generate(np.ones((8, 8)), 10**12)
    with pytest.raises(ValueError, match="horizon must be an integer"):
        task.sample(1, MAX_HORIZON + 1)
    with pytest.raises(ValueError, match="MAX_VALUES"):
        task.generate(np.ones((1000, 8, 8)), MAX_VALUES // 8000 + 1)
    assert task.generate(np.ones((8, 8)), 1000).shape == (1008, 8)


def test_bad_encode_arguments():
    with pytest.raises(ValueError, match="distinct"):
        encode_task_id(2, 2, [1, 1])
    with pytest.raises(ValueError, match="lie in"):
        encode_task_id(2, 2, [0, 4])
    with pytest.raises(ValueError, match="signs"):
        encode_task_id(2, 2, [0, 1], [1, 0])


def test_generate_matches_the_recurrence_written_out_element_by_element():
    task = random_task(3, 2, seed=4)  # small enough to loop over by hand
    x0 = np.random.default_rng(5).choice([-1.0, 1.0], size=(2, 3, task.s, task.d))
    z = task.generate(x0, 11)
    assert z.shape == (2, 3, task.s + 11, task.d)
    k, i = np.divmod(task.choice, task.d)
    for t in range(task.s, task.s + 11):
        for j in range(task.d):
            np.testing.assert_array_equal(
                z[..., t, j], task.signs[j] * z[..., t - task.s + k[j], i[j]]
            )

"""Tests of emtlib.tasks: the id encoding, the operator, sequences and batches."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.tasks import PAPER_TASKS, Task, decode_task_id, encode_task_id, random_task, repeat_copy

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


# --- spectra -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, modes", [("T1", 64), ("T2", 36), ("T3", 36), ("T4", 36)])
def test_long_lived_modes_of_paper_tasks(name, modes):
    task = PAPER_TASKS[name]
    assert task.long_lived_modes() == modes
    lam = task.spectrum()
    assert np.sum(np.abs(lam) > 0.9) == modes
    np.testing.assert_allclose(np.abs(lam[:modes]), 1.0, atol=1e-6)


def test_repeat_copy_spectrum_is_roots_of_unity():
    lam = PAPER_TASKS["T1"].spectrum()
    np.testing.assert_allclose(lam**8, 1.0, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(task_parts(max_s=5, max_d=5))
def test_cycle_count_matches_numerical_spectrum(parts):
    task = Task.from_choice(*parts)
    lam = np.linalg.eigvals(task.phi)
    assert task.long_lived_modes() == np.sum(np.abs(lam) > 0.5)
    for cycle, sign in task.cycles():  # each cycle contributes the roots of lambda^m = sign
        roots = np.roots([1] + [0] * (len(cycle) - 1) + [-sign])
        assert all(np.min(np.abs(lam - r)) < 1e-6 for r in roots)


@settings(max_examples=60, deadline=None)
@given(task_parts(max_s=5, max_d=5))
def test_recalled_bits_are_the_inputs_the_output_phase_copies(parts):
    task = Task.from_choice(*parts)
    n = task.n
    # feed each input value alone (the recurrence is linear): it is recalled iff some output is non-zero
    z = task.generate(np.eye(n).reshape(n, task.s, task.d), 3 * n)
    copied = int(np.sum(np.any(z[:, task.s :] != 0, axis=(1, 2))))
    assert task.recalled_bits() == copied >= task.long_lived_modes()
    # ... and the rank of the observability matrix of (Phi, its last d rows)
    powers = [np.linalg.matrix_power(task.phi, k)[-task.d :] for k in range(1, 2 * n + 1)]
    assert task.recalled_bits() == np.linalg.matrix_rank(np.vstack(powers))


def test_recalled_bits_of_the_paper_tasks_and_of_a_task_with_branches():
    assert [PAPER_TASKS[k].recalled_bits() for k in ("T1", "T2", "T3", "T4")] == [64, 36, 36, 36]
    task = random_task(
        5, 4, seed=2
    )  # a 5-cycle, plus 8 values on branches that are copied before they fade
    assert (task.long_lived_modes(), task.recalled_bits()) == (5, 13)


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
        (8, 8, (255, -1, 0), "t2 must be a non-negative integer"),
        (8, 8, (255, 0), "three non-negative integers"),
        (8, 8, "255", "three non-negative integers"),
        (8, 8, (255.0, 0, 0), "t1 must be a non-negative integer"),
        (0, 8, (255, 0, 0), "s must be a positive integer"),
        (8, -1, (255, 0, 0), "d must be a positive integer"),
        (8.5, 8, (255, 0, 0), "s must be a positive integer"),
        (True, 8, (255, 0, 0), "s must be a positive integer"),
    ],
)
def test_invalid_tasks_name_the_rule(s, d, task_id, message):
    with pytest.raises(ValueError, match=message):
        Task(s, d, task_id)


def test_bad_generate_and_sample_arguments():
    task = PAPER_TASKS["T1"]
    with pytest.raises(ValueError, match="shape"):
        task.generate(np.ones((8, 7)), 3)
    with pytest.raises(ValueError, match="horizon"):
        task.generate(np.ones((8, 8)), -1)
    with pytest.raises(ValueError, match="finite"):
        task.generate(np.full((8, 8), np.nan), 3)
    with pytest.raises(ValueError, match="batch"):
        task.sample(0, 3)


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

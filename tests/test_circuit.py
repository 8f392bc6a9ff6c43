"""Tests of emtlib.circuit: Φ and its cycles, the linear and saturating circuits, their interface."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.circuit import (
    build_circuit,
    cycles,
    ideal_hidden_states,
    ideal_spectrum,
    long_lived_modes,
    phi,
    recalled_bits,
    saturation_level,
)
from emtlib.tasks import PAPER_TASKS, Task, random_task


@st.composite
def task_parts(draw, max_s=5, max_d=5):
    """Random valid (s, d, choice, signs)."""
    s = draw(st.integers(1, max_s))
    d = draw(st.integers(1, max_d))
    choice = draw(st.permutations(range(s * d)))[:d]
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=d, max_size=d))
    return s, d, list(choice), signs


# --- Φ, its cycles and what it recalls ---------------------------------------------------------
@pytest.mark.parametrize("name, modes", [("T1", 64), ("T2", 36), ("T3", 36), ("T4", 36)])
def test_long_lived_modes_of_paper_tasks(name, modes):
    task = PAPER_TASKS[name]
    assert long_lived_modes(task) == modes
    lam = ideal_spectrum(task)
    assert np.sum(np.abs(lam) > 0.9) == modes
    np.testing.assert_allclose(np.abs(lam[:modes]), 1.0, atol=1e-6)


def test_repeat_copy_spectrum_is_roots_of_unity():
    np.testing.assert_allclose(ideal_spectrum(PAPER_TASKS["T1"]) ** 8, 1.0, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(task_parts())
def test_phi_advances_the_window_and_its_cycles_give_its_spectrum(parts):
    task = Task.from_choice(*parts)
    x0 = np.random.default_rng(0).choice([-1.0, 1.0], size=(task.s, task.d))
    z = task.generate(x0, 3)
    window = lambda t: z[t - task.s + 1 : t + 1].ravel()
    np.testing.assert_array_equal(phi(task) @ window(task.s), window(task.s + 1))
    lam = np.linalg.eigvals(phi(task))
    assert long_lived_modes(task) == np.sum(np.abs(lam) > 0.5)
    for cycle, sign in cycles(task):  # each cycle contributes the roots of lambda^m = sign
        roots = np.roots([1] + [0] * (len(cycle) - 1) + [-sign])
        assert all(np.min(np.abs(lam - r)) < 1e-6 for r in roots)


@settings(max_examples=60, deadline=None)
@given(task_parts())
def test_recalled_bits_are_the_inputs_the_output_phase_copies(parts):
    task = Task.from_choice(*parts)
    n = task.n
    # feed each input value alone (the recurrence is linear): it is recalled iff some output is non-zero
    z = task.generate(np.eye(n).reshape(n, task.s, task.d), 3 * n)
    copied = int(np.sum(np.any(z[:, task.s :] != 0, axis=(1, 2))))
    assert recalled_bits(task) == copied >= long_lived_modes(task)
    # ... and the rank of the observability matrix of (Phi, its last d rows)
    powers = [np.linalg.matrix_power(phi(task), k)[-task.d :] for k in range(1, 2 * n + 1)]
    assert recalled_bits(task) == np.linalg.matrix_rank(np.vstack(powers))


def test_recalled_bits_of_the_paper_tasks_and_of_a_task_with_branches():
    assert [recalled_bits(PAPER_TASKS[k]) for k in ("T1", "T2", "T3", "T4")] == [64, 36, 36, 36]
    task = random_task(5, 4, seed=2)  # a 5-cycle, plus 8 values on branches copied before they fade
    assert (long_lived_modes(task), recalled_bits(task)) == (5, 13)


def test_what_the_circuit_says_about_a_task_needs_a_task():
    for func in (phi, cycles, long_lived_modes, recalled_bits, ideal_spectrum):
        with pytest.raises(TypeError, match="Task"):
            func((8, 8, 255, 0, 0))
    with pytest.raises(ValueError, match=r"threshold must lie in \[0, 1\)"):
        long_lived_modes(PAPER_TASKS["T1"], 1.0)


def sign_errors(circuit, task, batch, horizon, seed):
    inputs, targets = task.sample(batch, horizon, seed=seed)
    out = circuit.run(inputs)
    return float((torch.sign(out[task.s :]) != targets[task.s :]).float().mean())


def test_matrices_have_the_documented_shapes_and_form():
    task = PAPER_TASKS["T3"]
    c = build_circuit(task)
    assert c.W_hh.shape == (64, 64) and c.W_uh.shape == (64, 8) and c.W_r.shape == (8, 64)
    np.testing.assert_array_equal(c.W_hh, phi(task))
    np.testing.assert_array_equal(c.phi[np.arange(56), np.arange(8, 64)], np.ones(56))
    np.testing.assert_array_equal(c.phi[56:], task.operator.T)
    np.testing.assert_array_equal(c.W_uh[56:], np.eye(8))
    with pytest.raises(ValueError):
        c.W_hh[0, 0] = 3.0  # read-only


def test_linear_circuit_is_exact_on_repeat_copy():
    task = PAPER_TASKS["T1"]
    inputs, targets = task.sample(8, 500, seed=0)
    out = build_circuit(task).run(inputs)
    torch.testing.assert_close(out[8:], targets[8:])


@pytest.mark.parametrize("name", ["T2", "T3", "T4"])
def test_linear_circuit_fails_on_compose_tasks(name):
    task = PAPER_TASKS[name]
    err = sign_errors(build_circuit(task), task, 16, 2000, seed=0)
    assert 0.2 < err < 0.35


@pytest.mark.parametrize("name", list(PAPER_TASKS))
def test_saturating_circuit_is_exact_on_paper_tasks_for_10000_steps(name):
    task = PAPER_TASKS[name]
    assert sign_errors(build_circuit(task, nonlinear=True), task, 8, 10_000, seed=1) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_saturating_circuit_is_exact_on_random_tasks(s, d, seed):
    task = random_task(s, d, seed=seed)
    assert sign_errors(build_circuit(task, nonlinear=True), task, 4, 300, seed=seed) == 0.0


def test_saturating_outputs_approach_plus_minus_one():
    task = PAPER_TASKS["T4"]
    inputs, targets = task.sample(4, 100, seed=2)
    out = build_circuit(task, nonlinear=True).run(inputs)
    torch.testing.assert_close(out[40:], targets[40:], atol=1e-6, rtol=0)


def test_saturation_level_is_the_fixed_point():
    for g in (1.5, 2.0, 4.0):
        a = saturation_level(g)
        assert a > 0 and abs(np.tanh(g * a) - a) < 1e-12
    with pytest.raises(ValueError, match="gain"):
        saturation_level(1.0)


def test_run_accepts_numpy_torch_batched_and_single():
    task = Task(3, 2, (0b100100, 1, 2))
    c = build_circuit(task, nonlinear=True)
    inputs, _ = task.sample(5, 20, seed=0)
    out_torch = c.run(inputs)
    assert isinstance(out_torch, torch.Tensor) and out_torch.dtype == torch.float32
    assert out_torch.shape == (23, 5, 2)
    out_np = c.run(inputs.numpy())
    assert isinstance(out_np, np.ndarray) and out_np.shape == (23, 5, 2)
    single = c.run(inputs[:, 2].numpy())
    assert single.shape == (23, 2)
    np.testing.assert_allclose(single, out_np[:, 2], atol=1e-12)
    states = c.hidden_states(inputs)
    assert states.shape == (23, 5, 6)
    torch.testing.assert_close(states @ torch.tensor(c.W_r.T, dtype=torch.float32), out_torch)


def test_bad_input():
    c = build_circuit(PAPER_TASKS["T1"])
    with pytest.raises(ValueError, match=r"\(T, 8\) or \(T, batch, 8\)"):
        c.run(np.zeros((10, 7)))
    with pytest.raises(ValueError, match="finite"):
        c.run(np.full((10, 8), np.inf))
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        c.run("inputs")
    with pytest.raises(TypeError, match="Task"):
        build_circuit((255, 0, 0))
    with pytest.raises(ValueError, match="input_gain must exceed gain"):
        build_circuit(PAPER_TASKS["T1"], nonlinear=True, gain=3.0, input_gain=2.0)
    with pytest.raises(ValueError, match="gain must be a finite real number > 1.0"):
        build_circuit(PAPER_TASKS["T1"], nonlinear=True, gain=0.5)
    for bad in ("no", 1, None, "False"):  # only a bool says which circuit
        with pytest.raises(TypeError, match="nonlinear must be True or False"):
            build_circuit(PAPER_TASKS["T1"], nonlinear=bad)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.float32])
@pytest.mark.parametrize("nonlinear", [False, True])
def test_outputs_are_floating_point_whatever_the_input_dtype(dtype, nonlinear):
    task = PAPER_TASKS["T1"]
    c = build_circuit(task, nonlinear=nonlinear)
    inputs, targets = task.sample(4, 30, seed=0)
    x = inputs.numpy().astype(dtype)
    if dtype is bool:  # a bool input carries 0/1; the circuit runs it as such
        x = inputs.numpy() > 0
    out, states = c.run(x), c.hidden_states(x)
    assert out.dtype == states.dtype == np.float64
    out_t, states_t = c.run(torch.from_numpy(x)), c.hidden_states(torch.from_numpy(x))
    assert out_t.dtype == states_t.dtype == torch.get_default_dtype()
    if dtype is not bool:  # ±1 inputs of any numeric dtype: the circuit is exact
        assert float((torch.sign(torch.from_numpy(out[8:])) == targets[8:]).float().mean()) == 1.0
        torch.testing.assert_close(out_t, torch.from_numpy(out).float())


def test_ideal_hidden_states_hold_the_window():
    task = PAPER_TASKS["T2"]
    rng = np.random.default_rng(0)
    x0 = rng.choice([-1.0, 1.0], size=(3, 8, 8))
    H = ideal_hidden_states(task, x0, 20)
    z = task.generate(x0, 20)
    assert H.shape == (3, 28, 64)
    np.testing.assert_array_equal(H[:, 0, -8:], x0[:, 0])  # newest slot at t = 0
    np.testing.assert_array_equal(H[:, 0, :-8], 0.0)  # nothing older yet
    np.testing.assert_array_equal(H[:, 15].reshape(3, 8, 8), z[:, 8:16])
    # after the input phase, Phi advances the ideal window exactly
    np.testing.assert_allclose(H[:, 9:], H[:, 8:-1] @ phi(task).T)
    # the linear circuit holds it exactly for repeat copy
    rc = PAPER_TASKS["T1"]
    inputs = np.zeros((28, 3, 8))
    inputs[:8] = x0.transpose(1, 0, 2)
    np.testing.assert_allclose(
        build_circuit(rc).hidden_states(inputs), ideal_hidden_states(rc, x0, 20).transpose(1, 0, 2)
    )
    with pytest.raises(ValueError, match="shape"):
        ideal_hidden_states(task, np.zeros((7, 8)), 3)

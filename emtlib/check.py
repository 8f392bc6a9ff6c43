"""Checkers for the implement-it exercises of the book (every chapter).

An implement-it exercise asks the reader to write a function; its checker runs that function on a
few inputs next to the library's own implementation and says, for the first input where they
differ, what went in and what came out::

    from emtlib import check
    check.decode_task_id(my_decode)       # prints one line when all cases pass

A failing case raises :class:`CheckFailed`, an ``AssertionError`` whose message names the case,
what was expected and what the reader's function returned, so that a test runner and a notebook
both show it plainly.  The checkers are grouped by chapter below; each compares against the
library function that the chapter hands over to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from . import basis as _basis
from . import circuit as _circuit
from . import gsemm as _gsemm
from . import interventions as _interventions
from . import linalg as _linalg
from . import rnn as _rnn
from . import spectra as _spectra
from . import tasks as _tasks

__all__ = [
    "CheckFailed",
    "arrays_close",
    "basis_blocks",
    "chunked_accuracy",
    "decode_task_id",
    "dual_basis",
    "equal",
    "gsemm_euler_step",
    "intervention",
    "phi",
    "reduced_weights",
    "run_cases",
    "spectral_error",
]


class CheckFailed(AssertionError):
    """The reader's function disagrees with the reference on one case (the message says which)."""


def _describe(value: Any) -> str:
    """A short, readable form of an input or output for a message."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return repr(value.item())
        if value.size <= 16:
            return f"array{np.array2string(value, precision=4, separator=', ')}"
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def run_cases(
    name: str,
    function: Callable,
    reference: Callable,
    cases: Iterable[tuple[str, tuple]],
    compare: Callable[[Any, Any], str | None],
) -> None:
    """Run ``function`` and ``reference`` on every case and compare their results.

    ``cases`` yields ``(label, args)``; ``compare(got, expected)`` returns None when the two agree
    and otherwise a sentence saying how they differ.  The first disagreement raises
    :class:`CheckFailed` naming the exercise, the case and the difference; an exception inside the
    reader's function is reported the same way.  Prints one line when every case agrees.
    """
    if not callable(function):
        raise TypeError(f"{name}: pass your function itself, got {type(function).__name__}")
    count = 0
    for label, args in cases:
        expected = reference(*args)
        try:
            got = function(*args)
        except Exception as err:  # the reader's error, reported as a failed case
            raise CheckFailed(
                f"{name}: on {label} your function raised {type(err).__name__}: {err}"
            ) from err
        problem = compare(got, expected)
        if problem is not None:
            raise CheckFailed(f"{name}: on {label}, {problem}")
        count += 1
    print(f"{name}: all {count} cases agree with the library.")


def arrays_close(rtol: float = 1e-7, atol: float = 1e-9) -> Callable[[Any, Any], str | None]:
    """A ``compare`` for :func:`run_cases`: same shape and values within the tolerances."""

    def compare(got, expected):
        got = np.asarray(got)
        expected = np.asarray(expected)
        if got.shape != expected.shape:
            return f"expected shape {expected.shape}, got shape {got.shape}"
        if not np.allclose(got, expected, rtol=rtol, atol=atol):
            if expected.ndim == 0:
                return f"expected {_describe(expected)}, got {_describe(got)}"
            where = np.unravel_index(np.argmax(np.abs(got - expected)), expected.shape)
            return (
                f"values differ most at index {tuple(int(i) for i in where)}: expected "
                f"{_describe(expected[where])}, got {_describe(got[where])}"
            )
        return None

    return compare


def equal() -> Callable[[Any, Any], str | None]:
    """A ``compare`` for :func:`run_cases`: exactly equal results (numbers, tuples, arrays)."""

    def compare(got, expected):
        if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
            same = np.shape(got) == np.shape(expected) and np.array_equal(got, expected)
        else:
            same = got == expected
        return None if same else f"expected {_describe(expected)}, got {_describe(got)}"

    return compare


# == chapter: bases ==================================================================================


def _basis_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`dual_basis`: bases of the plane and of subspaces, skewed and orthonormal."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    return [
        (
            "the chapter's basis of the plane [[1, 0.5], [0.2, 1]]",
            (np.array([[1, 0.5], [0.2, 1]]),),
        ),
        ("three random vectors in R^5 (shape (5, 3))", (rng.standard_normal((5, 3)),)),
        ("a random basis of R^4 (shape (4, 4))", (rng.standard_normal((4, 4)),)),
        ("three orthonormal vectors in R^6 (shape (6, 3))", (q,)),
        ("two nearly parallel vectors in R^3", (np.array([[1.0, 1.0], [0.0, 0.1], [0.0, 0.0]]),)),
    ]


def _compare_dual(got, expected) -> str | None:
    """None when ``got`` is the dual basis ``expected``; otherwise the first of shape, the defining
    property ``<b^i|b_j> = delta`` and the span that fails, with a hint."""
    B = np.linalg.pinv(expected)  # the basis itself: the pseudoinverse of its dual
    got = np.asarray(got, dtype=float)
    k, n = expected.shape
    if got.shape == (n, k) and k != n:
        return f"expected shape {(k, n)} (one bra per row), got {got.shape}: stack the bras as rows"
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got shape {got.shape}"
    if np.allclose(got, expected, rtol=1e-7, atol=1e-9):
        return None
    if np.allclose(got, B.T):
        return (
            "you returned the transpose B^T, which is the dual basis only for orthonormal "
            "columns; the bras must satisfy <b^i|b_j> = delta, i.e. (your result) @ B = I"
        )
    gram = got @ B
    if not np.allclose(gram, np.eye(k), atol=1e-8):
        i, j = np.unravel_index(np.argmax(np.abs(gram - np.eye(k))), gram.shape)
        return (
            f"<b^{i}|b_{j}> should be {float(i == j):g}, got {gram[i, j]:.4g}: the rows of "
            "your result are not dual to the columns of B"
        )
    return (
        "your rows satisfy <b^i|b_j> = delta but do not lie in the span of B: that is a left "
        "inverse, not the dual basis; the dual basis is the pseudoinverse (B^T B)^-1 B^T"
    )


def dual_basis(function: Callable) -> None:
    """Checker of the exercise "the dual basis" (chapter "Bases, dual bases and Dirac notation"):
    ``function(B)`` must return the dual basis of the columns of ``B`` as the rows of a ``k x n``
    array, like :func:`emtlib.linalg.dual_basis`.  Raises :class:`CheckFailed` on the first basis
    where it differs, saying how."""
    run_cases("dual_basis", function, _linalg.dual_basis, _basis_cases(), _compare_dual)


# == chapter: gsemm ==================================================================================


_POPULATION_HINTS = {
    "V_f": "T_f dV_f/dt = sqrt(a_s) Xi sigma_h(V_h) - V_f",
    "V_h": "T_h dV_h/dt = sqrt(a_s) Xi^T tanh(V_f) + a_c Phi^T Xi^T V_d - V_h",
    "V_d": "T_d dV_d/dt = tanh(V_f) - V_d",
}


def _gsemm_step_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`gsemm_euler_step`: models and states ``(model, V_f, V_h, V_d, dt)``."""
    rng = np.random.default_rng(0)
    Xi, Phi = _gsemm.random_patterns(12, 3, seed=1), _gsemm.cyclic_shift(3)
    cases = []
    for label, model, dt in [
        (
            "the chapter's softmax model (12 features, 3 memories), dt = 0.01",
            _gsemm.GSEMM(Xi, Phi),
            0.01,
        ),
        (
            "identity hidden neurons, a_s = a_c = 1, dt = 0.05",
            _gsemm.GSEMM(Xi, Phi, a_s=1.0, a_c=1.0, hidden="identity"),
            0.05,
        ),
        (
            "softmax, a_s = 2, a_c = 0.5, T_f = 2, T_h = 0.05, T_d = 7, beta = 0.3, dt = 0.002",
            _gsemm.GSEMM(Xi, Phi, T_f=2.0, T_h=0.05, T_d=7.0, a_s=2.0, a_c=0.5, beta=0.3),
            0.002,
        ),
    ]:
        state = (rng.standard_normal(12), rng.standard_normal(3), 0.5 * rng.standard_normal(12))
        cases.append((label, (model, *state, dt)))
    return cases


def _compare_gsemm_state(got, expected) -> str | None:
    """None when ``got`` is the triple ``expected`` (V_f, V_h, V_d), else which population differs."""
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        return f"return the triple (V_f, V_h, V_d), got {_describe(got)}"
    for name, g, e in zip(("V_f", "V_h", "V_d"), got, expected):
        problem = arrays_close(rtol=1e-9, atol=1e-12)(g, e)
        if problem is not None:
            return f"{name}: {problem} (its equation: {_POPULATION_HINTS[name]})"
    return None


def gsemm_euler_step(function: Callable) -> None:
    """Checker of the exercise "one Euler step of GSEMM" (chapter "The General Sequential Episodic
    Memory Model"): ``function(model, V_f, V_h, V_d, dt)`` must return the new ``(V_f, V_h, V_d)``
    after one explicit Euler step of size ``dt``, like :meth:`emtlib.gsemm.GSEMM.euler_step`."""
    run_cases(
        "gsemm_euler_step",
        function,
        lambda model, V_f, V_h, V_d, dt: model.euler_step(V_f, V_h, V_d, dt),
        _gsemm_step_cases(),
        _compare_gsemm_state,
    )


# == chapter: gsemm_to_rnn ===========================================================================


def _reduction_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`reduced_weights`: ``(Xi, Phi, a_s, a_c)``."""
    rng = np.random.default_rng(3)
    gauss = rng.standard_normal((10, 3)) / np.sqrt(10)
    pm = _gsemm.random_patterns(100, 5, seed=0)
    return [
        ("the chapter's 10 x 3 memories, a_s = a_c = 1", (gauss, _gsemm.cyclic_shift(3), 1.0, 1.0)),
        ("the same memories, a_s = 0.3, a_c = 2", (gauss, _gsemm.cyclic_shift(3), 0.3, 2.0)),
        ("100 x 5 +-1 patterns, a_s = 4, a_c = 6", (pm, _gsemm.cyclic_shift(5), 4.0, 6.0)),
        (
            "a 2-step cycle over 5 memories, a_s = 2, a_c = 0",
            (pm, _gsemm.cyclic_shift(5, 2), 2.0, 0.0),
        ),
    ]


def _compare_weights(got, expected) -> str | None:
    problem = arrays_close(rtol=1e-9, atol=1e-12)(got, expected)
    if problem is None:
        return None
    return f"{problem} (the reduction gives W = Xi (a_s I + sqrt(a_s) a_c Phi^T) Xi^T)"


def reduced_weights(function: Callable) -> None:
    """Checker of the exercise "the reduced weights" (chapter "From GSEMM to RNNs"):
    ``function(Xi, Phi, a_s, a_c)`` must return the RNN weights of the reduced GSEMM, like
    :func:`emtlib.gsemm.reduced_weights`."""
    run_cases(
        "reduced_weights", function, _gsemm.reduced_weights, _reduction_cases(), _compare_weights
    )


# == chapter: tasks ==================================================================================


def _task_id_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`decode_task_id`: the chapter's example, the paper's tasks, random tasks."""
    cases = [("the chapter's example s=3, d=4, id (2130, 18, 5)", (3, 4, (2130, 18, 5)))]
    for name, task in _tasks.PAPER_TASKS.items():
        cases.append((f"{name} of the paper, id {task.task_id}", (8, 8, task.task_id)))
    for seed, (s, d) in enumerate([(2, 3), (4, 5), (3, 6), (5, 7)]):
        task = _tasks.random_task(s, d, seed=seed)
        cases.append((f"a random task s={s}, d={d}, id {task.task_id}", (s, d, task.task_id)))
    return cases


def _compare_decoded(got, expected) -> str | None:
    """None when ``got`` is ``expected`` (choice, signs), else what differs and a hint."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return f"return a pair (choice, signs), got {_describe(got)}"
    choice, signs = (np.asarray(part).ravel() for part in got)
    want_choice, want_signs = expected
    problems = []
    if choice.shape != want_choice.shape or not np.array_equal(choice, want_choice):
        problems.append(f"choice should be {want_choice.tolist()}, got {choice.tolist()}")
        if sorted(choice.tolist()) != sorted(want_choice.tolist()):
            problems.append(
                "the rows in use are the set bits of t1 (bit r set: row r), lowest first"
            )
        elif choice.tolist() == sorted(want_choice.tolist()):
            problems.append("the rows are right but not their order: apply the swaps of t2")
        else:
            problems.append(
                "the rows are right but their order is not: digit i of t2 in base d (least "
                "significant first) swaps positions i and i + digit, for i = 0, 1, ..."
            )
    if signs.shape != want_signs.shape or not np.array_equal(signs, want_signs):
        problems.append(f"signs should be {want_signs.tolist()}, got {signs.tolist()}")
        if np.array_equal(signs, want_signs[::-1]):
            problems.append("bit j of t3 counts from the least significant bit")
        else:
            problems.append("bit j of t3 set means output j is negated (-1), else +1")
    return "; ".join(problems) or None


def decode_task_id(function: Callable) -> None:
    """Check ``function(s, d, task_id) -> (choice, signs)`` against
    :func:`emtlib.tasks.decode_task_id` (chapter "Variable binding tasks", implement-it exercise).

    ``choice[j]`` is the row of ``L`` that feeds output ``j``, ``signs[j]`` its sign (±1); lists
    or arrays are accepted.
    """
    run_cases("decode_task_id", function, _tasks.decode_task_id, _task_id_cases(), _compare_decoded)


# == chapter: circuit ================================================================================


def _phi_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`phi`: the paper's tasks, a one-slot task and random tasks."""
    cases = [
        (f"{name} of the paper, id {t.task_id}", (t,)) for name, t in _tasks.PAPER_TASKS.items()
    ]
    one_slot = _tasks.Task(1, 3, (7, 5, 2))
    cases.append((f"a task with one slot, s=1, d=3, id {one_slot.task_id}", (one_slot,)))
    for seed, (s, d) in enumerate([(3, 4), (5, 2), (2, 6)]):
        task = _tasks.random_task(s, d, seed=10 + seed)
        cases.append((f"a random task s={s}, d={d}, id {task.task_id}", (task,)))
    return cases


def _phi_reference(task) -> tuple[np.ndarray, int]:
    return _circuit.phi(task), task.d


def _compare_phi(got, expected) -> str | None:
    """None when ``got`` is Φ, else the first entry that differs and a hint at the usual slip."""
    want, d = expected
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        return f"Φ is (s*d, s*d) = {want.shape}, got shape {got.shape}"
    if np.array_equal(got, want):
        return None
    i, j = (int(k) for k in np.argwhere(got != want)[0])
    where = f"entry ({i}, {j}) should be {want[i, j]:g}, got {got[i, j]:g}"
    if np.array_equal(got, want.T):
        return f"{where}: your Φ is transposed (row i holds the weights into unit i)"
    if i < want.shape[0] - d:
        return (
            f"{where}: the first (s-1)*d rows shift, slot k+1 into slot k (towards the oldest): "
            f"Φ[i, i + d] = 1 for i < (s-1)*d"
        )
    return f"{where}: the last d rows, the composition row, are L^T (task.operator.T)"


def phi(function: Callable) -> None:
    """Check ``function(task) -> Φ`` against :func:`emtlib.circuit.phi` (chapter "The variable
    binding circuit", implement-it exercise): ``(s*d, s*d)``, the shift blocks above the
    diagonal, ``L^T`` in the last ``d`` rows."""
    run_cases("phi", function, _phi_reference, _phi_cases(), _compare_phi)


# == chapter: training ===============================================================================


class _WatchedRNN:
    """A model's ``rnn`` that remembers the longest run of time steps it was asked for."""

    def __init__(self, rnn):
        self._rnn, self.longest, self.calls = rnn, 0, 0

    def __call__(self, inputs, h=None):
        self.longest, self.calls = max(self.longest, int(inputs.shape[0])), self.calls + 1
        return self._rnn(inputs, h)


class _WatchedModel:
    """An :class:`~emtlib.rnn.ElmanRNN` seen through ``rnn`` and ``readout`` only, with the
    ``rnn`` watched (:class:`_WatchedRNN`)."""

    def __init__(self, model):
        self.rnn, self.readout = _WatchedRNN(model.rnn), model.readout


def _chunked_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`chunked_accuracy`: small random networks on the paper's tasks, with
    chunks shorter than the input phase, of one step, and longer than the whole sequence."""
    cases = []
    for seed, (name, horizon, chunk) in enumerate(
        [("T2", 40, 16), ("T1", 37, 5), ("T4", 30, 1), ("T3", 25, 100), ("T2", 60, 8)]
    ):
        task = _tasks.PAPER_TASKS[name]
        model = _rnn.ElmanRNN(task.d, 32, seed=seed)
        with torch.no_grad():  # a gain that keeps the activity alive for many steps
            model.rnn.weight_hh_l0.mul_(3.0)
        inputs, targets = task.sample(8, horizon, seed=100 + seed)
        label = (
            f"a random 32-unit network on {name}, horizon {horizon} (so s + horizon = "
            f"{task.s + horizon} steps), chunk={chunk}"
        )
        cases.append((label, (model, inputs, targets, task.s, chunk)))
    return cases


def _pieces(model, inputs, chunk, carry=True):
    """The outputs of ``model`` for ``inputs``, ``chunk`` steps at a time (hidden state carried
    over when ``carry``), as a list of ``(start, outputs)``."""
    h, out = None, []
    with torch.no_grad():
        for t0 in range(0, inputs.shape[0], chunk):
            states, h_last = model.rnn(inputs[t0 : t0 + chunk], h)
            h = h_last if carry else None
            out.append((t0, model.readout(states)))
    return out


def _sign_accuracy(pairs) -> float:
    """The fraction of signs of the outputs ``o`` that match the targets ``z`` over the pairs
    (NaN when there is nothing to count)."""
    total = sum(z.size for _, z in pairs)
    correct = sum(int((np.sign(o) == z).sum()) for o, z in pairs)
    return correct / total if total else float("nan")


def _chunked_reference(model, inputs, targets, s, chunk) -> dict:
    """The accuracy over the output phase, the longest run allowed, and what slips would give."""
    z = targets.numpy()
    pieces = [(t0, o.numpy()) for t0, o in _pieces(model, inputs, chunk)]
    fresh = [(t0, o.numpy()) for t0, o in _pieces(model, inputs, chunk, carry=False)]

    def output_phase(parts):
        return _sign_accuracy(
            [(o[max(s - t0, 0) :], z[t0 + max(s - t0, 0) : t0 + len(o)]) for t0, o in parts]
        )

    return {
        "value": output_phase(pieces),
        "total": z[s:].size,
        "chunk": chunk,
        "slips": {
            "carry the hidden state from one chunk to the next: pass the last state of a chunk "
            "as h to model.rnn for the next one (it starts from zero otherwise)": output_phase(
                fresh
            ),
            "count the output phase only: rows s, s+1, ... of the sequence (the first s rows "
            "are the input phase, whose target is zero)": _sign_accuracy(
                [(o, z[t0 : t0 + len(o)]) for t0, o in pieces]
            ),
            "only the first s rows of the whole sequence belong to the input phase, not the "
            "first s rows of every chunk": _sign_accuracy(
                [(o[s:], z[t0 + s : t0 + len(o)]) for t0, o in pieces]
            ),
        },
    }


def _compare_chunked(got, expected) -> str | None:
    got, longest = got
    value, chunk = expected["value"], expected["chunk"]
    if longest > chunk:
        return (
            f"your function ran model.rnn over {longest} time steps at once; run at most "
            f"chunk={chunk} steps per call, so that no more than that many hidden states are held"
        )
    try:
        got = float(got)
    except (TypeError, ValueError):
        return f"return the accuracy as a number between 0 and 1, got {_describe(got)}"
    if abs(got - value) <= 0.5 / expected["total"]:
        return None
    message = f"expected accuracy {value:.6f}, got {got:.6f}"
    hints = [
        hint
        for hint, slip in expected["slips"].items()
        if abs(slip - value) > 1e-9 and abs(got - slip) <= 1e-9
    ]
    return f"{message}: " + "; or ".join(hints) if hints else message


def chunked_accuracy(function: Callable) -> None:
    """Check ``function(model, inputs, targets, s, chunk) -> accuracy`` (chapter "Training RNNs
    on variable binding", implement-it exercise): the sign accuracy of an
    :class:`~emtlib.rnn.ElmanRNN` over the output phase (rows ``s`` on) of ``inputs`` and
    ``targets`` (time-major, as :meth:`emtlib.tasks.Task.sample` gives them), computed by calling
    ``model.rnn(piece, h)`` on at most ``chunk`` time steps at a time with the hidden state
    carried over, and ``model.readout`` on its states, as :func:`emtlib.train.evaluate` does."""
    if not callable(function):
        raise TypeError(
            f"chunked_accuracy: pass your function itself, got {type(function).__name__}"
        )

    def watched(model, inputs, targets, s, chunk):
        seen = _WatchedModel(model)
        return function(seen, inputs, targets, s, chunk), seen.rnn.longest

    run_cases("chunked_accuracy", watched, _chunked_reference, _chunked_cases(), _compare_chunked)


# == chapter: basis ==================================================================================


def _basis_blocks_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`basis_blocks`: the linear circuits of the paper's first two tasks and random
    matrices of a few shapes (the columns of ``B`` of different lengths, so normalisation shows)."""
    cases = []
    for name in ("T1", "T2"):
        c = _circuit.build_circuit(_tasks.PAPER_TASKS[name])
        cases.append((f"the linear circuit of {name} (W = Φ, B = W_uh)", (c.W_hh, c.W_uh, 8)))
    rng = np.random.default_rng(0)
    for n, d, s in [(6, 2, 3), (10, 3, 4), (5, 5, 1)]:
        W = rng.normal(size=(n, n)) / np.sqrt(n)
        B = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d)
        cases.append((f"a random W ({n}x{n}) and B ({n}x{d}) with s = {s}", (W, B, s)))
    return cases


def _basis_blocks_reference(W, B, s) -> tuple[np.ndarray, int]:
    W, B = np.asarray(W, dtype=float), np.asarray(B, dtype=float)
    blocks = [B]
    for _ in range(s - 1):
        blocks.append(W @ blocks[-1])
    K = np.concatenate(blocks[::-1], axis=1)  # slot 0 (oldest) = W^(s-1) B ... slot s-1 = B
    return K / np.linalg.norm(K, axis=0), B.shape[1]


def _compare_blocks(got, expected) -> str | None:
    """None when ``got`` is the normalised block matrix, else what differs and the likely slip."""
    want, d = expected
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        return f"expected shape (n, s*d) = {want.shape}, got shape {got.shape}"
    if np.allclose(got, want, atol=1e-8):
        return None
    norms = np.linalg.norm(got, axis=0)
    if not np.allclose(norms, 1, atol=1e-6):
        k = int(np.argmax(np.abs(norms - 1)))
        return f"column {k} has norm {norms[k]:.4g}: divide every column by its norm (step 3)"
    s = want.shape[1] // d
    backwards = np.concatenate([want[:, k * d : (k + 1) * d] for k in range(s)][::-1], axis=1)
    if s > 1 and np.allclose(got, backwards, atol=1e-8):
        return "the slots are in reverse order: slot 0, the oldest, is W^(s-1) B; the last is B"
    i, k = (int(j) for j in np.unravel_index(np.argmax(np.abs(got - want)), want.shape))
    return (
        f"column {k} (slot {k // d}, component {k % d}) differs most in row {i}: expected "
        f"{want[i, k]:.4g}, got {got[i, k]:.4g}; slot k holds W^(s-1-k) B, normalised"
    )


def basis_blocks(function: Callable) -> None:
    """Check ``function(W, B, s) -> K`` (chapter "The privileged basis", implement-it exercise):
    the blocks ``W^(s-1-k) B`` of every slot ``k`` side by side, oldest slot first, each column
    divided by its norm, shape ``(n, s*d)`` (steps 2 and 3 of the paper's algorithm)."""
    run_cases(
        "basis_blocks", function, _basis_blocks_reference, _basis_blocks_cases(), _compare_blocks
    )


# == chapter: interventions ==========================================================================


class _DisguisedCircuit:
    """The saturating circuit of ``task`` seen through a random invertible map ``P`` (``W_hh = P W
    P⁻¹``): a model whose privileged basis is not orthogonal, so ``Ψᵀ`` is not its dual."""

    def __init__(self, task, seed):
        c = _circuit.build_circuit(task)
        rng = np.random.default_rng(seed)
        P = np.eye(task.n) + 0.4 * rng.standard_normal((task.n, task.n)) / np.sqrt(task.n)
        Pinv = np.linalg.inv(P)
        self.W_hh, self.W_uh, self.W_r = P @ c.W_hh @ Pinv, P @ c.W_uh, c.W_r @ Pinv


def _edit_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`intervention`: ``(h, basis, slot, values)`` on disguised circuits."""
    cases = []
    rng = np.random.default_rng(7)
    for name, slot, batch, leave in (("T2", 7, None, ()), ("T2", 3, None, (1,)), ("T1", 0, 4, ())):
        task = _tasks.PAPER_TASKS[name]
        basis = _basis.privileged_basis(_DisguisedCircuit(task, seed=slot), task, "observer")
        h = rng.standard_normal(task.n if batch is None else (batch, task.n))
        values = rng.choice([-1.0, 1.0], size=task.d if batch is None else (batch, task.d))
        absent = np.setdiff1d(np.arange(task.d), basis.components(slot))
        values[..., list(absent) + list(leave)] = np.nan
        shape = "one state" if batch is None else f"a batch of {batch} states"
        label = (
            f"{name} ({task.task_id}), {shape}, slot {slot}, new values "
            f"{np.array2string(np.atleast_2d(values)[0], precision=0)}"
        )
        cases.append((label, (h, basis, slot, values)))
    return cases


def _edit_reference(h, basis, slot, values):
    model = type("Model", (), {"W_hh": np.zeros((basis.n, basis.n))})()
    return _interventions.intervene(model, basis, h, slot, values), basis, slot, values, h


def _compare_edit(got, expected) -> str | None:
    """None when ``got`` is the reference edit, else which reading is off and a hint."""
    want, basis, slot, values, h = expected
    got = np.asarray(got, dtype=float)
    if got.shape != want.shape:
        return f"expected the edited state with shape {want.shape}, got shape {got.shape}"
    if np.allclose(got, want, rtol=1e-7, atol=1e-9):
        return None
    idx = basis.slot_columns(slot)
    comps = basis.coords[idx, 1]
    read, before = got @ basis.dual.T, np.asarray(h) @ basis.dual.T
    new = np.where(np.isnan(values[..., comps]), before[..., idx], values[..., comps])
    if not np.allclose(read[..., idx], new, atol=1e-8):
        return (
            f"after your edit slot {slot} reads {_describe(np.round(read[..., idx], 3))}, but "
            f"should read {_describe(np.round(new, 3))} (new values where given, the old value "
            "where NaN); read the old values with the dual, v = dual_k @ h, and add Psi_k (v' - v)"
        )
    others = np.setdiff1d(np.arange(len(basis.coords)), idx)
    if not np.allclose(read[..., others], before[..., others], atol=1e-8):
        return (
            "slot {slot} reads right, but the other slots changed: the change of h must lie "
            "in the columns Psi_k of the edited slot only".replace("{slot}", str(slot))
        )
    return (
        "every slot reads right, but the state is not h + Psi_k (v' - v): your change of h also "
        "moves along directions the dual does not see; use the basis columns Psi_k"
    )


def intervention(function: Callable) -> None:
    """Check ``function(h, basis, slot, values) -> h'`` against
    :func:`emtlib.interventions.intervene` (chapter "Interventions", implement-it exercise).

    ``h`` is ``(n,)`` or ``(batch, n)``, ``basis`` an :class:`emtlib.basis.Basis`, ``values``
    ``(d,)`` or ``(batch, d)`` the new values of the slot's components (NaN: leave that one as it
    is). The edited state must read ``values`` in slot ``slot`` and the old values everywhere else.
    The cases hide the circuit behind a non-orthogonal map, so ``Psi.T`` is not the dual.
    """
    run_cases("intervention", function, _edit_reference, _edit_cases(), _compare_edit)


# == chapter: universality ===========================================================================


def _spectral_cases() -> list[tuple[str, tuple]]:
    """Inputs of :func:`spectral_error`: ``(eigenvalues of W, task)`` pairs built from the
    paper's tasks, with the slips that a first implementation makes in mind."""
    rng = np.random.default_rng(7)
    ideal = {name: _spectra.ideal_eigenvalues(t) for name, t in _tasks.PAPER_TASKS.items()}
    T = _tasks.PAPER_TASKS

    def short_lived(k):  # eigenvalues well inside |λ| = 0.9
        return 0.6 * rng.uniform(0, 1, k) * np.exp(2j * np.pi * rng.uniform(0, 1, k))

    def shuffled(lam):
        return rng.permutation(np.asarray(lam, dtype=complex))

    jitter = ideal["T4"] * np.exp(1j * rng.uniform(-0.16, 0.0, ideal["T4"].size))
    return [
        (
            "Φ's own eigenvalues for T2 (36 on the unit circle, 28 zeros)",
            (shuffled(np.concatenate([ideal["T2"], np.zeros(28)])), T["T2"]),
        ),
        (
            "T1's eigenvalues scaled by 1.2 and turned by -0.01 rad, plus 64 short-lived ones",
            (
                shuffled(np.concatenate([1.2 * ideal["T1"] * np.exp(-0.01j), short_lived(64)])),
                T["T1"],
            ),
        ),
        (
            "T4's eigenvalues with angles jittered by up to 0.16 rad, plus 92 short-lived ones",
            (shuffled(np.concatenate([1.1 * jitter, short_lived(92)])), T["T4"]),
        ),
        (
            "T3's eigenvalues turned by +0.005 rad (so -1 moves to angle -π + 0.005)",
            (shuffled(np.concatenate([ideal["T3"] * np.exp(0.005j), short_lived(28)])), T["T3"]),
        ),
        (
            "T2's eigenvalues with one of them pulled inside |λ| = 0.9 (35 long-lived against 36)",
            (
                shuffled(
                    np.concatenate([ideal["T2"][:-1], [0.85 * ideal["T2"][-1]], short_lived(28)])
                ),
                T["T2"],
            ),
        ),
        (
            "T1's eigenvalues plus one more at |λ| = 0.95 (65 long-lived against 64)",
            (shuffled(np.concatenate([ideal["T1"], [0.95j], short_lived(63)])), T["T1"]),
        ),
        ("a W with no long-lived eigenvalue at all, for T2", (short_lived(64), T["T2"])),
    ]


def _mean_matched(a: np.ndarray, b: np.ndarray, cost) -> float:
    rows, cols = linear_sum_assignment(cost(a[:, None], b[None, :]))
    return float(np.mean(cost(a[rows], b[cols])))


def _spectral_reference(eigenvalues, task) -> dict:
    """The spectral error (None where undefined) and what the usual slips would give instead."""
    model = _spectra.long_lived(np.asarray(eigenvalues, dtype=complex), 0.9)
    ideal = _spectra.long_lived(task, 0.9)
    out = {"n_model": len(model), "n_ideal": len(ideal), "value": None}
    if len(model) != len(ideal) or len(ideal) == 0:
        return out
    a, b = np.angle(model), np.angle(ideal)
    pairs = _spectra.match_eigenvalues(model, ideal)
    out["value"] = float(np.mean(_spectra.angle_distance(a[pairs[:, 0]], b[pairs[:, 1]])))
    dist = _spectra.angle_distance(a[:, None], b[None, :])
    out["slips"] = {
        "each eigenvalue of W was matched to its nearest eigenvalue of Φ, so two of them can share "
        "one; the matching must be one-to-one (scipy.optimize.linear_sum_assignment)": float(
            np.mean(dist.min(axis=1))
        ),
        "pairing the eigenvalues in order of their angles is not the best one-to-one matching; "
        "minimise the total angle distance (scipy.optimize.linear_sum_assignment)": float(
            np.mean(_spectra.angle_distance(np.sort(a), np.sort(b)))
        ),
        "angle differences must be wrapped to [0, π]: angles π - 0.01 and -π + 0.01 are 0.02 "
        "apart, not 2π - 0.02": _mean_matched(a, b, lambda x, y: np.abs(x - y)),
        "compare the angles only (np.angle): trained W holds its memories at |λ| > 1": (
            _mean_matched(model, ideal, lambda x, y: np.abs(x - y))
        ),
    }
    return out


def _compare_spectral(got, expected) -> str | None:
    value, n_model, n_ideal = expected["value"], expected["n_model"], expected["n_ideal"]
    if value is None:
        if got is None:
            return None
        return (
            f"the error is not defined here (W has {n_model} eigenvalues with |λ| > 0.9, Φ has "
            f"{n_ideal}): return None, got {_describe(got)}"
        )
    if got is None:
        return (
            f"expected {value:.6f}: W and Φ both have {n_ideal} eigenvalues with |λ| > 0.9, so "
            "the error is defined"
        )
    try:
        got = float(got)
    except (TypeError, ValueError):
        return f"return a number of radians or None, got {_describe(got)}"
    if abs(got - value) <= 1e-9 + 1e-7 * value:
        return None
    message = f"expected {value:.6f} rad, got {got:.6f}"
    hints = [
        hint
        for hint, slip in expected["slips"].items()
        if abs(slip - value) > 1e-6 and abs(got - slip) <= 1e-6 + 1e-6 * abs(slip)
    ]
    return f"{message}: " + "; or ".join(hints) if hints else message


def spectral_error(function: Callable) -> None:
    """Check ``function(eigenvalues, task) -> error or None`` against the book's spectral error
    (:mod:`emtlib.spectra`; chapter "Universality", implement-it exercise): the eigenvalues of
    ``W`` and of the task's Φ with ``|λ| > 0.9``, None when their counts differ (or both are
    zero), else the mean wrapped angle distance of the optimal one-to-one matching."""
    run_cases("spectral_error", function, _spectral_reference, _spectral_cases(), _compare_spectral)


# == chapter: beyond_elman ===========================================================================

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

from . import gsemm as _gsemm
from . import linalg as _linalg

__all__ = ["CheckFailed", "run_cases"]


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

# == chapter: circuit ================================================================================

# == chapter: training ===============================================================================

# == chapter: basis ==================================================================================

# == chapter: interventions ==========================================================================

# == chapter: universality ===========================================================================

# == chapter: beyond_elman ===========================================================================

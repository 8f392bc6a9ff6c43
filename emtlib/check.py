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

# == chapter: gsemm ==================================================================================

# == chapter: gsemm_to_rnn ===========================================================================

# == chapter: tasks ==================================================================================

# == chapter: circuit ================================================================================

# == chapter: training ===============================================================================

# == chapter: basis ==================================================================================

# == chapter: interventions ==========================================================================

# == chapter: universality ===========================================================================

# == chapter: beyond_elman ===========================================================================

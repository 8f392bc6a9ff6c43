"""The checker framework of the implement-it exercises (emtlib.check): a right function passes, a
wrong one fails with a message naming the case and the difference, a crash is reported as such."""

import numpy as np
import pytest

from emtlib import check


def _square_cases():
    return [("x = 2", (2,)), ("x = -3", (-3,)), ("x = [1, 2]", (np.array([1.0, 2.0]),))]


def test_a_right_function_passes_and_says_so(capsys):
    check.run_cases(
        "square", lambda x: x * x, lambda x: x**2, _square_cases(), check.arrays_close()
    )
    assert "all 3 cases agree" in capsys.readouterr().out


def test_a_wrong_function_fails_naming_the_case_and_the_values():
    with pytest.raises(check.CheckFailed, match=r"square: on x = -3, expected 9, got -9"):
        check.run_cases(
            "square", lambda x: x * abs(x), lambda x: x**2, _square_cases(), check.arrays_close()
        )


def test_a_wrong_shape_is_named():
    with pytest.raises(check.CheckFailed, match=r"expected shape \(2,\), got shape \(\)"):
        check.run_cases(
            "square",
            lambda x: np.sum(x * x),
            lambda x: x**2,
            _square_cases()[2:],
            check.arrays_close(),
        )


def test_a_crash_is_reported_as_a_failed_case():
    def broken(x):
        raise KeyError("oops")

    with pytest.raises(check.CheckFailed, match=r"on x = 2 your function raised KeyError"):
        check.run_cases("square", broken, lambda x: x**2, _square_cases(), check.equal())


def test_equal_compares_tuples_and_arrays_exactly():
    compare = check.equal()
    assert compare((1, 2), (1, 2)) is None
    assert "expected (1, 2)" in compare((2, 1), (1, 2))
    assert compare(np.array([1, 2]), np.array([1, 2])) is None
    assert compare(np.array([1, 2]), np.array([1, 3])) is not None


def test_a_non_function_is_a_type_error():
    with pytest.raises(TypeError, match="pass your function itself"):
        check.run_cases("square", 4, lambda x: x, [], check.equal())

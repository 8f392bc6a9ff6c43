"""Tests of emtlib._checks: one format for every argument check of the library."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from emtlib._checks import array, boolean, choice, integer, matrix, real

NUMPY_INTEGERS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)


@given(st.integers(0, 120), st.sampled_from(NUMPY_INTEGERS))
def test_python_and_numpy_integers_are_integers(value, kind):
    assert integer(value, "n") == integer(kind(value), "n") == value
    assert type(integer(kind(value), "n")) is int


@given(st.integers(-(2**70), 2**70), st.integers(-100, 100), st.integers(0, 100))
def test_integers_outside_their_range_are_value_errors_naming_it(value, low, width):
    high = low + width
    if low <= value <= high:
        assert integer(value, "n", low, high) == value
    else:
        with pytest.raises(ValueError, match=f"n must be an integer >= {low} and <= {high}, got"):
            integer(value, "n", low, high)


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(True), 2.0, 2.5, np.float64(3), "3", None, [3], torch.tensor(3)]
)
def test_anything_else_is_a_type_error_saying_what_it_got(value):
    with pytest.raises(
        TypeError, match=f"n must be an integer, got .* \\({type(value).__name__}\\)"
    ):
        integer(value, "n")


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10))
def test_reals_are_finite_and_bounded(value, low):
    ok = math.isfinite(value) and value > low
    if ok:
        assert real(value, "x", low, strict_min=True) == value
        assert real(np.float64(value), "x", None) == value
    else:
        with pytest.raises(ValueError, match="x must be a finite real number"):
            real(value, "x", low, strict_min=True)


def test_reals_integers_count_and_bools_do_not():
    assert real(3, "x") == 3.0 and type(real(np.int64(3), "x")) is float
    for bad in (True, "1.0", None, 1j):
        with pytest.raises(TypeError, match="x must be a real number"):
            real(bad, "x")
    with pytest.raises(ValueError, match=r"x must be a finite real number >= 0 and <= 1, got 1.5"):
        real(1.5, "x", 0, 1)


def test_booleans_choices_matrices_and_arrays():
    assert boolean(np.bool_(False), "flag") is False
    for bad in ("no", 0, 1, None):
        with pytest.raises(TypeError, match="flag must be True or False"):
            boolean(bad, "flag")
    assert choice("a", "mode", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode must be one of \['a', 'b'\], got 'c'"):
        choice("c", "mode", ("a", "b"))
    with pytest.raises(TypeError, match="mode must be one of"):
        choice(1, "mode", ("a", "b"))
    np.testing.assert_array_equal(matrix(torch.eye(2), "M"), np.eye(2))
    with pytest.raises(ValueError, match=r"M must have shape \(3, 3\)"):
        matrix(np.eye(2), "M", (3, 3))
    assert array(torch.ones(3), "v").dtype == np.float64 and array([1, 2], "v").shape == (2,)
    with pytest.raises(TypeError, match="v must be a numpy array or torch tensor"):
        array("v", "v")

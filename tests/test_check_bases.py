"""The checker of the implement-it exercise of the chapter "Bases, dual bases and Dirac notation":
the dual basis. A right solution passes; wrong ones fail with a message that names the basis and
says what is wrong."""

import numpy as np
import pytest

from emtlib import check


def test_the_pseudoinverse_passes(capsys):
    check.dual_basis(lambda B: np.linalg.inv(B.T @ B) @ B.T)
    assert "all 5 cases agree" in capsys.readouterr().out


def test_the_transpose_fails_on_a_skewed_basis_and_says_why():
    with pytest.raises(check.CheckFailed, match=r"chapter's basis.*transpose B\^T.*orthonormal"):
        check.dual_basis(lambda B: B.T)


def test_bras_as_columns_fail_on_the_square_basis_and_as_a_shape_on_the_others():
    with pytest.raises(check.CheckFailed, match=r"plane.*<b\^0\|b_1> should be 0"):
        check.dual_basis(lambda B: (np.linalg.inv(B.T @ B) @ B.T).T)

    def columns_unless_square(B):
        dual = np.linalg.pinv(B)
        return dual if B.shape == (2, 2) else dual.T

    with pytest.raises(check.CheckFailed, match=r"R\^5.*expected shape \(3, 5\).*as rows"):
        check.dual_basis(columns_unless_square)


def test_a_left_inverse_outside_the_span_is_not_the_dual():
    def left_inverse(B):
        dual = np.linalg.pinv(B)
        extra = np.ones((B.shape[1], B.shape[0])) @ (np.eye(B.shape[0]) - B @ dual)
        return dual + extra

    with pytest.raises(check.CheckFailed, match=r"R\^5.*left inverse"):
        check.dual_basis(left_inverse)


def test_rows_that_are_not_dual_name_the_pair():
    with pytest.raises(check.CheckFailed, match=r"<b\^\d\|b_\d> should be"):
        check.dual_basis(lambda B: 2 * np.linalg.pinv(B))

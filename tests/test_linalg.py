"""Tests for emtlib.linalg: dual bases, change of basis and the spectrum it keeps."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from emtlib.linalg import dual_basis, from_basis, leading_eigenvalues, to_basis


@st.composite
def bases(draw):
    """A well-conditioned random basis B (n x k) and a random k x k matrix A."""
    n = draw(st.integers(1, 7))
    k = draw(st.integers(1, n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((k, k)))
    B = U[:, :k] @ np.diag(rng.uniform(0.5, 2.0, k)) @ V
    return B, rng.standard_normal((k, k))


@settings(max_examples=100, deadline=None)
@given(bases())
def test_a_map_given_in_a_basis_reads_back_and_keeps_its_eigenvalues(case):
    B, A = case
    k = A.shape[0]
    np.testing.assert_allclose(dual_basis(B) @ B, np.eye(k), atol=1e-9)
    M = from_basis(A, B)
    np.testing.assert_allclose(to_basis(M, B), A, atol=1e-8)
    np.testing.assert_allclose(
        np.sort_complex(leading_eigenvalues(M, k)), np.sort_complex(np.linalg.eigvals(A)), atol=1e-7
    )
    np.testing.assert_allclose(leading_eigenvalues(M)[k:], 0, atol=1e-8)  # the other n - k


def test_similar_matrices_share_eigenvalues_and_an_orthonormal_dual_is_the_transpose():
    rng = np.random.default_rng(6)
    M, B = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    A = to_basis(M, B)
    assert not np.allclose(A, M)
    np.testing.assert_allclose(
        np.sort_complex(np.linalg.eigvals(A)), np.sort_complex(np.linalg.eigvals(M)), atol=1e-9
    )
    Q, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    np.testing.assert_allclose(dual_basis(Q), Q.T, atol=1e-12)
    np.testing.assert_allclose(dual_basis(torch.from_numpy(Q)), Q.T, atol=1e-12)


def test_bad_bases_and_matrices():
    with pytest.raises(ValueError, match="not linearly independent"):
        dual_basis(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="not linearly independent"):
        dual_basis(np.ones((2, 3)))  # more vectors than dimensions
    with pytest.raises(ValueError, match=r"M must have shape \(3, 3\)"):
        to_basis(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match=r"A must have shape \(2, 2\)"):
        from_basis(np.eye(3), np.ones((3, 2)))
    with pytest.raises(TypeError, match="B must be a numeric array"):
        dual_basis("B")
    with pytest.raises(ValueError, match="NaN"):
        dual_basis(np.array([[np.nan], [1.0]]))
    with pytest.raises(ValueError, match="M must be square"):
        leading_eigenvalues(np.ones((2, 3)))
    with pytest.raises(ValueError, match="k must be an integer >= 0 and <= 2"):
        leading_eigenvalues(np.eye(2), 3)

"""Bases, dual bases and change of basis (chapter "Bases, dual bases and Dirac notation").

The columns of a matrix ``B`` (``n x k``, linearly independent) are a basis of their span: the
kets ``|b_i>``.  The dual basis is the rows of the pseudoinverse ``B^+``, the bras ``<b^i|``, with
``<b^i|b_j> = delta_ij``.  A linear map ``M`` on that span reads ``B^+ M B`` in the basis, and a
``k x k`` matrix ``A`` given in the basis is the map ``B A B^+``.  Two matrices related this way
are *similar* and share their non-zero eigenvalues: that is how EMT reads a trained ``W`` as the
circuit's Φ (chapters "From GSEMM to RNNs" and "The privileged basis and hidden neurons").

This module imports only :mod:`emtlib._checks`.
"""

from __future__ import annotations

import numpy as np

from ._checks import integer, matrix, real

__all__ = ["dual_basis", "from_basis", "leading_eigenvalues", "to_basis"]


def dual_basis(B, rtol: float = 1e-10) -> np.ndarray:
    """The dual basis of the columns of ``B``: the rows of the pseudoinverse ``B^+``, so that
    ``B^+ B = I``.  Raises ``ValueError`` when the columns are linearly dependent (a singular
    value below ``rtol`` times the largest).

    Chapter "Bases, dual bases and Dirac notation".
    """
    B = matrix(B, "B")
    rtol = real(rtol, "rtol", 0.0)
    s = np.linalg.svd(B, compute_uv=False)
    if B.shape[1] > B.shape[0] or s[-1] <= rtol * s[0]:
        raise ValueError(
            f"the {B.shape[1]} columns of B (shape {B.shape}) are not linearly "
            "independent, so they are no basis of their span"
        )
    return np.linalg.pinv(B)


def to_basis(M, B) -> np.ndarray:
    """The linear map ``M`` (``n x n``) read in the basis ``B`` (``n x k``): ``B^+ M B``.

    Chapter "Bases, dual bases and Dirac notation".
    """
    B = matrix(B, "B")
    M = matrix(M, "M", shape=(B.shape[0], B.shape[0]))
    return dual_basis(B) @ M @ B


def from_basis(A, B) -> np.ndarray:
    """The map whose matrix in the basis ``B`` is ``A`` (``k x k``): ``B A B^+`` (``W = Xi Phi Xi^+``).

    Chapters "Bases, dual bases and Dirac notation" and "From GSEMM to RNNs".
    """
    B = matrix(B, "B")
    A = matrix(A, "A", shape=(B.shape[1], B.shape[1]))
    return B @ A @ dual_basis(B)


def leading_eigenvalues(M, k: int | None = None) -> np.ndarray:
    """The eigenvalues of the square matrix ``M`` sorted by modulus, largest first; only the first
    ``k`` when ``k`` is given.  ``B A B^+`` has the eigenvalues of ``A`` and ``n - k`` zeros, so its
    ``k`` leading ones are those of ``A`` (chapter "Bases, dual bases and Dirac notation")."""
    M = matrix(M, "M")
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got shape {M.shape}")
    lam = np.linalg.eigvals(M)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    if k is None:
        return lam
    return lam[: integer(k, "k", 0, M.shape[0])]

"""The checker of the implement-it exercise of the chapter "From GSEMM to RNNs": the reduced
weights. A right solution passes; wrong ones fail naming the case and the formula."""

import numpy as np
import pytest

from emtlib import check


def test_the_formula_passes(capsys):
    check.reduced_weights(
        lambda Xi, Phi, a_s, a_c: Xi @ (a_s * np.eye(len(Phi)) + np.sqrt(a_s) * a_c * Phi.T) @ Xi.T
    )
    assert "all 4 cases agree" in capsys.readouterr().out


def test_unit_couplings_only_fail_on_general_couplings():
    with pytest.raises(check.CheckFailed, match=r"a_s = 0.3, a_c = 2.*sqrt\(a_s\) a_c Phi\^T"):
        check.reduced_weights(lambda Xi, Phi, a_s, a_c: Xi @ (np.eye(len(Phi)) + Phi.T) @ Xi.T)


def test_Phi_for_its_transpose_fails_on_the_first_case():
    with pytest.raises(check.CheckFailed, match=r"10 x 3 memories.*values differ"):
        check.reduced_weights(
            lambda Xi, Phi, a_s, a_c: (
                Xi @ (a_s * np.eye(len(Phi)) + np.sqrt(a_s) * a_c * Phi) @ Xi.T
            )
        )

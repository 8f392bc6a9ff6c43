"""The implement-it checker of chapter "The privileged basis": a right solution passes, wrong ones
fail with a message that names the case and the slip."""

import numpy as np
import pytest

from emtlib import check


def right(W, B, s):
    blocks = [np.linalg.matrix_power(W, s - 1 - k) @ B for k in range(s)]
    K = np.concatenate(blocks, axis=1)
    return K / np.linalg.norm(K, axis=0)


def test_right_solution_passes(capsys):
    check.basis_blocks(right)
    assert "all 5 cases agree" in capsys.readouterr().out


def test_unnormalised_fails_with_a_hint():
    def unnormalised(W, B, s):
        return np.concatenate([np.linalg.matrix_power(W, s - 1 - k) @ B for k in range(s)], 1)

    with pytest.raises(check.CheckFailed, match="norm"):
        check.basis_blocks(unnormalised)


def test_reversed_slots_fail_with_a_hint():
    def backwards(W, B, s):
        K = right(W, B, s)
        d = B.shape[1]
        return np.concatenate([K[:, k * d : (k + 1) * d] for k in range(s)][::-1], axis=1)

    with pytest.raises(check.CheckFailed, match="reverse order"):
        check.basis_blocks(backwards)


def test_power_off_by_one_names_the_case():
    def off_by_one(W, B, s):
        K = np.concatenate([np.linalg.matrix_power(W, s - k) @ B for k in range(s)], 1)
        return K / np.linalg.norm(K, axis=0)

    with pytest.raises(
        check.CheckFailed, match=r"on the linear circuit of T1 .* differs most in row"
    ):
        check.basis_blocks(off_by_one)


def test_wrong_shape_and_errors_are_reported():
    with pytest.raises(check.CheckFailed, match="expected shape"):
        check.basis_blocks(lambda W, B, s: right(W, B, s)[:, :-1])
    with pytest.raises(check.CheckFailed, match="raised ZeroDivisionError"):
        check.basis_blocks(lambda W, B, s: 1 / 0)

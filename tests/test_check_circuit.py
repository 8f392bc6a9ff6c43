"""The implement-it checker of chapter "The variable binding circuit" (emtlib.check.phi): a right
Φ passes; a transposed one, a shift the wrong way and a missing composition row fail with a
message naming the task, the entry and the rule."""

import numpy as np
import pytest

from emtlib import check


def build_phi(task):
    """A reader's correct Φ: the shift above the diagonal, L^T in the last d rows."""
    n, d = task.n, task.d
    phi = np.zeros((n, n))
    phi[: n - d, d:] = np.eye(n - d)
    phi[n - d :] = task.operator.T
    return phi


def test_a_right_phi_passes(capsys):
    check.phi(build_phi)
    assert "phi: all 8 cases agree" in capsys.readouterr().out


def test_a_transposed_phi_is_named():
    with pytest.raises(check.CheckFailed) as err:
        check.phi(lambda task: build_phi(task).T)
    message = str(err.value)
    assert message.startswith("phi: on T1 of the paper, id (255, 0, 0), entry (0, 8)")
    assert "transposed" in message


def test_a_shift_towards_the_newest_slot_is_named():
    def backwards(task):
        phi = build_phi(task)
        n, d = task.n, task.d
        phi[: n - d] = np.eye(n, k=-d)[: n - d]
        return phi

    with pytest.raises(check.CheckFailed, match=r"shift, slot k\+1 into slot k"):
        check.phi(backwards)


def test_a_missing_composition_row_is_named():
    def no_composition(task):
        phi = build_phi(task)
        phi[task.n - task.d :] = 0.0
        return phi

    with pytest.raises(check.CheckFailed, match="composition row, are L\\^T"):
        check.phi(no_composition)


def test_a_wrong_shape_is_named():
    with pytest.raises(check.CheckFailed, match=r"Φ is \(s\*d, s\*d\) = \(64, 64\)"):
        check.phi(lambda task: task.operator)

"""The implement-it checker of chapter "Interventions" (emtlib.check.intervention): a right edit
passes; an edit that forgets the old value, one that treats NaN as zero and one that reads with
``Psi.T`` instead of the dual fail with a message naming the case and the slot's reading."""

import numpy as np
import pytest

from emtlib import check


def edit(h, basis, slot, values):
    """A reader's correct edit: h + Psi_k (v' - v), v read with the dual, NaN = leave."""
    idx = basis.slot_columns(slot)
    comps = basis.coords[idx, 1]
    v = h @ basis.dual[idx].T
    new = np.where(np.isnan(values[..., comps]), v, values[..., comps])
    return h + (new - v) @ basis.Psi[:, idx].T


def test_a_right_edit_passes(capsys):
    check.intervention(edit)
    assert "intervention: all 3 cases agree" in capsys.readouterr().out


def test_an_edit_that_forgets_the_old_value_is_named():
    def adds(h, basis, slot, values):
        idx = basis.slot_columns(slot)
        new = np.nan_to_num(values[..., basis.coords[idx, 1]])
        return h + new @ basis.Psi[:, idx].T

    with pytest.raises(check.CheckFailed) as err:
        check.intervention(adds)
    message = str(err.value)
    assert message.startswith("intervention: on T2")
    assert "slot 7 reads" in message and "v = dual_k @ h" in message


def test_nan_must_leave_a_component_alone():
    with pytest.raises(
        check.CheckFailed, match=r"slot 3, new values .*nan.*the old value where NaN"
    ):
        check.intervention(lambda h, b, k, v: edit(h, b, k, np.nan_to_num(v)))


def test_reading_with_psi_transposed_fails_in_a_non_orthogonal_basis():
    def transposed(h, basis, slot, values):
        idx = basis.slot_columns(slot)
        comps = basis.coords[idx, 1]
        v = h @ basis.Psi[:, idx]
        new = np.where(np.isnan(values[..., comps]), v, values[..., comps])
        return h + (new - v) @ basis.Psi[:, idx].T

    with pytest.raises(check.CheckFailed, match="slot 7 reads"):
        check.intervention(transposed)


def test_a_wrong_shape_and_an_error_are_reported():
    with pytest.raises(check.CheckFailed, match="expected the edited state with shape"):
        check.intervention(lambda h, b, k, v: edit(h, b, k, v)[..., :-1])
    with pytest.raises(check.CheckFailed, match="raised ZeroDivisionError"):
        check.intervention(lambda h, b, k, v: 1 / 0)

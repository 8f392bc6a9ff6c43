"""The implement-it checker of chapter "Universality" (emtlib.check.spectral_error): a right
spectral error passes; the usual slips (nearest instead of one-to-one matching, unwrapped angles,
no cut at 0.9, complex distances instead of angles) fail with a message that names the case and
the slip."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from emtlib import check
from emtlib.spectra import ideal_eigenvalues


def _angles(lam, task, cut=True):
    lam = np.asarray(lam)
    return np.angle(lam[np.abs(lam) > 0.9] if cut else lam), np.angle(ideal_eigenvalues(task))


def right(lam, task):
    a, b = _angles(lam, task)
    if len(a) != len(b) or len(b) == 0:
        return None
    diff = np.abs(a[:, None] - b[None, :])
    cost = np.minimum(diff, 2 * np.pi - diff)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def nearest(lam, task):
    a, b = _angles(lam, task)
    if len(a) != len(b) or len(b) == 0:
        return None
    diff = np.abs(a[:, None] - b[None, :])
    return float(np.minimum(diff, 2 * np.pi - diff).min(axis=1).mean())


def unwrapped(lam, task):
    a, b = _angles(lam, task)
    if len(a) != len(b) or len(b) == 0:
        return None
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def uncounted(lam, task):
    a, b = _angles(lam, task)
    if len(a) == 0 or len(b) == 0:
        return None
    diff = np.abs(a[:, None] - b[None, :])
    cost = np.minimum(diff, 2 * np.pi - diff)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def complex_distance(lam, task):
    lam = np.asarray(lam)
    a, b = lam[np.abs(lam) > 0.9], ideal_eigenvalues(task)
    if len(a) != len(b) or len(b) == 0:
        return None
    cost = np.abs(a[:, None] - b[None, :])
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def test_a_right_spectral_error_passes(capsys):
    check.spectral_error(right)
    assert "spectral_error: all 7 cases agree" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "case", "hint"),
    [
        (nearest, "T4's eigenvalues with angles jittered", "must be one-to-one"),
        (unwrapped, "T3's eigenvalues turned by", r"wrapped to \[0, π\]"),
        (complex_distance, "T1's eigenvalues scaled by 1.2", "compare the angles only"),
        (uncounted, "T2.s eigenvalues with one of them", "not defined here .* return None"),
    ],
)
def test_each_slip_fails_naming_the_case_and_the_slip(function, case, hint):
    with pytest.raises(check.CheckFailed, match=f"spectral_error: on {case}.*{hint}"):
        check.spectral_error(function)


def test_an_undefined_error_must_not_be_a_number_and_a_defined_one_must():
    with pytest.raises(check.CheckFailed, match="the error is defined"):
        check.spectral_error(lambda lam, task: None)

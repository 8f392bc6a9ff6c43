"""The checker of the implement-it exercise of the chapter "The General Sequential Episodic Memory
Model": one Euler step. A right solution passes; wrong ones fail naming the case and the
population that differs."""

import numpy as np
import pytest

from emtlib import check


def right_step(model, V_f, V_h, V_d, dt):
    sq = np.sqrt(model.a_s)
    dV_f = (sq * model.Xi @ model.sigma_h(V_h) - V_f) / model.T_f
    dV_h = (sq * model.Xi.T @ np.tanh(V_f) + model.a_c * model.Phi.T @ model.Xi.T @ V_d - V_h) / (
        model.T_h
    )
    dV_d = (np.tanh(V_f) - V_d) / model.T_d
    return V_f + dt * dV_f, V_h + dt * dV_h, V_d + dt * dV_d


def test_a_right_step_passes(capsys):
    check.gsemm_euler_step(right_step)
    assert "all 3 cases agree" in capsys.readouterr().out


def test_a_step_that_uses_Phi_instead_of_its_transpose_fails_on_V_h():
    def wrong(model, V_f, V_h, V_d, dt):
        V_f1, _, V_d1 = right_step(model, V_f, V_h, V_d, dt)
        sq = np.sqrt(model.a_s)
        drive = sq * model.Xi.T @ np.tanh(V_f) + model.a_c * model.Phi @ model.Xi.T @ V_d
        return V_f1, V_h + dt * (drive - V_h) / model.T_h, V_d1

    with pytest.raises(check.CheckFailed, match=r"softmax model.*V_h: values differ.*Phi\^T"):
        check.gsemm_euler_step(wrong)


def test_a_step_with_a_s_for_its_square_root_fails_on_V_f():
    def wrong(model, V_f, V_h, V_d, dt):
        V_f1, V_h1, V_d1 = right_step(model, V_f, V_h, V_d, dt)
        V_f1 = V_f + dt * (model.a_s * model.Xi @ model.sigma_h(V_h) - V_f) / model.T_f
        return V_f1, V_h1, V_d1

    with pytest.raises(check.CheckFailed, match=r"softmax model.*V_f: values differ.*sqrt\(a_s\)"):
        check.gsemm_euler_step(wrong)


def test_returning_only_the_features_is_named():
    with pytest.raises(check.CheckFailed, match=r"return the triple \(V_f, V_h, V_d\)"):
        check.gsemm_euler_step(
            lambda model, V_f, V_h, V_d, dt: right_step(model, V_f, V_h, V_d, dt)[0]
        )

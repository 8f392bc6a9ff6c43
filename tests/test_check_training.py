"""The implement-it checker of chapter "Training RNNs on variable binding":
:func:`emtlib.check.chunked_accuracy` passes a correct solution and fails the usual slips with a
message that names the case and the slip."""

import pytest
import torch

from emtlib import check


def correct(model, inputs, targets, s, chunk):
    h, correct_signs, total = None, 0, 0
    with torch.no_grad():
        for t0 in range(0, inputs.shape[0], chunk):
            states, h = model.rnn(inputs[t0 : t0 + chunk], h)
            out = model.readout(states)
            k = max(s - t0, 0)
            z = targets[t0 + k : t0 + out.shape[0]]
            correct_signs += int((torch.sign(out[k:]) == z).sum())
            total += z.numel()
    return correct_signs / total


def whole_sequence(model, inputs, targets, s, chunk):
    with torch.no_grad():
        out = model.readout(model.rnn(inputs)[0])
    return float((torch.sign(out[s:]) == targets[s:]).float().mean())


def no_carry(model, inputs, targets, s, chunk):
    correct_signs = total = 0
    with torch.no_grad():
        for t0 in range(0, inputs.shape[0], chunk):
            out = model.readout(model.rnn(inputs[t0 : t0 + chunk])[0])
            k = max(s - t0, 0)
            z = targets[t0 + k : t0 + out.shape[0]]
            correct_signs += int((torch.sign(out[k:]) == z).sum())
            total += z.numel()
    return correct_signs / total


def with_input_phase(model, inputs, targets, s, chunk):
    h, correct_signs, total = None, 0, 0
    with torch.no_grad():
        for t0 in range(0, inputs.shape[0], chunk):
            states, h = model.rnn(inputs[t0 : t0 + chunk], h)
            z = targets[t0 : t0 + states.shape[0]]
            correct_signs += int((torch.sign(model.readout(states)) == z).sum())
            total += z.numel()
    return correct_signs / total


def test_correct_solution_passes(capsys):
    check.chunked_accuracy(correct)
    assert "all 5 cases agree" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, words",
    [
        (whole_sequence, "time steps at once"),
        (no_carry, "carry the hidden state"),
        (with_input_phase, "count the output phase only"),
    ],
)
def test_wrong_solutions_fail_with_a_hint(wrong, words):
    with pytest.raises(check.CheckFailed, match=words) as failure:
        check.chunked_accuracy(wrong)
    assert "on a random 32-unit network" in str(failure.value)


def test_an_error_inside_the_function_is_reported():
    def broken(model, inputs, targets, s, chunk):
        raise RuntimeError("not written yet")

    with pytest.raises(check.CheckFailed, match="raised RuntimeError: not written yet"):
        check.chunked_accuracy(broken)


def test_not_a_function_is_a_type_error():
    with pytest.raises(TypeError, match="pass your function"):
        check.chunked_accuracy(0.5)

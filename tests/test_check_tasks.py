"""The implement-it checker of chapter "Variable binding tasks" (emtlib.check.decode_task_id): a
right decoder passes; wrong ones fail with a message naming the case, the values and the rule."""

import pytest

from emtlib import check


def decode(s, d, task_id):
    """A reader's correct decoder, written from the chapter's description."""
    t1, t2, t3 = task_id
    choice = [r for r in range(s * d) if (t1 >> r) & 1]
    for i in range(d):
        digit = (t2 // d**i) % d
        choice[i], choice[i + digit] = choice[i + digit], choice[i]
    return choice, [-1 if (t3 >> j) & 1 else 1 for j in range(d)]


def test_a_right_decoder_passes(capsys):
    check.decode_task_id(decode)
    assert "decode_task_id: all 9 cases agree" in capsys.readouterr().out


def test_ignoring_t2_is_named():
    def no_swaps(s, d, task_id):
        choice, signs = decode(s, d, task_id)
        return sorted(choice), signs

    with pytest.raises(check.CheckFailed) as err:
        check.decode_task_id(no_swaps)
    message = str(err.value)
    assert "on the chapter's example s=3, d=4, id (2130, 18, 5)" in message
    assert "choice should be [6, 4, 11, 1], got [1, 4, 6, 11]" in message
    assert "apply the swaps of t2" in message


def test_swapping_in_the_wrong_order_is_named():
    def most_significant_first(s, d, task_id):
        t1, t2, _ = task_id
        choice = [r for r in range(s * d) if (t1 >> r) & 1]
        digits = [(t2 // d**i) % d for i in range(d)][::-1]
        for i, digit in enumerate(digits):
            if i + digit < d:
                choice[i], choice[i + digit] = choice[i + digit], choice[i]
        return choice, decode(s, d, task_id)[1]

    with pytest.raises(check.CheckFailed, match="least significant first"):
        check.decode_task_id(most_significant_first)


def test_reversed_sign_bits_are_named():
    def reversed_bits(s, d, task_id):
        choice, signs = decode(s, d, task_id)
        return choice, signs[::-1]

    with pytest.raises(check.CheckFailed, match="signs should be .* counts from the least"):
        check.decode_task_id(reversed_bits)


def test_a_decoder_that_returns_one_thing_is_told_what_to_return():
    with pytest.raises(check.CheckFailed, match=r"return a pair \(choice, signs\)"):
        check.decode_task_id(lambda s, d, task_id: decode(s, d, task_id)[0])

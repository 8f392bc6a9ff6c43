"""Shared pytest set-up.

Training tests run torch on one thread, set once for the whole session: changing torch's thread
count back and forth inside one process made later training runs on this 2-core machine many
times slower, and one thread also makes the numbers independent of the machine's core count.
"""

import numpy as np
import pytest
import torch

from emtlib.circuit import build_circuit
from emtlib.rnn import ElmanRNN
from emtlib.tasks import PAPER_TASKS, Task

torch.set_num_threads(1)


@pytest.fixture
def circuit_elman():
    """``(task, circuit, rnn)``: an :class:`~emtlib.rnn.ElmanRNN` carrying the saturating circuit's weights
    for the 2-slot repeat copy, so tests can run the basis code through a real RNN's step."""
    task = Task(2, 2, (0b11, 0, 0))
    c = build_circuit(task, nonlinear=True)
    rnn = ElmanRNN(2, 4, seed=0)
    with torch.no_grad():
        rnn.rnn.weight_hh_l0.copy_(torch.tensor(c.W_hh))
        rnn.rnn.weight_ih_l0.copy_(torch.tensor(c.W_uh))
        rnn.readout.weight.copy_(torch.tensor(c.W_r))
    return task, c, rnn


def circuit_rnn(task, hidden=None, seed=0):
    """An :class:`~emtlib.rnn.ElmanRNN` of ``hidden`` units (default ``s*d``) running ``task``'s
    saturating circuit: its neurons shuffled and sign-flipped among ``hidden`` (a change of basis
    that commutes with tanh).  It solves the task exactly, like a well-trained network."""
    c = build_circuit(task, nonlinear=True)
    hidden = task.n if hidden is None else hidden
    rng = np.random.default_rng(seed)
    Q = np.eye(hidden)[:, rng.permutation(hidden)[: task.n]] * rng.choice([-1.0, 1.0], task.n)
    rnn = ElmanRNN(task.d, hidden, seed=seed)
    with torch.no_grad():
        rnn.rnn.weight_hh_l0.copy_(torch.tensor(Q @ c.W_hh @ Q.T))
        rnn.rnn.weight_ih_l0.copy_(torch.tensor(Q @ c.W_uh))
        rnn.readout.weight.copy_(torch.tensor(c.W_r @ Q.T))
    return rnn


@pytest.fixture(scope="session")
def t2_model():
    """``(model, task)``: T2's saturating circuit in an 80-unit ElmanRNN (see :func:`circuit_rnn`)."""
    task = PAPER_TASKS["T2"]
    return circuit_rnn(task, 80), task

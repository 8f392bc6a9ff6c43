"""Shared pytest set-up.

Training tests run torch on one thread, set once for the whole session: changing torch's thread
count back and forth inside one process made later training runs on this 2-core machine many
times slower, and one thread also makes the numbers independent of the machine's core count.
"""

import pytest
import torch

from emtlib.circuit import build_circuit
from emtlib.rnn import ElmanRNN
from emtlib.tasks import Task

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

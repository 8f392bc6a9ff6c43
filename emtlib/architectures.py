"""Recurrent architectures beyond the bias-free Elman RNN (chapter "Beyond the Elman RNN").

Each model has the interface of :class:`~emtlib.rnn.ElmanRNN` (it is a
:class:`~emtlib.rnn.RecurrentModel`): a fused torch module ``model.rnn`` for training, a
step-by-step :meth:`~emtlib.rnn.RecurrentModel.step` sharing its weights,
:meth:`~emtlib.rnn.RecurrentModel.hidden_states`, :meth:`~emtlib.rnn.RecurrentModel.run`, the
bias-free readout ``W_r``, and :func:`~emtlib.rnn.save_weights` / :func:`~emtlib.rnn.load_weights`.  The
equations are torch's, with ``σ`` the logistic function and ``⊙`` the elementwise product:

* :class:`ElmanBiasRNN`: ``h' = tanh(W_hh h + W_uh u + b)``; the origin is no longer a fixed
  point of the autonomous update;
* :class:`GRU`: reset ``r``, update ``z``, candidate ``g = tanh(W_ig u + b_ig + r ⊙ (W_hg h +
  b_hg))``, ``h' = (1 - z) ⊙ g + z ⊙ h``;
* :class:`LSTM`: gates ``i, f, o``, candidate ``g``, ``c' = f ⊙ c + i ⊙ g``, ``h' = o ⊙ tanh(c')``;
  its state is the pair ``(h, c)``, stacked as one vector ``[h, c]`` on the step path.

:data:`MODELS` maps the names a :class:`~emtlib.lab.spec.RunSpec` accepts to the classes, and
:func:`build_model` makes one by name.  This module imports :mod:`emtlib.rnn` and
:mod:`emtlib._checks`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._checks import choice
from .rnn import ElmanRNN, RecurrentModel

__all__ = ["GRU", "LSTM", "MODELS", "ElmanBiasRNN", "build_model", "model_name"]


def _gates(x: torch.Tensor, k: int) -> tuple[torch.Tensor, ...]:
    """``x (batch, k*n)`` cut into ``k`` blocks of ``n`` columns (torch stacks gates that way)."""
    return x.chunk(k, dim=-1)


class ElmanBiasRNN(RecurrentModel):
    """Tanh Elman RNN with biases, ``h' = tanh(W_hh h + W_uh u + b)``, and a bias-free readout.

    ``b`` is the sum of torch's two biases ``bias_ih_l0 + bias_hh_l0``.  Same arguments as
    :class:`~emtlib.rnn.ElmanRNN` (chapter "Beyond the Elman RNN").
    """

    @staticmethod
    def _fused(d_in: int, hidden: int) -> nn.Module:
        return nn.RNN(d_in, hidden, nonlinearity="tanh", bias=True)

    # the same torch module as ElmanRNN's, plus biases: the same weight views
    W_hh = ElmanRNN.W_hh
    W_uh = ElmanRNN.W_uh

    @property
    def b(self) -> np.ndarray:
        """The bias ``(n,)``, ``bias_ih_l0 + bias_hh_l0``, as a numpy copy."""
        bias = self.rnn.bias_ih_l0 + self.rnn.bias_hh_l0
        return bias.detach().cpu().double().numpy().copy()

    def step(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One step ``h' = tanh(W_hh h + W_uh u + b)`` for ``h (batch, n)``, ``u (batch, d_in)``."""
        rnn = self.rnn
        pre = h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0 + u @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
        return torch.tanh(pre)


class GRU(RecurrentModel):
    """Gated recurrent unit (torch's ``nn.GRU``, with biases) and a bias-free readout.

    Same arguments as :class:`~emtlib.rnn.ElmanRNN`; the state is ``h`` (chapter "Beyond the
    Elman RNN").
    """

    @staticmethod
    def _fused(d_in: int, hidden: int) -> nn.Module:
        return nn.GRU(d_in, hidden)

    def step(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One GRU step for ``h (batch, n)``, ``u (batch, d_in)``: the next ``h``."""
        rnn = self.rnn
        in_r, in_z, in_g = _gates(u @ rnn.weight_ih_l0.T + rnn.bias_ih_l0, 3)
        rec_r, rec_z, rec_g = _gates(h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0, 3)
        r, z = torch.sigmoid(in_r + rec_r), torch.sigmoid(in_z + rec_z)
        g = torch.tanh(in_g + r * rec_g)
        return (1 - z) * g + z * h


class LSTM(RecurrentModel):
    """Long short-term memory (torch's ``nn.LSTM``, with biases) and a bias-free readout of ``h``.

    Same arguments as :class:`~emtlib.rnn.ElmanRNN`.  The step path advances the joint state
    ``[h, c]`` of ``2 n`` numbers (``state_size``); the fused path carries torch's pair ``(h, c)``
    (chapter "Beyond the Elman RNN").
    """

    state_factor = 2

    @staticmethod
    def _fused(d_in: int, hidden: int) -> nn.Module:
        return nn.LSTM(d_in, hidden)

    def step(self, state: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One LSTM step for ``state = [h, c] (batch, 2n)``, ``u (batch, d_in)``: the next
        ``[h, c]``."""
        rnn = self.rnn
        h, c = state[:, : self.hidden], state[:, self.hidden :]
        pre = u @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
        i, f, g, o = _gates(pre, 4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)


#: The architectures by the name a :class:`~emtlib.lab.spec.RunSpec` gives them.
MODELS: dict[str, type[RecurrentModel]] = {
    "elman": ElmanRNN,
    "elman-bias": ElmanBiasRNN,
    "gru": GRU,
    "lstm": LSTM,
}


def build_model(
    name: str, d_in: int, hidden: int, d_out: int | None = None, seed: int = 0
) -> RecurrentModel:
    """A freshly initialised model of the architecture ``name`` (a key of :data:`MODELS`)."""
    return MODELS[choice(name, "model", tuple(MODELS))](d_in, hidden, d_out, seed=seed)


def model_name(model) -> str:
    """The name in :data:`MODELS` of ``model``'s architecture (a TypeError for anything else)."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise TypeError(
        f"model must be one of the architectures {list(MODELS)}, got {type(model).__name__}"
    )

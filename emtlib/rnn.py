"""The Elman RNN the book trains and dissects (chapter "Training RNNs on variable binding").

``h(t) = tanh(W_hh h(t-1) + W_uh u(t))``, ``y(t) = W_r h(t)``, ``h(-1) = 0``, no biases anywhere,
as in the paper's protocol.  :class:`RecurrentModel` holds what it shares with the other
architectures of :mod:`emtlib.architectures` (chapter "Beyond the Elman RNN").  Two paths share
the same weights:

* :meth:`RecurrentModel.forward` uses the fused ``torch.nn.RNN`` kernel, fast for training;
* :meth:`ElmanRNN.step` advances one step at a time, so a caller can read or overwrite the hidden
  state between steps (chapters on the privileged basis and interventions).

:func:`save_weights` writes a model's state dict atomically and :func:`load_weights` reads it back
(the sizes come from the weights' shapes).  What a model was trained on and how well it does is
kept beside it by :mod:`emtlib.lab`.  This module imports only :mod:`emtlib._checks`.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._checks import integer

__all__ = ["ElmanRNN", "RecurrentModel", "atomic_write_bytes", "load_weights", "save_weights"]


class RecurrentModel(nn.Module):
    """What every recurrent model of emtlib shares (chapter "Training RNNs on variable binding").

    A subclass names its fused torch module (``_fused``) and writes its one-step update
    (:meth:`step`); this class gives the seeded initialisation, the bias-free linear readout, the
    fused :meth:`forward`, the step-by-step path and the numpy/torch conveniences
    :meth:`hidden_states` and :meth:`run`.  ``self.rnn`` is the fused module (``torch.nn.RNN``,
    ``GRU`` or ``LSTM``), called as ``states, last = model.rnn(inputs, last)``; ``self.readout``
    maps a hidden state to the outputs.

    The *state* the step path advances is a vector of :attr:`state_size` numbers per sequence:
    the hidden state ``h`` (``hidden`` numbers), followed, for models with a second state such as
    the LSTM's cell, by that state.  The readout reads ``h``, the first ``hidden`` numbers.
    """

    #: How many numbers of state each hidden unit carries (2 for the LSTM, ``h`` and the cell ``c``).
    state_factor = 1

    def __init__(self, d_in: int, hidden: int, d_out: int | None = None, seed: int = 0):
        super().__init__()
        d_in, hidden = integer(d_in, "d_in", 1), integer(hidden, "hidden", 1)
        d_out = d_in if d_out is None else integer(d_out, "d_out", 1)
        seed = integer(seed, "seed", 0, 2**63 - 1)
        # Seeded initialisation that leaves every global generator (CPU and CUDA) as it was:
        # the modules draw their default init from the CPU generator, which is restored, and
        # are then re-initialised from a private generator with torch's default scheme
        # (uniform(-1/sqrt(fan), 1/sqrt(fan)); same numbers as torch.manual_seed(seed)).
        with torch.random.fork_rng(devices=[]):
            self.rnn = self._fused(d_in, hidden)
            self.readout = nn.Linear(hidden, d_out, bias=False)
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            bound = 1.0 / math.sqrt(hidden)
            for weight in self.rnn.parameters():  # in registration order: weight_ih_l0, ...
                nn.init.uniform_(weight, -bound, bound, generator=generator)
            nn.init.kaiming_uniform_(self.readout.weight, a=math.sqrt(5), generator=generator)
        self.d_in, self.hidden, self.d_out = d_in, hidden, d_out

    @staticmethod
    def _fused(d_in: int, hidden: int) -> nn.Module:
        """The fused torch module of this architecture."""
        raise NotImplementedError

    @property
    def state_size(self) -> int:
        """Numbers in the state the step path advances (``state_factor * hidden``)."""
        return self.state_factor * self.hidden

    @property
    def W_r(self) -> np.ndarray:
        """Readout weights ``(d_out, n)`` as a numpy copy."""
        return self.readout.weight.detach().cpu().double().numpy().copy()

    # -- the fused path ------------------------------------------------------------------------------
    def _check_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs must be a torch tensor, got {type(inputs).__name__}")
        if inputs.ndim != 3 or inputs.shape[-1] != self.d_in:
            raise ValueError(
                f"inputs must have shape (T, batch, {self.d_in}), got {tuple(inputs.shape)}"
            )
        weight = self.readout.weight
        return inputs.to(device=weight.device, dtype=weight.dtype)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Outputs ``(T, batch, d_out)`` for inputs ``(T, batch, d_in)`` (fused kernel)."""
        states, _ = self.rnn(self._check_inputs(inputs))
        return self.readout(states)

    # -- the step-by-step path -------------------------------------------------------------------
    def step(self, state: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One step of the update: the next state ``(batch, state_size)`` for ``state (batch,
        state_size)`` and input ``u (batch, d_in)``."""
        raise NotImplementedError

    def _as_batched(self, inputs):
        """Inputs ``(T, d_in)`` or ``(T, batch, d_in)``, numpy or torch, as a torch batch, plus a
        function that gives results back in the caller's type and shape."""
        is_numpy = isinstance(inputs, np.ndarray)
        if not (is_numpy or isinstance(inputs, torch.Tensor)):
            raise TypeError(
                f"inputs must be a numpy array or torch tensor, got {type(inputs).__name__}"
            )
        if inputs.ndim not in (2, 3) or inputs.shape[-1] != self.d_in:
            raise ValueError(
                f"inputs must have shape (T, {self.d_in}) or (T, batch, {self.d_in}), "
                f"got {tuple(inputs.shape)}"
            )
        if is_numpy and (inputs.dtype == bool or not np.issubdtype(inputs.dtype, np.number)):
            raise TypeError(f"inputs must hold real numbers, got dtype {inputs.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)) if is_numpy else inputs
        squeeze = x.ndim == 2
        x = x[:, None, :] if squeeze else x

        def back(out: torch.Tensor):
            out = out[:, 0] if squeeze else out
            return out.detach().cpu().numpy().astype(float) if is_numpy else out

        return x, back

    def hidden_states(self, inputs, stepwise: bool = False):
        """Hidden states ``(T, batch, n)`` for inputs ``(T, batch, d_in)`` (or ``(T, n)`` for
        ``(T, d_in)``); numpy in, numpy out; torch in, torch out.

        ``stepwise=True`` runs the explicit loop of :meth:`step` from the zero state instead of
        the fused kernel; both agree to float32 rounding.  Only ``h`` is returned, not an LSTM's
        cell state.
        """
        x, back = self._as_batched(inputs)
        x = self._check_inputs(x)
        with torch.no_grad():
            if stepwise:
                state = x.new_zeros(x.shape[1], self.state_size)
                states = []
                for u in x:
                    state = self.step(state, u)
                    states.append(state[:, : self.hidden])
                out = torch.stack(states)
            else:
                out, _ = self.rnn(x)
        return back(out)

    def run(self, inputs):
        """Outputs for inputs ``(T, d_in)`` or ``(T, batch, d_in)``; numpy or torch, same type."""
        x, back = self._as_batched(inputs)
        with torch.no_grad():
            y = self.forward(x)
        return back(y)


class ElmanRNN(RecurrentModel):
    """Bias-free tanh Elman RNN with a bias-free linear readout (chapter "Training RNNs").

    ``d_in`` inputs, ``hidden`` recurrent units, ``d_out`` outputs (default ``d_in``).  The
    initial weights depend only on ``seed``.
    """

    @staticmethod
    def _fused(d_in: int, hidden: int) -> nn.Module:
        return nn.RNN(d_in, hidden, nonlinearity="tanh", bias=False)

    # -- weights as numpy (read-only copies) -------------------------------------------------------
    @property
    def W_hh(self) -> np.ndarray:
        """Recurrent weights ``(n, n)`` as a numpy copy."""
        return self.rnn.weight_hh_l0.detach().cpu().double().numpy().copy()

    @property
    def W_uh(self) -> np.ndarray:
        """Input weights ``(n, d_in)`` as a numpy copy."""
        return self.rnn.weight_ih_l0.detach().cpu().double().numpy().copy()

    def step(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One step ``h' = tanh(W_hh h + W_uh u)`` for ``h (batch, n)``, ``u (batch, d_in)``."""
        return torch.tanh(h @ self.rnn.weight_hh_l0.T + u @ self.rnn.weight_ih_l0.T)


# -- saving and loading ------------------------------------------------------------------------------
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader never sees
    a half-written file (used by every emtlib writer)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the result should be an ordinary readable file
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_weights(model: RecurrentModel, path: str | os.PathLike) -> Path:
    """Write the state dict of ``model`` (any :class:`RecurrentModel`) to ``path`` (a ``.pt``
    file) atomically; returns the path."""
    if not isinstance(model, RecurrentModel):
        raise TypeError(
            f"model must be an ElmanRNN or another RecurrentModel, got {type(model).__name__}"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def load_weights(path: str | os.PathLike, model_class: type = ElmanRNN) -> RecurrentModel:
    """The model whose state dict :func:`save_weights` wrote to ``path``, on the CPU.

    ``model_class`` is the architecture the file holds (:class:`ElmanRNN` by default; the others
    are in :data:`emtlib.architectures.MODELS`).  The sizes come from the shapes of the weights; a
    file that holds anything else is a ValueError naming it.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not (isinstance(model_class, type) and issubclass(model_class, RecurrentModel)):
        raise TypeError(f"model_class must be a RecurrentModel subclass, got {model_class!r}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"weights file {path} is missing")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise ValueError(f"{path} is not a weights file written by save_weights: {err}") from None
    shapes = {k: tuple(v.shape) for k, v in state.items()} if isinstance(state, dict) else {}
    name = model_class.__name__
    name = f"{'an' if name[0] in 'AEFHILMNORSX' else 'a'} {name}"  # an ElmanRNN, a GRU, an LSTM
    sizes = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight")
    if any(len(shapes.get(k, ())) != 2 for k in sizes):
        raise ValueError(f"{path} does not hold the weights of {name} (keys {sorted(shapes)})")
    hidden, d_in = shapes["rnn.weight_hh_l0"][1], shapes["rnn.weight_ih_l0"][1]
    model = model_class(d_in, hidden, shapes["readout.weight"][0])
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    recurrent = "rnn.weight_hh_l0"  # its rows tell the architectures apart (n, 3n gates, 4n)
    if sorted(shapes) != sorted(expected) or shapes[recurrent] != expected[recurrent]:
        raise ValueError(f"{path} does not hold the weights of {name} (shapes {shapes})")
    if shapes != expected:
        raise ValueError(f"{path} holds weights of inconsistent shapes {shapes}")
    model.load_state_dict(state)
    return model

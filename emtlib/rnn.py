"""The Elman RNN the book trains and dissects (chapter "Training RNNs on variable binding").

``h(t) = tanh(W_hh h(t-1) + W_uh u(t))``, ``y(t) = W_r h(t)``, ``h(-1) = 0``, no biases anywhere,
as in the paper's protocol.  Two paths share the same weights:

* :meth:`ElmanRNN.forward` uses the fused ``torch.nn.RNN`` kernel, fast for training;
* :meth:`ElmanRNN.step` advances one step at a time, so a caller can read or overwrite the hidden
  state between steps (chapters on the privileged basis and interventions).

Models are saved as two files side by side: ``NAME.pt`` (the state dict) and ``NAME.json``
(metadata: task id, sizes, seed, hyper-parameters, steps, wall time, accuracy), written atomically.
This module imports no other emtlib module.
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["ElmanRNN", "atomic_write_bytes", "load_model", "save_model"]


class ElmanRNN(nn.Module):
    """Bias-free tanh Elman RNN with a bias-free linear readout (chapter "Training RNNs").

    ``d_in`` inputs, ``hidden`` recurrent units, ``d_out`` outputs (default ``d_in``).  The
    initial weights depend only on ``seed``.
    """

    def __init__(self, d_in: int, hidden: int, d_out: int | None = None, seed: int = 0):
        super().__init__()
        d_in, hidden = _positive_int(d_in, "d_in"), _positive_int(hidden, "hidden")
        d_out = d_in if d_out is None else _positive_int(d_out, "d_out")
        if (
            isinstance(seed, bool)
            or not isinstance(seed, numbers.Integral)
            or not 0 <= seed < 2**63
        ):
            raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        # Seeded initialisation that leaves every global generator (CPU and CUDA) as it was:
        # the modules draw their default init from the CPU generator, which is restored, and
        # are then re-initialised from a private generator with torch's default scheme
        # (uniform(-1/sqrt(fan), 1/sqrt(fan)); same numbers as torch.manual_seed(seed)).
        with torch.random.fork_rng(devices=[]):
            self.rnn = nn.RNN(d_in, hidden, nonlinearity="tanh", bias=False)
            self.readout = nn.Linear(hidden, d_out, bias=False)
        generator = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            bound = 1.0 / math.sqrt(hidden)
            for weight in self.rnn.parameters():  # weight_ih_l0, then weight_hh_l0
                nn.init.uniform_(weight, -bound, bound, generator=generator)
            nn.init.kaiming_uniform_(self.readout.weight, a=math.sqrt(5), generator=generator)
        self.d_in, self.hidden, self.d_out = d_in, hidden, d_out

    # -- weights as numpy (read-only copies) -------------------------------------------------------
    @property
    def W_hh(self) -> np.ndarray:
        """Recurrent weights ``(n, n)`` as a numpy copy."""
        return self.rnn.weight_hh_l0.detach().cpu().double().numpy().copy()

    @property
    def W_uh(self) -> np.ndarray:
        """Input weights ``(n, d_in)`` as a numpy copy."""
        return self.rnn.weight_ih_l0.detach().cpu().double().numpy().copy()

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
    def step(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One step ``h' = tanh(W_hh h + W_uh u)`` for ``h (batch, n)``, ``u (batch, d_in)``."""
        return torch.tanh(h @ self.rnn.weight_hh_l0.T + u @ self.rnn.weight_ih_l0.T)

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
                f"inputs must have shape (T, {self.d_in}) or (T, batch, {self.d_in}), got {tuple(inputs.shape)}"
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

        ``stepwise=True`` runs the explicit loop of :meth:`step` instead of the fused kernel;
        both agree to float32 rounding.
        """
        x, back = self._as_batched(inputs)
        x = self._check_inputs(x)
        with torch.no_grad():
            if stepwise:
                h = x.new_zeros(x.shape[1], self.hidden)
                states = []
                for u in x:
                    h = self.step(h, u)
                    states.append(h)
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


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# -- saving and loading ------------------------------------------------------------------------------
_SIZE_KEYS = ("d_in", "hidden", "d_out")


def _base(path) -> Path:
    """``path`` without a ``.pt``/``.json`` suffix; other dots stay (``l2_0.001`` is kept whole)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".pt", ".json") else path


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


def save_model(
    model: ElmanRNN, path: str | os.PathLike, metadata: dict | None = None
) -> tuple[Path, Path]:
    """Save ``model`` as ``path.pt`` (weights) and ``path.json`` (sizes plus ``metadata``).

    A ``.pt`` or ``.json`` suffix on ``path`` is dropped; any other dot is part of the name.
    ``metadata`` is a dict of JSON values (NaN and inf are refused); it may repeat the sizes
    ``d_in``, ``hidden``, ``d_out`` only with the model's values.
    """
    if not isinstance(model, ElmanRNN):
        raise TypeError(f"model must be an ElmanRNN, got {type(model).__name__}")
    base = _base(path)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    sizes = {key: getattr(model, key) for key in _SIZE_KEYS}
    for key, value in sizes.items():
        if key in metadata and metadata[key] != value:
            raise ValueError(
                f"metadata[{key!r}] = {metadata[key]!r} contradicts the model's {key} = {value}"
            )
    meta = {**metadata, **sizes}
    try:
        meta_text = json.dumps(meta, indent=2, sort_keys=True, allow_nan=False)
    except TypeError as err:
        raise TypeError(f"metadata must be JSON-serialisable: {err}") from None
    except ValueError as err:
        raise ValueError(f"metadata must be JSON-serialisable without NaN or inf: {err}") from None
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    weights, meta_path = Path(f"{base}.pt"), Path(f"{base}.json")
    atomic_write_bytes(weights, buffer.getvalue())
    atomic_write_bytes(meta_path, (meta_text + "\n").encode())
    return weights, meta_path


def load_model(path: str | os.PathLike) -> tuple[ElmanRNN, dict]:
    """Load a model saved by :func:`save_model`; returns ``(model, metadata)``."""
    base = _base(path)
    weights, meta_path = Path(f"{base}.pt"), Path(f"{base}.json")
    for file in (weights, meta_path):
        if not file.is_file():
            raise FileNotFoundError(
                f"model file {file} is missing (save_model writes both .pt and .json)"
            )
    meta = json.loads(meta_path.read_text())
    missing = [key for key in _SIZE_KEYS if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise ValueError(
            f"{meta_path} lacks the model sizes {missing}; was it written by save_model?"
        )
    model = ElmanRNN(meta["d_in"], meta["hidden"], meta["d_out"])
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model, meta

"""The one pipeline from a :class:`~emtlib.lab.spec.RunSpec` to a trained model and its
:class:`~emtlib.lab.record.Record` (appendix "Running the experiments at scale").

:func:`run` trains with the spec's recipe (chapter "Training RNNs on variable binding"), measures
the sign accuracy at every horizon of :data:`~emtlib.lab.spec.EVALUATION`, compares the long-lived
spectrum of ``W_hh`` with Φ's (chapter "Universality") and keeps the whole spectrum.  For the other
architectures (chapter "Beyond the Elman RNN") the spectrum is that of the Jacobian of the
autonomous update at the fixed point found from the zero state (:func:`~emtlib.spectra.state_jacobian`).  The zoo, the
sweeps and the benchmarks all make their models through it.
"""

from __future__ import annotations

import numpy as np

from emtlib.rnn import ElmanRNN, RecurrentModel
from emtlib.spectra import spectral_error, state_jacobian
from emtlib.train import evaluate

from .recipes import train
from .record import Metrics, Record, current_versions
from .spec import RunSpec

__all__ = ["run"]


def _rounded(values: np.ndarray) -> tuple[complex, ...]:
    """Eigenvalues to 6 significant digits (what a record keeps)."""
    return tuple(complex(float(f"{v.real:.6g}"), float(f"{v.imag:.6g}")) for v in values)


def _linearized(model: RecurrentModel) -> np.ndarray:
    """The matrix whose spectrum a record keeps: ``W_hh`` for the bias-free Elman RNN (its
    Jacobian at the origin), else the Jacobian at the fixed point found from the zero state."""
    return model.W_hh if isinstance(model, ElmanRNN) else state_jacobian(model)


def run(
    spec: RunSpec, progress: bool = False, device: str = "cpu"
) -> tuple[RecurrentModel, Record]:
    """Train, evaluate and measure the run ``spec``; returns ``(model, record)``.

    The model comes back on the CPU with the record on ``.record``.  An exception in training
    propagates (a sweep records it as a failed run).  Same spec, device and machine: same weights
    and the same record apart from its time stamp and wall time.
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {type(spec).__name__}")
    seeds = spec.seeds()
    task = spec.task_object
    extra = {} if spec.stop_when_solved is None else {"stop_when_solved": spec.stop_when_solved}
    model = train(
        task,
        hidden=spec.hidden,
        seed=seeds.train,
        l2=spec.l2,
        recipe=spec.recipe,
        threshold=spec.threshold,
        max_steps=spec.max_steps,
        progress=progress,
        device=device,
        architecture=spec.model,
        **extra,
    )
    log = model.log
    accuracy = {
        horizon: evaluate(model, task, horizon, e.batches, seed=e.seed, batch_size=e.batch_size)
        for horizon, e in seeds.evaluation.items()
    }
    linear = _linearized(model)
    comparison = spectral_error(linear, task)
    metrics = Metrics(
        accuracy=accuracy,
        spectral_error=comparison.error,
        n_long_lived_model=comparison.n_model,
        n_long_lived_ideal=comparison.n_ideal,
        steps=log.steps,
        solved_step=log.solved_step,
        wall_time_s=round(log.wall_time_s, 3),
        restarts=len(log.restarted_at),
        final_horizon_reached=log.final_horizon_reached,
    )
    record = Record(
        spec,
        metrics,
        _rounded(np.linalg.eigvals(linear)),
        current_versions(device),
    )
    model.record = record
    return model, record

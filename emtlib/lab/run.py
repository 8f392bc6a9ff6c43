"""The one pipeline from a :class:`~emtlib.lab.spec.RunSpec` to a trained model and its
:class:`~emtlib.lab.record.Record` (appendix "Running the experiments at scale").

:func:`run` trains with the spec's recipe (chapter "Training RNNs on variable binding"), measures
the sign accuracy at every horizon of :data:`~emtlib.lab.spec.EVALUATION`, compares the long-lived
spectrum of ``W_hh`` with Φ's (chapter "Universality") and keeps the whole spectrum.  For the other
architectures (chapter "Beyond the Elman RNN") the spectrum is that of the Jacobian of the
autonomous update at the fixed point found from the zero state
(:func:`~emtlib.spectra.linearised_maps`), and a spec may ask for an :func:`analyse` of the trained
network too.  The zoo, the sweeps and the benchmarks all make their models through it.
"""

from __future__ import annotations

import numpy as np

from emtlib.basis import decoding_accuracy, privileged_basis, probe_basis
from emtlib.circuit import long_lived_modes
from emtlib.interventions import intervention_trials
from emtlib.rnn import ElmanRNN, RecurrentModel
from emtlib.spectra import (
    LinearisedMaps,
    linearised_maps,
    slow_point,
    spectral_error,
    state_update,
)
from emtlib.tasks import Task
from emtlib.train import evaluate

from .recipes import train
from .record import FIXED_POINT_TOL, Analysis, Metrics, Record, current_versions
from .spec import EVALUATION, RunSpec

__all__ = ["analyse", "run"]


def _rounded(values: np.ndarray) -> tuple[complex, ...]:
    """Eigenvalues to 6 significant digits (what a record keeps)."""
    return tuple(complex(float(f"{v.real:.6g}"), float(f"{v.imag:.6g}")) for v in values)


def _linearized(model: RecurrentModel, slow: bool = False) -> LinearisedMaps:
    """The maps whose recurrent part's spectrum a record keeps: ``W_hh`` (and ``W_uh``, ``W_r``)
    for the bias-free Elman RNN, its linearisation at the origin; for the other architectures the
    update linearised at the fixed point found from the zero state (with random restarts should
    Newton stall there, :func:`~emtlib.spectra.linearised_maps`).  With ``slow``, a network whose
    fixed point is not found is linearised at the slowest point found instead
    (:func:`~emtlib.spectra.slow_point`); its :class:`~emtlib.lab.record.Analysis` records the
    residual there."""
    if isinstance(model, ElmanRNN):
        return LinearisedMaps(model.W_hh, model.W_uh, model.W_r, np.zeros(model.hidden))
    if not slow:
        return linearised_maps(model)
    # one search: its first fixed point, or where none is found its slowest point
    return linearised_maps(model, state=slow_point(model, restarts=10)[0])


#: What an analysis measures on: the paper's test horizon, 4 batches of 64 for decoding, and 256
#: edits judged over 100 steps (chapters "The privileged basis and hidden neurons" and
#: "Interventions").
ANALYSIS_DECODING = {"horizon": 200, "batches": 4, "batch": 64}
ANALYSIS_EDITS = {"edits": 256, "window": 100, "latest": 100}


def analyse(model: RecurrentModel, task: Task, maps: LinearisedMaps) -> Analysis:
    """The :class:`~emtlib.lab.record.Analysis` of a trained ``model`` on ``task``, linearised as
    ``maps`` (chapter "Beyond the Elman RNN").

    It measures how far the fixed point sits from the origin, how well the weight-only (observer)
    basis and a probe basis fitted to read (``estimator="dual"``) decode what the network stores,
    and how often an edit through the observer basis and through a probe basis fitted to write
    (``estimator="basis"``, as chapter "Interventions" does) is followed as the task predicts.
    The test sequences come from the seeds of :data:`~emtlib.lab.spec.EVALUATION` (the same for
    every network)."""
    offset = float(np.abs(maps.fixed_point[: model.hidden]).max())
    residual = float(np.abs(state_update(model, maps.fixed_point) - maps.fixed_point).max())
    residual = None if residual <= FIXED_POINT_TOL else residual  # a fixed point: None
    modes = long_lived_modes(task)
    if model.state_size < modes:
        return Analysis(
            offset,
            fixed_point_residual=residual,
            note=f"a state of {model.state_size} numbers holds no basis of Φ's {modes} "
            "long-lived modes",
        )
    seed = EVALUATION[200].seed
    observer = privileged_basis(model, task, grounding="observer", maps=maps)
    # fitted on other sequences: the dual that reads best, the basis that writes best
    probe = probe_basis(model, task, seed=seed + 1, maps=maps)
    writer = probe_basis(model, task, seed=seed + 1, estimator="basis", maps=maps)
    decoded = [
        decoding_accuracy(model, task, basis, seed=seed, **ANALYSIS_DECODING)
        for basis in (observer, probe)
    ]
    empty = sorted(set(range(task.s)) - set(observer.coords[:, 0].tolist()))
    if empty:  # an edit picks a slot at random: every slot must hold a long-lived coordinate
        return Analysis(
            offset,
            *decoded,
            fixed_point_residual=residual,
            note=f"slots {empty} hold none of Φ's long-lived modes: no edits are judged",
        )
    trials = intervention_trials(model, task, observer, seed=seed, **ANALYSIS_EDITS)
    probe_trials = intervention_trials(model, task, writer, seed=seed, **ANALYSIS_EDITS)
    return Analysis(
        offset,
        *decoded,
        trials.rate,
        probe_trials.rate,
        trials.baseline_rate,
        fixed_point_residual=residual,
    )


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
    maps = _linearized(model, slow=spec.analysis)
    comparison = spectral_error(maps.J, task)
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
        analysis=analyse(model, task, maps) if spec.analysis else None,
    )
    record = Record(
        spec,
        metrics,
        _rounded(np.linalg.eigvals(maps.J)),
        current_versions(device),
    )
    model.record = record
    return model, record

"""What one run produced: :class:`Record` and its typed :class:`Metrics` (appendix "Running the
experiments at scale"; the metrics are explained in chapters "Training RNNs on variable binding" and
"Universality").

A record is frozen and validated when it is made, so an impossible value (an accuracy of 1.7, a
negative step count, a spectral error where the spectra were not compared) never reaches a table.
It is written as JSON with a schema version; :meth:`Record.from_json` reads that schema and refuses
an unknown or newer one with a :class:`RecordError` that says so.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch

import emtlib
from emtlib._checks import boolean, integer, real
from emtlib.architectures import MODELS

from .spec import RunSpec

__all__ = ["SCHEMA_VERSION", "Analysis", "Metrics", "Record", "RecordError", "current_versions"]

#: The version of the record format this emtlib writes and reads.
SCHEMA_VERSION = 1

#: The residual ``max |F(x, 0) - x|`` up to which a state counts as a fixed point (the default
#: tolerance of :func:`emtlib.spectra.fixed_point`).
FIXED_POINT_TOL = 1e-10


class RecordError(ValueError):
    """A record that cannot be read: not JSON of a record, an unknown or newer schema, or values
    that no run can produce.  The message names the file when the record came from one."""


class _Frozen(Mapping):
    """A read-only mapping (picklable, comparable, hashable)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and dict(self._data) == dict(other)

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self):
        return (type(self), (self._data,))


def _optional_int(value, name: str, minimum: int = 0) -> int | None:
    return None if value is None else integer(value, name, minimum)


def _exact_keys(data, cls, what: str, optional=()) -> None:
    """Refuse JSON ``data`` that is not an object with the fields of ``cls`` (``optional`` ones may
    be absent)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} must be a JSON object, got {type(data).__name__}")
    keys = set(cls.__dataclass_fields__)
    missing, unknown = keys - set(optional) - set(data), set(data) - keys
    if missing or unknown:
        raise ValueError(
            f"{what} must hold {sorted(keys)}; missing {sorted(missing)}, unknown {sorted(unknown)}"
        )


@dataclass(frozen=True)
class Analysis:
    """What a trained network's linearisation and states show beyond its accuracy (chapter
    "Beyond the Elman RNN"), measured when the spec asks for it (``RunSpec.analysis``).

    ``fixed_point_offset`` is ``max |h*|`` over the hidden state of the fixed point the spectrum is
    taken at (0 for the bias-free Elman RNN, whose fixed point is the origin).
    ``fixed_point_residual`` is ``None`` when that point is a fixed point (residual
    ``max |F(h*, 0) - h*|`` at most ``1e-10``, the tolerance of
    :func:`~emtlib.spectra.fixed_point`); where none was found, the slowest point found stands in
    (:func:`~emtlib.spectra.slow_point`) and this is its residual.  The rest needs a
    basis of Φ's long-lived modes, so a state of at least that many numbers; where there is none
    they are ``None`` and ``note`` says why.  ``observer_accuracy`` is the decoding accuracy of the
    weight-only privileged basis (observer grounding) at horizon 200, ``probe_accuracy`` that of
    the basis fitted to hidden states (the supervised reference; chapter "The privileged basis and
    hidden neurons"); ``intervention_rate`` the share of random edits through the observer basis
    that the network then follows as the task predicts, ``probe_intervention_rate`` the same
    through a probe basis fitted to write (``estimator="basis"``), and ``intervention_baseline``
    the share of the same sequences and steps the unedited network gets right (chapter
    "Interventions").
    """

    fixed_point_offset: float
    observer_accuracy: float | None = None
    probe_accuracy: float | None = None
    intervention_rate: float | None = None
    probe_intervention_rate: float | None = None
    intervention_baseline: float | None = None
    note: str | None = None
    fixed_point_residual: float | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "fixed_point_offset", real(self.fixed_point_offset, "fixed_point_offset", 0.0))
        if self.fixed_point_residual is not None:
            residual = real(self.fixed_point_residual, "fixed_point_residual", 0.0)
            if residual <= FIXED_POINT_TOL:
                raise ValueError(
                    f"fixed_point_residual {residual:g} is that of a fixed point: record None"
                )
            set_(self, "fixed_point_residual", residual)
        measured = (
            "observer_accuracy",
            "probe_accuracy",
            "intervention_rate",
            "probe_intervention_rate",
            "intervention_baseline",
        )
        for name in measured:
            value = getattr(self, name)
            if value is not None:
                set_(self, name, real(value, name, 0.0, 1.0))
        missing = [name for name in measured if getattr(self, name) is None]
        if missing and not self.note:
            raise ValueError(f"an analysis without {missing} must say why in its note")
        if self.note is not None and not isinstance(self.note, str):
            raise TypeError(f"note must be None or text, got {self.note!r}")

    def to_json(self) -> dict:
        """The analysis as JSON values; ``fixed_point_residual`` only where there is one."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if out["fixed_point_residual"] is None:
            del out["fixed_point_residual"]
        return out

    @classmethod
    def from_json(cls, data) -> Analysis:
        _exact_keys(data, cls, "analysis", optional=("fixed_point_residual",))
        return cls(**data)


@dataclass(frozen=True)
class Metrics:
    """The measurements of one finished run.

    ``accuracy`` maps a test horizon to the sign accuracy there (chapter "Training RNNs on variable
    binding"); ``spectral_error`` is the mean angle in radians between the long-lived eigenvalues of
    the model and of Φ (chapter "Universality"), ``None`` where nothing was compared (the counts
    ``n_long_lived_model`` and ``n_long_lived_ideal`` differ, or both are zero); ``steps`` the
    optimizer steps taken, ``solved_step`` the step at which the run was found solved (``None``:
    not checked or never), ``wall_time_s`` the training time, ``restarts`` how often training began
    again from a new initialisation, ``final_horizon_reached`` whether the curriculum got to its last
    horizon; ``analysis`` what its basis and interventions show (:class:`Analysis`), ``None`` when
    the spec did not ask for it.
    """

    accuracy: Mapping[int, float]
    spectral_error: float | None
    n_long_lived_model: int
    n_long_lived_ideal: int
    steps: int
    solved_step: int | None
    wall_time_s: float
    restarts: int = 0
    final_horizon_reached: bool = False
    analysis: Analysis | None = None

    def __post_init__(self):
        if self.analysis is not None and not isinstance(self.analysis, Analysis):
            raise TypeError(f"analysis must be an Analysis or None, got {self.analysis!r}")
        if not isinstance(self.accuracy, Mapping) or not self.accuracy:
            raise TypeError(
                f"accuracy must be a non-empty mapping horizon -> accuracy, got {self.accuracy!r}"
            )
        accuracy = {
            integer(h, "accuracy horizon", 1): real(a, f"accuracy[{h}]", 0.0, 1.0)
            for h, a in sorted(self.accuracy.items())
        }
        set_ = object.__setattr__
        set_(self, "accuracy", _Frozen(accuracy))
        set_(self, "n_long_lived_model", integer(self.n_long_lived_model, "n_long_lived_model"))
        set_(self, "n_long_lived_ideal", integer(self.n_long_lived_ideal, "n_long_lived_ideal"))
        compared = self.n_long_lived_model == self.n_long_lived_ideal > 0
        if self.spectral_error is None:
            if compared:
                raise ValueError(
                    f"spectral_error is missing although both sides have {self.n_long_lived_model} "
                    "long-lived modes"
                )
        else:
            if not compared:
                raise ValueError(
                    f"spectral_error must be None where nothing was compared (long-lived modes: "
                    f"model {self.n_long_lived_model}, Φ {self.n_long_lived_ideal}), "
                    f"got {self.spectral_error!r}"
                )
            set_(self, "spectral_error", real(self.spectral_error, "spectral_error", 0.0, math.pi))
        set_(self, "steps", integer(self.steps, "steps"))
        set_(self, "solved_step", _optional_int(self.solved_step, "solved_step"))
        if self.solved_step is not None and self.solved_step > self.steps:
            raise ValueError(f"solved_step {self.solved_step} is past the last step {self.steps}")
        set_(self, "wall_time_s", real(self.wall_time_s, "wall_time_s", 0.0))
        set_(self, "restarts", integer(self.restarts, "restarts"))
        set_(
            self,
            "final_horizon_reached",
            boolean(self.final_horizon_reached, "final_horizon_reached"),
        )

    @property
    def solved(self) -> bool:
        """Whether training stopped because the run was found solved."""
        return self.solved_step is not None

    def to_json(self) -> dict:
        """The metrics as JSON values; ``analysis`` only where there is one (so a record without
        it reads as it always did)."""
        out = {
            "accuracy": {str(h): a for h, a in self.accuracy.items()},
            "spectral_error": self.spectral_error,
            "n_long_lived_model": self.n_long_lived_model,
            "n_long_lived_ideal": self.n_long_lived_ideal,
            "steps": self.steps,
            "solved_step": self.solved_step,
            "wall_time_s": self.wall_time_s,
            "restarts": self.restarts,
            "final_horizon_reached": self.final_horizon_reached,
        }
        if self.analysis is not None:
            out["analysis"] = self.analysis.to_json()
        return out

    @classmethod
    def from_json(cls, data) -> Metrics:
        _exact_keys(data, cls, "metrics", optional=("analysis",))
        if data.get("analysis") is not None:
            data = {**data, "analysis": Analysis.from_json(data["analysis"])}
        accuracy = data["accuracy"]
        if not isinstance(accuracy, Mapping):
            raise TypeError(f"metrics 'accuracy' must map horizons to numbers, got {accuracy!r}")
        horizons = {}
        for key, value in accuracy.items():
            if not (isinstance(key, str) and key.isdigit()):
                raise ValueError(f"an accuracy horizon must be a positive integer, got {key!r}")
            horizons[int(key)] = value
        return cls(**{**data, "accuracy": horizons})


def current_versions(device: str = "cpu") -> dict[str, str]:
    """The versions and machine a run is made with, as a record keeps them."""
    return {
        "emtlib": emtlib.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "device": str(device),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Record:
    """What one run produced (appendix "Running the experiments at scale").

    ``spec`` is the :class:`~emtlib.lab.spec.RunSpec` that was run; ``metrics`` its :class:`Metrics`
    (``None`` when it failed); ``eigenvalues`` the whole spectrum of ``W_hh`` (complex, 6 significant
    digits), so spectra can be drawn without the weights (for the other architectures, of the
    Jacobian of the update at its fixed point: ``2 * hidden`` values for the LSTM); ``versions`` the library versions, machine
    and device; ``error`` what went wrong (``None`` when it succeeded); ``created`` when the record
    was made (UTC, ISO 8601).
    """

    spec: RunSpec
    metrics: Metrics | None = None
    eigenvalues: tuple[complex, ...] | None = None
    versions: Mapping[str, str] = _Frozen({})
    error: str | None = None
    created: str = ""

    def __post_init__(self):
        set_ = object.__setattr__
        if not isinstance(self.spec, RunSpec):
            raise TypeError(f"spec must be a RunSpec, got {type(self.spec).__name__}")
        if self.metrics is not None and not isinstance(self.metrics, Metrics):
            raise TypeError(f"metrics must be Metrics or None, got {type(self.metrics).__name__}")
        if self.error is not None and (not isinstance(self.error, str) or not self.error):
            raise TypeError(f"error must be None or a non-empty string, got {self.error!r}")
        if (self.metrics is None) == (self.error is None):
            raise ValueError(
                "a record holds either metrics (the run finished) or an error (it failed)"
            )
        if self.eigenvalues is not None:
            values = tuple(complex(v) for v in self.eigenvalues)
            count = self.spec.hidden * MODELS[self.spec.model].state_factor
            if len(values) != count:
                raise ValueError(
                    f"eigenvalues must list the {count} eigenvalues of "
                    f"{'W_hh' if self.spec.model == 'elman' else 'the linearized update'}, "
                    f"got {len(values)}"
                )
            if not all(math.isfinite(v.real) and math.isfinite(v.imag) for v in values):
                raise ValueError("eigenvalues must be finite")
            set_(self, "eigenvalues", values)
        if not isinstance(self.versions, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.versions.items()
        ):
            raise TypeError(f"versions must map names to version strings, got {self.versions!r}")
        set_(self, "versions", _Frozen(self.versions))
        created = self.created or _now()
        try:
            datetime.datetime.fromisoformat(created)
        except (TypeError, ValueError):
            raise ValueError(f"created must be an ISO 8601 time, got {created!r}") from None
        set_(self, "created", created)

    @classmethod
    def failure(cls, spec: RunSpec, error: BaseException | str, device: str = "cpu") -> Record:
        """The record of a run that raised ``error``."""
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return cls(spec, error=message or "failed", versions=current_versions(device))

    @property
    def run_id(self) -> str:
        """The run id of ``spec``."""
        return self.spec.run_id

    @property
    def ok(self) -> bool:
        """Whether the run finished (it has metrics, no error)."""
        return self.error is None

    @property
    def eigenvalue_array(self) -> np.ndarray | None:
        """``eigenvalues`` as a complex numpy array."""
        return None if self.eigenvalues is None else np.array(self.eigenvalues, dtype=complex)

    # -- JSON -----------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The record as JSON values, with its schema version and run id."""
        eig = None
        if self.eigenvalues is not None:
            eig = {
                "real": [v.real for v in self.eigenvalues],
                "imag": [v.imag for v in self.eigenvalues],
            }
        return {
            "schema": SCHEMA_VERSION,
            "run_id": self.run_id,
            "spec": self.spec.to_json(),
            "metrics": None if self.metrics is None else self.metrics.to_json(),
            "eigenvalues": eig,
            "versions": dict(self.versions),
            "error": self.error,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, data, source: str | os.PathLike | None = None) -> Record:
        """The record written by :meth:`to_json`.  Anything else raises :class:`RecordError`
        naming ``source`` (a file) and what is wrong; an unknown or newer schema says so."""
        where = f"{source}: " if source is not None else ""
        if not isinstance(data, Mapping) or "schema" not in data:
            raise RecordError(f"{where}not a lab record (a JSON object with a 'schema' key)")
        schema = data["schema"]
        if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
            raise RecordError(f"{where}unknown record schema {schema!r}")
        if schema > SCHEMA_VERSION:
            raise RecordError(
                f"{where}record schema {schema} is newer than this emtlib reads (up to "
                f"{SCHEMA_VERSION}); upgrade emtlib to read it"
            )
        keys = {
            "schema",
            "run_id",
            "spec",
            "metrics",
            "eigenvalues",
            "versions",
            "error",
            "created",
        }
        if set(data) != keys:
            raise RecordError(
                f"{where}a record of schema {schema} holds exactly {sorted(keys)}; "
                f"missing {sorted(keys - set(data))}, unknown {sorted(set(data) - keys)}"
            )
        try:
            spec = RunSpec.from_json(data["spec"])
            metrics = None if data["metrics"] is None else Metrics.from_json(data["metrics"])
            eig = data["eigenvalues"]
            if eig is not None:
                if not isinstance(eig, Mapping) or set(eig) != {"real", "imag"}:
                    raise ValueError("eigenvalues must be an object with lists 'real' and 'imag'")
                re, im = eig["real"], eig["imag"]
                if not isinstance(re, list) or not isinstance(im, list) or len(re) != len(im):
                    raise ValueError("eigenvalues 'real' and 'imag' must be lists of one length")
                eig = tuple(
                    complex(real(a, "eigenvalue"), real(b, "eigenvalue")) for a, b in zip(re, im)
                )
            record = cls(spec, metrics, eig, data["versions"], data["error"], data["created"])
        except (TypeError, ValueError) as err:
            raise RecordError(f"{where}{err}") from None
        if data["run_id"] != record.run_id:
            raise RecordError(
                f"{where}its run_id {data['run_id']!r} is not the id of its spec ({record.run_id})"
            )
        return record

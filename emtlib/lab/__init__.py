"""emtlib.lab: running, storing and tabulating the book's experiments (appendix "Running the
experiments at scale").

The lab uses the core library like any user: a :class:`~emtlib.lab.spec.RunSpec` names a run, :func:`~emtlib.lab.run.run` trains,
evaluates and measures it (chapters "Training RNNs on variable binding" and "Universality") and
returns the model with its :class:`~emtlib.lab.record.Record`, a :class:`~emtlib.lab.store.Store` keeps records and weights with a
sha256 manifest.  :mod:`~emtlib.lab.zoo` holds the shipped models by name,
:mod:`~emtlib.lab.sweep` runs grids on Dask, :mod:`~emtlib.lab.table` makes the paper's Table 1 and
:mod:`~emtlib.lab.beyond` reads the study of chapter "Beyond the Elman RNN"::

    from emtlib.lab import zoo
    model = zoo.load("T4-h128-s0")
    model.record.metrics.accuracy[200]

The command line is ``python -m emtlib.lab run|status|table|verify|rebuild``.
"""

from . import beyond, recipes, sweep, table, zoo
from .record import Metrics, Record
from .run import run
from .spec import RunSpec
from .store import Store

__all__ = [
    "Metrics",
    "Record",
    "RunSpec",
    "Store",
    "beyond",
    "recipes",
    "run",
    "sweep",
    "table",
    "zoo",
]

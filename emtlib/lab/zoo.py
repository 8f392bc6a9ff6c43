"""The zoo: trained models shipped with emtlib, by name, each checked against its manifest on load.

Chapter "Training RNNs on variable binding" trains these models; the later chapters
("Universality", "The privileged basis", "Interventions") load them instead of training::

    from emtlib.lab import zoo
    model = zoo.load("T4-h128-s0")      # an ElmanRNN; model.record holds its spec and metrics
    model.record.metrics.accuracy[200]
    zoo.available()                     # {name: Record} of every model the zoo holds

The zoo is a :class:`~emtlib.lab.store.Store` inside the package (:data:`FOLDER`).  :data:`ZOO` names what
it holds: the paper's four tasks at 128 units with seeds 0, 1 and 2, trained with the recipe
``"default"`` (``T1-h128-s0``) and with ``"paper"`` (``T1-h128-s0-paper``), and at 64 units with
seed 0 and the recipe :func:`~emtlib.lab.recipes.recommended` for that width (``T1-h64-s0``).
``python -m emtlib.lab rebuild --all`` trains every entry the zoo does not hold yet.
"""

from __future__ import annotations

from pathlib import Path

from emtlib.rnn import ElmanRNN
from emtlib.tasks import PAPER_TASKS

from .recipes import recommended
from .record import Record
from .spec import RunSpec
from .store import Store, UnknownNameError

__all__ = ["FOLDER", "ZOO", "available", "load", "record", "store"]

#: The folder of the shipped zoo store.
FOLDER = Path(__file__).resolve().parent / "data" / "zoo"

_TASKS = ("T1", "T2", "T3", "T4")

#: Every model the zoo holds, name -> :class:`~emtlib.lab.spec.RunSpec`.
ZOO: dict[str, RunSpec] = {
    **{
        f"{t}-h128-s{seed}{suffix}": RunSpec(t, 128, seed, recipe=recipe)
        for recipe, suffix in (("default", ""), ("paper", "-paper"))
        for t in _TASKS
        for seed in (0, 1, 2)
    },
    **{f"{t}-h64-s0": RunSpec(t, 64, 0, recipe=recommended(PAPER_TASKS[t], 64)) for t in _TASKS},
}


def store() -> Store:
    """The zoo's :class:`~emtlib.lab.store.Store` (its manifest must exist)."""
    return Store(FOLDER, shipped=True)


def _run_id(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"a zoo model is named by a string such as 'T4-h128-s0', got {type(name).__name__}"
        )
    zoo = store()
    names = zoo.names  # an unreadable or missing manifest raises here, naming the file
    if name in names:
        return names[name]
    if name in ZOO:
        raise UnknownNameError(
            f"zoo model {name!r} is not in {zoo.manifest_path}; train it with "
            f"`{zoo.rebuild_command(name)}`"
        )
    raise UnknownNameError(
        f"no zoo model named {name!r}; the zoo holds: {', '.join(sorted(names)) or 'nothing'}"
    )


def load(name: str) -> ElmanRNN:
    """The zoo model ``name`` with its :class:`~emtlib.lab.record.Record` on ``.record``, after checking
    its files against the zoo's manifest (:class:`~emtlib.lab.store.ChecksumError` names a changed
    file).  Chapters "Training RNNs on variable binding", "Universality" and later."""
    return store().load_model(_run_id(name))


def record(name: str) -> Record:
    """The :class:`~emtlib.lab.record.Record` of zoo model ``name`` (its spec and metrics), checked
    against the manifest, without loading the weights."""
    return store().get(_run_id(name))


def available() -> dict[str, Record]:
    """Every model the zoo holds, name -> :class:`~emtlib.lab.record.Record`, each checked against the
    manifest."""
    zoo = store()
    return {name: zoo.get(run_id) for name, run_id in sorted(zoo.names.items())}

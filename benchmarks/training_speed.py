"""Benchmark: wall time until a trained RNN solves a task, recipe against recipe (chapter "Training
RNNs on variable binding"; benchmarks/results.md records the summaries).

Every run is a :class:`~emtlib.lab.RunSpec` trained by :func:`emtlib.lab.run`, one after another in
this process on one torch thread (so runs are comparable and can be repeated on any machine), and
recorded into a lab :class:`~emtlib.lab.Store`.  By default every run stops once it is solved, the
recipe "paper" too (the paper's protocol itself always trains its 20,000 steps): batch sign
accuracy >= 0.999 at the last training horizon and accuracy exactly 1.0 on 10 batches of 64
sequences at test horizon 200.  The record then holds the steps, the solved step, the training wall
time and the accuracy at horizons 200 and 10,000 on the lab's fixed test sequences.  Usage (from
the repository root, inside the project's .venv):

    python benchmarks/training_speed.py                      # T1-T4, seeds 0 1 2, default and paper
    python benchmarks/training_speed.py --tasks T2 random:5:4:1 --seeds 0 --recipes default narrow
    python benchmarks/training_speed.py --tasks T1 --recipes paper --max-steps 60000
    python benchmarks/training_speed.py --tasks T1 --recipes paper --no-check     # the whole budget
    python benchmarks/training_speed.py --tasks repeat:3:3 --recipes narrow --hidden 9 --seeds 0 1
    python benchmarks/training_speed.py --summary-only --store DIR [--store DIR ...]

Runs go to the store ``benchmarks/results/training_speed/`` (or ``--store DIR``, e.g. one folder per
sitting, so that a comparison uses runs of one machine); a run the store holds already is not run
again unless ``--force``.  The summary (medians per task and recipe, and each recipe's speed-up over
"paper") reads every store named with ``--store``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from emtlib.lab import Record, RunSpec, Store, run
from emtlib.lab.recipes import RECIPES
from emtlib.tasks import PAPER_TASKS, Task, random_task, repeat_copy

RESULTS = Path(__file__).parent / "results" / "training_speed"


def task_from_key(key: str) -> Task:
    """A paper task ("T1".."T4"), a random one, "random:S:D:SEED" (emtlib.tasks.random_task), or a
    repeat copy, "repeat:S:D" (emtlib.tasks.repeat_copy)."""
    if key in PAPER_TASKS:
        return PAPER_TASKS[key]
    parts = key.split(":")
    if len(parts) == 4 and parts[0] == "random" and all(p.isdigit() for p in parts[1:]):
        return random_task(int(parts[1]), int(parts[2]), seed=int(parts[3]))
    if (
        len(parts) == 3
        and parts[0] == "repeat"
        and all(p.isdigit() and int(p) > 0 for p in parts[1:])
    ):
        return repeat_copy(int(parts[1]), int(parts[2]))
    raise argparse.ArgumentTypeError(
        f"a task is T1..T4, random:S:D:SEED or repeat:S:D, got {key!r}"
    )


def spec_for(
    task: Task, recipe: str, seed: int, hidden: int, max_steps: int | None, check: bool
) -> RunSpec:
    """The run: ``check`` makes it stop once solved (``stop_when_solved`` is set only where the
    recipe's own setting differs, so the spec is the recipe's own where it can be)."""
    own = RECIPES[recipe].schedule.stop_when_solved
    return RunSpec(
        task,
        hidden,
        seed,
        recipe=recipe,
        max_steps=max_steps,
        stop_when_solved=None if own == check else check,
    )


def stops(spec: RunSpec) -> bool:
    """Whether the run stopped once solved (its own setting or its recipe's)."""
    own = RECIPES[spec.recipe].schedule.stop_when_solved
    return own if spec.stop_when_solved is None else spec.stop_when_solved


def label(spec: RunSpec) -> str:
    """How a run is grouped in the summary: its recipe, plus its step budget where that was changed,
    "no check" where it did not stop once solved and its hidden size where that is not 128."""
    extras = (
        ([] if spec.max_steps is None else [f"{spec.max_steps} steps"])
        + ([] if stops(spec) else ["no check"])
        + ([] if spec.hidden == 128 else [f"hidden {spec.hidden}"])
    )
    return spec.recipe if not extras else f"{spec.recipe} ({', '.join(extras)})"


def summarise(records: list[Record]) -> str:
    """Markdown table of medians per (task, recipe label) and each label's speed-up over every paper
    label of the same hidden size (only where every run of the label solved the task)."""
    records = [r for r in records if r.ok]
    lines = [
        "| task | recipe | runs | solved | median steps | median wall (s) | median acc@200 |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: dict = {}
    for r in records:
        groups.setdefault((r.spec.label, label(r.spec)), []).append(r)
    medians = {}
    for (task, name), rows in sorted(groups.items()):
        wall = statistics.median(r.metrics.wall_time_s for r in rows)
        medians[task, name] = wall
        lines.append(
            f"| {task} | {name} | {len(rows)} | {sum(r.metrics.solved for r in rows)} | "
            f"{statistics.median(r.metrics.steps for r in rows):.0f} | {wall:.1f} | "
            f"{statistics.median(r.metrics.accuracy[200] for r in rows):.5f} |"
        )
    for (task, name), mine in sorted(groups.items()):
        if mine[0].spec.recipe == "paper":
            continue
        if not all(r.metrics.solved for r in mine):
            solved = sum(r.metrics.solved for r in mine)
            lines.append(
                f"\n{task}: {name} solved {solved} of {len(mine)} runs; no speed-up claimed"
            )
            continue
        for (other, base), theirs in sorted(groups.items()):
            if (
                other != task
                or theirs[0].spec.recipe != "paper"
                or theirs[0].spec.hidden != mine[0].spec.hidden
            ):
                continue
            bound = (
                ""
                if all(r.metrics.solved for r in theirs)
                else " (a paper run that never solved counts with its full wall time, so this is a lower bound)"
            )
            lines.append(
                f"\n{task}: median wall time {base} / {name} = "
                f"{medians[task, base] / medians[task, name]:.1f}x{bound}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=["T1", "T2", "T3", "T4"],
        metavar="TASK",
        help="T1..T4, random:S:D:SEED or repeat:S:D (default: T1 T2 T3 T4)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--recipes", nargs="+", default=["default", "paper"], choices=sorted(RECIPES)
    )
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument(
        "--max-steps", type=int, default=None, help="change every recipe's step budget"
    )
    parser.add_argument(
        "--no-check", action="store_true", help="train the whole budget, to time training alone"
    )
    parser.add_argument(
        "--store",
        action="append",
        default=None,
        help=f"the store the runs go to (the first one) and the summary reads (all; default {RESULTS})",
    )
    parser.add_argument(
        "--force", action="store_true", help="run again what the store holds already"
    )
    parser.add_argument("--summary-only", action="store_true", help="only print the summary")
    args = parser.parse_args(argv)
    tasks = []
    for key in args.tasks:
        try:
            tasks.append(task_from_key(key))
        except argparse.ArgumentTypeError as err:
            parser.error(str(err))
    try:
        specs = [
            spec_for(task, recipe, seed, args.hidden, args.max_steps, not args.no_check)
            for task in tasks
            for recipe in args.recipes
            for seed in args.seeds
        ]
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    stores = [Store(folder) for folder in (args.store or [RESULTS])]
    torch.set_num_threads(1)
    if not args.summary_only:
        for spec in specs:
            if spec.run_id in stores[0] and not args.force:
                continue
            _, record = run(spec)
            stores[0].put(record)
            m = record.metrics
            print(
                f"{spec.label} {label(spec)} seed {spec.seed}: solved {m.solved}, {m.steps} steps, "
                f"{m.wall_time_s:.1f} s, accuracy {m.accuracy[200]:.5f} at 200, "
                f"{m.accuracy[10_000]:.5f} at 10,000",
                flush=True,
            )
    print(summarise([r for store in stores for r in store.records()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

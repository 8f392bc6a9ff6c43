"""Benchmark: wall time until a trained RNN solves a task, our schedules against the paper's protocol.

"Solved" means what `emtlib.train` stops on: batch sign accuracy >= 0.999 at the last training
horizon (100 for the paper's curriculum) and accuracy exactly 1.0 on 10 batches of 64 sequences at
test horizon 200.  Every run uses one torch thread, so runs are comparable and can be repeated on
any machine.  After the run, an independent evaluation (fresh seed) at horizons 200 and 1,000 is
recorded too.  Usage (from the repository root, inside the project's .venv):

    python benchmarks/training_speed.py                      # T1 and T2, seeds 0 1 2, chunked and paper
    python benchmarks/training_speed.py --tasks T2 random:5:4:1 --seeds 0 --schedules chunked fast
    python benchmarks/training_speed.py --tasks T1 --schedules paper --max-steps 60000   # beyond the protocol
    python benchmarks/training_speed.py --tasks T1 --schedules paper --no-check          # training cost alone
    python benchmarks/training_speed.py --tasks T1 --schedules narrow --hidden 64 --seeds 0 1   # narrow networks
    python benchmarks/training_speed.py --tasks repeat:3:3 --schedules narrow --hidden 9 --seeds 0 1

Results are appended, one JSON object per run, to benchmarks/results/training_speed.jsonl (or the
file named by --out, so that two processes can run side by side) and summarised over every
benchmarks/results/training_speed*.jsonl, or those matching --glob (medians per task and schedule,
and each schedule's speed-up over "paper"), on stdout; benchmarks/results.md records the summary.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from emtlib.rnn import atomic_write_bytes
from emtlib.tasks import PAPER_TASKS, Task, random_task, repeat_copy
from emtlib.train import SCHEDULES, evaluate, train_rnn

RESULTS_DIR = Path(__file__).parent / "results"


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


def label(schedule: str, max_steps: int | None, check: bool = True, hidden: int = 128) -> str:
    """How a run is grouped in the summary: its schedule, plus its step budget where that was changed,
    "no check" where the solved check was off and its hidden size where that is not 128."""
    extras = (
        ([] if max_steps is None else [f"{max_steps} steps"])
        + ([] if check else ["no check"])
        + ([] if hidden == 128 else [f"hidden {hidden}"])
    )
    return schedule if not extras else f"{schedule} ({', '.join(extras)})"


def run(
    task_key: str,
    schedule: str,
    seed: int,
    hidden: int,
    max_steps: int | None = None,
    check: bool = True,
) -> dict:
    """Train once; with ``check=False`` there is no solved check, so the run trains for its whole budget
    and its wall time is the cost of training alone (the batches, hence the weights, are the same)."""
    task = task_from_key(task_key)
    budget = {} if max_steps is None else {"max_steps": max_steps}
    start = time.perf_counter()
    model = train_rnn(
        task, hidden=hidden, seed=seed, schedule=schedule, stop_when_solved=check, **budget
    )
    wall = time.perf_counter() - start
    meta = model.metadata
    return {
        "task": task_key,
        "task_id": list(task.task_id),
        "s": task.s,
        "d": task.d,
        "schedule": schedule,
        "label": label(schedule, max_steps, check, hidden),
        "seed": seed,
        "hidden": hidden,
        "solved": meta["solved_step"] is not None,
        "steps": meta["steps"],
        "wall_s": round(wall, 2),
        "restarted_at": meta["restarted_at"],
        "modes": task.long_lived_modes(),
        "recalled_bits": task.recalled_bits(),
        "accuracy_200": evaluate(model, task, 200, 10, seed=777),
        "accuracy_1000": evaluate(model, task, 1000, 4, seed=778),
        "hyperparameters": meta["hyperparameters"],
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def summarise(records: list[dict]) -> str:
    """Markdown table of medians per (task, schedule) and each schedule's speed-up over every paper run.

    Runs whose step budget was changed (``--max-steps``), whose solved check was off (``--no-check``) or
    whose hidden size was not 128 form their own groups, labelled so; a speed-up compares only runs of one
    hidden size."""
    for r in records:
        r.setdefault("label", r["schedule"])  # records from before --max-steps existed
    lines = [
        "| task | schedule | runs | solved | median steps | median wall (s) | median acc@200 |",
        "|---|---|---|---|---|---|---|",
    ]
    medians = {}
    for task in sorted({r["task"] for r in records}):
        for schedule in sorted({r["label"] for r in records}):
            rows = [r for r in records if r["task"] == task and r["label"] == schedule]
            if not rows:
                continue
            wall = statistics.median(r["wall_s"] for r in rows)
            medians[task, schedule] = wall
            lines.append(
                f"| {task} | {schedule} | {len(rows)} | {sum(r['solved'] for r in rows)} | "
                f"{statistics.median(r['steps'] for r in rows):.0f} | {wall:.1f} | "
                f"{statistics.median(r['accuracy_200'] for r in rows):.5f} |"
            )
    for task, schedule in sorted(medians):
        if schedule.startswith("paper"):
            continue
        mine = [r for r in records if r["task"] == task and r["label"] == schedule]
        if not all(r["solved"] for r in mine):
            lines.append(
                f"\n{task}: {schedule} solved {sum(r['solved'] for r in mine)} of {len(mine)} runs; "
                "no speed-up claimed"
            )
            continue
        for base in sorted(b for t, b in medians if t == task and b.startswith("paper")):
            theirs = [r for r in records if r["task"] == task and r["label"] == base]
            if theirs[0].get("hidden", 128) != mine[0].get("hidden", 128):
                continue
            bound = (
                ""
                if all(r["solved"] for r in theirs)
                else " (a paper run that never solved counts with its full wall time, so this is a lower bound)"
            )
            lines.append(
                f"\n{task}: median wall time {base} / {schedule} = "
                f"{medians[task, base] / medians[task, schedule]:.1f}x{bound}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=["T1", "T2"],
        metavar="TASK",
        help="T1..T4, random:S:D:SEED or repeat:S:D (default: T1 T2)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--schedules", nargs="+", default=["chunked", "paper"], choices=sorted(SCHEDULES)
    )
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="change every schedule's step budget (such runs are summarised apart, labelled with it)",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="no solved check: train the whole budget, to time training alone (summarised apart)",
    )
    parser.add_argument(
        "--out", default="training_speed.jsonl", help="file name under benchmarks/results/"
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="only print the summary of recorded runs"
    )
    parser.add_argument(
        "--glob",
        default="training_speed*.jsonl",
        help="which files under benchmarks/results/ the summary reads (default: all of them)",
    )
    args = parser.parse_args(argv)
    for key in args.tasks:
        try:
            task_from_key(key)
        except argparse.ArgumentTypeError as err:
            parser.error(str(err))
    if args.max_steps is not None and args.max_steps <= 0:
        parser.error(f"--max-steps must be a positive integer, got {args.max_steps}")
    torch.set_num_threads(1)
    out = RESULTS_DIR / args.out
    mine = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not args.summary_only:
        for task in args.tasks:
            for schedule in args.schedules:
                for seed in args.seeds:
                    record = run(
                        task, schedule, seed, args.hidden, args.max_steps, not args.no_check
                    )
                    print(
                        json.dumps(
                            {
                                k: record[k]
                                for k in (
                                    "task",
                                    "schedule",
                                    "seed",
                                    "solved",
                                    "steps",
                                    "wall_s",
                                    "accuracy_200",
                                    "accuracy_1000",
                                )
                            }
                        ),
                        flush=True,
                    )
                    mine.append(record)
                    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in mine)
                    atomic_write_bytes(out, text.encode())
    records = [
        json.loads(line)
        for f in sorted(RESULTS_DIR.glob(args.glob))
        for line in f.read_text().splitlines()
    ]
    print(summarise(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The lab's command line (appendix "Running the experiments at scale")::

    python -m emtlib.lab run GRID [--store DIR] [--workers N | --scheduler ADDRESS] [--device D]
    python -m emtlib.lab status [GRID | STORE]
    python -m emtlib.lab table [STORE | GRID] [--format markdown|latex]
    python -m emtlib.lab verify [STORE ...]
    python -m emtlib.lab rebuild NAME ... | --all | table1 | beyond [--force] [--workers N]

Without a folder, ``status``, ``table`` and ``verify`` read the stores shipped with emtlib (the zoo,
Table 1 and the study of chapter "Beyond the Elman RNN").  ``--help`` after a verb explains it.  An error prints one line and exits with 2; a
sweep that leaves runs failed or pending exits with 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import beyond, table, zoo
from .spec import RunSpec
from .store import IntegrityError, Store
from .sweep import _read_grid, load_grid, run_sweep, status

SHIPPED = {"zoo": zoo.store, "table1": table.shipped, "beyond": beyond.shipped}
#: The shipped stores that hold a grid (their ``grid.yaml``), by the name ``rebuild`` takes.
GRIDS = {"table1": "Table 1", "beyond": "Beyond the Elman RNN"}


def _fmt(value, spec: str = ".4f") -> str:
    return "—" if value is None else format(value, spec)


def _store_of(target: str | None, explicit: str | None):
    """(grid or None, store) for a grid file or a store folder given on the command line."""
    if target is not None and Path(target).is_file():
        grid = load_grid(target)
        return grid, Store(explicit if explicit else grid.default_store)
    if explicit is not None and target is not None:
        raise ValueError(
            f"give a grid file with --store, or a store folder alone; {target} is not a file"
        )
    folder = target if target is not None else explicit
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{folder} is neither a grid file nor a store folder")
    return None, Store(folder)


def _shipped_grid(name: str = "table1"):
    store = SHIPPED[name]()
    return _read_grid(store.read_file("grid.yaml"), store.folder / "grid.yaml"), store


def _print_report(report, specs) -> int:
    for spec, why in report.lost:
        print(
            f"not finished (its worker was lost; run again to resume): {spec}: {why}",
            file=sys.stderr,
        )
    if report.skipped_failed:
        print(
            f"{report.skipped_failed} failed run(s) left as they are; --retry-failed runs them again",
            file=sys.stderr,
        )
    for problem in report.quarantined:
        print(f"quarantined: {problem}", file=sys.stderr)
    print(
        f"{len(specs)} runs: {report.ok} trained, {report.failed} failed, {report.done} already done"
        + (f", {report.busy} running elsewhere" if report.busy else "")
    )
    print("\n".join(report.status.lines()))
    s = report.status
    unfinished = len(s.failed) + len(s.pending) - report.busy  # busy: running in another sweep
    return 0 if unfinished <= 0 and not report.lost else 1


def _sweep_options(args) -> dict:
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "device": args.device,
        "threads": args.threads,
        "progress": not args.no_progress,
    }


# --------------------------------------------------------------------------------------------
# Verbs
# --------------------------------------------------------------------------------------------
def _cmd_run(args) -> int:
    grid = load_grid(args.grid)
    store = Store(args.store if args.store else grid.default_store)
    if "grid.yaml" not in store.manifest()["files"]:
        store.put_file("grid.yaml", grid.text)
    report = run_sweep(grid, store, retry_failed=args.retry_failed, **_sweep_options(args))
    return _print_report(report, grid.specs)


def _zoo_status() -> list[str]:
    store = zoo.store()
    names = store.names
    lines = [f"zoo ({store.folder}): {len(names)} of {len(zoo.ZOO)} planned models built"]
    records = zoo.available()
    for name, spec in zoo.ZOO.items():
        record = records.get(name)
        if record is None:
            lines.append(f"  {name:<18} not built: `{store.rebuild_command(name)}`")
        elif record.spec != spec:
            lines.append(
                f"  {name:<18} built from another spec than ZOO plans: `{store.rebuild_command(name)}`"
            )
        elif not record.ok:
            lines.append(f"  {name:<18} failed: {record.error}")
        else:
            m = record.metrics
            lines.append(
                f"  {name:<18} acc@200 {_fmt(m.accuracy.get(200))}  acc@10k "
                f"{_fmt(m.accuracy.get(10_000))}  spectral error {_fmt(m.spectral_error)}  "
                f"{m.steps} steps"
            )
    for name in sorted(set(names) - set(zoo.ZOO)):
        lines.append(f"  {name:<18} not planned in ZOO")
    return lines


def _cmd_status(args) -> int:
    if args.target is None and args.store is None:
        print("\n".join(_zoo_status()))
        for name, title in GRIDS.items():
            grid, store = _shipped_grid(name)
            print(f"{title} ({store.folder}):")
            print("\n".join(status(grid.specs, store).lines(args.verbose)))
        return 0
    grid, store = _store_of(args.target, args.store)
    if grid is not None:
        print(f"{len(grid.specs)} runs; store {store.folder}")
        print("\n".join(status(grid.specs, store).lines(args.verbose)))
        return 0
    records, problems = store.scan()
    ok = sum(r.ok for r in records.values())
    print(f"{store.folder}: {len(records)} records, {ok} ok, {len(records) - ok} failed")
    for name, run_id in sorted(store.names.items()):
        print(f"  {name}: {run_id}")
    for problem in problems:
        print(f"unreadable: {problem}")
    return 1 if problems else 0


def _cmd_table(args) -> int:
    if args.target is None:
        store = table.shipped()
    else:
        _, store = _store_of(args.target, None)
    records = store.records()
    if not records:
        raise ValueError(f"{store.folder} holds no records")
    result = table.table1(records, horizon=args.horizon)
    print(table.to_latex(result) if args.format == "latex" else table.to_markdown(result), end="")
    return 0


def _cmd_verify(args) -> int:
    for folder in args.stores:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"store folder {folder} does not exist")
    stores = [Store(folder) for folder in args.stores] or [make() for make in SHIPPED.values()]
    bad = 0
    for store in stores:
        problems = store.verify()
        for problem in problems:
            print(problem)
        try:
            held = f"{len(store.run_ids())} runs"
        except IntegrityError:
            held = "unreadable manifest"
        print(
            f"{store.folder}: {held}, "
            + (f"{len(problems)} problem(s)" if problems else "verified")
        )
        bad += len(problems)
    return 1 if bad else 0


def _rebuild_targets(args) -> list[tuple[Store, list[RunSpec], dict, bool]]:
    """(store, specs, names, keep weights) for each store a rebuild writes into."""
    explicit = Store(args.store) if args.store else None
    zoo_store = zoo.store() if explicit is None else explicit
    zoo_specs, zoo_names, others = [], {}, {}
    keys = list(zoo.ZOO) if args.all else list(args.names)
    if not keys:
        raise ValueError(
            "name the models or records to rebuild, or pass --all (every model of the zoo)"
        )
    for key in keys:
        if key in GRIDS:
            grid, store = _shipped_grid(key)
            store = store if explicit is None else explicit
            others.setdefault(store.folder, (store, []))[1].extend(grid.specs)
        elif key in zoo.ZOO or key in zoo_store.names:
            spec = zoo.ZOO[key] if key in zoo.ZOO else zoo_store.get(key).spec
            zoo_specs.append(spec)
            zoo_names[spec.run_id] = key
        else:
            for store in [make() for make in SHIPPED.values()] if explicit is None else [explicit]:
                if key in store:
                    others.setdefault(store.folder, (store, []))[1].append(store.get(key).spec)
                    break
            else:
                raise ValueError(
                    f"{key!r} is not a zoo model, {' or '.join(map(repr, GRIDS))}, or the run id "
                    "of a shipped record"
                    + ("" if explicit is None else f" or of a run in {explicit.folder}")
                )
    targets = [(zoo_store, zoo_specs, zoo_names, True)] if zoo_specs else []
    for store, specs in others.values():
        targets.append((store, specs, {}, store.folder == zoo_store.folder))
    return targets


def _cmd_rebuild(args) -> int:
    if args.all and args.names:
        raise ValueError("give names or --all, not both")
    code = 0
    for store, specs, names, weights in _rebuild_targets(args):
        before = store.names
        report = run_sweep(
            specs,
            store,
            names=names,
            save_weights=weights,
            retry_failed=True,
            force=args.force,
            **_sweep_options(args),
        )
        after = store.names
        for name, old in before.items():  # a name now pointing at a new run: drop the old one
            if after.get(name) != old and old not in after.values():
                store.remove(old)
        code = max(code, _print_report(report, specs))
    return code


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------
def _sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="LocalCluster worker processes (default: one per core, at most one per run; 0: run "
        "here, one after another)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="address or scheduler file of a running Dask cluster (default: a new LocalCluster)",
    )
    p.add_argument("--device", default="cpu", help="torch device each run trains on (default cpu)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m emtlib.lab",
        description="Run, store and tabulate the EMT book's experiments.",
    )
    sub = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser(
        "run",
        help="run every run of a grid that its store does not hold yet",
        description="Run every run of the grid GRID (a YAML file) that its store does not hold yet, "
        "on a Dask LocalCluster or the cluster of --scheduler.  Run it again to resume.",
    )
    p.add_argument("grid", metavar="GRID", help="the grid's YAML file")
    p.add_argument(
        "--store", default=None, help="the store folder (default: <grid stem>-results/ beside it)"
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="also run again the runs recorded as failed"
    )
    _sweep_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "status",
        help="count finished, failed and pending runs",
        description="Count the finished, failed and pending runs of a grid (in its store), or the "
        "records of a store folder; without an argument, the shipped zoo and Table 1.",
    )
    p.add_argument("target", nargs="?", metavar="GRID|STORE", default=None)
    p.add_argument(
        "--store", default=None, help="the store of GRID (default: <grid stem>-results/)"
    )
    p.add_argument(
        "--verbose", action="store_true", help="also list the failed and pending run ids"
    )
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser(
        "table",
        help="print Table 1 from a store",
        description="Print the paper's Table 1 from the records of a store (or of a grid's store); "
        "without an argument, from the shipped Table 1 store.",
    )
    p.add_argument("target", nargs="?", metavar="STORE|GRID", default=None)
    p.add_argument("--format", choices=("markdown", "latex"), default="markdown")
    p.add_argument("--horizon", type=int, default=200, help="the accuracy's horizon (default 200)")
    p.set_defaults(func=_cmd_table)

    p = sub.add_parser(
        "verify",
        help="check every file of stores against their manifests",
        description="Check every file of the stores against their manifests' sha256, every record's "
        "values and every weights file; without an argument, the stores shipped with emtlib.",
    )
    p.add_argument("stores", nargs="*", metavar="STORE")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "rebuild",
        help="train shipped models or records again from their specs",
        description="Train zoo models (by name), the shipped grids of Table 1 ('table1') and of "
        "chapter Beyond the Elman RNN ('beyond'), or shipped "
        "records (by run id) from their specs, into their store.  What the store holds already "
        "is skipped unless --force: run the same command again to resume.",
    )
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every model of the zoo (emtlib.lab.zoo.ZOO)")
    p.add_argument("--force", action="store_true", help="train again what the store holds already")
    p.add_argument("--store", default=None, help="write into this store folder instead")
    _sweep_arguments(p)
    p.set_defaults(func=_cmd_rebuild)
    return top


def main(argv=None) -> int:
    """``python -m emtlib.lab VERB ...``; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output went to a pipe that closed (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as err:  # noqa: BLE001 -- one clean line, never a traceback
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory and run time of every chapter, each from a clean kernel.

    python benchmarks/chapter_resources.py                 # every chapter of _toc.yml, in order
    python benchmarks/chapter_resources.py tasks circuit   # some chapters (names of book/*.ipynb)

Each chapter runs in a fresh Python process (``--one``) that executes the notebook with nbclient,
in ``book/`` as the book build does, with the build's per-cell timeout (_config.yml). For each it
records

- **peak memory**: the kernel's own peak resident set size, read by ``MeasuredNotebookClient``
  (tools/sphinx/emtbook_execute.py), the code that measures the chapters for the status page when
  the book is built (with the build's fix of lost kernel replies installed too). After every code
  cell it asks the kernel for its high-water mark (``VmHWM`` on Linux), which the operating
  system keeps, so a short peak between two requests is not missed, and the notebook's outputs
  are unchanged. Sampling the process from outside (psutil) could miss a peak between samples;
  ``getrusage(RUSAGE_CHILDREN)`` in this process would lump all chapters together (it is a
  maximum over every child ever waited for). The cell whose execution reached the peak is kept too.
- **a cross-check**: ``ru_maxrss`` of the chapter's process and its children (the kernel), as
  ``os.wait4`` returns it when that process ends, what ``/usr/bin/time -v`` calls "Maximum resident
  set size". It is the larger of the kernel's peak and the driving process's (about 60 MB), the
  latter including on Linux the size of the process that started it (carried across ``exec``), so
  it is never below the kernel's own peak and equals it for any chapter larger than the driver.
- **run time**: wall-clock seconds of the whole execution, kernel start included (as the status
  page's run time), and whether the chapter passed (else the error, first line).

It writes ``benchmarks/results/chapter_resources-<UTC date>.json`` (machine, load averages before
and after, versions, commit, per chapter and per cell) and prints a Markdown table for
``benchmarks/results.md``. Budgets (shared/design.md): under 120 s and under 1 GB (10^9 bytes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
RESULTS = ROOT / "benchmarks" / "results"
BUDGET_S = 120
MEMORY_BUDGET_BYTES = 10**9


def _execution():
    """The book's way of executing a chapter (tools/sphinx/emtbook_execute.py): measured, and
    without lost kernel replies. It imports no Sphinx, so this process stays small."""
    sys.path.insert(0, str(ROOT / "tools" / "sphinx"))
    import emtbook_execute

    return emtbook_execute


def cell_timeout() -> int:
    """The build's per-cell limit in seconds (execute.timeout of _config.yml)."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return int(config["execute"]["timeout"])


def toc_chapters() -> list[str]:
    """The notebooks of _toc.yml, in reading order (names without book/ and .ipynb)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(f).name for f in files if (ROOT / f"{f}.ipynb").is_file()]


def run_one(chapter: str) -> dict:
    """Execute book/<chapter>.ipynb from a clean kernel; what it measured (in this process)."""
    import nbformat

    ext = _execution()
    ext.slice_kernel_polls()  # as the build does: no reply waits for the cell timeout
    path = BOOK / f"{chapter}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = ext.MeasuredNotebookClient(
        nb=nb,
        timeout=cell_timeout(),
        kernel_name="python3",
        resources={"metadata": {"path": str(BOOK)}},
    )
    error = None
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - a failing chapter is a result, named below
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
        error = f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:300]
    wall = time.perf_counter() - start
    peak = client.peak_rss_bytes
    # the code cell (1-based, counting code cells only) after which the peak was first read
    peak_cell = next((k + 1 for k, (_, v) in enumerate(client.peak_rss_by_cell) if v == peak), None)
    return {
        "chapter": chapter,
        "wall_s": round(wall, 2),
        "passed": error is None,
        "error": error,
        "peak_rss_bytes": peak,
        "peak_cell": peak_cell,
        "code_cells": sum(c.cell_type == "code" and bool(c.source.strip()) for c in nb.cells),
        "peak_rss_by_cell": client.peak_rss_by_cell,
    }


def measure(chapter: str) -> dict:
    """Run one chapter in a fresh process; add the process tree's ru_maxrss (os.wait4)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--one", chapter], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"chapter": chapter, "passed": False, "error": f"driver exited {status}"}
    scale = 1 if sys.platform == "darwin" else 1024
    result["tree_maxrss_bytes"] = usage.ru_maxrss * scale
    return result


def machine() -> dict:
    cpu = platform.processor()
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.*)", text).group(1)
        mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1)
        memory_gib = round(int(mem) / 2**20, 1)
    except (OSError, AttributeError):
        memory_gib = None
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
    }


def versions() -> dict:
    from importlib import metadata

    out = {}
    for dist in ("torch", "numpy", "nbclient", "ipykernel", "emtlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def mb(value) -> str:
    return "-" if value is None else f"{value / 1e6:.0f}"


def markdown(results: list[dict]) -> str:
    header = (
        "| chapter | result | wall (s) | peak memory, kernel (MB) | reached at code cell | "
        "process tree, ru_maxrss (MB) |"
    )
    lines = [header, "|---|---|---|---|---|---|"]
    for r in results:
        flags = []
        if r.get("wall_s", 0) > BUDGET_S:
            flags.append("over 120 s")
        if (r.get("peak_rss_bytes") or 0) > MEMORY_BUDGET_BYTES:
            flags.append("over 1 GB")
        result = "passed" if r.get("passed") else f"failed ({r.get('error')})"
        if flags:
            result += "; " + ", ".join(flags)
        cell = r.get("peak_cell")
        at = "-" if cell is None else f"{cell} of {r.get('code_cells')}"
        lines.append(
            f"| {r['chapter']} | {result} | {r.get('wall_s', '-')} | {mb(r.get('peak_rss_bytes'))} "
            f"| {at} | {mb(r.get('tree_maxrss_bytes'))} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "chapters", nargs="*", help="chapter names (default: every one of _toc.yml)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the per-chapter child process
    parser.add_argument("--out", type=Path, help="JSON file (default: results/...-<date>.json)")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    chapters = args.chapters or toc_chapters()
    unknown = [c for c in chapters if not (BOOK / f"{c}.ipynb").is_file()]
    if unknown:
        parser.error(f"no book/<name>.ipynb for {unknown}")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    results = []
    for chapter in chapters:
        results.append(measure(chapter))
        r = results[-1]
        print(
            f"{chapter}: {'passed' if r.get('passed') else 'FAILED'} {r.get('wall_s')} s, "
            f"peak {mb(r.get('peak_rss_bytes'))} MB (tree {mb(r.get('tree_maxrss_bytes'))} MB), "
            f"load {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )
    record = {
        "what": "peak resident memory (kernel VmHWM) and wall time per chapter, clean kernel each",
        "command": "python benchmarks/chapter_resources.py " + " ".join(args.chapters),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        "versions": versions(),
        "commit": commit(),
        "cell_timeout_s": cell_timeout(),
        "chapters": results,
    }
    out = args.out or RESULTS / f"chapter_resources-{started:%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(markdown(results))
    print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

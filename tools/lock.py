"""Regenerate requirements-lock.txt from requirements.in (`make lock`).

Resolves requirements.in in a throw-away virtual environment, freezes it and writes the lock. torch
is installed first, alone and from PyTorch's CPU index (``--torch-index``), as `make` does: the
default index (PyPI) serves the CUDA build on Linux. Then the rest of requirements.in. The lock has

- a header naming the command and the Python that resolved it;
- the option lines of requirements.in, if any;
- every installed package pinned ``name==version``, except that a requirement written in
  requirements.in with an environment marker (torch: ``+cpu`` on Linux and Windows, the plain
  version on macOS) is copied as written, after checking that the frozen version is the one it pins.

It refuses to write a lock that would install a CUDA build: any ``nvidia-*`` or ``triton`` package
in the frozen environment, or a torch without ``+cpu`` where requirements.in asks for one, is an
error. The file is replaced atomically, so an interrupted run leaves the old lock in place.

    python3 tools/lock.py --torch-index https://download.pytorch.org/whl/cpu
                          [--requirements requirements.in] [--output requirements-lock.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
except ModuleNotFoundError:  # a bare Python: pip's own copy of packaging
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Packages that only a CUDA build of torch pulls in.
CUDA_PREFIXES = ("nvidia-", "triton")


class LockError(ValueError):
    """requirements.in or the resolved environment cannot make a CPU-only lock."""


def _entries(requirements_in: str) -> tuple[list[str], list[Requirement]]:
    """The option lines and the requirements of a requirements.in text (comments dropped)."""
    options, requirements = [], []
    for number, raw in enumerate(requirements_in.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement as error:
            raise LockError(
                f"requirements.in line {number}: {line!r} is not a requirement ({error})"
            )
    return options, requirements


def lock_lines(requirements_in: str, frozen: str, environment: dict | None = None) -> list[str]:
    """The lines of the lock (without header) for a requirements.in text and the ``pip freeze`` of
    the environment it resolved to. ``environment``: the marker environment it was resolved in."""
    environment = environment or default_environment()
    options, requirements = _entries(requirements_in)
    with_marker: dict[str, list[Requirement]] = {}
    for req in requirements:
        if req.marker is not None:
            pins = [s for s in req.specifier if s.operator == "=="]
            if len(pins) != 1 or len(req.specifier) != 1:
                raise LockError(
                    f"{req}: a requirement with a marker is copied into the lock as written, "
                    "so it must pin one exact version (name==version ; marker)"
                )
            with_marker.setdefault(canonicalize_name(req.name), []).append(req)

    pins, problems = [], []
    for line in frozen.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "==" not in line:
            problems.append(f"pip freeze gave {line!r}, not name==version")
            continue
        name, version = line.split("==", 1)
        key = canonicalize_name(name)
        if key.startswith(CUDA_PREFIXES):
            problems.append(f"{line}: a CUDA package; torch must be the CPU build")
            continue
        if key in with_marker:
            active = [r for r in with_marker[key] if r.marker.evaluate(environment)]
            wanted = [str(next(iter(r.specifier)).version) for r in active]
            if wanted != [version]:
                problems.append(f"{line}: requirements.in pins {wanted} on this platform")
            pins += [str(r) for r in with_marker[key]]
        else:
            pins.append(f"{name}=={version}")
    frozen_names = {
        canonicalize_name(p.split("==", 1)[0]) for p in frozen.splitlines() if "==" in p
    }
    for key in sorted(set(with_marker) - frozen_names):
        active = [r for r in with_marker[key] if r.marker.evaluate(environment)]
        if active:
            problems.append(f"{key} is in requirements.in but was not installed")
    if problems:
        raise LockError("cannot write a CPU-only lock:\n- " + "\n- ".join(problems))
    return options + pins


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def torch_lines(requirements_in: str) -> list[str]:
    """The torch requirements of a requirements.in text, as written."""
    return [str(r) for r in _entries(requirements_in)[1] if canonicalize_name(r.name) == "torch"]


def resolve(requirements: Path, python: str, torch_index: str) -> str:
    """``pip freeze`` of a fresh virtual environment with requirements installed, torch first from
    ``torch_index`` (without its dependencies: the second step resolves them with the rest)."""
    torch = torch_lines(requirements.read_text(encoding="utf-8"))
    if not torch:
        raise LockError("requirements.in names no torch")
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        first = Path(tmp) / "torch.txt"
        first.write_text("\n".join(torch) + "\n", encoding="utf-8")
        subprocess.run(
            [*pip, "install", "--no-deps", "--index-url", torch_index, "-r", str(first)],
            check=True,
        )
        subprocess.run([*pip, "install", "-r", str(requirements)], check=True)
        done = subprocess.run(
            [*pip, "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
        )
        return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.in")
    parser.add_argument("--output", type=Path, default=ROOT / "requirements-lock.txt")
    parser.add_argument("--torch-index", required=True, help="the index of torch's CPU builds")
    args = parser.parse_args(argv)
    text = args.requirements.read_text(encoding="utf-8")
    try:
        _entries(text)  # a malformed requirements.in fails before the slow part
        frozen = resolve(args.requirements, sys.executable, args.torch_index)
        lines = lock_lines(text, frozen)
    except LockError as error:
        print(f"tools/lock.py: {error}", file=sys.stderr)
        return 1
    header = (
        f"# Generated by 'make lock' (tools/lock.py) from requirements.in with Python "
        f"{platform.python_version()}. Do not edit by hand."
    )
    atomic_write(args.output, "\n".join([header, *lines]) + "\n")
    count = sum(1 for line in lines if not line.startswith("-"))
    print(f"{args.output.name}: {count} packages pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main())

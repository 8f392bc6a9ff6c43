"""What each documented install would put on a machine that has only the default package index:
pip's dry-run report for every path, and a failure if any of them pulls a CUDA build of torch.

The paths (RELEASING.md; `make release-check`):

- ``lock``: what `make book` / `make test` install, requirements-lock.txt with torch first from
  PyTorch's CPU index;
- ``binder``: the pip section of environment.yml, as mybinder.org installs it;
- ``readme-torch`` and ``readme-emtlib``: the README's two commands, torch from the CPU index, then
  emtlib from this repository into the environment that has that torch;
- ``colab``: the chapters' Colab install cell, in an environment that already has torch and the
  rest (as Colab has them).

Every resolution runs ``pip install --dry-run --report`` with no pip configuration file and no
``PIP_*`` variable of this machine (``PIP_CONFIG_FILE`` is the null device), so pip sees PyPI and the
indexes the documented command names, nothing else. emtlib's GitHub address is replaced by this repository's
folder (same pyproject.toml). Where PyPI is reachable but PyTorch's index is not, ``--torch-wheels
DIR`` serves the torch wheels found in DIR as a stand-in for the CPU index (a PEP 503 page of the
same file names); the report says so. The reports are written to ``_build/install-reports/``.

A path fails when its report has an ``nvidia-*`` or ``triton`` package, or, on Linux, a torch
without the ``+cpu`` label. The lock must also fail closed: without PyPI's neighbour, the CPU index,
it must stop at torch rather than resolve to PyPI's CUDA build. For contrast the script reports what
``torch==2.13.0`` alone resolves to on the default index (informational, never a failure).

    python tools/install_report.py [--torch-wheels DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
GIT_URL = "git+https://github.com/emt-book/emt-book"
CUDA_ONLY = ("nvidia-", "triton")
OUT = ROOT / "_build" / "install-reports"


def stand_in_index(wheels: Path, folder: Path) -> str:
    """A PEP 503 index in folder with one project, torch, linking the torch wheels of wheels."""
    files = sorted(wheels.glob("torch-*.whl"))
    if not files:
        raise FileNotFoundError(f"no torch wheel in {wheels}")
    page = folder / "simple" / "torch"
    page.mkdir(parents=True)
    links = "\n".join(f'<a href="{f.as_uri()}">{f.name}</a><br/>' for f in files)
    (page / "index.html").write_text(f"<html><body>\n{links}\n</body></html>\n", encoding="utf-8")
    return (folder / "simple").as_uri()


def venv(path: Path, shared: Path | None = None) -> Path:
    """A fresh virtual environment; with ``shared``, it also sees the packages linked there."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = path / "bin" / "python"
    if shared is not None:
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(site, "_emt_installed.pth").write_text(f"{shared}\n", encoding="utf-8")
    return python


def link_installed(target: Path, keep) -> Path:
    """A folder of links to this environment's installed packages for which keep(name) is true."""
    target.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if keep(entry.name) and entry.suffix != ".pth":
            (target / entry.name).symlink_to(entry)
    return target


def dry_run(python: Path, args: list[str], report: Path) -> tuple[list[dict], str]:
    """pip's dry-run report of ``pip install args`` (the installs it lists) and pip's output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report)]
        + args,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        return [], done.stdout + done.stderr
    return json.loads(report.read_text(encoding="utf-8"))["install"], done.stdout + done.stderr


def verdict(installs: list[dict]) -> list[str]:
    problems = []
    for item in installs:
        name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
        if name.startswith(CUDA_ONLY):
            problems.append(f"{name}=={version} (CUDA)")
        if name == "torch" and sys.platform.startswith("linux") and not version.endswith("+cpu"):
            problems.append(f"torch=={version} is not the CPU build")
    return problems


def paths(index: str, repo: str, tmp: Path, stand_in: bool) -> dict[str, list[str]]:
    """pip arguments of each documented path, with the CPU index and emtlib's address given. The
    real CPU index also serves torch's dependencies (filelock, sympy, ...); a stand-in has torch
    only, so for the command that reads the CPU index alone PyPI serves them instead."""
    lock = (ROOT / "requirements-lock.txt").read_text(encoding="utf-8")
    torch_pins = tmp / "torch.txt"
    torch_pins.write_text(
        "".join(line + "\n" for line in lock.splitlines() if line.startswith("torch==")),
        encoding="utf-8",
    )
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    binder = tmp / "binder.txt"
    binder.write_text(
        "\n".join(
            (line.replace(TORCH_INDEX, index) if line.startswith("--") else line).replace(
                "-e .", str(ROOT)
            )
            for line in pip
        )
        + "\n",
        encoding="utf-8",
    )
    return {
        "lock": [
            "--ignore-installed",
            "--extra-index-url",
            index,
            "-r",
            str(ROOT / "requirements-lock.txt"),
        ],
        "binder": ["--ignore-installed", "-r", str(binder)],
        "readme-torch": ["--ignore-installed", "--index-url", index, "torch==2.13.0"]
        + (["--extra-index-url", "https://pypi.org/simple"] if stand_in else []),
        "readme-emtlib": [f"emtlib @ {repo}"],
        "colab": [f"emtlib @ {repo}", "ipywidgets>=7.7"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-wheels", type=Path, help="stand in for the CPU index with these")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        index = (
            stand_in_index(args.torch_wheels, tmp / "index") if args.torch_wheels else TORCH_INDEX
        )
        repo = ROOT.as_uri()
        bare = venv(tmp / "bare")
        # after the README's first command: torch and its dependencies are installed
        torch_deps = (
            "torch",
            "filelock",
            "typing_extensions",
            "sympy",
            "mpmath",
            "networkx",
            "jinja2",
            "markupsafe",
            "fsspec",
        )
        with_torch = venv(
            tmp / "with-torch",
            link_installed(tmp / "torch-only", lambda n: n.lower().startswith(torch_deps)),
        )
        # Colab: torch, numpy, matplotlib, ipywidgets, ... already there
        colab = venv(
            tmp / "colab",
            link_installed(
                tmp / "all",
                lambda n: (
                    not n.lower().startswith(
                        (
                            "emtlib",
                            "__editable__",
                            "pip",
                            "setuptools",
                            "_distutils_hack",
                            "pkg_resources",
                            "wheel",
                        )
                    )
                ),
            ),
        )
        where = {"readme-emtlib": with_torch, "colab": colab}
        from importlib.metadata import version as installed

        extra = {"colab": [f"torch=={installed('torch')}"]}
        print(
            f"PyTorch CPU index: {index if not args.torch_wheels else f'stand-in from {args.torch_wheels}'}"
        )
        for name, pip_args in paths(index, repo, tmp, bool(args.torch_wheels)).items():
            installs, output = dry_run(
                where.get(name, bare), pip_args + extra.get(name, []), OUT / f"{name}.json"
            )
            if not installs and "error" in output.lower():
                failed = True
                errors = [line for line in output.splitlines() if "ERROR" in line] or [output]
                print(f"{name:14s} FAILED to resolve: {errors[-1].strip()}")
                continue
            problems = verdict(installs)
            failed |= bool(problems)
            torch = [
                i["metadata"]["version"]
                for i in installs
                if i["metadata"]["name"].lower() == "torch"
            ]
            print(
                f"{name:14s} {len(installs):3d} packages, torch {torch or 'kept as installed'}, "
                f"{'CUDA: ' + ', '.join(problems) if problems else 'no nvidia-*/triton'}"
            )
        lock = ["--ignore-installed", "-r", str(ROOT / "requirements-lock.txt")]
        installs, output = dry_run(bare, lock, OUT / "lock-without-cpu-index.json")
        closed = not installs and "torch==2.13.0+cpu" in output
        failed |= not closed
        print(
            f"{'lock, PyPI only':14s} "
            + (
                "stops at torch==2.13.0+cpu: no fallback to the CUDA build"
                if closed
                else f"does not fail closed: {verdict(installs) or output.strip()[-200:]}"
            )
        )
        installs, output = dry_run(
            bare, ["--ignore-installed", "torch==2.13.0"], OUT / "contrast-pypi-torch.json"
        )
        cuda = [
            f"{i['metadata']['name']}"
            for i in installs
            if i["metadata"]["name"].lower().startswith(CUDA_ONLY)
        ]
        print(
            f"{'(contrast)':14s} torch==2.13.0 from the default index alone: {len(cuda)} CUDA packages"
            + (f" ({', '.join(sorted(cuda)[:4])}, ...)" if cuda else f"; {output.strip()[-120:]}")
        )
    print(f"reports: {OUT.relative_to(ROOT)}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The Colab install cell, run for real: a fresh virtual environment without emtlib runs a chapter.

Every chapter starts with a hidden cell that, on Colab only, runs

    pip install -q "emtlib @ git+https://github.com/emt-book/emt-book"

This test executes that cell, verbatim except for the address, in a kernel of a brand-new virtual
environment, pretends to be Colab, and then runs the rest of a chapter (book/tasks.ipynb) in the same
kernel. It checks that emtlib is not importable before the cell and is importable, from the new
environment, after it.

How the environment is made, and why:

- The GitHub address cannot be reached from the machines the tests run on, so the cell installs from a
  copy of this repository instead (``emtlib @ file:///...``): the same pip command, the same
  pyproject.toml, the same build (in pip's isolated build environment, as on Colab).
- Installing torch, scipy, matplotlib, ... into a fresh environment on every test run would download
  gigabytes. Colab has them preinstalled; so does this test: the new environment sees the locked
  environment's packages through a ``.pth`` file that points at a folder of links to them, with emtlib
  (and pip/setuptools, which the new environment has of its own) left out. pip then finds every
  dependency already satisfied, exactly as on Colab, and installs emtlib alone.
- The kernel runs in an empty folder, so emtlib cannot be imported from the working directory either.

It takes well under a minute; the chapter itself is one of the shortest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from test_repository import COLAB_CELL

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "tasks.ipynb"
GIT_URL = "git+https://github.com/emt-book/emt-book"
# left out of the shared folder: the library under test, and what a new venv brings itself
HIDDEN_PREFIXES = (
    "emtlib",
    "__editable__",
    "__editable___emtlib",
    "pip",
    "setuptools",
    "_distutils_hack",
    "pkg_resources",
    "wheel",
    "__pycache__",
)
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md")


def shared_site_packages(target: Path) -> Path:
    """A folder of links to this environment's installed packages, without emtlib."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if entry.name.startswith(HIDDEN_PREFIXES) or entry.suffix == ".pth":
            continue
        (target / entry.name).symlink_to(entry)
    return target


def repository_copy(target: Path) -> Path:
    """What pip needs to build emtlib: pyproject.toml, its readme and license, and the package."""
    target.mkdir()
    for name in PACKAGE_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "emtlib",
        target / "emtlib",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    return target


def fresh_venv(path: Path, shared: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "_emt_locked_packages.pth").write_text(f"{shared}\n", encoding="utf-8")
    return python


def importable(python: Path, module: str, cwd: Path) -> bool:
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 1)"
    return (
        subprocess.run(
            [str(python), "-c", code], cwd=cwd, env=_clean_env(python), check=False
        ).returncode
        == 0
    )


def _clean_env(python: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_colab_cell_installs_emtlib_into_a_fresh_environment(tmp_path, monkeypatch):
    nb = nbformat.read(CHAPTER, as_version=4)
    install = nb.cells[0]
    assert install.source.strip() == COLAB_CELL, (
        "the chapter's first cell is not the Colab install cell"
    )
    assert GIT_URL in install.source

    repo = repository_copy(tmp_path / "repo")
    python = fresh_venv(tmp_path / "venv", shared_site_packages(tmp_path / "locked"))
    workdir = tmp_path / "run"
    workdir.mkdir()
    assert not importable(python, "emtlib", workdir), (
        "the fresh environment must start without emtlib"
    )
    assert importable(python, "torch", workdir), (
        "the fresh environment must see the preinstalled packages"
    )

    # A kernel of the fresh environment, found through JUPYTER_PATH.
    kernels = tmp_path / "jupyter" / "kernels" / "emt-fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "fresh venv",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    for key, value in _clean_env(python).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    pretend_colab = nbformat.v4.new_code_cell(
        "import importlib.util, sys, types\n"
        "assert importlib.util.find_spec('emtlib') is None, 'emtlib is already importable'\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')  # what the cell tests for"
    )
    cell = nbformat.v4.new_code_cell(install.source.replace(GIT_URL, repo.as_uri()))
    installed = nbformat.v4.new_code_cell(
        "import emtlib\n"
        "assert emtlib.__file__.startswith(sys.prefix), (emtlib.__file__, sys.prefix)\n"
        "print('emtlib', emtlib.__version__, 'from', emtlib.__file__)"
    )
    nb.cells = [pretend_colab, cell, installed] + nb.cells[1:]
    nb.metadata["kernelspec"] = {
        "name": "emt-fresh",
        "display_name": "fresh venv",
        "language": "python",
    }
    client = NotebookClient(
        nb, kernel_name="emt-fresh", timeout=600, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any failure

    printed = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert f"from {tmp_path / 'venv'}" in printed, printed
    assert importable(python, "emtlib", workdir)

"""The Colab install cell, run for real in an environment that looks like Colab's.

Every chapter starts with a hidden cell that, on Colab only, runs (tools/release.py: ``colab_cell``)

    pip install -q "emtlib @ git+https://github.com/emt-book/emt-book@vVERSION" \\
        "torch==<the installed torch>" "ipywidgets>=7.7"

This test executes that cell, verbatim except for the address, in a kernel of a brand-new virtual
environment that has Colab's versions of the preinstalled packages that matter, pretends to be Colab,
then imports every emtlib module that any chapter imports and runs a whole chapter (book/tasks.ipynb,
with its explorer) in the same kernel. It checks that emtlib is not importable before the cell and is
importable, from the new environment, after it, and that the cell left Colab's packages as they were.

How the environment is made, and why:

- The GitHub address cannot be reached from the machines the tests run on, so the cell installs from a
  copy of this repository instead (``emtlib @ file:///...``): the same pip command, the same
  pyproject.toml, the same build (in pip's isolated build environment, as on Colab).
- Colab's versions of numpy, matplotlib and ipywidgets (7.7, with its widgetsnbextension and
  ipython_genutils) are installed into the new environment (:data:`COLAB`, without their
  dependencies: Colab has those). Everything else (torch, scipy, dask, ipykernel, ...) is seen from
  the locked environment through a ``.pth`` file that points at a folder of links to its packages,
  with emtlib and the packages above left out, as if preinstalled. Colab's torch is a CUDA build of
  another version; the locked CPU build stands in for it, which the cell keeps the same way.
- The kernel runs in an empty folder, so emtlib cannot be imported from the working directory either.

It takes about a minute: the chapter itself is one of the shortest.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from test_repository import COLAB_CELL, RELEASE

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "tasks.ipynb"
# Colab's preinstalled versions of the packages the book cares about (update when Colab's change).
COLAB = {
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1",
    "widgetsnbextension": "3.6.10",
    "ipython-genutils": "0.2.0",
}
# left out of the shared folder: the library under test, what a new venv brings itself, the
# packages installed at Colab's versions, and the book build's myst-nb (Colab has none: a chapter's
# glue must work without it)
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
    "numpy",
    "matplotlib",
    "mpl_toolkits",
    "pylab",
    "ipywidgets",
    "widgetsnbextension",
    "myst_nb",
)
PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md")


def shared_site_packages(target: Path) -> Path:
    """A folder of links to this environment's installed packages, without the hidden ones."""
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


def _clean_env(python: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def installed_versions(python: Path, cwd: Path) -> dict[str, str | None]:
    """Versions of emtlib, torch and the Colab packages as the fresh environment sees them."""
    code = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try:\n"
        "        return m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        f"print(json.dumps({{n: v(n) for n in {['emtlib', 'torch', *COLAB]!r}}}))"
    )
    done = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=_clean_env(python),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def chapter_imports() -> list[str]:
    """Every ``import emtlib...`` / ``from emtlib... import ...`` statement of every chapter."""
    statements = set()
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics; the chapters are linted, so none import emtlib
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    continue
                if any(n == "emtlib" or n.startswith("emtlib.") for n in names):
                    statements.add(ast.unparse(node))
    return sorted(statements)


def test_chapter_imports_are_found():
    imports = chapter_imports()
    assert any("emtlib" in s and "plots" in s for s in imports), imports
    assert len(imports) >= 5, imports


def test_colab_cell_installs_emtlib_into_a_colab_like_environment(tmp_path, monkeypatch):
    nb = nbformat.read(CHAPTER, as_version=4)
    install = nb.cells[0]
    assert install.source.strip() == COLAB_CELL, "the chapter's first cell is not the Colab cell"
    git_url = f"git+https://github.com/emt-book/emt-book@v{RELEASE.library_version(ROOT)}"
    assert git_url in install.source, "the Colab cell must install emtlib at the release tag"

    repo = repository_copy(tmp_path / "repo")
    python = fresh_venv(tmp_path / "venv", shared_site_packages(tmp_path / "locked"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps"]
        + [f"{name}=={version}" for name, version in COLAB.items()],
        check=True,
        env=_clean_env(python),
    )
    workdir = tmp_path / "run"
    workdir.mkdir()
    before = installed_versions(python, workdir)
    assert before["emtlib"] is None, "the fresh environment must start without emtlib"
    assert before["torch"], "the fresh environment must see the preinstalled torch"
    assert {n: before[n] for n in COLAB} == COLAB, before

    # A kernel of the fresh environment, found through JUPYTER_PATH.
    kernels = tmp_path / "jupyter" / "kernels" / "emt-colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Colab-like venv",
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
    cell = nbformat.v4.new_code_cell(install.source.replace(git_url, repo.as_uri()))
    imports = nbformat.v4.new_code_cell(
        "\n".join(chapter_imports()) + "\n"
        "import emtlib, ipywidgets\n"
        "assert emtlib.__file__.startswith(sys.prefix), (emtlib.__file__, sys.prefix)\n"
        "print('emtlib', emtlib.__version__, 'from', emtlib.__file__)\n"
        "print('ipywidgets', ipywidgets.__version__)"
    )
    nb.cells = [pretend_colab, cell, imports] + nb.cells[1:]
    nb.metadata["kernelspec"] = {
        "name": "emt-colab",
        "display_name": "Colab-like venv",
        "language": "python",
    }
    client = NotebookClient(
        nb, kernel_name="emt-colab", timeout=600, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any failure

    printed = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    assert f"from {tmp_path / 'venv'}" in printed, printed
    assert f"ipywidgets {COLAB['ipywidgets']}" in printed, printed
    after = installed_versions(python, workdir)
    assert after["emtlib"] == RELEASE.library_version(ROOT)
    kept = {n: after[n] for n in ("torch", *COLAB)}
    assert kept == {n: before[n] for n in ("torch", *COLAB)}, (
        f"the Colab cell replaced preinstalled packages: {before} -> {after}"
    )

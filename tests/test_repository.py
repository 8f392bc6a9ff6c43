"""The repository's own rules, checked on every `make test`.

- Chapter notebooks are stored clean: no outputs, no execution counts, notebook metadata limited to
  kernelspec/language_info, cell metadata free of editor noise, and the Colab install cell first.
- `_toc.yml` and `book/` agree: every listed page exists and every page is listed.
- `.ci/run` runs the README's test command, `make test`.
- The version is the same in `pyproject.toml`/`emtlib.__version__`, `CITATION.cff`, `.zenodo.json`,
  `CHANGELOG.md`, the launch buttons, the README's badges and every chapter's Colab cell
  (tools/release.py).
- The build stays offline-capable and strict (`_config.yml`), and the lock file pins everything,
  torch as its CPU build.

Each rule is a function returning a list of problems; the tests first show on small synthetic
inputs that the function does report a broken rule, then apply it to the real files.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def _tool(name: str):
    """A module of tools/ (the repository's scripts), loaded from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"emt_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RELEASE = _tool("release")  # the one place that knows where the version is shown
# The first cell of every chapter, verbatim (cell metadata: {"tags": ["remove-cell"]}): on Colab
# only, install emtlib at the release tag of the book's version.
COLAB_CELL = RELEASE.colab_cell(RELEASE.library_version(ROOT))
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info"}
# Cell metadata a chapter may use on purpose; anything else (colab, id, outputId, executionInfo,
# ExecuteTime, widgets, vscode, ...) is editor noise.
ALLOWED_CELL_METADATA = {"tags", "jupyter", "editable", "deletable", "slideshow", "mystnb"}


# --------------------------------------------------------------------------------------------
# (a) notebooks are stored clean and start with the Colab cell
# --------------------------------------------------------------------------------------------
def notebook_problems(nb: dict) -> list[str]:
    """Everything wrong with a notebook (as parsed JSON) under the storage rules; [] if clean."""
    problems = []
    extra = set(nb.get("metadata", {})) - ALLOWED_NOTEBOOK_METADATA
    if extra:
        problems.append(
            f"notebook metadata has {sorted(extra)}; only {sorted(ALLOWED_NOTEBOOK_METADATA)} "
            "may be stored (widget state, Colab and editor metadata must be removed)"
        )
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        where = f"cell {i} ({cell.get('cell_type')})"
        if cell.get("outputs"):
            problems.append(f"{where} has {len(cell['outputs'])} stored output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"{where} has execution_count={cell['execution_count']}")
        noise = set(cell.get("metadata", {})) - ALLOWED_CELL_METADATA
        if noise:
            problems.append(
                f"{where} metadata has {sorted(noise)}; allowed: {sorted(ALLOWED_CELL_METADATA)}"
            )
        if cell.get("attachments"):
            problems.append(f"{where} has attachments; put figures in book/ as files instead")
    if not cells:
        problems.append("the notebook has no cells; it must start with the Colab install cell")
        return problems
    first = cells[0]
    source = first.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    if first.get("cell_type") != "code" or source.strip() != COLAB_CELL:
        problems.append(
            "the first cell must be the Colab install cell, verbatim:\n"
            + COLAB_CELL
            + f"\n--- found ({first.get('cell_type')}):\n{source}"
        )
    if "remove-cell" not in first.get("metadata", {}).get("tags", []):
        problems.append(
            'the first (Colab install) cell must have metadata {"tags": ["remove-cell"]}'
        )
    return problems


def _clean_notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nb.cells = [
        nbformat.v4.new_code_cell(COLAB_CELL, metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("x = 1\nassert x == 1"),
    ]
    return json.loads(nbformat.writes(nb))


def _dirty(change) -> dict:
    nb = copy.deepcopy(_clean_notebook())
    change(nb)
    return nb


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda nb: nb["cells"][2].update(
                outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]
            ),
            "output",
        ),
        (lambda nb: nb["cells"][2].update(execution_count=3), "execution_count=3"),
        (
            lambda nb: nb["metadata"].update(
                widgets={"application/vnd.jupyter.widget-state+json": {}}
            ),
            "widgets",
        ),
        (lambda nb: nb["metadata"].update(colab={"provenance": []}), "colab"),
        (lambda nb: nb["cells"][1]["metadata"].update(id="abc", colab={}), "colab"),
        (lambda nb: nb["cells"].pop(0), "Colab install cell"),
        (lambda nb: nb["cells"][0].update(metadata={}), "remove-cell"),
        (lambda nb: nb["cells"][0].update(source=COLAB_CELL.replace("-q", "")), "verbatim"),
        (lambda nb: nb.update(cells=[]), "no cells"),
    ],
)
def test_notebook_rules_catch_a_dirty_notebook(change, expected):
    assert notebook_problems(_clean_notebook()) == [], "the reference clean notebook must pass"
    problems = notebook_problems(_dirty(change))
    assert any(expected in p for p in problems), (
        f"expected a problem mentioning {expected!r}, got {problems}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_chapter_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = notebook_problems(nb)
    assert not problems, (
        f"{path.relative_to(ROOT)} breaks the storage rules (clear outputs with "
        f"`jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}` and strip metadata):\n- "
        + "\n- ".join(problems)
    )
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))


# --------------------------------------------------------------------------------------------
# (b) _toc.yml and book/ agree
# --------------------------------------------------------------------------------------------
def toc_files(toc: dict) -> list[str]:
    """All pages named in a jb-book table of contents (root first), without suffix."""
    found = [toc["root"]] if "root" in toc else []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def toc_problems(toc: dict, root: Path) -> list[str]:
    problems = []
    if toc.get("format") != "jb-book":
        problems.append(f"_toc.yml format is {toc.get('format')!r}, expected 'jb-book'")
    listed = toc_files(toc)
    resolved = set()
    for entry in listed:
        stem = re.sub(r"\.(md|ipynb)$", "", entry)
        candidates = [root / f"{stem}.md", root / f"{stem}.ipynb"]
        existing = [c for c in candidates if c.is_file()]
        if not existing:
            problems.append(
                f"_toc.yml lists {entry!r} but neither {stem}.md nor {stem}.ipynb exists"
            )
        elif len(existing) > 1:
            problems.append(
                f"_toc.yml entry {entry!r} is ambiguous: both {stem}.md and {stem}.ipynb exist"
            )
        resolved.update(c.resolve() for c in existing)
    duplicates = sorted({e for e in listed if listed.count(e) > 1})
    if duplicates:
        problems.append(f"_toc.yml lists these pages more than once: {duplicates}")
    pages = sorted((root / "book").glob("*.ipynb")) + sorted((root / "book").glob("*.md"))
    for page in pages:
        if page.resolve() not in resolved:
            problems.append(
                f"{page.relative_to(root)} is not listed in _toc.yml, so the book would not include it"
            )
    return problems


def test_toc_rules_catch_missing_and_unlisted_pages(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "orphan.md").write_text("# Not in the toc\n")
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/ghost"}]}
    problems = toc_problems(toc, tmp_path)
    assert any("book/ghost" in p and "exists" in p for p in problems), problems
    assert any("orphan.md" in p and "not listed" in p for p in problems), problems
    good = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [{"chapters": [{"file": "book/orphan"}]}],
    }
    assert toc_problems(good, tmp_path) == []


def test_toc_and_book_pages_agree():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc_files(toc), "_toc.yml names no pages"
    problems = toc_problems(toc, ROOT)
    assert not problems, "_toc.yml and book/ disagree:\n- " + "\n- ".join(problems)


# --------------------------------------------------------------------------------------------
# (c) CI runs the README's test command
# --------------------------------------------------------------------------------------------
def ci_problems(script: str, executable: bool) -> list[str]:
    problems = []
    if not executable:
        problems.append(".ci/run is not executable (chmod +x .ci/run)")
    if not script.startswith("#!") or "bash" not in script.splitlines()[0]:
        problems.append(".ci/run must start with a bash shebang")
    if not re.search(r"^\s*set -euo pipefail\b", script, re.MULTILINE):
        problems.append(".ci/run must `set -euo pipefail`")
    commands = [line.split("#", 1)[0].strip() for line in script.splitlines()[1:]]
    if not any(re.fullmatch(r"(exec\s+)?make\s+test", c) for c in commands):
        problems.append(
            ".ci/run must run `make test` (the README's test command) as a command, not in a comment"
        )
    return problems


def test_ci_rules_catch_a_wrong_script():
    assert ci_problems("#!/usr/bin/env bash\nset -euo pipefail\nmake test\n", True) == []
    assert (
        len(ci_problems("#!/usr/bin/env bash\nset -euo pipefail\n# make test\npytest\n", True)) == 1
    )
    assert len(ci_problems("#!/bin/sh\nmake test\n", False)) == 3


def test_ci_runs_make_test():
    path = ROOT / ".ci" / "run"
    assert path.is_file(), ".ci/run is missing"
    executable = bool(path.stat().st_mode & stat.S_IXUSR) and os.access(path, os.X_OK)
    problems = ci_problems(path.read_text(encoding="utf-8"), executable)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# (d) one version everywhere
# --------------------------------------------------------------------------------------------
def library_version(init_source: str) -> str:
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("emtlib/__init__.py does not assign __version__ = '...'")


def versions() -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    library = library_version((ROOT / "emtlib" / "__init__.py").read_text(encoding="utf-8"))
    project = pyproject["project"]
    if "version" in project:
        packaged = project["version"]
    else:
        assert "version" in project.get("dynamic", []), (
            "pyproject.toml has neither a version nor a dynamic one"
        )
        attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
        assert attr == "emtlib.__version__", (
            f"pyproject.toml takes its version from {attr!r}, expected emtlib.__version__"
        )
        packaged = library
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    return {
        "pyproject.toml": str(packaged),
        "emtlib.__version__": str(library),
        "CITATION.cff": str(citation.get("version")),
    }


def test_version_parser_reads_the_assignment():
    assert library_version('"""doc"""\nimport os\n__version__ = "1.2.3"\n') == "1.2.3"
    with pytest.raises(AssertionError, match="__version__"):
        library_version("VERSION = '1.0'\n")


def test_versions_agree():
    found = versions()
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", found["emtlib.__version__"]), found
    assert len(set(found.values())) == 1, f"versions disagree: {found}; bump them together"


VERSIONED_FILES = [
    "emtlib/__init__.py",
    "CITATION.cff",
    ".zenodo.json",
    "CHANGELOG.md",
    "_config.yml",
    "README.md",
]


def _release_copy(target: Path) -> Path:
    """The files tools/release.py reads, copied (chapters included) into target."""
    import shutil

    for name in VERSIONED_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    (target / "book").mkdir()
    for path in NOTEBOOKS:
        shutil.copy2(path, target / "book" / path.name)
    return target


@pytest.mark.parametrize(
    "name, old, new, expected",
    [
        ("CITATION.cff", "version: 0", "version: 9", "CITATION.cff version"),
        ("CITATION.cff", 'date-released: "', 'date-released: "1', "date-released"),
        (".zenodo.json", '"version": "', '"version": "9', ".zenodo.json version"),
        (".zenodo.json", "The EMT Book Team", "Somebody", ".zenodo.json creators"),
        ("CHANGELOG.md", "## [", "## [9", "CHANGELOG.md"),
        ("_config.yml", "branch: v", "branch: main-v", "repository.branch"),
        ("README.md", "emt-book/emt-book/v", "emt-book/emt-book/main-v", "README.md links"),
    ],
)
def test_version_rules_catch_a_drift(tmp_path, name, old, new, expected):
    root = _release_copy(tmp_path)
    assert RELEASE.version_problems(root) == [], "the copy of the repository must agree"
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{name} has no {old!r} to break"
    path.write_text(text.replace(old, new), encoding="utf-8")
    problems = RELEASE.version_problems(root)
    assert any(expected in p for p in problems), f"expected {expected!r} in {problems}"


def test_version_rules_catch_a_chapter_installing_another_release(tmp_path):
    root = _release_copy(tmp_path)
    chapter = min((root / "book").glob("*.ipynb"))
    nb = json.loads(chapter.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = RELEASE.colab_cell("0.0.1").splitlines(keepends=True)
    chapter.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert any(chapter.name in p for p in RELEASE.version_problems(root))


def test_bump_sets_every_place_and_nothing_else(tmp_path):
    root = _release_copy(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    written = RELEASE.bump("9.8.7", "2031-02-03", root)
    assert RELEASE.version_problems(root) == []
    assert RELEASE.library_version(root) == "9.8.7"
    changed = {p for p in before if p.read_bytes() != before[p]}
    assert changed == set(written), "bump wrote files it does not report, or the reverse"
    for chapter in (root / "book").glob("*.ipynb"):
        old = json.loads(before[chapter])
        new = json.loads(chapter.read_text(encoding="utf-8"))
        assert old["cells"][1:] == new["cells"][1:] and old["metadata"] == new["metadata"], (
            f"bump changed more of {chapter.name} than its Colab cell"
        )
    with pytest.raises(ValueError, match="not a version"):
        RELEASE.bump("next", "2031-02-03", root)


def test_colab_command_repairs_a_chapter_with_an_old_or_missing_cell(tmp_path):
    root = _release_copy(tmp_path)
    chapters = sorted((root / "book").glob("*.ipynb"))
    old, missing = chapters[0], chapters[1]
    nb = json.loads(old.read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = RELEASE.colab_cell("0.0.1").splitlines(keepends=True)
    old.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    nb = json.loads(missing.read_text(encoding="utf-8"))
    body = nb["cells"][1:]
    nb["cells"] = body
    missing.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert len(RELEASE.version_problems(root)) == 2
    assert sorted(RELEASE.rewrite_colab_cells(root)) == [old, missing]
    assert RELEASE.version_problems(root) == []
    repaired = json.loads(missing.read_text(encoding="utf-8"))
    assert repaired["cells"][1:] == body and notebook_problems(repaired) == []
    assert RELEASE.rewrite_colab_cells(root) == [], "a second run must change nothing"


def test_every_place_shows_the_same_version_and_date():
    problems = RELEASE.version_problems(ROOT)
    assert not problems, "\n".join(problems) + "\n(python tools/release.py bump sets them all)"


def test_citation_cites_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation.get("cff-version") == "1.2.0", "CITATION.cff must declare cff-version: 1.2.0"
    for key in ("message", "title", "authors", "version"):
        assert citation.get(key), f"CITATION.cff lacks the required key {key!r}"
    refs = " ".join(json.dumps(r) for r in citation.get("references", []))
    assert "2310.02430" in refs, "CITATION.cff must reference the EMT paper (arXiv 2310.02430)"


# --------------------------------------------------------------------------------------------
# Build configuration and pins (guards against silent regressions)
# --------------------------------------------------------------------------------------------
def test_book_config_is_strict_and_offline():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]["config"]
    assert config["execute"]["execute_notebooks"] == "force", "chapters must always be executed"
    assert sphinx.get("nb_execution_raise_on_error") is True, "a failing cell must fail the build"
    assert config.get("only_build_toc_files") is True
    assert ".*" in config["exclude_patterns"], (
        "hidden folders (.venv, .git) must be excluded from the build"
    )
    assert sphinx["html_static_path"] == ["vendor"], "vendored JS must be copied into _static"
    assert sphinx["mathjax_path"] == "mathjax/tex-chtml.js", (
        "MathJax must load from the vendored copy"
    )
    widget_js = list(sphinx["nb_ipywidgets_js"])
    assert widget_js and not any(p.startswith(("http:", "https:", "//")) for p in widget_js), (
        f"the widget manager must load from vendor/, not a CDN: {widget_js}"
    )
    assert not (ROOT / "_static").exists(), (
        "do not create a root folder named _static/ (JB1 injects its scripts everywhere)"
    )


# The CPU build of torch, as the lock pins it (requirements.in writes the same two lines).
TORCH_PINS = {"linux": "2.13.0+cpu", "win32": "2.13.0+cpu", "darwin": "2.13.0"}
CUDA_ONLY = ("nvidia-", "triton")


def lock_problems(lock: str, requirements_in: str) -> list[str]:
    """What is wrong with a lock file: a line that is not one exact pin, a torch that is not the CPU
    build on Linux/Windows (or not 2.13.0 on macOS), a package only CUDA builds need, jupyter-book
    off 1.0.4.post1, or a package of requirements.in missing."""
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    problems, pins = [], {}
    for line in lock.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            problems.append(f"{line!r} is not a requirement (the lock takes no options)")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            problems.append(f"{line!r} does not pin one exact version")
            continue
        name = canonicalize_name(req.name)
        if name.startswith(CUDA_ONLY):
            problems.append(f"{line!r}: a package of torch's CUDA build")
        pins.setdefault(name, []).append((req.marker, specs[0].version))
    for platform_name, wanted in TORCH_PINS.items():
        env = {**default_environment(), "sys_platform": platform_name}
        got = [v for marker, v in pins.get("torch", []) if marker is None or marker.evaluate(env)]
        if got != [wanted]:
            problems.append(
                f"torch on {platform_name} must be pinned once as {wanted} (the CPU build; PyPI's "
                f"Linux wheel is the CUDA build), got {got}"
            )
    book = [v for _, v in pins.get("jupyter-book", [])]
    if book != ["1.0.4.post1"]:
        problems.append(f"jupyter-book must stay on 1.0.4.post1, got {book}")
    for line in requirements_in.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = canonicalize_name(Requirement(line).name)
            if name not in pins:
                problems.append(
                    f"requirements.in names {name}, absent from requirements-lock.txt: run `make lock`"
                )
    return problems


GOOD_LOCK = (
    "# header\n"
    'torch==2.13.0+cpu; sys_platform != "darwin"\n'
    'torch==2.13.0; sys_platform == "darwin"\n'
    "jupyter-book==1.0.4.post1\n"
    "numpy==2.4.6\n"
)


@pytest.mark.parametrize(
    "lock, expected",
    [
        (GOOD_LOCK.replace("numpy==2.4.6", "numpy>=2"), "does not pin one exact version"),
        (
            GOOD_LOCK.replace('torch==2.13.0+cpu; sys_platform != "darwin"', "torch==2.13.0"),
            "torch on linux",
        ),
        (GOOD_LOCK + "nvidia-cublas-cu12==12.8.4.1\n", "CUDA build"),
        (GOOD_LOCK + "triton==3.5.0\n", "CUDA build"),
        ("--extra-index-url https://example.org\n" + GOOD_LOCK, "takes no options"),
        (GOOD_LOCK.replace("1.0.4.post1", "2.0.0"), "jupyter-book"),
        (GOOD_LOCK.replace("numpy==2.4.6\n", ""), "absent from requirements-lock.txt"),
    ],
)
def test_lock_rules_catch_a_broken_lock(lock, expected):
    wanted = "torch==2.13.0+cpu ; sys_platform != 'darwin'\njupyter-book==1.0.4.post1\nnumpy\n"
    assert lock_problems(GOOD_LOCK, wanted) == [], "the reference lock must pass"
    problems = lock_problems(lock, wanted)
    assert any(expected in p for p in problems), f"expected {expected!r} among {problems}"


def test_lock_file_pins_everything_and_torch_is_the_cpu_build():
    problems = lock_problems(
        (ROOT / "requirements-lock.txt").read_text(encoding="utf-8"),
        (ROOT / "requirements.in").read_text(encoding="utf-8"),
    )
    assert not problems, "requirements-lock.txt:\n- " + "\n- ".join(problems)


def test_make_lock_keeps_the_cpu_build_and_refuses_cuda():
    """tools/lock.py, the generator behind the lock, shown on synthetic `pip freeze` outputs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("emt_lock", ROOT / "tools" / "lock.py")
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    wanted = (
        '--find-links ./wheels\ntorch==2.13.0+cpu ; sys_platform != "darwin"\n'
        'torch==2.13.0 ; sys_platform == "darwin"\nnumpy\n'
    )
    linux = {"sys_platform": "linux", "platform_system": "Linux"}
    lines = lock.lock_lines(wanted, "numpy==2.4.6\ntorch==2.13.0+cpu\n", linux)
    assert lines == [
        "--find-links ./wheels",
        "numpy==2.4.6",
        'torch==2.13.0+cpu; sys_platform != "darwin"',
        'torch==2.13.0; sys_platform == "darwin"',
    ]
    assert lock_problems("\n".join(lines[1:]) + "\njupyter-book==1.0.4.post1", wanted) == []
    with pytest.raises(lock.LockError, match="CUDA package"):
        lock.lock_lines(
            wanted, "torch==2.13.0+cpu\nnumpy==2.4.6\nnvidia-nccl-cu12==2.27.3\n", linux
        )
    with pytest.raises(lock.LockError, match="pins"):
        lock.lock_lines(wanted, "torch==2.13.0\nnumpy==2.4.6\n", linux)
    with pytest.raises(lock.LockError, match="one exact version"):
        lock.lock_lines("torch>=2 ; sys_platform != 'darwin'\n", "torch==2.13.0+cpu\n", linux)


# --------------------------------------------------------------------------------------------
# Publishing workflow (.github/workflows) and repository hooks (.pre-commit-config.yaml)
# --------------------------------------------------------------------------------------------
BIN = Path(sys.executable).parent  # the environment's scripts: actionlint, pre-commit, ruff, ...
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def workflow_problems(workflow: dict) -> list[str]:
    """The publishing workflow must test every push and pull request with the README's command and
    deploy the tested book to GitHub Pages from main and from tags, with the official actions."""
    problems = []
    triggers = workflow.get("on", workflow.get(True, {}))  # YAML 1.1 reads a bare `on` as True
    push = (triggers or {}).get("push") or {}
    if "main" not in push.get("branches", []):
        problems.append("the workflow must run on every push to main")
    if not any(t.startswith("v") for t in push.get("tags", [])):
        problems.append("the workflow must run on release tags (v*)")
    if "pull_request" not in (triggers or {}):
        problems.append("the workflow must test pull requests")
    steps = {
        name: [s.get("uses", "").split("@")[0] or s.get("run", "") for s in job.get("steps", [])]
        for name, job in workflow.get("jobs", {}).items()
    }
    testing = [n for n, s in steps.items() if any(r.strip() in (".ci/run", "make test") for r in s)]
    if not testing:
        problems.append("no job runs the README's test command (.ci/run or make test)")
    upload = [n for n, s in steps.items() if "actions/upload-pages-artifact" in s]
    if upload != testing[:1]:
        problems.append("the job that runs make test must upload _build/html as the Pages artifact")
    deploy = [n for n, s in steps.items() if "actions/deploy-pages" in s]
    if len(deploy) != 1:
        problems.append("one job must deploy with actions/deploy-pages")
    else:
        job = workflow["jobs"][deploy[0]]
        if job.get("permissions", {}) != {"pages": "write", "id-token": "write"}:
            problems.append("the deploy job needs exactly pages: write and id-token: write")
        if testing and testing[0] not in ([job.get("needs")] + list(job.get("needs") or [])):
            problems.append("the deploy job must need the job that runs make test")
    return problems


def test_workflow_rules_catch_a_broken_workflow():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow_problems(workflow) == []
    no_tags = copy.deepcopy(workflow)
    no_tags[True]["push"].pop("tags")
    assert any("release tags" in p for p in workflow_problems(no_tags))
    untested = copy.deepcopy(workflow)
    for job in untested["jobs"].values():
        job["steps"] = [s for s in job["steps"] if s.get("run") != ".ci/run"]
    assert any("test command" in p for p in workflow_problems(untested))
    loose = copy.deepcopy(workflow)
    loose["jobs"]["deploy"]["permissions"]["contents"] = "write"
    assert any("permissions" in p or "pages: write" in p for p in workflow_problems(loose))


def test_the_workflow_tests_and_publishes():
    problems = workflow_problems(yaml.safe_load(WORKFLOW.read_text(encoding="utf-8")))
    assert not problems, f"{WORKFLOW.relative_to(ROOT)}:\n- " + "\n- ".join(problems)


def test_actionlint_passes_the_workflows_and_catches_a_broken_one(tmp_path):
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflow in .github/workflows"
    done = subprocess.run(
        [str(BIN / "actionlint"), *map(str, workflows)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ steps.nowhere.outputs.x }}\n      - uses: actions/checkout@v6\n"
        "        with:\n          no-such-input: 1\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(BIN / "actionlint"), str(broken)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "no-such-input" in done.stdout, done.stdout + done.stderr


def test_hooks_are_local_tools_of_the_environment():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert [repo["repo"] for repo in config["repos"]] == ["local"], (
        "every hook must be local: pre-commit cannot clone hook repositories where only package "
        "registries are reachable"
    )
    assert {h["id"] for h in hooks} >= {"nbstripout", "ruff-check", "ruff-format"}
    for hook in hooks:
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/"), f"hook {hook['id']} must run the .venv's {tool}"
        assert (BIN / Path(tool).name).is_file(), (
            f"hook {hook['id']}: {tool} is not in the environment (pin it in the lock)"
        )


def test_hooks_strip_a_notebook_with_outputs_and_fail(tmp_path):
    """pre-commit, run as `make lint` runs it, on a throw-away repository with a chapter that has an
    output: the run fails and the chapter is stored clean afterwards."""
    import shutil

    repo = tmp_path / "repo"
    (repo / "book").mkdir(parents=True)
    shutil.copy2(ROOT / ".pre-commit-config.yaml", repo)
    shutil.copy2(ROOT / "book" / "ruff.toml", repo / "book")
    shutil.copy2(ROOT / "pyproject.toml", repo)
    (repo / ".venv").symlink_to(BIN.parent)  # the hooks run .venv/bin/<tool>
    nb = _dirty(
        lambda nb: nb["cells"][2].update(
            outputs=[{"output_type": "stream", "name": "stdout", "text": "1\n"}], execution_count=1
        )
    )
    chapter = repo / "book" / "chapter.ipynb"
    chapter.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["PRE_COMMIT_HOME"] = str(tmp_path / "cache")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in (["init", "-q"], ["add", "."]):
        subprocess.run([*git, *command], cwd=repo, check=True, env=env)
    done = subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0, "pre-commit passed a notebook with outputs:\n" + done.stdout
    assert notebook_problems(json.loads(chapter.read_text(encoding="utf-8"))) == [], (
        "nbstripout left the chapter dirty:\n" + done.stdout
    )


# --------------------------------------------------------------------------------------------
# The book's Sphinx extension: version in the footer, executed notebooks for download
# --------------------------------------------------------------------------------------------
def _sphinx_extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "emtbook_sphinx_repo", ROOT / "tools" / "sphinx" / "emtbook_sphinx.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_footer_starts_with_the_version_of_the_library():
    import types

    ext = _sphinx_extension()
    assert ext.footer_html("1.2.3", "<p>licence</p>").startswith(
        '<p class="emt-version">Version 1.2.3 of the book'
    )
    config = types.SimpleNamespace(
        myst_substitutions={},
        html_context={},
        html_theme_options={"extra_footer": "Code: MIT license."},
    )
    ext._config_inited(types.SimpleNamespace(srcdir=str(ROOT)), config)
    footer = config.html_theme_options["extra_footer"]
    version = RELEASE.library_version(ROOT)
    assert f"Version {version} of the book" in footer and footer.endswith("Code: MIT license.")


def _download_context(pagename: str, suffix: str) -> dict:
    """The page context sphinx-book-theme gives a page, as far as the download menu goes."""
    return {
        "page_source_suffix": suffix,
        "pathto": lambda target, resource: f"../{target}",
        "header_buttons": [
            {
                "label": "download-buttons",
                "buttons": [
                    {"label": "download-source-button", "url": f"../_sources/{pagename}{suffix}"},
                    {"label": "download-pdf-button", "javascript": "window.print()"},
                ],
            }
        ],
    }


def test_download_menu_offers_the_executed_notebook(tmp_path):
    import types

    from sphinx.errors import ExtensionError

    ext = _sphinx_extension()
    app = types.SimpleNamespace(outdir=str(tmp_path / "html"))
    executed = tmp_path / "jupyter_execute" / "book" / "chapter.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text('{"cells": [{"outputs": [1]}]}', encoding="utf-8")

    context = _download_context("book/chapter", ".ipynb")
    ext._offer_executed_notebook(app, "book/chapter", context)
    buttons = context["header_buttons"][0]["buttons"]
    assert [b["label"] for b in buttons] == [
        "download-executed-notebook-button",
        "download-pdf-button",
    ]
    assert buttons[0]["url"] == "../_notebooks/book/chapter.ipynb"
    copied = tmp_path / "html" / "_notebooks" / "book" / "chapter.ipynb"
    assert copied.read_text(encoding="utf-8") == executed.read_text(encoding="utf-8")

    page = _download_context("book/intro", ".md")
    ext._offer_executed_notebook(app, "book/intro", page)
    assert page == _download_context("book/intro", ".md") | {"pathto": page["pathto"]}
    with pytest.raises(ExtensionError, match="no executed notebook"):
        ext._offer_executed_notebook(app, "book/other", _download_context("book/other", ".ipynb"))


# --------------------------------------------------------------------------------------------
# The documented installs take torch's CPU build (make, README; Binder: test_publishing.py)
# --------------------------------------------------------------------------------------------
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def install_path_problems(makefile: str, readme: str) -> list[str]:
    """`make` installs torch alone from PyTorch's CPU index before the lock; the README installs
    torch from that index before emtlib."""
    problems = []
    if f"TORCH_INDEX  := {CPU_INDEX}" not in makefile:
        problems.append(f"the Makefile's TORCH_INDEX must be {CPU_INDEX}")
    recipe = makefile[makefile.index("$(ENV_STAMP):") :].split("\n\n", 1)[0]
    torch_first = recipe.find("--no-deps --index-url $(TORCH_INDEX)")
    lock = recipe.find("-r requirements-lock.txt")
    if torch_first < 0 or lock < 0 or torch_first > lock:
        problems.append("make must install torch alone from $(TORCH_INDEX) before the lock")
    commands = [line for line in readme.splitlines() if line.startswith("python -m pip install")]
    torch = [
        i for i, c in enumerate(commands) if "torch==" in c and f"--index-url {CPU_INDEX}" in c
    ]
    emtlib = [i for i, c in enumerate(commands) if "emtlib @" in c]
    if not torch or not emtlib or torch[0] > emtlib[0]:
        problems.append("README.md must install torch from the CPU index before emtlib")
    return problems


def test_install_rules_catch_a_cuda_path():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert install_path_problems(makefile, readme) == []
    no_first_step = "\n".join(
        line for line in makefile.splitlines() if "--index-url $(TORCH_INDEX)" not in line
    )
    assert any("before the lock" in p for p in install_path_problems(no_first_step, readme))
    pypi_torch = readme.replace(f" --index-url {CPU_INDEX}", "")
    assert any("README.md" in p for p in install_path_problems(makefile, pypi_torch))

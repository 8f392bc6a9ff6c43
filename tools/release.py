"""The book's one version number, everywhere it is shown (RELEASING.md; `make release-check`).

The version is ``emtlib.__version__`` (emtlib/__init__.py); the release date is ``date-released`` in
CITATION.cff. Both are repeated, and must agree, in

- CITATION.cff: ``version`` and ``date-released``, at the top and in ``preferred-citation``;
- .zenodo.json: ``version`` and ``publication_date`` (and its title, creators, description and
  keywords are CITATION.cff's);
- CHANGELOG.md: a section ``## [VERSION] - DATE``;
- _config.yml: ``repository.branch`` is the release tag ``vVERSION``, so the Binder and Colab
  buttons of every chapter open the chapter as released;
- README.md: the Binder and Colab badges and the install command point at the same tag;
- every chapter notebook's first cell, the Colab install cell (:func:`colab_cell`), installs emtlib
  at that tag.

The book's footer and its "How to cite" page are generated from emtlib and CITATION.cff when the
book is built (tools/sphinx/emtbook_sphinx.py), so they cannot drift.

    python tools/release.py check                 # every disagreement, exit status 1 if any
    python tools/release.py bump 0.2.0 [--date D] # set a new version (and date, default today)
    python tools/release.py colab                 # rewrite every chapter's Colab cell for the
                                                  # current version (after a merge, a new chapter)
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "emt-book/emt-book"
VERSION_RE = re.compile(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?")
# Links of the README that name a git ref: the Binder and Colab badges, the install command.
BADGE_RE = re.compile(
    r"(https://mybinder\.org/v2/gh/" + REPOSITORY + r"/"
    r"|https://colab\.research\.google\.com/github/" + REPOSITORY + r"/blob/"
    r"|git\+https://github\.com/" + REPOSITORY + r"@)"
    r"([^/?#\s)\"]+)"
)
CHANGELOG_HEADING = re.compile(
    r"^## \[(?P<version>[^\]]+)\] - (?P<date>\d{4}-\d{2}-\d{2})\s*$", re.MULTILINE
)


def colab_cell(version: str) -> str:
    """The first cell of every chapter: on Colab only, install emtlib at the book's release tag,
    keeping Colab's own torch (pinned to the installed version, so pip never fetches another build)
    and its ipywidgets 7.7."""
    return (
        "# On Google Colab, install emtlib first (does nothing elsewhere).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "    from importlib.metadata import version\n"
        "\n"
        "    # emtlib as released with this book;\n"
        "    # Colab's torch and ipywidgets stay as installed\n"
        f'    url = "emtlib @ git+https://github.com/{REPOSITORY}@v{version}"\n'
        '    keep = [f"torch=={version(\'torch\')}", "ipywidgets>=7.7"]\n'
        '    pip = [sys.executable, "-m", "pip", "install", "-q"]\n'
        "    subprocess.run([*pip, url, *keep], check=True)"
    )


def library_version(root: Path = ROOT) -> str:
    """``__version__`` as assigned in emtlib/__init__.py (read, not imported)."""
    source = (root / "emtlib" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise ValueError("emtlib/__init__.py does not assign __version__ = '...'")


def _first_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    if not cells:
        return ""
    source = cells[0].get("source", "")
    return "".join(source) if isinstance(source, list) else source


def version_problems(root: Path = ROOT) -> list[str]:
    """Every place that disagrees with emtlib's version or CITATION.cff's release date."""
    problems = []
    version = library_version(root)
    if not VERSION_RE.fullmatch(version):
        problems.append(f"emtlib.__version__ = {version!r} is not a version like 1.2.3")
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    date = str(cff.get("date-released", ""))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        problems.append(f"CITATION.cff: date-released {date!r} is not a date YYYY-MM-DD")
    preferred = cff.get("preferred-citation", {})
    for where, found in (
        ("CITATION.cff version", cff.get("version")),
        ("CITATION.cff preferred-citation version", preferred.get("version")),
    ):
        if str(found) != version:
            problems.append(f"{where} is {found!r}, emtlib's is {version!r}")
    if str(preferred.get("date-released")) != date:
        problems.append(
            f"CITATION.cff preferred-citation date-released {preferred.get('date-released')!r} "
            f"differs from date-released {date!r}"
        )
    for key in ("title", "authors", "url", "repository-code"):
        if preferred.get(key) != cff.get(key):
            problems.append(f"CITATION.cff preferred-citation {key} differs from the top-level one")
    if preferred.get("type") != "book":
        problems.append("CITATION.cff preferred-citation must be of type book")

    zenodo = json.loads((root / ".zenodo.json").read_text(encoding="utf-8"))
    expected = {
        "version": version,
        "publication_date": date,
        "title": cff.get("title"),
        "description": " ".join(str(cff.get("abstract", "")).split()),
        "keywords": cff.get("keywords"),
        "creators": [{"name": a.get("name")} for a in cff.get("authors", [])],
    }
    for key, value in expected.items():
        if zenodo.get(key) != value:
            problems.append(f".zenodo.json {key} is {zenodo.get(key)!r}, expected {value!r}")

    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = {m["version"]: m["date"] for m in CHANGELOG_HEADING.finditer(changelog)}
    if version not in sections:
        problems.append(f"CHANGELOG.md has no section '## [{version}] - {date}'")
    elif sections[version] != date:
        problems.append(f"CHANGELOG.md dates {version} {sections[version]}, CITATION.cff {date}")

    tag = f"v{version}"
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    branch = config.get("repository", {}).get("branch")
    if branch != tag:
        problems.append(
            f"_config.yml repository.branch is {branch!r}: the launch buttons must open {tag!r}"
        )
    readme = (root / "README.md").read_text(encoding="utf-8")
    refs = [m.group(2) for m in BADGE_RE.finditer(readme)]
    if not refs:
        problems.append("README.md has no Binder, Colab or install link to the repository")
    for ref in refs:
        if ref != tag:
            problems.append(
                f"README.md links Binder/Colab/pip to {ref!r}, not the release tag {tag!r}"
            )

    cell = colab_cell(version)
    for path in sorted((root / "book").glob("*.ipynb")):
        if _first_cell(path).strip() != cell:
            problems.append(
                f"{path.relative_to(root)}: the first cell is not the Colab install cell of "
                f"{tag} (python tools/release.py bump {version} rewrites it)"
            )
    return problems


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _replace(text: str, pattern: str, replacement: str, where: str, count: int) -> str:
    new, made = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if made != count:
        raise ValueError(f"{where}: expected {count} match(es) of {pattern!r}, found {made}")
    return new


def bump(version: str, date: str, root: Path = ROOT) -> list[Path]:
    """Set the version (and release date) in every place :func:`version_problems` checks. The
    CHANGELOG's "Unreleased" section becomes the new version's. Returns the files written."""
    if not VERSION_RE.fullmatch(version):
        raise ValueError(f"{version!r} is not a version like 1.2.3")
    datetime.date.fromisoformat(date)  # ValueError for a malformed date
    tag = f"v{version}"
    edits: dict[Path, str] = {}

    init = root / "emtlib" / "__init__.py"
    edits[init] = _replace(
        init.read_text(encoding="utf-8"),
        r'^__version__ = "[^"]*"$',
        f'__version__ = "{version}"',
        "emtlib/__init__.py",
        1,
    )
    cff = root / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    # the top level and preferred-citation (indented by two); references have no version
    text = _replace(text, r"^(  )?version: .*$", rf"\g<1>version: {version}", "CITATION.cff", 2)
    edits[cff] = _replace(
        text, r"^(  )?date-released: .*$", rf'\g<1>date-released: "{date}"', "CITATION.cff", 2
    )
    zenodo_path = root / ".zenodo.json"
    zenodo = json.loads(zenodo_path.read_text(encoding="utf-8"))
    zenodo.update(version=version, publication_date=date)
    edits[zenodo_path] = json.dumps(zenodo, indent=2, ensure_ascii=False) + "\n"
    config = root / "_config.yml"
    edits[config] = _replace(
        config.read_text(encoding="utf-8"), r"^  branch: .*$", f"  branch: {tag}", "_config.yml", 1
    )
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    edits[readme] = BADGE_RE.sub(lambda m: m.group(1) + tag, text)
    changelog = root / "CHANGELOG.md"
    edits[changelog] = _replace(
        changelog.read_text(encoding="utf-8"),
        r"^## \[Unreleased\]\s*$",
        f"## [Unreleased]\n\n## [{version}] - {date}",
        "CHANGELOG.md",
        1,
    )
    edits.update(_colab_cells(root, version))
    for path, text in edits.items():
        _atomic_write(path, text)
    return list(edits)


def _colab_cells(root: Path, version: str) -> dict[Path, str]:
    """Every chapter with its first cell set to :func:`colab_cell` (a code cell tagged
    ``remove-cell``, inserted if the chapter starts otherwise); nothing else changes."""
    cell = colab_cell(version)
    edits = {}
    for path in sorted((root / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb.setdefault("cells", [])
        if not cells or not _first_cell(path).startswith("# On Google Colab, install emtlib"):
            cells.insert(
                0,
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "metadata": {"tags": ["remove-cell"]},
                    "outputs": [],
                    "source": [],
                },
            )
            if nb.get("nbformat", 4) >= 4 and nb.get("nbformat_minor", 0) >= 5:
                cells[0]["id"] = "colab-install"
        cells[0]["source"] = cell.splitlines(keepends=True)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if text != path.read_text(encoding="utf-8"):
            edits[path] = text
    return edits


def rewrite_colab_cells(root: Path = ROOT) -> list[Path]:
    """Set every chapter's Colab cell for the current version; returns the chapters written."""
    edits = _colab_cells(root, library_version(root))
    for path, text in edits.items():
        _atomic_write(path, text)
    return list(edits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="report every place that disagrees")
    set_version = commands.add_parser("bump", help="set a new version everywhere")
    set_version.add_argument("version")
    set_version.add_argument("--date", default=datetime.date.today().isoformat())
    commands.add_parser("colab", help="rewrite every chapter's Colab cell for the current version")
    args = parser.parse_args(argv)
    written = []
    if args.command == "bump":
        written = bump(args.version, args.date)
    elif args.command == "colab":
        written = rewrite_colab_cells()
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    problems = version_problems()
    for problem in problems:
        print(f"tools/release.py: {problem}", file=sys.stderr)
    if not problems:
        print(f"tools/release.py: version {library_version()} agrees everywhere")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

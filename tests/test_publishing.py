"""Reader experience and publishing: the rules that keep the book's pages, metadata and environments
consistent, checked on every `make test`.

- The book's citations on "How to cite" are generated from CITATION.cff and carry emtlib's version;
  CITATION.cff, book/references.bib (read by pybtex), the README and pyproject.toml agree on the
  book's authors and on the paper.
- environment.yml (Binder) and pyproject.toml name the same packages with compatible pins, and the
  lock file's versions satisfy both.
- Every chapter has its learning goals, what it assumes, exercises that all have solutions, and a
  summary; every {cite} key is in references.bib, every {term} is in the glossary, every {doc} page
  exists; every explorer (a widget) has a static figure or animation beside it.

As in test_repository.py, each rule is a function returning a list of problems, shown first to catch
a broken input and then applied to the real files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))
PAGES = sorted(BOOK.glob("*.md"))
# The parts of _toc.yml whose pages are reference material, not chapters that teach.
REFERENCE_PARTS = ("Appendix", "Back matter")


def taught_chapters(toc: dict) -> list[str]:
    """The files of _toc.yml's teaching parts (every part but the appendix and the back matter)."""
    return [
        chapter["file"]
        for part in toc.get("parts", [])
        if part.get("caption") not in REFERENCE_PARTS
        for chapter in part.get("chapters", [])
    ]


TAUGHT = [
    p
    for p in CHAPTERS
    if f"book/{p.stem}" in taught_chapters(yaml.safe_load((ROOT / "_toc.yml").read_text()))
]


# --------------------------------------------------------------------------------------------
# BibTeX (read by pybtex, the parser behind the book's bibliography) and the citations
# --------------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).replace("{", "").replace("}", "")).strip()


def parse_bibtex(text: str) -> dict[str, dict]:
    """Entries of a BibTeX text: {key: {"type": ..., field: value}}, names as "Last, First and
    ...", braces removed. Malformed BibTeX raises pybtex's error, which names the line."""
    from pybtex.database import parse_string

    entries = {}
    for key, entry in parse_string(text, "bibtex").entries.items():
        fields = {"type": entry.type.lower()}
        fields.update({name.lower(): _plain(value) for name, value in entry.fields.items()})
        for role, persons in entry.persons.items():
            names = []
            for person in persons:
                first = " ".join(person.first_names + person.middle_names)
                last = " ".join(person.prelast_names + person.last_names)
                names.append(_plain(f"{last}, {first}" if first else last))
            fields[role.lower()] = " and ".join(names)
        entries[key] = fields
    return entries


def bibtex_blocks(markdown: str) -> dict[str, dict]:
    """All entries inside ```bibtex fenced blocks of a Markdown text."""
    entries = {}
    for block in re.findall(r"```bibtex\n(.*?)```", markdown, re.DOTALL):
        entries.update(parse_bibtex(block))
    return entries


def cff_author_names(authors: list[dict]) -> list[str]:
    return [
        a["name"] if "name" in a else f"{a['family-names']}, {a['given-names']}" for a in authors
    ]


def citation_problems(
    cff: dict, version: str, book_bibtex: str, book_apa: str, bib: dict, readme: dict, authors: list
) -> list[str]:
    """Differences between CITATION.cff, the book's generated citations (How to cite), emtlib's
    version, book/references.bib, the README's BibTeX and pyproject.toml's authors."""
    problems = []
    books = parse_bibtex(book_bibtex)
    book = next(iter(books.values()), {})
    expected = {
        "title": cff.get("title"),
        "version": version,
        "url": cff.get("url"),
        "author": " and ".join(cff_author_names(cff.get("authors", []))),
        "year": str(cff.get("date-released", ""))[:4],
    }
    for field, value in expected.items():
        if book.get(field) != value:
            problems.append(
                f"the book's BibTeX has {field} = {book.get(field)!r}, expected {value!r}"
            )
    if f"(version {version})" not in book_apa or str(cff.get("title")) not in book_apa:
        problems.append(f"the book's APA entry lacks its title or version {version}: {book_apa!r}")
    if str(cff.get("version")) != version:
        problems.append(
            f"CITATION.cff version {cff.get('version')} differs from emtlib's {version}"
        )
    if [a.get("name") for a in authors] != cff_author_names(cff.get("authors", [])):
        problems.append(f"pyproject.toml's authors {authors} differ from CITATION.cff's")

    refs = [r for r in cff.get("references", []) if "2310.02430" in json.dumps(r)]
    papers = {k: e for k, e in bib.items() if e.get("eprint") == "2310.02430"}
    if len(papers) != 1 or len(refs) != 1:
        return problems + [
            "CITATION.cff and book/references.bib must each cite the EMT paper (arXiv 2310.02430) once"
        ]
    (key, paper), ref = next(iter(papers.items())), refs[0]
    if paper.get("title") != ref.get("title"):
        problems.append(
            f"paper title {paper.get('title')!r} in references.bib, {ref.get('title')!r} in CITATION.cff"
        )
    if paper.get("author") != " and ".join(cff_author_names(ref.get("authors", []))):
        problems.append(f"paper authors {paper.get('author')!r} differ from CITATION.cff's")
    if paper.get("year") != str(ref.get("year")):
        problems.append(
            f"paper year {paper.get('year')} differs from CITATION.cff's {ref.get('year')}"
        )
    for name, entry in readme.items():
        if bib.get(name) is None:
            problems.append(f"README.md cites {name!r}, which book/references.bib does not have")
            continue
        differing = {f: (v, bib[name].get(f)) for f, v in entry.items() if bib[name].get(f) != v}
        if differing:
            problems.append(f"README.md's {name!r} differs from book/references.bib: {differing}")
    if key not in readme:
        problems.append(f"README.md must give the paper's BibTeX entry {key!r}")
    return problems


def _real_citation_inputs():
    from test_repository import versions  # the one place that reads every version

    cff_path = ROOT / "CITATION.cff"
    ext = _extension()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return (
        yaml.safe_load(cff_path.read_text(encoding="utf-8")),
        versions()["emtlib.__version__"],
        ext.book_citation(cff_path, "bibtex"),
        ext.book_citation(cff_path, "apa"),
        parse_bibtex((BOOK / "references.bib").read_text(encoding="utf-8")),
        bibtex_blocks((ROOT / "README.md").read_text(encoding="utf-8")),
        pyproject["project"]["authors"],
    )


def test_bibtex_parser_reads_braces_people_and_errors():
    entries = parse_bibtex(
        "@misc{k1,\n  author = {{The Authors} and Doe, Jane},\n  title = {A {B} c},\n"
        "  year = 2023,\n}\n"
    )
    assert entries == {
        "k1": {
            "type": "misc",
            "author": "The Authors and Doe, Jane",
            "title": "A B c",
            "year": "2023",
        }
    }
    from pybtex.database import BibliographyDataError

    with pytest.raises(BibliographyDataError):
        parse_bibtex("@misc{k1, title = {a}}\n@misc{k1, title = {b}}\n")  # a repeated key


def test_citation_rules_catch_a_drift():
    cff, version, bibtex, apa, bib, readme, authors = _real_citation_inputs()
    assert citation_problems(cff, version, bibtex, apa, bib, readme, authors) == []
    assert any(
        "version" in p
        for p in citation_problems(
            cff, version, bibtex.replace(version, "0.0.1"), apa, bib, readme, authors
        )
    )
    renamed = json.loads(json.dumps(cff))
    renamed["references"][0]["title"] = "Another title"
    assert any(
        "paper title" in p
        for p in citation_problems(renamed, version, bibtex, apa, bib, readme, authors)
    )
    assert any(
        "emtlib's" in p for p in citation_problems(cff, "9.9.9", bibtex, apa, bib, readme, authors)
    )
    stale_readme = json.loads(json.dumps(readme))
    next(iter(stale_readme.values()))["year"] = "2022"
    assert any(
        "README.md" in p
        for p in citation_problems(cff, version, bibtex, apa, bib, stale_readme, authors)
    )
    assert any(
        "pyproject" in p
        for p in citation_problems(cff, version, bibtex, apa, bib, readme, [{"name": "X"}])
    )


def test_citations_agree_with_citation_cff_references_readme_and_pyproject():
    problems = citation_problems(*_real_citation_inputs())
    assert not problems, (
        "CITATION.cff, the generated citations, book/references.bib, README.md and pyproject.toml "
        "disagree:\n- " + "\n- ".join(problems)
    )


def test_how_to_cite_page_shows_the_generated_entries():
    page = (BOOK / "how-to-cite.md").read_text(encoding="utf-8")
    for directive in (
        "```{emt-citation} bibtex",
        "```{emt-citation} apa",
        "```{emt-bibtex} karuvally2023emt",
    ):
        assert directive in page, f"book/how-to-cite.md lacks {directive}"
    assert "```bibtex" not in page, "How to cite must not carry BibTeX typed by hand"


def test_citation_cff_is_valid_cff():
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "cffconvert"),
            "--validate",
            "-i",
            str(ROOT / "CITATION.cff"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cffconvert_rejects_a_broken_citation_file(tmp_path):
    broken = tmp_path / "CITATION.cff"
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    broken.write_text(
        text.replace('date-released: "', 'date-released: "not a date '), encoding="utf-8"
    )
    with pytest.raises(Exception, match="not valid CFF"):
        _extension().book_citation(broken, "bibtex")


# --------------------------------------------------------------------------------------------
# environment.yml (Binder) against pyproject.toml
# --------------------------------------------------------------------------------------------
def pip_requirements(environment: dict) -> list[str]:
    pip = []
    for dep in environment.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip += [line for line in dep["pip"] if not line.startswith("-")]
    return pip


def environment_problems(environment: dict, pyproject: dict, lock: dict[str, str]) -> list[str]:
    """environment.yml must name exactly emtlib's runtime dependencies and its `book` extra, with the
    same extras and pins that admit a common version (the locked one, which must satisfy both)."""
    project = pyproject["project"]
    declared = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["book"]
    ]
    env = [Requirement(r) for r in pip_requirements(environment)]
    by_name = {canonicalize_name(r.name): r for r in declared}
    env_by_name = {canonicalize_name(r.name): r for r in env}
    problems = []
    for name in sorted(set(by_name) - set(env_by_name)):
        problems.append(
            f"pyproject.toml needs {by_name[name]}, which environment.yml does not install"
        )
    for name in sorted(set(env_by_name) - set(by_name)):
        problems.append(
            f"environment.yml installs {env_by_name[name]}, which pyproject.toml does not declare"
        )
    for name in sorted(set(by_name) & set(env_by_name)):
        ours, theirs = by_name[name], env_by_name[name]
        if ours.extras != theirs.extras:
            problems.append(
                f"{name}: extras {sorted(theirs.extras)} in environment.yml, {sorted(ours.extras)} in pyproject.toml"
            )
        pinned = [Version(s.version) for s in theirs.specifier if s.operator == "=="]
        witnesses = pinned or ([Version(lock[name])] if name in lock else [])
        if not witnesses:
            problems.append(
                f"{name}: not in requirements-lock.txt, so no version shows the pins compatible"
            )
        for version in witnesses:
            for where, spec in (
                ("environment.yml", theirs.specifier),
                ("pyproject.toml", ours.specifier),
            ):
                if not SpecifierSet(str(spec)).contains(version, prereleases=True):
                    problems.append(f"{name} {version} does not satisfy {where}'s {name}{spec}")
    python = [
        d
        for d in environment.get("dependencies", [])
        if isinstance(d, str) and d.startswith("python")
    ]
    requires = SpecifierSet(project.get("requires-python", ""))
    for dep in python:
        version = dep.split("=", 1)[1].lstrip("=") if "=" in dep else None
        if version and not requires.contains(Version(version)):
            problems.append(f"environment.yml's {dep} is outside requires-python {requires}")
    pip_lines = [
        line
        for d in environment.get("dependencies", [])
        if isinstance(d, dict)
        for line in d.get("pip", [])
    ]
    if "-e ." not in pip_lines:
        problems.append("environment.yml must install the book's own library with `-e .`")
    torch = env_by_name.get("torch")
    pins = [s.version for s in torch.specifier if s.operator == "=="] if torch else []
    if len(pins) != 1 or not pins[0].endswith("+cpu") or TORCH_CPU_INDEX not in pip_lines:
        problems.append(
            f"environment.yml must pin torch to its CPU build (torch==X+cpu) from `{TORCH_CPU_INDEX}`: "
            "PyPI's Linux wheel is the CUDA build"
        )
    return problems


TORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def lock_versions() -> dict[str, str]:
    """{package: version} that requirements-lock.txt installs on this platform."""
    versions = {}
    for line in (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith(("#", "-")):
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate():
                versions[canonicalize_name(req.name)] = next(iter(req.specifier)).version
    return versions


def _real_environment_inputs():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return environment, pyproject, lock_versions()


def test_environment_rules_catch_a_drift():
    environment, pyproject, lock = _real_environment_inputs()
    broken = json.loads(json.dumps(environment))
    pip = next(d for d in broken["dependencies"] if isinstance(d, dict))["pip"]
    pip.remove(next(p for p in pip if p.startswith("scipy")))
    pip[pip.index(next(p for p in pip if p.startswith("torch")))] = "torch==2.0.0"
    pip.append("seaborn")
    problems = "\n".join(environment_problems(broken, pyproject, lock))
    assert "scipy" in problems and "does not install" in problems, problems
    assert "torch 2.0.0 does not satisfy pyproject.toml" in problems, problems
    assert "seaborn" in problems and "does not declare" in problems, problems
    assert "CPU build" in problems, problems
    cuda = json.loads(json.dumps(environment))
    pip = next(d for d in cuda["dependencies"] if isinstance(d, dict))["pip"]
    pip.remove(TORCH_CPU_INDEX)
    assert "CPU build" in "\n".join(environment_problems(cuda, pyproject, lock))


def test_environment_yml_matches_pyproject():
    problems = environment_problems(*_real_environment_inputs())
    assert not problems, "environment.yml (Binder) and pyproject.toml disagree:\n- " + "\n- ".join(
        problems
    )


def test_lock_file_satisfies_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project, lock = pyproject["project"], lock_versions()
    wanted = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    problems = []
    for requirement in map(Requirement, wanted):
        name = canonicalize_name(requirement.name)
        if name not in lock:
            problems.append(f"{requirement} is not pinned in requirements-lock.txt")
        elif not requirement.specifier.contains(Version(lock[name]), prereleases=True):
            problems.append(
                f"requirements-lock.txt pins {name}=={lock[name]}, outside pyproject.toml's {requirement}"
            )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Chapters: structure, exercises, citations, glossary terms, links, explorers
# --------------------------------------------------------------------------------------------
def markdown_of(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n\n".join(
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
    )


EXERCISE = re.compile(
    r"^(`{3,}|:{3,})\{exercise(?:-start)?\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", re.MULTILINE
)
SOLUTION = re.compile(r"^(?:`{3,}|:{3,})\{solution(?:-start)?\}\s+(\S+)", re.MULTILINE)


def chapter_problems(markdown: str) -> list[str]:
    """What a chapter lacks of the common shape: learning goals, what it assumes, at least three
    exercises each with a solution, and a summary."""
    problems = []
    if "**Learning goals.**" not in markdown:
        problems.append("no '**Learning goals.**' paragraph")
    if "**What it assumes.**" not in markdown:
        problems.append("no '**What it assumes.**' paragraph")
    if not re.search(r"^## Summary\s*$", markdown, re.MULTILINE):
        problems.append("no '## Summary' section")
    exercises = [m.group(2) for m in EXERCISE.finditer(markdown)]
    solutions = set(SOLUTION.findall(markdown))
    if len(exercises) < 3:
        problems.append(f"{len(exercises)} exercises; every chapter has at least three")
    for label in exercises:
        if label not in solutions:
            problems.append(f"exercise {label!r} has no solution")
    for label in sorted(solutions - set(exercises)):
        problems.append(f"solution {label!r} answers no exercise of this chapter")
    return problems


GOOD_CHAPTER = (
    """# T\n\n**Learning goals.** x\n\n**What it assumes.** y\n\n## Exercises\n\n"""
    + "".join(
        f"````{{exercise}}\n:label: t-ex{i}\n\nQ\n````\n\n````{{solution}} t-ex{i}\n:class: dropdown\n\nA\n````\n\n"
        for i in range(3)
    )
    + "## Summary\n\n- z\n"
)


def test_chapter_rules_catch_missing_parts():
    assert chapter_problems(GOOD_CHAPTER) == []
    gated = GOOD_CHAPTER.replace(
        "````{solution} t-ex2\n:class: dropdown\n\nA\n````",
        "```{solution-start} t-ex2\n:class: dropdown\n```\nA\n```{solution-end}\n```",
    )
    assert chapter_problems(gated) == []
    no_solution = GOOD_CHAPTER.replace("````{solution} t-ex1", "````{note}")
    assert any("'t-ex1' has no solution" in p for p in chapter_problems(no_solution))
    assert any(
        "Summary" in p for p in chapter_problems(GOOD_CHAPTER.replace("## Summary", "## Recap"))
    )
    assert any(
        "assumes" in p for p in chapter_problems(GOOD_CHAPTER.replace("What it assumes", "Assumes"))
    )


def test_the_taught_chapters_are_the_toc_parts_before_the_appendix():
    toc = {
        "parts": [
            {"caption": "From memory models to RNNs", "chapters": [{"file": "book/a"}]},
            {"caption": "Appendix", "chapters": [{"file": "book/b"}]},
            {"caption": "Back matter", "chapters": [{"file": "book/c"}]},
        ]
    }
    assert taught_chapters(toc) == ["book/a"]
    assert len(TAUGHT) >= 9 and BOOK / "recipes.ipynb" not in TAUGHT


@pytest.mark.parametrize("path", TAUGHT, ids=[p.name for p in TAUGHT])
def test_chapter_has_the_common_shape(path):
    problems = chapter_problems(markdown_of(path))
    assert not problems, f"{path.relative_to(ROOT)}:\n- " + "\n- ".join(problems)


def role_targets(markdown: str, role: str) -> list[str]:
    """Targets of a MyST role, e.g. {cite}`a,b` -> [a, b]; {term}`text <target>` -> [target].
    Code blocks and inline code (a mention of `{cite}`, say) are skipped."""
    markdown = re.sub(
        r"^(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1", "", markdown, flags=re.MULTILINE | re.DOTALL
    )
    targets = []
    for match in re.finditer(r"\{([\w-]+)(?::[\w-]+)?\}`([^`]+)`|`[^`\n]+`", markdown):
        if match.group(1) != role:
            continue
        content = match.group(2)
        explicit = re.search(r"<([^<>]+)>\s*$", content)
        content = explicit.group(1) if explicit else content
        targets += [t.strip() for t in content.split(",")] if role == "cite" else [content.strip()]
    return targets


def glossary_terms() -> set[str]:
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.DOTALL).group(1)
    return {
        line.strip().lower()
        for line in block.splitlines()
        if line.strip() and not line.startswith((" ", "\t"))
    }


def test_role_parser():
    text = (
        "see {cite}`a,b` and {cite:p}`c`, {term}`Slots <slot>`, {term}`GSEMM` and {doc}`../x`; "
        "the `{cite}` role\n```python\nx = '{cite}`not`'\n```\n"
    )
    assert role_targets(text, "cite") == ["a", "b", "c"]
    assert role_targets(text, "term") == ["slot", "GSEMM"]
    assert role_targets(text, "doc") == ["../x"]


def test_every_citation_term_and_page_link_resolves():
    keys = set(parse_bibtex((BOOK / "references.bib").read_text(encoding="utf-8")))  # pybtex
    terms = glossary_terms()
    pages = {p.stem for p in CHAPTERS + PAGES}
    problems = []
    for path in CHAPTERS + PAGES:
        text = markdown_of(path)
        problems += [
            f"{path.name}: {{cite}} key {k!r} is not in book/references.bib"
            for k in role_targets(text, "cite")
            if k not in keys
        ]
        problems += [
            f"{path.name}: {{term}} {t!r} is not in book/glossary.md"
            for t in role_targets(text, "term")
            if t.lower() not in terms
        ]
        problems += [
            f"{path.name}: {{doc}} {d!r} names no page in book/"
            for d in role_targets(text, "doc")
            if d.split("/")[-1] not in pages
        ]
    assert not problems, "\n".join(problems)


def test_the_chapters_use_the_glossary():
    used = {t.lower() for path in CHAPTERS for t in role_targets(markdown_of(path), "term")}
    unused = sorted(glossary_terms() - used)
    # Terms only the later chapters need may wait for them; most must be linked from a chapter already.
    assert len(used) >= len(glossary_terms()) // 2, f"glossary terms no chapter links to: {unused}"


FIGURE = re.compile(
    r"\bplots\.\w+\(|\bplt\.(show|subplots|figure)\(|\.to_jshtml\(|\.to_html5_video\(|_view\("
)
EXPLORER = re.compile(r"\bwidgets\.\w+_explorer\(")


def explorer_problems(cells: list[dict], reach: int = 4) -> list[str]:
    """Each code cell that shows an explorer needs a code cell within `reach` cells that draws a
    static figure or animation of the same behaviour (for readers without a kernel)."""
    problems = []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not EXPLORER.search(source):
            continue
        near = cells[max(0, i - reach) : i] + cells[i + 1 : i + 1 + reach]
        if not any(c["cell_type"] == "code" and FIGURE.search("".join(c["source"])) for c in near):
            problems.append(
                f"cell {i} shows an explorer with no static figure within {reach} cells"
            )
    return problems


def test_explorer_rule_catches_a_lonely_widget():
    code = lambda s: {"cell_type": "code", "source": s}
    text = {"cell_type": "markdown", "source": "prose"}
    assert (
        explorer_problems(
            [code("fig = plots.task_sample(t)"), text, code("widgets.task_explorer()")]
        )
        == []
    )
    assert (
        explorer_problems([code("widgets.task_explorer()"), text, code("HTML(anim.to_jshtml())")])
        == []
    )
    assert explorer_problems([code("widgets.task_explorer()")] + [text] * 5 + [code("plots.x()")])


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_every_explorer_has_a_static_figure_beside_it(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = explorer_problems(cells)
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


# --------------------------------------------------------------------------------------------
# The book's Sphinx extension (tools/sphinx/emtbook_sphinx.py)
# --------------------------------------------------------------------------------------------
def _extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "emtbook_sphinx", ROOT / "tools" / "sphinx" / "emtbook_sphinx.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_status_page_facts_name_the_library_version():
    import emtlib

    facts = _extension().build_facts(ROOT)
    assert facts["emtlib_version"] == emtlib.__version__
    assert set(facts) >= {"python_version", "torch_version", "build_commit", "build_date"}
    status = (BOOK / "status.md").read_text(encoding="utf-8")
    assert "{{ emtlib_version }}" in status and "{emt-chapter-status}" in status


def test_extension_drops_duplicate_scripts_and_the_cdn_stylesheet():
    from sphinx.builders.html._assets import _JavaScript

    ext = _extension()
    thebe = "const THEBE_JS_URL = 1"
    scripts = [
        _JavaScript(None, body=thebe),
        _JavaScript("a.js"),
        _JavaScript("", body=thebe, priority=500),
    ]

    class App:
        def add_js_file(self, *args, **kwargs):
            scripts.append(_JavaScript(args[0], **kwargs))

    body = '<p>x</p><link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">'
    context = {"script_files": scripts, "body": body}
    ext._page_context(App(), "p", "page.html", context, None)
    assert [js.attributes.get("body", js.filename) for js in scripts] == [thebe, "a.js"]
    assert "bootstrapcdn" not in context["body"]
    widget = {
        "script_files": [],
        "body": '<script type="application/vnd.jupyter.widget-view+json">{}</script>',
    }
    scripts = widget["script_files"]
    ext._page_context(App(), "p", "page.html", widget, None)
    assert any("html-manager/dist" in js.attributes.get("body", "") for js in scripts)
    assert any("MathJax" in js.attributes.get("body", "") for js in scripts)

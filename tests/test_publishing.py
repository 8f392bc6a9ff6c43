"""Reader experience and publishing: the rules that keep the book's pages, metadata and environments
consistent, checked on every `make test`.

- "How to cite" (book/how-to-cite.md), CITATION.cff, the version of emtlib, book/references.bib and
  the README give the same BibTeX for the book and for the paper.
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


# --------------------------------------------------------------------------------------------
# BibTeX, read just well enough for the book's own entries
# --------------------------------------------------------------------------------------------
def parse_bibtex(text: str) -> dict[str, dict]:
    """Entries of a BibTeX text: {key: {"type": ..., field: value}}; braces around values removed."""
    entries = {}
    for match in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        kind, key = match.group(1).lower(), match.group(2)
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[match.end() : i - 1]
        fields = {"type": kind}
        for field in re.finditer(r"(\w+)\s*=\s*", body):
            j, depth = field.end(), 0
            start = j
            while j < len(body):
                ch = body[j]
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                elif ch == "," and depth == 0:
                    break
                j += 1
            value = body[start:j].strip()
            if depth == 0 and field.group(1).lower() not in fields:
                fields[field.group(1).lower()] = re.sub(
                    r"\s+", " ", value.replace("{", "").replace("}", "")
                ).strip()
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
    cite_page: dict[str, dict], cff: dict, version: str, bib: dict[str, dict]
) -> list[str]:
    """Differences between the How-to-cite entries, CITATION.cff, the version and references.bib."""
    problems = []
    books = [
        e
        for e in cite_page.values()
        if e["type"] in ("software", "book", "misc") and "version" in e
    ]
    if len(books) != 1:
        return [
            f"How to cite must give exactly one BibTeX entry for the book (with a version), found {len(books)}"
        ]
    book = books[0]
    expected = {
        "title": cff.get("title"),
        "version": str(cff.get("version")),
        "license": cff.get("license"),
        "url": cff.get("repository-code"),
        "author": " and ".join(cff_author_names(cff.get("authors", []))),
    }
    for field, value in expected.items():
        if book.get(field) != value:
            problems.append(
                f"book entry: {field} = {book.get(field)!r} but CITATION.cff says {value!r}"
            )
    if str(cff.get("version")) != version:
        problems.append(
            f"CITATION.cff version {cff.get('version')} differs from emtlib's {version}"
        )

    papers = {k: e for k, e in cite_page.items() if "eprint" in e}
    refs = [r for r in cff.get("references", []) if "2310.02430" in json.dumps(r)]
    if len(papers) != 1 or len(refs) != 1:
        return problems + [
            "How to cite and CITATION.cff must each cite the EMT paper (arXiv 2310.02430) once"
        ]
    (key, paper), ref = next(iter(papers.items())), refs[0]
    if paper.get("title") != ref.get("title"):
        problems.append(
            f"paper title {paper.get('title')!r} differs from CITATION.cff's {ref.get('title')!r}"
        )
    if paper.get("author") != " and ".join(cff_author_names(ref.get("authors", []))):
        problems.append(f"paper authors {paper.get('author')!r} differ from CITATION.cff's")
    if paper.get("year") != str(ref.get("year")):
        problems.append(
            f"paper year {paper.get('year')} differs from CITATION.cff's {ref.get('year')}"
        )
    if paper.get("eprint") not in json.dumps(ref):
        problems.append(f"paper eprint {paper.get('eprint')} is not in CITATION.cff's reference")
    if bib.get(key) != paper:
        problems.append(
            f"the paper's entry {key!r} differs from book/references.bib: {paper} vs {bib.get(key)}"
        )
    return problems


def _real_citation_inputs():
    from test_repository import versions  # the one place that reads every version

    found = versions()
    cite_page = bibtex_blocks((BOOK / "how-to-cite.md").read_text(encoding="utf-8"))
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    bib = parse_bibtex((BOOK / "references.bib").read_text(encoding="utf-8"))
    return cite_page, cff, found["emtlib.__version__"], bib


def test_bibtex_parser_reads_nested_braces():
    entries = parse_bibtex(
        "@misc{k1,\n  author = {{The Authors}},\n  title = {A {B} c},\n  year = 2023,\n}\n"
    )
    assert entries == {
        "k1": {"type": "misc", "author": "The Authors", "title": "A B c", "year": "2023"}
    }


def test_citation_rules_catch_a_drift():
    cite_page, cff, version, bib = _real_citation_inputs()
    assert citation_problems(cite_page, cff, version, bib) == []
    stale = json.loads(json.dumps(cite_page))
    next(e for e in stale.values() if "version" in e)["version"] = "0.0.1"
    assert any("version" in p for p in citation_problems(stale, cff, version, bib))
    renamed = json.loads(json.dumps(cff))
    renamed["references"][0]["title"] = "Another title"
    assert any("paper title" in p for p in citation_problems(cite_page, renamed, version, bib))
    assert any("emtlib's" in p for p in citation_problems(cite_page, cff, "9.9.9", bib))


def test_how_to_cite_agrees_with_citation_cff_and_references():
    problems = citation_problems(*_real_citation_inputs())
    assert not problems, (
        "book/how-to-cite.md, CITATION.cff and book/references.bib disagree:\n- "
        + "\n- ".join(problems)
    )


def test_readme_cites_the_paper_like_the_book():
    readme = bibtex_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    page = bibtex_blocks((BOOK / "how-to-cite.md").read_text(encoding="utf-8"))
    for key, entry in readme.items():
        assert key in page, f"README.md cites {key!r}, which book/how-to-cite.md does not"
        differing = {f: (v, page[key].get(f)) for f, v in entry.items() if page[key].get(f) != v}
        assert not differing, f"README.md's {key!r} differs from book/how-to-cite.md: {differing}"


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


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
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
    keys = set(parse_bibtex((BOOK / "references.bib").read_text(encoding="utf-8")))
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

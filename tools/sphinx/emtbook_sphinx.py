"""The book's own small Sphinx extension (loaded through `sphinx.local_extensions` in _config.yml).

It does what Jupyter Book 1's configuration cannot express:

1. **The status page.** MyST substitutions ``{{ emtlib_version }}``, ``{{ python_version }}``,
   ``{{ torch_version }}``, ``{{ numpy_version }}``, ``{{ jupyter_book_version }}``,
   ``{{ myst_nb_version }}``, ``{{ build_commit }}`` and ``{{ build_date }}``, read from the
   environment that builds (and executes) the book; and the directive ``{emt-chapter-status}``, a
   table of every executed chapter in reading order (title, run time, peak memory, result,
   emtlib version), from
   the execution data myst-nb records, with each chapter's peak memory (item 9), and the chapters
   over the two-minute or the 1 GB budget. It is myst-nb's ``{nb-exec-table}`` with chapter titles
   instead of file names and words instead of emoji.
2. **One copy of every script.** Jupyter Book registers sphinx-thebe's inline configuration twice,
   and the second ``const THEBE_JS_URL`` is a JavaScript error on every page. Identical scripts
   are dropped from each page.
3. **Widgets that render offline without errors.** On pages with saved widget state:
   - the widget manager (``embed-amd.js``) computes the URL of its icon fonts from its AMD module
     name, which resolves next to the page and 404s; a RequireJS ``paths`` entry maps the module
     onto ``_static/``, where `make vendor` put the fonts;
   - ipywidgets typesets widget labels with the MathJax 2 call ``MathJax.Hub.Queue``, but the book
     loads MathJax 3; a two-line shim forwards it to ``MathJax.typesetPromise``;
   - a one-line note above each explorer says that it shows its saved state, and how to run it.
4. **No request leaves the book.** matplotlib's JavaScript animations (``anim.to_jshtml()``) link
   Font Awesome 4 from a CDN for their player buttons. The theme's own Font Awesome already draws
   those icons, so the link is dropped (offline it is only a failed request).
5. **A definite colour mode.** pydata-sphinx-theme logs "Got invalid theme mode" when no default
   mode is set; the book defaults to the light mode (its figures are drawn on white).

6. **No missed kernel replies.** While a cell that shows an explorer runs, nbclient (which myst-nb
   uses to execute the chapters) mirrors the explorer's Output widget and sends its state to the
   kernel on the shell socket, the socket on which it is at the same time waiting for the cell's
   ``execute_reply``. A send processes the socket's pending events and can clear the edge of its
   file descriptor that would have woken the wait: the reply then sits unread until the cell
   timeout expires, and the build stalls with the kernel idle (nbclient issue #312). Waits on a
   kernel channel are therefore cut into polls of at most :data:`POLL_SLICE_S` seconds, so a reply
   whose wake-up was lost is read at the next poll (:func:`slice_kernel_polls`, in
   emtbook_execute.py beside this file).
7. **One version, shown and cited.** The footer of every page names the version of the book
   and of emtlib (``emtlib.__version__``, :func:`footer_html`). On the "How to cite" page,
   ``{emt-citation} bibtex`` and ``{emt-citation} apa`` are the book's entries converted from
   CITATION.cff by cffconvert when the book is built, and ``{emt-bibtex} key`` is an entry of the
   book's references.bib as pybtex writes it: nothing there is typed by hand, so nothing drifts.
8. **Executed notebooks for download.** The ".ipynb" entry of a chapter's download menu is the
   notebook as executed for this build, with its outputs (myst-nb's copy in ``jupyter_execute/``,
   published under ``_notebooks/``), not the stored notebook without outputs.

9. **Peak memory of each chapter.** A chapter must run in under 1 GB of resident memory, and the
   status page shows what each one peaked at. myst-nb executes a chapter through jupyter-cache's
   ``single_nb_execution``, which runs nbclient; the extension puts :class:`MeasuredNotebookClient`
   (emtbook_execute.py) in nbclient's place there (:func:`measure_chapter_memory`). After each code cell it asks the
   kernel, in a silent request that adds nothing to the notebook, for its own peak resident set
   size (on Linux ``VmHWM``, the high-water mark the operating system keeps, so no peak between
   two requests is missed; :data:`KERNEL_PEAK_RSS_EXPRESSION` says why not ``ru_maxrss``). The value after the last cell is the chapter's peak;
   it joins the run time in myst-nb's execution data, and ``{emt-chapter-status}`` shows it.
10. **The claims ledger.** ``{emt-claims} claims.yaml`` is the table of the paper's claims that the
    book tests: each with the paper's number, the chapter's own value (pasted from the executed
    chapter by myst-nb's ``{glue:text}`` across documents, so a missing key fails the build), the
    rule that gives the verdict, the verdict and a link to the section; ``{emt-figure-map}
    claims.yaml`` maps each figure of the paper to the book's. The file (relative to the page) is
    checked against the schema of emtbook_claims.py, and a malformed entry fails the build with a
    message naming it. Once every chapter has run, each verdict is checked against its rule with
    the glued value (:class:`ClaimsCheckTransform`): a verdict that does not follow fails the build.

The browser check (`make browser`, tests/browser) is what found 2, 3, 4 and 5, and it keeps them fixed.
"""

from __future__ import annotations

import datetime
import functools
import html
import platform
import posixpath
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

if str(Path(__file__).resolve().parent) not in sys.path:  # when loaded by file name (the tests)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import emtbook_claims  # the ledger's schema and tables, next to this file
from emtbook_execute import (  # how the chapters are executed: items 6 and 9
    LAST_PEAK,
    POLL_SLICE_S,  # noqa: F401 - part of this extension's interface (tests, benchmarks)
    MeasuredNotebookClient,  # noqa: F401
    measured_execute,
    slice_kernel_polls,
    sliced_get_msg,  # noqa: F401
)

logger = logging.getLogger(__name__)

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
BUDGET_S = 120  # a chapter runs in under two minutes on two CPU cores (shared/design.md)
MEMORY_BUDGET_BYTES = 10**9  # and peaks under 1 GB of resident memory (10^9 bytes)
# what matplotlib's to_jshtml() puts in front of every animation
CDN_FONT_AWESOME = re.compile(
    r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"\s*/?>'
)

# Runs before require.js (priority 499 < 500): RequireJS reads a global `require` object as its config.
REQUIRE_CONFIG_JS = (
    "var require = {paths: {'@jupyter-widgets/html-manager/dist': "
    "(document.documentElement.dataset.content_root || './') + '_static'}};"
)

# Installed on DOMContentLoaded: after the deferred MathJax 3 script has run, before the widget
# manager renders on "load".
WIDGET_HELPERS_JS = """
document.addEventListener("DOMContentLoaded", function () {
  var mj = window.MathJax;
  if (mj && mj.startup && !mj.Hub) {
    mj.Hub = {Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          mj.startup.promise.then(function () { return mj.typesetPromise([job[2]]); })
            .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
        }
      });
    }};
  }
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').forEach(function (s) {
    var note = document.createElement("p");
    note.className = "emt-widget-note";
    note.textContent = "Explorer, shown as it was saved when the book was built. To move its controls, " +
      "run the chapter: launch it on Binder or Colab with the rocket button at the top of the page.";
    note.style.cssText = "font-size: 0.85em; font-style: italic; color: #555; margin: 0.25em 0 0.5em 0;";
    s.parentElement.insertBefore(note, s.parentElement.firstChild);
  });
});
"""


def measure_chapter_memory() -> None:
    """Execute chapters through :func:`measured_execute` and put each chapter's peak into myst-nb's
    execution data as ``peak_rss_bytes`` (once per process). myst-nb's direct execution (modes
    ``force`` and ``auto``) calls jupyter-cache's ``single_nb_execution``, which calls nbclient
    through the module name ``executenb``; that name is pointed at :func:`measured_execute`."""
    import jupyter_cache.executors.utils as jupyter_cache_utils
    from myst_nb.core.execute.direct import NotebookClientDirect

    jupyter_cache_utils.executenb = measured_execute
    start_client = NotebookClientDirect.start_client
    if getattr(start_client, "emt_measured", False):
        return

    @functools.wraps(start_client)
    def measured_start_client(self):
        LAST_PEAK.clear()
        start_client(self)
        if self.exec_metadata is not None:
            self.exec_metadata = {**self.exec_metadata, "peak_rss_bytes": LAST_PEAK.get("bytes")}

    measured_start_client.emt_measured = True
    NotebookClientDirect.start_client = measured_start_client


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_facts(srcdir: Path) -> dict[str, str]:
    """The substitutions of the status page: what built this copy of the book."""
    try:
        import emtlib

        emtlib_version = emtlib.__version__
    except Exception as error:  # noqa: BLE001 - the book cannot build without it; say why
        emtlib_version = f"not importable ({type(error).__name__})"
    commit = _git(["rev-parse", "--short=12", "HEAD"], srcdir)
    if commit is None:
        build_commit = "unknown (not built from a git checkout)"
    else:
        dirty = _git(["status", "--porcelain", "--untracked-files=no"], srcdir)
        build_commit = commit + (" with uncommitted changes" if dirty else "")
    return {
        "emtlib_version": emtlib_version,
        "python_version": platform.python_version(),
        "torch_version": _version("torch"),
        "numpy_version": _version("numpy"),
        "jupyter_book_version": _version("jupyter-book"),
        "myst_nb_version": _version("myst-nb"),
        "build_commit": build_commit,
        "build_date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _config_inited(app, config) -> None:
    subs = dict(config.myst_substitutions or {})
    for key, value in build_facts(Path(app.srcdir)).items():
        subs.setdefault(key, value)
    config.myst_substitutions = subs
    context = dict(
        config.html_context or {}
    )  # pydata-sphinx-theme reads the mode from html_context
    context.setdefault("default_mode", "light")
    config.html_context = context
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = footer_html(subs["emtlib_version"], options.get("extra_footer", ""))
    config.html_theme_options = options


def footer_html(version: str, rest: str = "") -> str:
    """The page footer: the version of the book and of emtlib, then the rest (_config.yml's)."""
    line = f"Version {html.escape(version)} of the book and of <code>emtlib</code>."
    return f'<p class="emt-version">{line}</p>\n{rest or ""}'


BIBTEX_KEY = "emt_book"


def book_citation(cff_path: Path, style: str) -> str:
    """The book's citation in ``style`` ("bibtex" or "apa"), converted from CITATION.cff by
    cffconvert. cffconvert's BibTeX names every entry ``YourReferenceHere``, leaves out the version
    and does not brace an author that is an entity: the entry gets the key :data:`BIBTEX_KEY`,
    CITATION.cff's version, and braces around entity names."""
    if style not in ("bibtex", "apa"):
        raise ValueError(f"citation style must be 'bibtex' or 'apa', got {style!r}")
    try:
        from cffconvert import Citation
    except ImportError as error:
        raise ExtensionError(
            "the How to cite page is converted from CITATION.cff by cffconvert, which is not "
            "installed (requirements-lock.txt pins it)"
        ) from error
    citation = Citation(cff_path.read_text(encoding="utf-8"), src=str(cff_path))
    try:
        citation.validate()
    except Exception as error:  # jsonschema's or pykwalify's error, with what is wrong
        raise ExtensionError(f"{cff_path.name} is not valid CFF: {error}") from error
    if style == "apa":
        return citation.as_apalike().strip()
    version = str(citation.cffobj["version"])
    text = citation.as_bibtex().strip()
    for author in citation.cffobj.get("authors", []):
        if "name" in author:  # an entity: braced, or BibTeX reads its last word as a surname
            text = text.replace(author["name"], "{" + author["name"] + "}")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("@misc{YourReferenceHere,"):
        raise ExtensionError(f"unexpected BibTeX from cffconvert: {lines[:1]}")
    fields = [line.strip() for line in lines[1:-1]]
    fields.insert(
        next(i + 1 for i, f in enumerate(fields) if f.startswith("title =")),
        f"version = {{{version}}},",
    )
    return "\n".join([f"@misc{{{BIBTEX_KEY},", *(f"  {f}" for f in fields), "}"])


def bibtex_entry(bib_paths: list[Path], key: str) -> str:
    """The entry ``key`` of the first .bib file that has it, written out by pybtex."""
    from pybtex.database import BibliographyData, parse_file

    for path in bib_paths:
        entries = parse_file(str(path), bib_format="bibtex").entries
        if key in entries:
            return BibliographyData({key: entries[key]}).to_string("bibtex").strip()
    raise ExtensionError(f"no BibTeX entry {key!r} in {[str(p) for p in bib_paths]}")


class CitationDirective(SphinxDirective):
    """``{emt-citation} bibtex|apa``: the book's citation, converted from CITATION.cff."""

    required_arguments = 1

    def run(self):
        cff = Path(self.env.srcdir) / "CITATION.cff"
        self.env.note_dependency(str(cff))
        try:
            text = book_citation(cff, self.arguments[0])
        except ValueError as error:
            raise self.error(str(error)) from error
        if self.arguments[0] == "bibtex":
            return [nodes.literal_block(text, text, language="bibtex")]
        # APA is a sentence: a paragraph that wraps, its address a link
        paragraph = nodes.paragraph(classes=["emt-citation-apa"])
        before, _, url = text.rpartition(" ")
        if "://" in url:
            paragraph += [nodes.Text(before + " "), nodes.reference(url, url, refuri=url)]
        else:
            paragraph += nodes.Text(text)
        return [nodes.block_quote("", paragraph)]


class BibtexEntryDirective(SphinxDirective):
    """``{emt-bibtex} key``: one entry of the book's references.bib (bibtex_bibfiles)."""

    required_arguments = 1

    def run(self):
        paths = [Path(self.env.srcdir) / f for f in self.config.bibtex_bibfiles]
        for path in paths:
            self.env.note_dependency(str(path))
        text = bibtex_entry(paths, self.arguments[0])
        return [nodes.literal_block(text, text, language="bibtex")]


def executed_notebook(app, pagename: str) -> Path | None:
    """myst-nb's executed copy of a chapter (with outputs), if this build executed it."""
    path = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    return path if path.is_file() else None


def _offer_executed_notebook(app, pagename, context) -> None:
    """Point the download menu's ".ipynb" entry of a chapter at its executed copy (item 8)."""
    if context.get("page_source_suffix") != ".ipynb":
        return
    source = executed_notebook(app, pagename)
    if source is None:
        raise ExtensionError(f"{pagename}: no executed notebook in jupyter_execute/ to offer")
    target = Path(app.outdir) / "_notebooks" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    button = {
        "type": "link",
        "url": f"{context['pathto']('_notebooks', 1)}/{pagename}.ipynb",
        "text": ".ipynb",
        "tooltip": "Download the notebook with its outputs",
        "icon": "fas fa-code",
        "label": "download-executed-notebook-button",
    }
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [button] + [
                b for b in group["buttons"] if b.get("label") != "download-source-button"
            ]
            return
    raise ExtensionError(f"{pagename}: the theme offers no download menu to put the notebook in")


def _js_key(js) -> tuple:
    # Sphinx re-adds registry scripts with filename "" where they were first added with None.
    filename = getattr(js, "filename", js) or ""
    attributes = getattr(js, "attributes", {})
    return (
        str(filename),
        tuple(sorted((k, str(v)) for k, v in attributes.items() if k != "priority")),
    )


def _page_context(app, pagename, templatename, context, doctree) -> None:
    _offer_executed_notebook(app, pagename, context)
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    body = context.get("body", "")
    if CDN_FONT_AWESOME.search(body):
        context["body"] = CDN_FONT_AWESOME.sub("", body)
    if WIDGET_VIEW_MIME in body:
        app.add_js_file(None, body=REQUIRE_CONFIG_JS, priority=499)
        app.add_js_file(None, body=WIDGET_HELPERS_JS, priority=499)
    seen, unique = set(), []
    for js in sorted(scripts, key=lambda js: getattr(js, "priority", 500)):
        key = _js_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # in place: Sphinx restores its own list after the page


class ChapterStatusNode(nodes.General, nodes.Element):
    """Placeholder for the chapter status table, filled in once every chapter has run."""


class ChapterStatusDirective(SphinxDirective):
    """``{emt-chapter-status}``: the table of executed chapters (see the module docstring)."""

    def run(self):
        from myst_nb.sphinx_ import NbMetadataCollector

        # the key myst-nb uses to rewrite pages with execution tables when chapters were re-run
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, "has_exec_table", True)
        return [ChapterStatusNode()]


def _reading_order(env) -> list[str]:
    order, seen = [], set()

    def walk(doc):
        for child in env.toctree_includes.get(doc, []):
            if child not in seen:
                seen.add(child)
                order.append(child)
                walk(child)

    walk(env.config.root_doc)
    return order


def _table(header: list[str], rows: list[list[nodes.Node]]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in header])
    for cells in rows:
        body += nodes.row("", *[nodes.entry("", nodes.paragraph("", "", c)) for c in cells])
    return table


def chapter_runs(env) -> list[dict]:
    """Every chapter this build executed, in reading order: its document name, title, run time
    (s), peak resident memory (bytes, item 9), whether it passed, and how myst-nb executed it."""
    from myst_nb.sphinx_ import NbMetadataCollector

    data = NbMetadataCollector.get_doc_data(env)
    runs = []
    for doc in _reading_order(env):
        run = data.get(doc, {}).get("exec_data")
        if run:
            runs.append(
                {
                    "doc": doc,
                    "title": env.titles[doc].astext() if doc in env.titles else doc,
                    "runtime": run.get("runtime"),
                    "peak_rss_bytes": run.get("peak_rss_bytes"),
                    "succeeded": bool(run.get("succeeded")),
                    "method": run.get("method"),
                }
            )
    return runs


def format_megabytes(value: int | None) -> str:
    """Bytes as whole megabytes (10^6 bytes), "-" when not measured."""
    return "-" if value is None else f"{value / 1e6:.0f}"


def status_summary(runs: list[dict]) -> str:
    """The sentence under the status table: totals, and the chapters over either budget."""
    total = sum(r["runtime"] or 0.0 for r in runs)
    slow = [r["title"] for r in runs if r["runtime"] is not None and r["runtime"] > BUDGET_S]
    large = [
        r["title"]
        for r in runs
        if r["peak_rss_bytes"] is not None and r["peak_rss_bytes"] > MEMORY_BUDGET_BYTES
    ]
    unmeasured = [r["title"] for r in runs if r["peak_rss_bytes"] is None]
    peaks = [r["peak_rss_bytes"] for r in runs if r["peak_rss_bytes"] is not None]
    budget_gb = f"{MEMORY_BUDGET_BYTES / 1e9:g} GB"
    text = f"{len(runs)} chapters, {total:.1f} s of execution in all"
    text += f", the largest peak {format_megabytes(max(peaks))} MB. " if peaks else ". "
    text += (
        f"Over the {BUDGET_S} s budget of a chapter in this build: {', '.join(slow)}. "
        if slow
        else f"Every chapter ran within the {BUDGET_S} s budget. "
    )
    text += (
        f"Over the {budget_gb} memory budget: {', '.join(large)}."
        if large
        else f"Every measured chapter peaked under {budget_gb}."
    )
    if unmeasured:
        text += f" Peak memory not measured: {', '.join(unmeasured)}."
    return text


def chapter_status(env, docname: str) -> list[nodes.Node]:
    version = build_facts(Path(env.srcdir))["emtlib_version"]
    runs = chapter_runs(env)
    rows = []
    for run in runs:
        if run["peak_rss_bytes"] is None and run["method"] != "cache":
            logger.warning(
                f"{run['doc']}: executed without a measurement of its peak memory "
                "(the book's extension measures every chapter it executes; see item 9)",
                location=docname,
            )
        link = pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget="/" + run["doc"],
            refexplicit=True,
            refwarn=True,
            refdoc=docname,
        )
        link += nodes.inline(text=run["title"])
        runtime = run["runtime"]
        rows.append(
            [
                link,
                nodes.Text("-" if runtime is None else f"{runtime:.1f}"),
                nodes.Text(format_megabytes(run["peak_rss_bytes"])),
                nodes.Text("passed" if run["succeeded"] else "failed"),
                nodes.literal(text=version),
            ]
        )
    if not rows:
        return [nodes.paragraph(text="No chapter was executed in this build.")]
    table = _table(["Chapter", "Run time (s)", "Peak memory (MB)", "Result", "emtlib"], rows)
    return [table, nodes.paragraph(text=status_summary(runs))]


class ChapterStatusTransform(SphinxPostTransform):
    default_priority = 8  # before the references (10) are resolved, as myst-nb's own table

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(ChapterStatusNode)):
            node.replace_self(chapter_status(self.env, self.env.docname))


class ClaimsCheckNode(nodes.General, nodes.Element):
    """Placeholder for the check of the ledger's verdicts, done once every chapter has run."""


def _ledger(directive: SphinxDirective) -> dict:
    relative, path = directive.env.relfn2path(directive.arguments[0], directive.env.docname)
    directive.env.note_dependency(relative)
    try:
        return emtbook_claims.load_ledger(
            Path(path), emtbook_claims.book_chapters(Path(path).parent)
        )
    except emtbook_claims.LedgerError as error:
        raise directive.error(f"claims ledger: {error}") from None


class ClaimsDirective(SphinxDirective):
    """``{emt-claims} claims.yaml``: the table of the paper's claims (item 10)."""

    required_arguments = 1

    def run(self):
        ledger = _ledger(self)
        parsed = self.parse_text_to_nodes(emtbook_claims.claims_myst(ledger["claims"]))
        return [*parsed, ClaimsCheckNode(claims=ledger["claims"])]


class FigureMapDirective(SphinxDirective):
    """``{emt-figure-map} claims.yaml``: each figure of the paper and the book's (item 10)."""

    required_arguments = 1

    def run(self):
        return self.parse_text_to_nodes(emtbook_claims.figures_myst(_ledger(self)["figures"]))


def claim_problems(claims: list[dict], glued: dict[str, dict], docname: str) -> list[str]:
    """What is wrong with the ledger's verdicts, given each chapter's glue data
    (``{chapter: {key: output}}``, as myst-nb writes it): a missing key, a value that is not a
    number, or a verdict that does not follow from the rule."""
    problems = []
    for claim in claims:
        if claim.get("rule") is None:
            continue
        where = f"claim {claim['id']!r}"
        output = glued.get(claim["chapter"], {}).get(claim["key"])
        if output is None:
            problems.append(f"{where}: chapter {claim['chapter']!r} glues no key {claim['key']!r}")
            continue
        try:
            ours = emtbook_claims.numeric_value(output.get("data", {}).get("text/plain", ""))
            verdict = emtbook_claims.verdict_of(claim, ours)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if verdict != claim["verdict"]:
            problems.append(
                f"{where}: the verdict is {claim['verdict']!r}, but the rule "
                f"{claim['rule']!r} with ours = {ours:g} (key {claim['key']!r} of "
                f"{claim['chapter']!r}) gives {verdict!r}"
            )
    return problems


class ClaimsCheckTransform(SphinxPostTransform):
    """Check each verdict of the ledger against its rule with the chapter's glued value (item 10)."""

    default_priority = 9

    def run(self, **kwargs) -> None:
        from myst_nb.ext.glue.crossref import read_glue_cache

        folder = self.env.mystnb_config.output_folder
        for node in list(self.document.findall(ClaimsCheckNode)):
            claims = node["claims"]
            base = posixpath.dirname(self.env.docname)
            glued = {
                c: read_glue_cache(folder, posixpath.join(base, c))
                for c in {claim["chapter"] for claim in claims}
            }
            for problem in claim_problems(claims, glued, self.env.docname):
                logger.warning(f"claims ledger: {problem}", location=node)
            node.replace_self([])


def setup(app):
    slice_kernel_polls()  # before myst-nb executes the first chapter, in this process
    measure_chapter_memory()  # item 9, likewise
    app.add_node(ChapterStatusNode)
    app.add_directive("emt-chapter-status", ChapterStatusDirective)
    app.add_directive("emt-citation", CitationDirective)
    app.add_directive("emt-bibtex", BibtexEntryDirective)
    app.add_post_transform(ChapterStatusTransform)
    app.add_node(ClaimsCheckNode)
    app.add_directive("emt-claims", ClaimsDirective)
    app.add_directive("emt-figure-map", FigureMapDirective)
    app.add_post_transform(ClaimsCheckTransform)
    app.connect("config-inited", _config_inited)
    # after myst-nb (500) has added the widget scripts and Sphinx the MathJax script
    app.connect("html-page-context", _page_context, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
